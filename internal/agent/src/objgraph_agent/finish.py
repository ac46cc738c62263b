"""The end of an in-process capture, after the walk: what needs no
consistent heap, on a thread of the agent's while the caller goes on.

Once the walk is over and the gc state is the program's again, what is
left is the records held during the walk (compressed and written), the
writer thread's queue drained, the META record rewritten, fsync, the
rename into place and the directory's fsync. None of it reads the
program's objects, so ``snapshot(path, fork=False)`` hands it to a
finishing thread and returns (``_finish_later``); the caller's pause is the walk.
The file appears, complete, when that thread renames it, exactly as it does
when the caller waits (``wait=True``, the default of ``snapshot(path)``,
runs the same code on the calling thread and raises what fails). The
capture's end itself is ``capture._Finish``; this module runs it.

A failure of a finishing thread is said on standard error, the temporary
file is removed, and ``wait()`` raises it. One capture at a time: the next
capture, in-process or forked, starts only once the previous one has
finished (its temporary file has the same name, and its records would be
objects of the agent's in the heap). At exit, a finishing thread still at
work is waited for (``atexit``), so that the interpreter's finalization
never stops it half way; in a child forked meanwhile it does not exist, and
the child closes its descriptor and forgets it (``_finish_after_fork``).
The thread is started with ``_thread``, which the interpreter never joins:
it never holds up the program's exit beyond the at-exit wait.
"""

import _thread
import atexit
import os
import weakref

from .output import _say


_pending = [None]  # the _Finish at work on its thread, or failed and not yet waited for


def _finish_thread(fin):
    try:
        fin.run()
        if fin.say:
            _say("objgraph_agent: wrote %s" % fin.path)
    except BaseException as e:
        fin.err = e
        _say("objgraph_agent: snapshot %s failed: %s: %s" % (fin.path, type(e).__name__, e))
    finally:
        fin.done.release()


def _finish_later(fin, say):
    """Run fin on a thread of its own; on the calling thread if none can be
    started. Returns fin."""
    fin.say = say
    fin.done = _thread.allocate_lock()
    fin.done.acquire()
    try:
        _thread.start_new_thread(_finish_thread, (fin,))
    except Exception:
        fin.done = None
        fin.run()
        if say:
            _say("objgraph_agent: wrote %s" % fin.path)
        return fin
    _pending[0] = fin
    return fin


def _finish_pending(timeout=-1):
    """Wait for the finishing thread at work, if any (timeout in seconds,
    -1 for ever); return what it failed with (None if nothing), and whether
    it is over."""
    fin = _pending[0]
    if fin is None:
        return None, True
    if not fin.done.acquire(timeout=timeout):
        return None, False
    fin.done.release()
    if _pending[0] is fin and fin.err is None:
        _pending[0] = None
    return fin.err, True


def wait(timeout=None):
    """Wait until the file of the last snapshot taken in-process without
    waiting (snapshot(path, fork=False)) is in place, and raise what it
    failed with (once). Returns True when there is nothing left to wait
    for, False when timeout seconds passed first."""
    err, over = _finish_pending(-1 if timeout is None else max(float(timeout), 0.0))
    if not over:
        return False
    if err is not None:
        _pending[0] = None
        raise err
    return True


def _wait_at_exit():
    _finish_pending(60)


# held weakly, as api's at-fork hook is: an agent loaded for one snapshot
# and then dropped (objgraph snapshot PID) leaves no module behind
atexit.register(eval("lambda: (r() or n)()", {"r": weakref.ref(_wait_at_exit), "n": type(None), "__builtins__": {}}))


def _finish_after_fork():
    """In a child forked while a finishing thread ran: the child has no such
    thread; its descriptor is closed and the capture forgotten (the parent
    finishes it)."""
    fin = _pending[0]
    _pending[0] = None
    if fin is not None and fin.err is None and fin.fd >= 0:
        try:
            os.close(fin.fd)
        except OSError:
            pass
