"""The roots of a capture, taken before the heap is listed: modules,
threads, their running frames and the frames' local variables.

External roots (kind 4) are not written. They need, per object, the number
of in-graph referrers; the reader has every edge and every count in compact
columns and computes them far more cheaply than Python could, so this agent
leaves them to it.

Stack frames. Running frames are not tracked and, on 3.11+, report no
referents; the agent writes each thread's frames itself, with edges
``f_back``, ``f_code``, ``f_globals``, ``f_builtins``, ``f_locals`` and one
per local variable, plus frame roots and local-variable roots. Reading
``f_locals`` of a running frame before 3.13 makes CPython store a dict of
the locals in the frame, as any debugger does; the agent does it before it
lists the heap, so those dicts are in the snapshot too. A running
generator's or coroutine's frame is also a referent of the generator; the
capture holds the frames it wrote until the walk is done, so that such an
edge is never taken for the frame's only reference (see the walk's
discover) and the frame is written once.
"""

import _thread
import array
import sys
import threading

from .layout import (
    _AGENT_GLOBALS, _CODE_FILE, _CODE_QUAL, _FRAME_BACK, _FRAME_CODE, _FRAME_GLOBALS, _FRAME_LINE,
    _FRAME_LOCALS, _OBJ_GETATTRIBUTE, _id)
from .names import _basename, _enc
from .output import _R_FRAME, _R_LOCAL, _R_MODULE, _R_THREAD


class _Roots:
    """The roots of one capture, one root per entry of the parallel columns
    kinds (_R_*), names (encoded, bytes), targets (ids), threads (thread
    idents, 0 for none) and depths (frame depths); frames, the running
    frames to write; quiet, whether no thread but the capturing one and the
    agent's own has Python code running or waiting to run. Nothing here
    holds the program's objects but frames, which the capture writes itself
    and then drops (frames = None)."""
    __slots__ = ("kinds", "names", "targets", "threads", "depths", "frames", "quiet", "labels")

    def __init__(self, kinds, names, targets, threads, depths, frames, quiet):
        self.kinds = kinds
        self.names = names
        self.targets = targets
        self.threads = threads
        self.depths = depths
        self.frames = frames
        self.quiet = quiet
        self.labels = None  # {thread ident: its name in chains}

    def held(self):
        """What this record holds, for the capture to keep out of the
        snapshot."""
        return (self.kinds, self.names, self.targets, self.threads, self.depths, self.frames, self.quiet,
                self.labels)

def _thread_names():
    names = {}
    try:
        active = dict(threading._active)  # no lock: see the module docstring
    except Exception:
        active = {}
    for ident, t in active.items():
        try:
            n = _OBJ_GETATTRIBUTE(t, "_name")
        except Exception:
            n = None
        names[ident] = (n if type(n) is str else "Thread-%d" % ident, t)
    return names


def _thread_labels(cur, tnames, redact):
    """The threads of cur (idents) in the order roots list them, the main
    thread first, and {ident: the name chains show}; with redact, a
    thread's name is the program's data, and its place stands instead."""
    main_ident = threading.main_thread().ident
    order = sorted(cur, key=lambda i: (i != main_ident, i))
    labels = {}
    for k, ident in enumerate(order):
        if redact:
            labels[ident] = "MainThread" if ident == main_ident else "Thread-%d" % k
        else:
            labels[ident] = tnames.get(ident, ("Thread-%d" % ident, None))[0]
    return order, labels


def _collect_roots(skip_threads, redact=False):
    """The roots (a _Roots), but of the threads in skip_threads; with
    redact, threads are named by their place."""
    kinds = array.array("B")
    names = []
    me = _thread.get_ident()
    targets = array.array("Q")
    threads = array.array("Q")
    depths = array.array("I")
    frames = []
    for name, mod in list(sys.modules.items()):
        kinds.append(_R_MODULE)
        names.append(_enc(name, 200) if type(name) is str else b"?")
        targets.append(_id(mod))
        threads.append(0)
        depths.append(0)
    tnames = _thread_names()
    cur = sys._current_frames()
    order, labels = _thread_labels(cur, tnames, redact)
    for ident in order:
        if ident in skip_threads:
            continue
        tname = labels[ident]
        tobj = tnames.get(ident, (None, None))[1]
        if tobj is not None:
            kinds.append(_R_THREAD)
            names.append(_enc(tname, 200))
            targets.append(_id(tobj))
            threads.append(ident)
            depths.append(0)
        f = cur[ident]
        depth = 0
        while f is not None:
            if _id(_FRAME_GLOBALS(f)) in _AGENT_GLOBALS:
                f = _FRAME_BACK(f)
                continue
            try:
                code = _FRAME_CODE(f)
                fname = _CODE_QUAL(code)
                where = "%s (%s:%d)" % (fname, _basename(_CODE_FILE(code)), _FRAME_LINE(f) or 0)
            except Exception:
                fname, where = "?", "?"
            kinds.append(_R_FRAME)
            names.append(_enc("%s: %s" % (tname, where), 300))
            targets.append(_id(f))
            threads.append(ident)
            depths.append(depth)
            frames.append(f)
            try:
                loc = _FRAME_LOCALS(f)
                if loc is not _FRAME_GLOBALS(f):
                    for var, val in loc.items():
                        kinds.append(_R_LOCAL)
                        names.append(_enc("%s: %s: %s" % (tname, fname, var), 300))
                        targets.append(_id(val))
                        threads.append(ident)
                        depths.append(depth)
            except Exception:
                pass
            depth += 1
            f = _FRAME_BACK(f)
    quiet = not (set(cur) - {me} - set(skip_threads))
    del cur, tnames, order
    r = _Roots(kinds, names, targets, threads, depths, frames, quiet)
    r.labels = labels
    return r
