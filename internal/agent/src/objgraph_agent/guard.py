"""The process state a capture changes, and how every change is undone:
automatic collections off and the gc.callbacks guard during the walk,
the agent's own threads, the switch interval while held records are
written, and all of it reset in a child forked during a capture.

Hygiene. Automatic collections are off during the walk (generation 0's
threshold is 0) and a gc.collect() another thread of the program asks for
waits for the walk to end (a ``gc.callbacks`` hook), since a collection
would untrack objects under the walk. The agent never calls gc.disable() or
gc.enable(): what the program's threads do with them during a capture
stands. The agent's own threads never wait in the hook, and the hook stops
waiting when the capturing thread is gone or the interpreter is shutting
down, so no collection waits for ever. A child forked during a capture gets
the program's threshold back, the hook removed and the agent's locks new
(``os.register_at_fork``). No Python code of the program runs during the
walk: a ``__sizeof__`` written in Python is not called (the object's C-level
size is written, flagged estimated); with a capture on the main thread, the
program's Python signal handlers are held and the signals raised again once
the agent's state is restored, so that what they raise reaches the program.
With other threads in the process, the walk does no I/O (records are held
in memory and written after it): each time it let go of the GIL it waited
for every busy thread to have its turn. Objects the agent makes are kept out
of the snapshot. The file is written to a temporary name in the same
directory, synced and renamed; on any error the temporary file is removed
and the error raised to the caller of ``snapshot()``.
"""

import _thread
import array
import gc
import os
import sys

from .settings import _tuning


# ids of tracked objects left out of every snapshot: those of a loader that
# imported this module for one snapshot (objgraph snapshot PID), the module's
# own included
_exclude = set()
_agent_idents = set()  # the agent's own threads (the periodic one): no roots of the program's

# The walk: while it runs, automatic collections are off (generation 0's
# threshold is 0, which CPython 3.8-3.14 take to mean "never"), and a
# collection that a thread of the program asks for with gc.collect() waits
# for it to end (_gc_guard). The program's own gc.enable() and gc.disable()
# are left alone: the agent never touches the enabled flag, so whatever
# another thread does with it during the capture stands afterwards. The
# agent's own threads (the capturing one and its writer) never wait in the
# guard, so no collection can wait on a thread that waits on it.
# (exempt and the held signals are kept in objects made once: an object a
# capture made before it lists the heap would be in the snapshot)
_exempt = array.array("Q")  # threads the guard never holds up
# The walk's numbers as raw values, not int objects: an int the capture made
# and kept in the agent's state would be a new object in the next snapshot.
_WALK_OWNER, _WALK_THRESHOLD, _WALK_FD = range(3)   # (fd + 1: 0 = none)
_walkn = array.array("Q", [0, 0, 0])
_walk_lock = _thread.allocate_lock()
# The thread that is forking a capture's child (fork=True), 0 = none: in
# that child, which goes on with the capture, the at-fork reset is skipped.
_forking = array.array("Q", [0])


def _gc_guard(phase, info):
    """gc.callbacks hook, installed only during the walk: a collection that
    another thread of the program starts waits for the walk to end (it would
    untrack objects the walk relies on)."""
    if phase == "start" and _walkn[_WALK_OWNER] and _thread.get_ident() not in _exempt:
        # Never for ever: not while the interpreter shuts down (daemon
        # threads, a capturing one included, stop where they are), and not
        # once the capturing thread is gone.
        lk = _walk_lock
        while not lk.acquire(timeout=0.5):
            owner = _walkn[_WALK_OWNER]
            if not owner or _is_finalizing() or owner not in sys._current_frames():
                return
        lk.release()


_is_finalizing = getattr(sys, "is_finalizing", lambda: False)


def _walk_begin(fd):
    """Stop automatic collections and install the guard; undone by
    _walk_end, or in a forked child by _guard_after_fork."""
    _walk_lock.acquire()
    n = _walkn
    n[_WALK_FD] = fd + 1
    n[_WALK_THRESHOLD] = gc.get_threshold()[0]
    if n[_WALK_THRESHOLD]:
        gc.set_threshold(0)
    me = _thread.get_ident()
    del _exempt[:]
    _exempt.append(me)
    n[_WALK_OWNER] = me
    gc.callbacks.append(_gc_guard)


def _walk_exempt(ident):
    """The agent's writer thread: never held up by the guard."""
    _exempt.append(ident)


def _walk_end():
    """Undo _walk_begin. A threshold the program set meanwhile is the
    program's and stays."""
    n = _walkn
    if not n[_WALK_OWNER]:
        return
    cbs = gc.callbacks
    for i in range(len(cbs) - 1, -1, -1):
        # by identity: `in` and remove() would call the program's callbacks' __eq__
        if cbs[i] is _gc_guard:
            del cbs[i]
    thr = n[_WALK_THRESHOLD]
    if thr and gc.get_threshold()[0] == 0:
        gc.set_threshold(thr)
    n[_WALK_OWNER] = 0
    del _exempt[:]
    n[_WALK_FD] = 0
    _walk_lock.release()


# While the records held during a walk are written, the switch interval is
# short. Each compress() and write() lets go of the GIL, and getting it back
# from a busy thread takes one switch interval (5 ms by default): some 500 of
# them for 400,000 objects. The walk is over, and a short interval costs the
# program's threads nothing but more frequent turns.
_switch = []  # [the program's interval, ours as read back] while it is ours


def _switch_quickly():
    si = sys.getswitchinterval()
    if si > _tuning.quick_switch and not _switch:
        sys.setswitchinterval(_tuning.quick_switch)
        _switch[:] = [si, sys.getswitchinterval()]


def _switch_back():
    """The program's switch interval back, unless it set one meanwhile."""
    if _switch:
        si, ours = _switch
        del _switch[:]
        if sys.getswitchinterval() == ours:
            sys.setswitchinterval(si)


def _guard_after_fork():
    """In a child forked while a capture ran on another thread (which the
    child does not have): the program's gc state and callbacks back, the
    parent's file descriptor closed, the walk's lock new and free, the
    program's switch interval back."""
    global _walk_lock
    if _forking[0] and _forking[0] == _thread.get_ident():
        return  # the child of a fork capture: it goes on with the walk
    _walk_lock = _thread.allocate_lock()  # the old one's holder is gone
    if _walkn[_WALK_OWNER]:
        fd = _walkn[_WALK_FD] - 1
        _walk_lock.acquire()  # for _walk_end to release
        _walk_end()
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
    _switch_back()
