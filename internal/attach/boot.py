# Run in the target by 'objgraph snapshot PID' (see docs/attach.md), on a
# thread of its own that the loader started, in a fresh namespace:
# _loader is the loader's namespace, holding "m", the first object the
# loader made, and "d", the private directory with this file and the agent.
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


def _own(mod):
    """The ids of the tracked objects made since the loader's first one and
    reachable from this code, its frames or the agent's module, other
    modules aside (they stay in sys.modules, the program's now), and the
    agent's at-fork hook aside (the interpreter keeps it)."""
    mark = _loader["m"]
    gens = [_gc.get_objects(0), _gc.get_objects(1), _gc.get_objects(2)]
    cands = None
    for g in range(3):
        i = next(_compress(_count(), map(_is, gens[g], _repeat(mark))), -1)
        if i >= 0:
            cands = gens[g][i + 1:]
            for y in range(g):
                cands.extend(gens[y])
            break
    del gens
    roots = [mod, mod.__dict__, globals(), _loader, mark]
    f = _sys._getframe()
    while f is not None:
        roots.append(f)
        f = f.f_back
    if cands is None:
        return set(map(id, roots))
    for o in cands:
        if type(o) is tuple and len(o) == 2 and o[1] is _loader:
            roots.append(o)  # the loader's arguments to the new thread
    cid = set(map(id, cands))
    del cands
    seen = set(map(id, roots))
    seen.add(id(seen))
    skip = getattr(mod, "_fork_hook", None)
    todo = roots
    while todo:
        for x in _gc.get_referents(todo.pop()):
            k = id(x)
            if k in cid and k not in seen and x is not skip and type(x) is not type(_sys):
                seen.add(k)
                todo.append(x)
    return seen


def _write(path, text):
    tmp = path + ".tmp"
    fd = _os.open(tmp, _os.O_WRONLY | _os.O_CREAT | _os.O_EXCL, 0o600)
    try:
        _os.write(fd, text.encode("utf-8", "replace"))
    finally:
        _os.close(fd)
    _os.replace(tmp, path)


def _take(d):
    t0 = _time.monotonic()
    path = d + "/objgraph_agent.py"
    with open(path, "rb") as f:
        src = f.read()
    mod = type(_sys)("objgraph_agent")
    mod.__file__ = path
    exec(compile(src, path, "exec"), mod.__dict__)
    mod._exclude.update(_own(mod))
    mod._agent_idents.add(_th.get_ident())
    t1 = _time.monotonic()
    out = d + "/snapshot.ogs"
    mod.snapshot(out, collect=False, redact=_loader.get("redact", False))
    t2 = _time.monotonic()
    # The module's functions and its dict hold one another: broken here, so
    # that a program with gc disabled frees them too.
    mod._exclude.clear()
    mod.__dict__.clear()
    return "ok\n%s\n%.6f\n%.6f\n" % (out, t1 - t0, t2 - t1)


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
