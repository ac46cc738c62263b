# Run in the target by 'objgraph snapshot PID' (see docs/attach.md), on a
# thread of its own that the loader started, in a fresh namespace:
# _loader is the loader's namespace, holding "m", the first object the
# loader made, and "d", the private directory with this file and the agent.
# Every tracked object made since "m" that this code, its frames or the
# agent's module lead to is left out of the snapshot (see _own).
# It imports the agent from there under no name in sys.modules, takes one
# snapshot with the objects of its own and of the agent left out, and
# writes the outcome to d/result. Nothing of it raises or prints into the
# program.
import _thread as _th
import gc as _gc
import os as _os
import sys as _sys
import time as _time
from itertools import compress as _compress, count as _count, repeat as _repeat
from operator import is_ as _is


_found = [0]  # the generation the loader's first object was found in, -1 if none


def _own(mod):
    """The ids of the agent's objects and of this code's, to be left out of
    the snapshot. An object is one of them when it is reachable from this
    code's namespaces, frames or the agent's module and is either surely
    theirs (a function of theirs, a class they define, a descriptor of such
    a class, the constants of their code) or is a tracked object listed
    after the loader's first one, "m" (newer than it), and is not a module,
    a class, a function or a descriptor of someone else's. Other modules
    stay in sys.modules and are the program's now; the agent's at-fork hook
    stays with the interpreter."""
    mark = _loader["m"]
    mine = (mod.__dict__, globals(), _loader)
    names = ("objgraph_agent", "_objgraph_attach")
    gens = [_gc.get_objects(0), _gc.get_objects(1), _gc.get_objects(2)]
    cands = []
    _found[0] = -1
    for g in range(3):
        i = next(_compress(_count(), map(_is, gens[g], _repeat(mark))), -1)
        if i >= 0:
            _found[0] = g
            # a collection may have moved some of the newer objects ahead of
            # "m": the functions of this code and the agent's are looked
            # for in the whole generation
            funcs = list(_compress(gens[g], map(_is, map(type, gens[g]), _repeat(_FUNC))))
            cands = gens[g][i + 1:]
            for y in range(g):
                cands.extend(gens[y])
                funcs.extend(_compress(gens[y], map(_is, map(type, gens[y]), _repeat(_FUNC))))
            break
    else:
        funcs = []
    del gens
    roots = [mod, mod.__dict__, globals(), _loader, mark]
    for fn in funcs:
        g = fn.__globals__
        if g is mine[0] or g is mine[1] or g is mine[2]:
            roots.append(fn)  # (3.11+: the functions exec made for the loader's code and this module's)
    del funcs
    f = _sys._getframe()
    while f is not None:
        roots.append(f)
        roots.append(f.f_code)  # (a running frame does not show it to get_referents on 3.11+)
        f = f.f_back
    for o in _gc.get_referrers(_loader):
        # the loader's arguments to the new thread, wherever a collection
        # has moved them (they need not be listed after "m" any more)
        if type(o) is tuple and len(o) == 2 and o[1] is _loader:
            roots.append(o)
    cid = set(map(id, cands))
    seen = set(map(id, roots))
    seen.add(id(seen))
    skip = getattr(mod, "_fork_hook", None)
    passed = set()  # untracked objects gone through (code objects, ...)
    localnames = set()  # the local variables' names of each code object, as ids
    todo = roots
    while todo:
        o = todo.pop()
        # A code object is not a gc container: its tuples are found here.
        # (With gc disabled they stay tracked, as the collector untracks
        # tuples of atoms only when it runs.)
        surely = type(o) is _CODE
        if surely:
            refs = (o.co_consts, o.co_names, o.co_varnames, o.co_cellvars, o.co_freevars)
            localnames.add(frozenset(map(id, o.co_varnames + o.co_cellvars + o.co_freevars)))
        else:
            refs = _gc.get_referents(o)
        for x in refs:
            k = id(x)
            if k in seen or k in passed or x is skip:
                continue
            t = type(x)
            if t is _MODULE:
                continue
            if isinstance(x, type):
                ok = _TMODULE(x) in names
            elif t is _FUNC:
                g = x.__globals__
                ok = g is mine[0] or g is mine[1] or g is mine[2]
            elif t in _DESCR:
                ok = _TMODULE(x.__objclass__) in names
            else:
                ok = k in cid or surely and _gc.is_tracked(x)
            if ok:
                seen.add(k)
                todo.append(x)
            elif not _gc.is_tracked(x) and t is not type:
                # an untracked object refers only to objects as old as it,
                # or to new ones the loader made (a code object's constants)
                passed.add(k)
                todo.append(x)
    # From 3.11 a code object keeps the names of its locals in one tuple
    # Python code cannot reach: a new tracked tuple holding just the names
    # of one of the code objects above is that one.
    for o in cands:
        if type(o) is tuple and o and id(o) not in seen and frozenset(map(id, o)) in localnames \
                and all(map(_is, map(type, o), _repeat(str))):
            seen.add(id(o))
    return seen


_FUNC = type(_own)
_NOOP = (lambda *a, **k: None).__code__
_CODE = type(_own.__code__)
_MODULE = type(_sys)
_TMODULE = type.__dict__["__module__"].__get__
_DESCR = (type(type.__dict__["__module__"]), type(type(_own).__dict__["__globals__"]),
          type(object.__dict__["__init__"]), type(object.__dict__["__sizeof__"]),
          type(dict.__dict__["fromkeys"]))


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _compile(src, path):
    """The module's code as code objects to be run in turn, each of a few
    top-level statements: compile() holds the GIL throughout, for tens of
    milliseconds for the whole agent, and the program's threads run between
    two of these. A piece starts at a line that starts with def, class or @,
    its line numbers as in the file; one that does not compile by itself
    (it ended inside a string, brackets or a decorated definition) is
    compiled together with the next."""
    lines = src.splitlines(True)
    starts = [0] + [i for i, ln in enumerate(lines) if i and ln.startswith(("def ", "class ", "@"))]
    codes = []
    i = 0
    while i < len(starts):
        j = i + 1
        while True:
            end = starts[j] if j < len(starts) else len(lines)
            try:
                codes.append(compile("\n" * starts[i] + "".join(lines[starts[i]:end]), path, "exec", dont_inherit=True))
                break
            except SyntaxError:
                if j >= len(starts):
                    raise
                j += 1
        i = j
    return codes


def _write(path, text):
    tmp = path + ".tmp"
    fd = _os.open(tmp, _os.O_WRONLY | _os.O_CREAT | _os.O_EXCL, 0o600)
    try:
        _os.write(fd, text.encode("utf-8", "replace"))
    finally:
        _os.close(fd)
    _os.replace(tmp, path)


def _forked(pid):
    """Told by the agent the pid of the child that walks the heap, as soon
    as it runs: objgraph names it, and ends it on a timeout."""
    _write(_loader["d"] + "/child", "%d\n" % pid)


def _take(d):
    t0 = _time.monotonic()
    # (no tracked object in a local but the module: the frame of a running
    # function does not show its locals to gc.get_referents on 3.11+)
    mod = type(_sys)("objgraph_agent")
    mod.__file__ = d + "/objgraph_agent.py"
    try:
        for code in _compile(_read(mod.__file__).decode("utf-8"), mod.__file__):
            exec(code, mod.__dict__)
        del code
        mod._exclude.update(_own(mod))
        n = len(mod._exclude)
        mod._agent_idents.add(_th.get_ident())
        # "f": always (a fork capture or an error), never (in-process), or
        # auto: a fork capture where fork is safe and the child fits in
        # memory, else in-process, and why
        mode = _loader.get("f", "never")
        why = ""
        if mode == "auto":
            why = mod._fork_refusal() or ""
        t1 = _time.monotonic()
        # how far the walk is, for objgraph (the agent's _progress)
        mp = getattr(mod, "_map_progress", None)
        prog = mp(d + "/progress") if mp is not None else None
        if prog is not None:
            mod._progress[0] = prog
        out = d + "/snapshot.ogs"
        redact = _loader.get("redact", False)
        if mode == "always" or mode == "auto" and not why:
            # The agent's thread (this one) waits for the child and reaps
            # it: the result is written once the file is complete, and no
            # thread of the agent's outlives this module.
            mod._fork_notify[0] = _forked
            try:
                mod.snapshot(out, collect=False, redact=redact, fork=True, wait=True)
            except OSError:
                c = mod._last_child[0]
                if c is None or c.error is None:
                    raise
                return "childerror\n%d\n%s\n" % (c.pid, c.error.replace("\n", " "))
            c = mod._last_child[0]
            how = "fork %d %.6f %d" % (c.pid, c.pause, c.private_bytes)
        else:
            # (wait: the file is finished on this thread, before the module
            # is cleared below)
            mod.snapshot(out, collect=False, redact=redact, fork=False, wait=True)
            how = "inprocess " + why.replace("\n", " ")
        t2 = _time.monotonic()
        return "ok\n%s\n%.6f\n%.6f\n%d %d\n%s\n" % (out, t1 - t0, t2 - t1, n, _found[0], how)
    finally:
        p = mod.__dict__.get("_progress")
        if p and p[0] is not None:
            p[0].close()
            p[0] = None
        # The module's functions and its dict hold one another: broken here,
        # on every path, so that a program with gc disabled frees them too.
        x = mod.__dict__.get("_exclude")
        if x is not None:
            x.clear()
        # The hooks the agent leaves with the interpreter (at exit, at fork)
        # hold its functions weakly and find them gone with the module; one
        # that outlives it all the same (held by a cycle the collector has
        # not yet freed) then does nothing, rather than fail in the emptied
        # namespace and print to the program's stderr.
        g = mod.__dict__
        for f in list(g.values()):
            if type(f) is _FUNC and f.__globals__ is g and not f.__code__.co_freevars:
                f.__code__ = _NOOP
        f = None
        g.clear()


def _main():
    d = _loader["d"]
    try:
        # Once only: a pending call that runs late, or a second way in,
        # finds this taken (or the directory gone) and does nothing.
        _os.mkdir(d + "/claimed", 0o700)
    except OSError:
        return
    try:
        msg = _take(d)
    except BaseException as e:
        msg = "error\n%s: %s\n" % (type(e).__name__, e)
    try:
        _write(d + "/result", msg)
    except OSError:
        pass


_main()
