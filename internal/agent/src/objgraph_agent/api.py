"""The public API (snapshot, install, uninstall, main), the signal,
periodic and at-exit snapshots, the handling of the program's signal
handlers during a capture, and the run's state file for objgraph run.

Signals. The snapshot is taken in the signal handler, on the main thread,
which is stopped meanwhile, so the heap holds still (see the comment above
``_Installed`` for why that cannot deadlock).
"""

import _thread
import array
import atexit
import json
import os
import signal
import sys
import threading
import time
import weakref

from .capture import _capture
from .walk import _map_progress, _progress
from .finish import _finish_after_fork, _finish_pending, wait  # noqa: F401 (wait: public)
from .forked import _capture_fork, _fork_auto
from .guard import _agent_idents, _forking, _guard_after_fork
from .layout import _AGENT_GLOBALS, _id
from .output import _say


__all__ = ["snapshot", "install", "uninstall", "main", "wait"]

_lock = _thread.allocate_lock()
_owner = array.array("Q", [0])  # the thread taking a snapshot, 0 = none


def _after_fork():
    """In a child forked while a capture ran on another thread (which the
    child does not have): the walk's state undone (_guard_after_fork), the
    agent's snapshot lock new and free, no periodic thread."""
    global _lock
    if _forking[0] and _forking[0] == _thread.get_ident():
        return  # the child of a fork capture (forked.py) keeps the capture's state
    _guard_after_fork()
    _finish_after_fork()
    _lock = _thread.allocate_lock()
    _owner[0] = 0
    a = _installed
    if a is not None:
        a.thread = None  # the periodic thread is the parent's


# The hook holds _after_fork weakly, and its globals are its own: an agent
# loaded for one snapshot and then dropped (objgraph snapshot PID) leaves
# behind only this lambda, its dict and a dead weak reference, never the
# module.
_fork_hook = eval("lambda: (r() or n)()", {"r": weakref.ref(_after_fork), "n": type(None), "__builtins__": {}})
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fork_hook)


def _agent_caused(e):
    """Whether exception e was raised by the agent's own code (a failed
    write, say), not by the program: its signal handlers run on the main
    thread between any two bytecodes of a capture, and what they raise
    (SystemExit, KeyboardInterrupt, TimeoutError, ...) is the program's."""
    if not isinstance(e, Exception):
        return False
    tb = e.__traceback__
    if tb is None:
        return True
    while tb.tb_next is not None:
        tb = tb.tb_next
    return _id(tb.tb_frame.f_globals) in _AGENT_GLOBALS


def snapshot(path, collect=False, redact=False, fork=None, wait=None):
    """Write a heap snapshot of this process to path; return path.

    collect: run gc.collect() first (its result goes in the metadata). Off
    by default: a full collection is a pause the program did not ask for,
    runs finalizers and weakref callbacks, and frees the cycles a program
    that disabled gc holds; objgraph finds the cyclic garbage in the
    snapshot itself (objgraph gc) and leaves it out where objgraph's
    functions would have collected first (growth, newids).
    redact: leave out the contents of str and bytes objects.
    fork: True walks the heap in a forked child (the program's pause is
    the fork); False walks it here; None (the default) forks where that
    is safe and the heap is large (see forked.py and docs/agent.md).
    wait: whether to return only once the file is in place; by default
    False with fork=True or fork=False (the file appears, complete, when
    the child or, in-process, a thread of the agent's is done: its
    compression, fsync and rename follow the walk while the caller goes
    on; wait() waits for the latter and raises what it failed with) and
    True with fork=None.

    Raises OSError and the like when the file cannot be written (not
    waiting, a failure after the walk is said on stderr instead); the file is
    then left as it was and no partial file remains. MemoryError: a fork
    capture would not fit in the memory the process may use."""
    path = os.fspath(path)
    me = _thread.get_ident()
    if _owner[0] == me:
        raise RuntimeError("objgraph_agent: a snapshot is already being taken by this thread")
    # not a with-statement: its bound __exit__ would be an object of ours
    # in the heap while it is listed
    held = _hold_signals()
    try:
        _lock.acquire()
        try:
            _owner[0] = me
            try:
                _run_capture(path, collect, bool(redact), fork, wait)
            finally:
                _owner[0] = 0
        finally:
            _lock.release()
    finally:
        _release_signals(held)
    return path


def _run_capture(path, collect, redact, fork, wait, say=False):
    """One capture, in-process or forked (fork: True, False or None for
    the automatic choice)."""
    if fork is None:
        fork = _fork_auto()
        if wait is None:
            wait = True
    if collect is None:
        collect = not fork
    # one capture at a time: the previous one's file is finished first
    # (what it failed with was said, and is raised by wait())
    _finish_pending()
    if fork:
        return _capture_fork(path, bool(collect), redact, bool(wait), say)
    # not waiting, what follows the walk is done on a thread of the agent's
    # (finish.py), which is returned
    return _capture(path, bool(collect), redact, not wait, say)


# The program's signal handlers during a capture on the main thread. Python
# runs them on the main thread between any two bytecodes, so they would run
# in the middle of the walk: the program's code, which may raise (SystemExit
# from a SIGTERM handler, TimeoutError from SIGALRM), take a lock or change
# the heap. While the capture runs, each Python-level handler but the
# agent's own is replaced by _held, which notes the signal; afterwards the
# handlers are put back and the noted signals raised again, so that each
# handler runs, and what it raises reaches the program, once the agent's
# state is restored. The signals' OS-level disposition never changes.
_held_signals = []    # signals that arrived while held
_held_saved = []      # [signum, handler, signum, handler, ...] of the handlers held
_VALID_SIGNALS = sorted(getattr(signal, "valid_signals", lambda: range(1, getattr(signal, "NSIG", 65)))())


def _held(signum, frame):
    _held_signals.append(signum)


def _hold_signals():
    """Hold the program's handlers, on the main thread; returns whether it
    did (and _release_signals must follow)."""
    if _thread.get_ident() != threading.main_thread().ident or _held_saved:
        return False
    saved = _held_saved
    for s in _VALID_SIGNALS:
        try:
            h = signal.getsignal(s)
            if callable(h) and h is not _on_signal and h is not _held:
                signal.signal(s, _held)
                saved.append(s)
                saved.append(h)
        except (ValueError, OSError, RuntimeError, TypeError):
            pass
    return True


def _release_signals(held):
    if not held:
        return
    saved = _held_saved
    for i in range(0, len(saved), 2):
        try:
            if signal.getsignal(saved[i]) is _held:
                signal.signal(saved[i], saved[i + 1])
        except (ValueError, OSError, RuntimeError, TypeError):
            pass
    del saved[:]
    pending = sorted(set(_held_signals))
    del _held_signals[:]
    for s in pending:
        signal.raise_signal(s) if hasattr(signal, "raise_signal") else os.kill(os.getpid(), s)


#
# The snapshot is taken in the signal handler itself, on the main thread.
# That is safe here because the capture takes no lock that the interrupted
# code could hold: it imports nothing, reads threading._active without
# threading's lock, writes to its own file descriptor, and takes its own
# lock without waiting (a signal that arrives during a capture is dropped,
# with a message). It is also what keeps the snapshot consistent: while the
# handler runs, the program's main thread is stopped, whereas a capture on
# another thread would race with it. Periodic snapshots are requests to the
# main thread by the same signal (pthread_kill); the periodic thread waits for
# the handler to return (_Installed._done) before it counts the next period.
# Without a signal, where there is no pthread_kill, or when the program has
# replaced the handler, the periodic thread takes them itself.


class _Installed:
    def __init__(self, signum, directory, every, redact, collect, fork=None):
        self.fork = fork  # True, False, or None: fork when the heap is large (see snapshot)
        self.signum = signum
        self.directory = directory
        self.every = every
        self.redact = redact
        self.collect = collect
        self._n = array.array("Q", [0, 0])  # count, handled (raw: see _walkn)
        self.at_exit = False
        self.closed = False  # the program is exiting: no more snapshots but the one at exit
        self.stopped = False          # set by halt()
        self.wake = _thread.allocate_lock()  # released to wake the periodic thread
        self.wake.acquire()
        self.dropped = False          # a dropped request was reported
        self.thread = None

    # snapshots taken, for the file names
    count = property(lambda self: self._n[0], lambda self, v: self._n.__setitem__(0, v))
    # signal handler calls that have returned
    handled = property(lambda self: self._n[1], lambda self, v: self._n.__setitem__(1, v))

    def next_path(self):
        self.count += 1
        return os.path.join(self.directory, "objgraph-%d-%s-%d.ogs" % (
            os.getpid(), time.strftime("%Y%m%d-%H%M%S"), self.count))

    def take(self, wait=True, final=False):
        """Take one snapshot; return its path, or None when it was dropped
        or failed (said on stderr). What the program's signal handlers
        raise is raised once the agent's state is restored (_hold_signals)."""
        held = _hold_signals()
        try:
            return self._take(wait, final)
        finally:
            _release_signals(held)

    def _take(self, wait, final):
        if not _lock.acquire(wait):
            self._drop()
            return None
        path = failed = forked = None
        try:
            if self.closed and not final:
                # at exit: a daemon thread's capture could be stopped half
                # way when the interpreter finalizes
                return None
            if _owner[0]:
                self._drop()
                return None
            else:
                path = self.next_path()
                _owner[0] = _thread.get_ident()
                fork = self.fork
                asked = _fork_requested()
                if asked is not None:
                    fork = asked
                # how far the walk is, for 'objgraph snapshot PID' (which
                # removed the file before it signalled)
                prog = _map_progress(os.path.join(_state_dir, _PROGRESS_FILE)) if _state_dir else None
                _progress[0] = prog
                try:
                    # at exit, a forked child is waited for (say: the
                    # child's success is said when it is done)
                    forked = _run_capture(path, self.collect, self.redact, fork, final, True)
                finally:
                    _owner[0] = 0
                    _progress[0] = None
                    if prog is not None:
                        prog.close()
        except BaseException as e:
            if not _agent_caused(e):
                raise
            # a snapshot that fails never ends the program
            failed = "snapshot failed: %s: %s" % (type(e).__name__, e)
        finally:
            _lock.release()
        if failed is not None:
            _say("objgraph_agent: " + failed)
            return None
        if forked is None or final:
            _say("objgraph_agent: wrote %s" % path)  # (a forked child not waited for says it when done)
        return path

    def periodic(self):
        """The periodic thread: a snapshot every `every` seconds, counted
        from the end of the previous one, so that snapshots that take longer
        than `every` are never taken back to back."""
        _agent_idents.add(_thread.get_ident())
        main = threading.main_thread()
        try:
            while self._sleep(self.every):
                if (self.signum is None or _pthread_kill is None or not main.is_alive()
                        or signal.getsignal(self.signum) is not _on_signal):
                    self.take()
                    continue
                seen = self.handled
                try:
                    _pthread_kill(main.ident, self.signum)
                except (OSError, ValueError):
                    self.take()
                    continue
                # The main thread takes it in the handler: wait till that is
                # over (or the main thread is gone) before counting again.
                while main.is_alive() and (self.handled == seen or _lock.locked()):
                    if not self._sleep(1.0, seen):
                        return
        finally:
            _agent_idents.discard(_thread.get_ident())

    def _sleep(self, seconds, seen=None):
        """Wait for seconds; with seen, only until a signal handler call
        after the count `seen` has returned and no snapshot is being taken.
        Returns False when uninstall() stopped the thread."""
        end = time.monotonic() + seconds
        while not self.stopped:
            left = end - time.monotonic()
            if left <= 0 or (seen is not None and self.handled != seen and not _lock.locked()):
                return True
            self.wake.acquire(timeout=min(left, _thread.TIMEOUT_MAX))
        return False

    def halt(self):
        """End periodic snapshots (the periodic thread returns when it next
        wakes, which this makes it do now)."""
        self.stopped = True
        try:
            self.wake.release()
        except RuntimeError:
            pass

    def _done(self):
        """Called as the signal handler returns, whatever it did: the
        periodic thread waits for it."""
        self.handled += 1
        try:
            self.wake.release()
        except RuntimeError:  # already released
            pass

    def _drop(self):
        """A request came while a snapshot was being taken: say so once per
        run of such requests."""
        if not self.dropped:
            self.dropped = True
            _say("objgraph_agent: a snapshot is being taken; requests are dropped until it is done")


_installed = None
_prev_handler = {}
_pthread_kill = getattr(signal, "pthread_kill", None)


def _on_signal(signum, frame):
    a = _installed
    if a is None:
        return
    try:
        if _lock.locked():
            a._drop()
        else:
            a.dropped = False
            # positional: before 3.11, a call with keywords makes a bound
            # method, an object of the agent's in the heap it lists
            a.take(False)
    finally:
        a._done()


def _on_exit():
    """At exit: periodic snapshots end (one under way is waited for, so
    that the interpreter's finalization does not stop it half way), then the
    snapshot at exit, if asked for."""
    a = _installed
    if a is not None:
        a.closed = True
        a.halt()
        if a.at_exit:
            a.take(True, True)  # (wait, final; positional, see _on_signal)
        elif _lock.acquire(timeout=60):
            _lock.release()
    _finish_pending(60)


def install(signum=getattr(signal, "SIGUSR2", None), directory=".", every=0, at_exit=False,
            redact=False, collect=False, fork=None):
    """Take a snapshot into directory on each signal signum (None: no
    signal), every `every` seconds (0: never) and when the program exits
    (at_exit=True), each after a gc.collect() only with collect=True.
    Snapshot files are named
    objgraph-<pid>-<YYYYmmdd-HHMMSS>-<n>.ogs. Call uninstall() to stop.
    With a signal, install() must be called from the main thread (Python's
    rule for signal handlers). fork: True takes every snapshot in a forked
    child (see snapshot), False never, None (the default) when the heap is
    large; objgraph snapshot --fork asks for one fork snapshot. Under
    objgraph run, install() then publishes
    this process for 'objgraph snapshot' (_publish); uninstall() withdraws
    it."""
    global _installed
    uninstall()
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise NotADirectoryError("objgraph_agent: %r is not a directory" % (directory,))
    every = float(every or 0)
    a = _Installed(signum, directory, every, bool(redact), None if collect is None else bool(collect),
                   None if fork is None else bool(fork))
    if signum is not None:
        _prev_handler[signum] = signal.signal(signum, _on_signal)
    _installed = a
    if every > 0:
        a.thread = threading.Thread(target=a.periodic, name="objgraph-agent", daemon=True)
        a.thread.start()
    a.at_exit = bool(at_exit)
    if at_exit or every > 0:
        atexit.register(_on_exit)
    if signum is not None and _state_dir:
        try:
            _publish(signum, directory)
        except (OSError, ValueError) as e:
            _say("objgraph_agent: 'objgraph snapshot' will not find this process: %s" % (e,))


def uninstall():
    """Undo install(): restore the signal handler, stop periodic snapshots."""
    global _installed
    _unpublish()
    a = _installed
    _installed = None
    for signum, prev in list(_prev_handler.items()):
        try:
            signal.signal(signum, prev if prev is not None else signal.SIG_DFL)
        except (ValueError, OSError, TypeError):
            pass
        del _prev_handler[signum]
    try:
        atexit.unregister(_on_exit)
    except Exception:
        pass
    if a is not None:
        a.halt()


_FORK_REQUEST = "fork-next"
_PROGRESS_FILE = "progress"  # in _state_dir (see walk.py's _progress)


def _fork_requested():
    """What 'objgraph snapshot --fork=always|never' asked of this snapshot:
    a file named fork-next in the run's private directory, which this
    removes, holding "always" (True: in a forked child; an empty file too)
    or "never" (False: in-process). None when there is no such file."""
    if not _state_dir:
        return None
    p = os.path.join(_state_dir, _FORK_REQUEST)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        v = os.read(fd, 64).strip()
    except OSError:
        v = b""
    finally:
        os.close(fd)
    try:
        os.unlink(p)
    except OSError:
        return None  # taken by another process of the run
    return v != b"never"


def _parse_signal(name):
    if name is None:
        return getattr(signal, "SIGUSR2", None)
    name = name.strip()
    if name.lower() in ("", "none", "off", "0"):
        return None
    if name.isdigit():
        return int(name)
    if not name.upper().startswith("SIG"):
        name = "SIG" + name
    sig = getattr(signal, name.upper(), None)
    if sig is None:
        raise ValueError("objgraph_agent: unknown signal %r" % name)
    return sig


# The run's state: the process 'objgraph snapshot' is to signal.

_state_dir = None   # objgraph run's directory for this run (OBJGRAPH_AGENT_STATE)
_published = None   # (path, pid) of the state file this process wrote


def _start_ticks():
    """This process's start time as /proc/self/stat has it (0 elsewhere)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            s = f.read()
        return int(s[s.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def _read_state(path):
    """The pid in the state file at path, or None (no file, a link, not
    ours to read, not JSON)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            return int(json.loads(os.read(fd, 65536).decode())["pid"])
        finally:
            os.close(fd)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _publish(signum, directory):
    """Write agent.json in _state_dir: this process's pid, snapshot
    directory and signal, for 'objgraph snapshot' to signal it. Called once
    the handler is installed. The directory must be this user's and private
    (objgraph run makes it so); the file is made mode 0600 under a temporary
    name, exclusively and without following links, then linked into place.
    The run's first Python process keeps the file while it runs: a later one
    (a subprocess) takes it over only when that process is gone."""
    global _published
    import stat
    st = os.lstat(_state_dir)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise OSError("%s is not a private directory of this user" % (_state_dir,))
    me = os.getpid()
    path = os.path.join(_state_dir, "agent.json")
    tmp = "%s.tmp-%d" % (path, me)
    data = json.dumps({"pid": me, "dir": os.path.abspath(directory), "signal": signal.Signals(signum).name,
                       "signum": int(signum), "start": _start_ticks()}).encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:  # left by this pid before an exec
        os.unlink(tmp)
        fd = os.open(tmp, flags, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    try:
        try:
            os.link(tmp, path)  # fails when there is a file already
        except FileExistsError:
            holder = _read_state(path)
            if holder is not None and holder != me and _alive(holder):
                return False
            os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    _published = (path, me)
    return True


def _unpublish():
    """Remove the state file _publish wrote, if it still names this process
    (not in a child forked from it)."""
    global _published
    p, _published = _published, None
    if p is not None and p[1] == os.getpid() and _read_state(p[0]) == p[1]:
        try:
            os.unlink(p[0])
        except OSError:
            pass


def _parse_fork(v):
    v = (v or "").strip().lower()
    if v in ("", "auto"):
        return None
    return v not in ("0", "false", "no")


def _autostart_from_env(environ=None):
    """Install according to OBJGRAPH_AGENT_* variables; nothing happens on
    import. OBJGRAPH_AGENT_DIR (required), OBJGRAPH_AGENT_SIGNAL (a name such
    as SIGUSR2, or "none"), OBJGRAPH_AGENT_EVERY (seconds, 0 = off),
    OBJGRAPH_AGENT_AT_EXIT (1 or 0), OBJGRAPH_AGENT_REDACT (1 or 0),
    OBJGRAPH_AGENT_FORK (1: always fork, 0: never, unset or "auto": when
    the heap is large),
    OBJGRAPH_AGENT_COLLECT (1: gc.collect() before each snapshot),
    OBJGRAPH_AGENT_STATE (objgraph run's private directory: install()
    publishes this process there, see _publish). Returns True when it
    installed."""
    global _state_dir
    env = os.environ if environ is None else environ
    directory = env.get("OBJGRAPH_AGENT_DIR")
    if not directory:
        return False
    _state_dir = env.get("OBJGRAPH_AGENT_STATE") or None
    signum = _parse_signal(env.get("OBJGRAPH_AGENT_SIGNAL"))
    every = float(env.get("OBJGRAPH_AGENT_EVERY") or 0)
    at_exit = (env.get("OBJGRAPH_AGENT_AT_EXIT") or "0").strip() not in ("", "0", "false", "no")
    redact = (env.get("OBJGRAPH_AGENT_REDACT") or "0").strip() not in ("", "0", "false", "no")
    fork = _parse_fork(env.get("OBJGRAPH_AGENT_FORK"))
    collect = (env.get("OBJGRAPH_AGENT_COLLECT") or "0").strip() not in ("", "0", "false", "no")
    install(signum=signum, directory=directory, every=every, at_exit=at_exit, redact=redact, collect=collect, fork=fork)
    return True


_USAGE = """\
usage: python3 objgraph_agent.py run [options] script.py [args...]
       python3 objgraph_agent.py run [options] -m module [args...]

Runs a Python program with the objgraph agent installed, which writes heap
snapshots (.ogs files, read by the objgraph command) of the program:

  on a signal       --signal SIG   (default SIGUSR2; "none" for no signal)
  periodically      --every SECONDS
  when it exits     --at-exit

options:
  --dir DIR         where snapshots go (default: $OBJGRAPH_AGENT_DIR or .)
  --redact          leave the contents of str and bytes out
  --fork            take every snapshot in a forked child (the pause is one
                    fork); --no-fork never; by default when the heap is large
  --collect         run gc.collect() before each snapshot (off by default:
                    objgraph finds the cyclic garbage in the snapshot)
  -h, --help        this text

Snapshot files are named objgraph-<pid>-<YYYYmmdd-HHMMSS>-<n>.ogs. Options
default to the OBJGRAPH_AGENT_SIGNAL, _EVERY, _AT_EXIT, _REDACT, _FORK and _COLLECT
variables. From Python code: import objgraph_agent, then
objgraph_agent.snapshot(path) or objgraph_agent.install(...).
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(_USAGE)
        return 0 if argv else 2
    if argv[0] != "run":
        sys.stderr.write("objgraph_agent: unknown command %r\n\n%s" % (argv[0], _USAGE))
        return 2
    args = argv[1:]
    env = os.environ
    opts = {"dir": env.get("OBJGRAPH_AGENT_DIR") or ".", "signal": env.get("OBJGRAPH_AGENT_SIGNAL"),
            "every": env.get("OBJGRAPH_AGENT_EVERY") or "0",
            "at_exit": (env.get("OBJGRAPH_AGENT_AT_EXIT") or "0") not in ("", "0"),
            "redact": (env.get("OBJGRAPH_AGENT_REDACT") or "0") not in ("", "0"),
            "fork": _parse_fork(env.get("OBJGRAPH_AGENT_FORK")),
            "collect": (env.get("OBJGRAPH_AGENT_COLLECT") or "0") not in ("", "0")}
    module = None
    while args and args[0].startswith("-"):
        a = args.pop(0)
        if a in ("-h", "--help"):
            sys.stdout.write(_USAGE)
            return 0
        if a == "-m":
            if not args:
                break
            module = args.pop(0)
            break
        if a == "--":
            break
        key, eq_, val = a.partition("=")
        if key in ("--dir", "--signal", "--every"):
            if not eq_:
                if not args:
                    sys.stderr.write("objgraph_agent: %s needs a value\n" % key)
                    return 2
                val = args.pop(0)
            opts[key[2:]] = val
        elif key == "--at-exit":
            opts["at_exit"] = True
        elif key == "--redact":
            opts["redact"] = True
        elif key == "--fork":
            opts["fork"] = True
        elif key == "--no-fork":
            opts["fork"] = False
        elif key == "--collect":
            opts["collect"] = True
        else:
            sys.stderr.write("objgraph_agent: unknown option %s\n\n%s" % (a, _USAGE))
            return 2
    if module is None and not args:
        sys.stderr.write("objgraph_agent: run needs a script or -m module\n\n%s" % _USAGE)
        return 2
    try:
        install(signum=_parse_signal(opts["signal"]), directory=opts["dir"], every=float(opts["every"]),
                at_exit=opts["at_exit"], redact=opts["redact"], collect=opts["collect"], fork=opts["fork"])
    except (ValueError, OSError) as e:
        sys.stderr.write("%s\n" % e)
        return 2
    # Code in the program that imports objgraph_agent gets this module, with
    # its daemon, not a second copy.
    sys.modules.setdefault("objgraph_agent", sys.modules[__name__])
    import runpy
    if module is not None:
        sys.argv = [module] + args
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script = args[0]
        sys.argv = list(args)
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
