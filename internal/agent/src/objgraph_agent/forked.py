"""Fork capture: the program's pause is one fork().

At the safe point (the caller's thread, holding the GIL) the parent does
what the child cannot: it takes the roots, which read every thread's
stack, and writes the running frames with their local variables (held in
memory, as records), since in the child the other threads are gone and
their frames with them. It lists generation 0 (the objects it makes from
then on are its own and left out, as in an in-process capture), then
forks and returns at once. The child turns gc off, raises its own
``oom_score_adj`` to 1000 (the kernel's out-of-memory killer takes it
before the program), lists generations 1 and 2, walks a heap that nothing
else changes, writes the file under its temporary name, syncs it, renames
it into place and leaves with ``os._exit``: no atexit handler, no
finalizer, nothing of the program's runs there after the walk.

What runs in the child. ``os.fork()`` runs the at-fork handlers
registered with ``os.register_at_fork`` (the program's, and the standard
library's: ``threading`` marks the other threads stopped and gives the
forking thread new lock state and ident, ``random`` reseeds, ``logging``
makes its locks new) before the child's walk; a fork that skips them is not
possible from Python, and the interpreter needs its own after-fork work.
So the objects those handlers replace differ between a fork snapshot and
an in-process one of the same moment; everything else is the same. Apart
from them, the child takes no lock another thread may have held at fork
time: it imports nothing (everything is imported with the agent), logs
nothing, writes to no shared stream (the outcome goes back through a pipe
of its own), and resets the program's Python-level signal handlers to the
default, so a signal ends the child rather than running program code in
it.

Memory. The walk changes the reference count of every object it meets,
so the kernel copies nearly every page of the heap into the child. Before
forking the parent estimates that (the process's anonymous resident
memory plus the walk's own) and compares it with what it may use: the
cgroup's ``memory.max - memory.current`` and the machine's
``MemAvailable``. It refuses, raising MemoryError, when the estimate is
more than _FORK_SHARE of that. The child measures what it held alone at
the end (``Private_Dirty``, which is its peak: it frees nothing it
copied) and puts it in the snapshot's metadata, ``capture.fork``.

Reaping. The parent never installs a SIGCHLD handler or changes a signal
disposition: a thread of the agent's waits for that one pid
(``os.waitpid(pid, 0)``) and reads the outcome from the pipe, so no other
child of the program is ever reaped by the agent. When the program reaps
it first (``os.wait()``), the pipe still tells the outcome.
"""

import _thread
import gc
import os
import signal
import time
from itertools import compress, repeat
from operator import and_, getitem, rshift

from .capture import (
    _drop_excluded, _frozen_start, _finish_file, _gen_bits, _new_meta, _open_tmp, _own_ids, _sync_dir, _walk_gens,
    _write_singletons)
from .guard import _agent_idents, _forking, _walk_begin, _walk_end
from .layout import _CHUNK_MASK, _CHUNK_SHIFT, _FRAME_CODE, _FREE_THREADED, _GRAIN, _NOT, _id, _is_tracked, _len
from .names import _code_vocabulary
from .output import _FILE_HDR, _MAGIC, _Out, _meta_json, _say, _write_meta
from .roots import _collect_roots
from .threadlocals import _thread_local_names
from .settings import _tuning
from .walk import _Capture

_FORK_SHARE = 0.8            # at most this share of the memory available goes to the child
_WALK_SHARE = 0.2            # the child's own memory (byte map, lists of objects) per byte of heap
_CAN_FORK = hasattr(os, "fork") and hasattr(os, "register_at_fork") and not _FREE_THREADED
_VALID = sorted(getattr(signal, "valid_signals", lambda: range(1, getattr(signal, "NSIG", 65)))())


def _fork_unavailable():
    """Why a fork capture cannot be taken here, or None."""
    if _FREE_THREADED:
        return "this is a free-threaded build, where forking a running program is not safe"
    if not (hasattr(os, "fork") and hasattr(os, "register_at_fork")):
        return "this platform has no fork()"
    return None


def _fork_refusal():
    """Why fork=None would not fork a capture here, whatever the heap's
    size: fork is not safe (_fork_unavailable) or the child would not fit
    in the memory available (_fork_check's message); None when it would."""
    why = _fork_unavailable()
    if why is None:
        try:
            _fork_check()
        except MemoryError as e:
            why = str(e)
    return why


def _read_int(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        s = os.read(fd, 64).strip()
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        return int(s)
    except ValueError:
        return None   # "max"


def _status_kb(path, key):
    """The value of key in a /proc key: value kB file, in bytes, or None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = b""
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            data += b
    except OSError:
        return None
    finally:
        os.close(fd)
    k = key.encode() + b":"
    for line in data.split(b"\n"):
        if line.startswith(k):
            try:
                return int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                return None
    return None


def _cgroup_room():
    """(bytes the cgroup still allows, where that was read) or (None, "")."""
    try:
        fd = os.open("/proc/self/cgroup", os.O_RDONLY)
        try:
            lines = os.read(fd, 65536).decode("utf-8", "replace").splitlines()
        finally:
            os.close(fd)
    except OSError:
        return None, ""
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":  # cgroup v2
            d = "/sys/fs/cgroup" + parts[2].rstrip("/")
            mx, cur = _read_int(d + "/memory.max"), _read_int(d + "/memory.current")
            if mx is not None and cur is not None:
                return max(mx - cur, 0), d
        elif "memory" in parts[1].split(","):  # cgroup v1
            d = "/sys/fs/cgroup/memory" + parts[2].rstrip("/")
            mx, cur = _read_int(d + "/memory.limit_in_bytes"), _read_int(d + "/memory.usage_in_bytes")
            if mx is not None and cur is not None and mx < (1 << 60):
                return max(mx - cur, 0), d
    return None, ""


def _fork_budget():
    """(estimate, available, where) in bytes: what the child is expected to
    copy and use (the process's anonymous resident memory, which the walk
    touches nearly all of, and the walk's own), and what the process may
    still use."""
    anon = _status_kb("/proc/self/status", "RssAnon")
    if anon is None:
        anon = _status_kb("/proc/self/status", "VmRSS") or 0
    estimate = anon + int(anon * _WALK_SHARE)
    avail = _status_kb("/proc/meminfo", "MemAvailable")
    where = "MemAvailable"
    room, cg = _cgroup_room()
    if room is not None and (avail is None or room < avail):
        avail, where = room, "the cgroup's memory.max - memory.current (%s)" % cg
    return estimate, avail, where


def _fork_check():
    """Raise MemoryError when the child could endanger the program; return
    (estimate, available)."""
    est, avail, where = _fork_budget()
    if avail is not None and est > avail * _FORK_SHARE:
        raise MemoryError(
            "objgraph_agent: a fork snapshot would copy about %d MiB of this process's memory, and %s "
            "leaves %d MiB: take the snapshot in-process (fork=False, objgraph without --fork) or free "
            "memory" % (est >> 20, where, avail >> 20))
    return est, avail


def _fork_auto():
    """Whether fork=None takes a fork capture: where fork is safe, the heap
    is large (_tuning.fork_min_bytes of anonymous memory) and the child
    fits in the memory available."""
    if not _CAN_FORK:
        return False
    anon = _status_kb("/proc/self/status", "RssAnon")
    if anon is None or anon < _tuning.fork_min_bytes:
        return False
    est, avail, _ = _fork_budget()
    return avail is None or est <= avail * _FORK_SHARE


def _private_dirty():
    v = _status_kb("/proc/self/smaps_rollup", "Private_Dirty")
    return v if v is not None else 0


class _Child:
    """What the parent keeps of a fork capture it started."""
    __slots__ = ("pid", "rfd", "tmp", "path", "outcome", "done", "pause", "private_bytes", "error")

    def __init__(self, pid, rfd, tmp, path):
        self.pid = pid
        self.rfd = rfd
        self.tmp = tmp
        self.path = path
        self.outcome = None   # bytes from the child's pipe
        self.pause = 0.0      # seconds the caller was held up
        self.private_bytes = -1  # the child's memory of its own at the end (Private_Dirty)
        self.error = None     # why the child failed, once reaped
        self.done = _thread.allocate_lock()
        self.done.acquire()

    def reap(self):
        """Read the child's outcome, wait for that pid, return the error
        message or None."""
        chunks = []
        try:
            while True:
                b = os.read(self.rfd, 4096)
                if not b:
                    break
                chunks.append(b)
        except OSError:
            pass
        finally:
            os.close(self.rfd)
        status = None
        while True:
            try:
                status = os.waitpid(self.pid, 0)[1]
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break  # the program reaped it: the pipe says how it went
        self.outcome = b"".join(chunks)
        msg = None
        if self.outcome.startswith(b"ok "):
            self.private_bytes = int(self.outcome[3:])
        else:
            if self.outcome:
                msg = self.outcome.decode("utf-8", "replace")
            elif status is not None and os.WIFSIGNALED(status):
                msg = "the snapshot's process was ended by signal %d" % os.WTERMSIG(status)
            else:
                msg = "the snapshot's process ended before it wrote the file"
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
        self.error = msg
        self.done.release()
        return msg


_last_child = [None]  # the last fork capture's _Child (for tests and benchmarks)
# Called in the parent with the child's pid as soon as the child runs,
# before the capture returns or waits for it (objgraph snapshot PID's loader
# tells objgraph which process walks the heap); None for nothing. What it
# raises is ignored.
_fork_notify = [None]


def _reaper(child, say):
    _agent_idents.add(_thread.get_ident())
    try:
        msg = child.reap()
        if msg is not None:
            _say("objgraph_agent: fork snapshot %s failed: %s" % (child.path, msg))
        elif say:
            _say("objgraph_agent: wrote %s" % child.path)
    finally:
        _agent_idents.discard(_thread.get_ident())


def _capture_fork(path, collect, redact, wait, say=False):
    """A capture in a forked child (see the module docstring). Returns the
    child's _Child once the child runs; with wait, once the file is in
    place (raising OSError when the child failed)."""
    why = _fork_unavailable()
    if why is not None:
        raise OSError("objgraph_agent: no fork snapshot: %s; take it in-process (fork=False)" % why)
    t0 = time.perf_counter()
    now = time.time()
    was_enabled = gc.isenabled()
    c0, c1, c2 = gc.get_count()
    collected = gc.collect() if collect else 0
    est, avail = _fork_check()
    tmp, fd = _open_tmp(path)
    rfd = wfd = -1
    walking = False
    out = cap = None
    pid = -1
    try:
        errors = []
        meta = _new_meta(now, redact, was_enabled, [c0, c1, c2], errors)
        meta["capture"]["fork"] = {"parent_pid": os.getpid(), "estimate_bytes": est,
                                   "available_bytes": avail if avail is not None else -1,
                                   "child_private_bytes": 0, "pause_seconds": 0.0}
        msize = len(_meta_json(meta)) + _tuning.meta_slack
        head = _FILE_HDR.pack(_MAGIC, 1, 0, 0)
        os.write(fd, head)
        _write_meta(fd, meta, msize)
        _walk_begin(fd)
        walking = True
        frozen = gc.get_freeze_count() > 0
        own = set()
        roots = _collect_roots(_agent_idents, redact)
        gens = [gc.get_objects(0)]
        _own_ids(own, roots, gens, errors, meta)
        g0 = gens[0]
        gens[0] = list(compress(g0, bytes(map(own.__contains__, map(_id, g0))).translate(_NOT)))
        del g0
        own.add(_id(meta["capture"]["fork"]))
        ntracked = len(gens[0])  # (the child sets the walk's sizes from its own count)
        # The running frames, written here: the child has no other thread,
        # and their frames are gone there. Tracked referents are left to the
        # child, which lists them (frozen ones included: cap.frozen is set
        # there).
        out = _Out(fd, threaded=False, hold=True)
        out.nrec = 1
        cap = _Capture(out, redact, roots, False, errors, ntracked, quiet=False)
        cap.progress = None  # the child's walk says how far it is
        cap.meta_capture = meta["capture"]  # (what the walk notes there: buffers.py)
        _thread_local_names(cap, roots.labels)
        cap.calibrate()
        frames = [f for f in roots.frames if not _is_tracked(f)]
        codes = []
        for f in roots.frames:
            codes.append(_FRAME_CODE(f))
        roots.frames = None
        cap.mark(list(map(_id, frames)))
        cap.run_list(frames, 0, frames=True)
        # frames stays held in the child until its walk is done (see capture.py)
        rfd, wfd = os.pipe()
        # What is in generation 0 at fork time: the program's objects listed
        # above and the agent's own since. What the child finds there besides
        # is what the at-fork handlers made (the program's).
        pre = gc.get_objects(0)
        pre_ids = set(map(_id, pre))
        pre_ids.add(_id(pre))
        pre_ids.add(_id(pre_ids))
        del pre
        _forking[0] = _thread.get_ident()
        try:
            pid = os.fork()
        finally:
            if pid != 0:
                _forking[0] = 0
        if pid == 0:
            os.close(rfd)
            _child(cap, out, fd, wfd, tmp, path, meta, msize, head, gens, codes, frozen, redact, t0, collected,
                   pre_ids, frames)
            os._exit(70)  # not reached
        pause = time.perf_counter() - t0
        os.close(wfd)
        wfd = -1
    finally:
        if walking:
            _walk_end()
        if cap is not None:
            cap.release()
        if fd >= 0:
            os.close(fd)
        if wfd >= 0:
            os.close(wfd)
        if pid < 0:
            if rfd >= 0:
                os.close(rfd)
            try:
                os.unlink(tmp)
            except OSError:
                pass
    del cap, out, roots, gens, codes, own, meta, errors, pre_ids, frames
    child = _Child(pid, rfd, tmp, path)
    child.pause = pause
    _last_child[0] = child
    notify = _fork_notify[0]
    if notify is not None:
        try:
            notify(pid)
        except Exception:
            pass
    del notify
    if wait:
        msg = child.reap()
        if msg is not None:
            raise OSError("objgraph_agent: fork snapshot %s failed: %s" % (path, msg))
        return child
    _thread.start_new_thread(_reaper, (child, say))
    return child


def _written(cap, ids):
    """Bytes, 1 for each of ids the byte map of cap marks as written."""
    g = list(map(rshift, ids, repeat(_GRAIN)))
    chunks = list(map(cap.bytemap.__getitem__, map(rshift, g, repeat(_CHUNK_SHIFT - _GRAIN))))
    return bytes(map(getitem, chunks, map(and_, g, repeat(_CHUNK_MASK))))


def _child(cap, out, fd, wfd, tmp, path, meta, msize, head, gens, codes, frozen, redact, t0, collected, pre_ids,
           frames):
    """The forked child: the rest of the walk, the file, then os._exit."""
    code = 1
    try:
        gc.disable()
        made = gc.get_objects(0)
        pre_ids.add(_id(made))
        made = list(compress(made, bytes(map(pre_ids.__contains__, map(_id, made))).translate(_NOT)))
        if made:
            # An untracked object the parent wrote may have been tracked by
            # another thread between the listing of generation 0 and the
            # fork (before 3.11, a running frame is untracked until it
            # outlives its call): it is written already.
            made = list(compress(made, _written(cap, list(map(_id, made))).translate(_NOT)))
        if made:
            gens[0].extend(made)
        del made, pre_ids
        try:
            ofd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            try:
                os.write(ofd, b"1000")
            finally:
                os.close(ofd)
        except OSError:
            pass
        for s in _VALID:
            try:
                h = signal.getsignal(s)
                if callable(h):
                    signal.signal(s, signal.SIG_DFL)
            except (ValueError, OSError, RuntimeError, TypeError):
                pass
        tc = time.perf_counter()
        meta["capture"]["fork"]["pause_seconds"] = round(tc - t0, 6)
        if not _FREE_THREADED:
            gens.append(gc.get_objects(1))
            gens.append(gc.get_objects(2))
        _drop_excluded(gens)
        genbits = _gen_bits(gens)
        cap.ntracked = sum(map(_len, gens))
        cap.start_progress()
        cap.kcap = _tuning.key_names_base + cap.ntracked // 32
        # Nothing else runs here, but the walk is not the quiet one (see
        # walk.py): the parent wrote the running frames and the untracked
        # objects they lead to, and marked them in the byte map only. The
        # quiet walk takes an untracked object with one reference without
        # the byte map, and would write such an object a second time when
        # the child reaches it from its one holder (3.12 shows a running
        # frame's stale stack entries to the parent, a kwargs dict a
        # Thread holds, say): two records of one address, a file no reader
        # takes. Through the byte map, each is written once.
        cap.quiet = False
        cap.calibrate()
        cap.frozen = frozen
        if redact:
            cap.vocab = _code_vocabulary(gens, codes)
        del codes
        perm = _frozen_start(cap, gens) if frozen else []
        if cap.quiet:
            _write_singletons(cap)
        out.write_held()
        _walk_gens(cap, gens, genbits, perm)
        del perm, gens, frames
        out.close()
        f = meta["capture"]["fork"]
        f["child_pid"] = os.getpid()
        f["child_seconds"] = round(time.perf_counter() - tc, 6)
        f["child_private_bytes"] = _private_dirty()
        meta["capture"]["seconds"] = round(time.perf_counter() - t0, 6)
        meta["capture"]["collected"] = collected
        _finish_file(fd, meta, msize, head)
        os.close(fd)
        os.replace(tmp, path)
        _sync_dir(path)
        code = 0
        msg = b"ok %d" % f["child_private_bytes"]
    except BaseException as e:
        try:
            msg = ("%s: %s" % (type(e).__name__, e)).encode("utf-8", "backslashreplace")
        except BaseException:
            msg = b"error"
        try:
            os.unlink(tmp)
        except BaseException:
            pass
    try:
        while msg:
            msg = msg[os.write(wfd, msg):]
    except BaseException:
        pass
    os._exit(code)
