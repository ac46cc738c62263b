"""One capture from start to end: the file, the metadata, the walk's
state changes, the order in which the heap is written.

The permanent generation (``gc.freeze()``) is not listed by
``gc.get_objects()``. When the freeze count is not zero, the agent first
writes the ``__mro__`` and ``__bases__`` tuples of static types that are
tracked but not listed: static types report no referents, and CPython 3.12
starts with 375 such tuples frozen. If they account for the whole freeze
count, the walk goes on as without frozen objects. Otherwise it marks every
listed object in its byte map, and writes every tracked referent not marked
there as a frozen object (flag ``permanent``), found by following
references; frozen objects nothing else refers to are not found then.
"""

import gc
import os
import sys
import time
from itertools import compress

from .allocsites import _resume_tracing
from .finish import _finish_later
from .guard import _agent_idents, _exclude, _switch_back, _switch_quickly, _walk_begin, _walk_end
from .layout import (
    _FREE_THREADED, _MMAP_PAGESIZE, _NOT, _POINTER_SIZE, _by_id, _id, _is_tracked, _len,
    _static_type_tuples)
from .names import _code_vocabulary
from .procmem import _memory_containers, _process_memory
from .output import PRODUCER, _FILE_HDR, _F_PERMANENT, _F_TRACKED, _MAGIC, _Out, _meta_json, _write_meta
from .roots import _collect_roots
from .threadlocals import _thread_local_names
from .settings import _tuning
from .typeinfo import _SINGLETONS
from .walk import _Capture


def _get_generations():
    """The tracked objects, one list per generation. No other thread can
    move objects between generations meanwhile: collections wait for the
    capture (_gc_guard). Generation 0 holds the lists' own container."""
    if _FREE_THREADED:
        return [gc.get_objects()]
    gens = [None, None, None]
    gens[0] = gc.get_objects(0)
    gens[1] = gc.get_objects(1)
    gens[2] = gc.get_objects(2)
    return gens


def _argv(redact):
    """The command line for the metadata; redacted, the program and the
    length of each argument (which may be a password)."""
    argv = [a for a in getattr(sys, "orig_argv", sys.argv) if type(a) is str]
    if redact:
        argv = argv[:1] + ["<str of %d>" % len(a) for a in argv[1:]]
    return argv


def _host_name():
    """The machine's network name, as uname(2) gives it, or "" when there
    is none."""
    try:
        return os.uname().nodename
    except (AttributeError, OSError):
        return ""


def _page_size():
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except Exception:
        return _MMAP_PAGESIZE


def _open_tmp(path):
    """The temporary file a capture writes: (name, descriptor)."""
    tmp = "%s.tmp-%d" % (path, os.getpid())
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:
        os.unlink(tmp)
        fd = os.open(tmp, flags, 0o600)
    return tmp, fd


def _new_meta(now, redact, was_enabled, counts, errors):
    return {
        "producer": PRODUCER,
        "runtime": "CPython" if sys.implementation.name == "cpython" else sys.implementation.name,
        "version": "%d.%d.%d" % sys.version_info[:3],
        "platform": sys.platform,
        "host": _host_name(),
        "pid": os.getpid(),
        "argv": _argv(redact),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + (".%06dZ" % int((now % 1) * 1e6)),
        "pointer_size": _POINTER_SIZE,
        "gc_header_size": sys.getsizeof(()) - ().__sizeof__(),
        "page_size": _page_size(),
        "gc": {"enabled": was_enabled, "thresholds": list(gc.get_threshold()),
               "counts": counts, "freeze_count": gc.get_freeze_count()},
        "capture": {"seconds": 0.0, "collected": 0, "redacted": redact, "errors": errors},
        "memory": _process_memory(),
    }


def _own_ids(own, roots, gens, errors, meta):
    """Add to own the ids of what the capture made before it listed the heap."""
    own.update((_id(own), _id(roots), _id(gens), _id(errors), _id(meta), _id(meta["capture"]),
                _id(meta["gc"]), _id(meta["argv"]), _id(meta["gc"]["thresholds"]),
                _id(meta["gc"]["counts"])))
    own.update(map(_id, _memory_containers(meta["memory"])))
    own.update(map(_id, roots.held()))


def _frozen_start(cap, gens):
    """With a freeze count: the frozen objects found directly, marked (see
    the module docstring); cap.frozen is False when they are all."""
    perm = []
    lst = None
    if not _FREE_THREADED:
        # frozen objects that no edge leads to, found directly: the
        # tracked tuples of static types not listed by the collector
        st = [o for o in _static_type_tuples() if _is_tracked(o)]
        st = _by_id(st)
        listed = set()
        for lst in gens:
            listed.update(filter(st.__contains__, map(_id, lst)))
        # (no comprehension here: before 3.12 one naming a local
        # would make a cell of it, an object of the agent's)
        perm = list(compress(st.values(), bytes(map(listed.__contains__, st)).translate(_NOT)))
        del st, listed
    if len(perm) == gc.get_freeze_count():
        # they are all the frozen objects: every other tracked
        # object a walk meets is listed
        cap.frozen = False
    else:
        for lst in gens:
            for i in range(0, len(lst), _tuning.batch):
                cap.mark(list(map(_id, lst[i:i + _tuning.batch])))
    del lst
    if perm:
        cap.mark(list(map(_id, perm)))
    return perm


def _write_singletons(cap):
    """None, True, False, ... first, in a quiet capture: edges to them are
    passed over by type (see discover). Those written already are left."""
    single = list(_SINGLETONS)
    seen = cap.mark(list(map(_id, single)))
    if seen.count(1):
        single = list(compress(single, seen.translate(_NOT)))
    cap.run_list(single, 0)
    del single


def _walk_gens(cap, gens, genbits, perm):
    if perm:
        cap.run_list(perm, _F_TRACKED | _F_PERMANENT)
    del perm
    for i in range(len(gens)):
        cap.run_list(gens[i], genbits[i])
    cap.flush_single()
    if cap.progress is not None:
        cap.say_progress(b"write")  # every object is written
    cap.write_roots()
    cap.write_buffers()
    cap.write_weakrefs()
    cap.write_allocs()
    cap.write_end()
    cap.release()


def _finish_file(fd, meta, msize, head):
    """The META record again, with what is known at the end; then fsync."""
    os.lseek(fd, len(head), os.SEEK_SET)
    _write_meta(fd, meta, msize)
    os.fsync(fd)


class _Finish:
    """The rest of one capture: out (its records and writer thread), fd and
    tmp (the temporary file), path, the META record (meta, msize) after the
    file header head, the capture's start t0 and what collect returned. err
    is what failed, done is released when it is over."""
    __slots__ = ("out", "fd", "tmp", "path", "meta", "msize", "head", "t0", "collected", "say", "err", "done")

    def __init__(self, out, fd, tmp, path, meta, msize, head, t0, collected):
        self.out = out
        self.fd = fd
        self.tmp = tmp
        self.path = path
        self.meta = meta
        self.msize = msize
        self.head = head
        self.t0 = t0
        self.collected = collected
        self.say = False
        self.err = None
        self.done = None

    def run(self):
        """Write what is left and put the file in place; raise what fails
        (the temporary file removed)."""
        out, fd = self.out, self.fd
        ok = False
        try:
            if out.held:
                _switch_quickly()
                try:
                    out.write_held()
                finally:
                    _switch_back()
            out.close()
            meta = self.meta
            meta["capture"]["seconds"] = round(time.perf_counter() - self.t0, 6)
            meta["capture"]["collected"] = self.collected
            _finish_file(fd, meta, self.msize, self.head)
            self.fd = -1
            os.close(fd)
            fd = -1
            os.replace(self.tmp, self.path)
            ok = True
            _sync_dir(self.path)
        finally:
            self.out = self.meta = None
            if not ok:
                if not out.close(wait=False):
                    fd = -1  # the writer thread is stuck in write(): leave its descriptor alone
                if fd >= 0:
                    self.fd = -1
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                try:
                    os.unlink(self.tmp)
                except OSError:
                    pass


def _drop_excluded(gens):
    """The loader's objects (_exclude) out of the lists."""
    if _exclude:
        for i in range(len(gens)):
            gens[i] = list(compress(gens[i], bytes(map(_exclude.__contains__, map(_id, gens[i]))).translate(_NOT)))


def _gen_bits(gens):
    if _FREE_THREADED:
        return [_F_TRACKED]
    return [_F_TRACKED | (g << 1) for g in range(len(gens))]


def _capture(path, collect, redact, background=False, say=False):
    """One in-process capture into path. With background, what follows the
    walk is done on a thread of the agent's (finish.py) and its _Finish is
    returned; otherwise here, and None is returned."""
    t0 = time.perf_counter()
    now = time.time()
    tmp, fd = _open_tmp(path)
    was_enabled = gc.isenabled()
    ok = False
    walking = False
    out = cap = None
    try:
        # Collect first: a collection moves what exists to an older
        # generation, and the objects of the agent's own made below must be
        # in generation 0 when the heap is listed (see own).
        c0, c1, c2 = gc.get_count()  # (ints: a tuple kept here would be tracked, and in the heap)
        collected = gc.collect() if collect else 0
        errors = []
        meta = _new_meta(now, redact, was_enabled, [c0, c1, c2], errors)
        msize = len(_meta_json(meta)) + _tuning.meta_slack
        head = _FILE_HDR.pack(_MAGIC, 1, 0, 0)
        os.write(fd, head)
        _write_meta(fd, meta, msize)

        _walk_begin(fd)
        walking = True
        frozen = gc.get_freeze_count() > 0

        # Everything the agent made so far that the collector tracks is in
        # generation 0 of the lists below; own holds their ids.
        own = set()
        roots = _collect_roots(_agent_idents, redact)
        gens = _get_generations()
        _own_ids(own, roots, gens, errors, meta)
        g0 = gens[0]
        gens[0] = list(compress(g0, bytes(map(own.__contains__, map(_id, g0))).translate(_NOT)))
        del g0
        _drop_excluded(gens)
        genbits = _gen_bits(gens)
        ntracked = sum(map(_len, gens))
        # With other threads in the process, the walk does no I/O: each time
        # it let go of the GIL, it waited for every busy thread to have had
        # its switch interval before it got it back (_Out.hold).
        out = _Out(fd, threaded=_tuning.threaded_writer, hold=_tuning.hold_with_threads and not roots.quiet)
        out.nrec = 1
        cap = _Capture(out, redact, roots, frozen, errors, ntracked, quiet=roots.quiet and _tuning.quiet_fast_path)
        cap.meta_capture = meta["capture"]  # (what the walk notes there: buffers.py)
        _thread_local_names(cap, roots.labels)
        cap.calibrate()
        if redact:
            cap.vocab = _code_vocabulary(gens, roots.frames)
        cap.read_allocs(gens, roots.frames)
        perm = _frozen_start(cap, gens) if frozen else []
        if cap.quiet:
            _write_singletons(cap)
        frames = [f for f in roots.frames if not _is_tracked(f)]
        roots.frames = None
        cap.mark(list(map(_id, frames)))
        cap.run_list(frames, 0, frames=True)
        # frames is held until the walk is done. On 3.11+ the generator or
        # coroutine a running frame belongs to refers to it as well, and the
        # frame's own count is 1 (its interpreter frame's reference): were
        # it held by the edge list alone, discover would take it for an
        # object no other edge leads to, and write it a second time.
        _walk_gens(cap, gens, genbits, perm)
        del perm, frames
        walking = False
        _walk_end()
        # The rest needs no consistent heap: it is _Finish's, here or on a
        # thread of its own while the caller goes on (finish.py).
        fin = _Finish(out, fd, tmp, path, meta, msize, head, t0, collected)
        out = None
        fd = -1
        ok = True
        if background:
            return _finish_later(fin, say)
        fin.run()
        return None
    finally:
        if walking:
            _walk_end()
        if cap is not None and not ok:
            cap.release()
        if out is not None and not ok:
            if not out.close(wait=False):
                fd = -1  # the writer thread is stuck in write(): leave its descriptor alone
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
        if not ok:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        # (what the walk made is freed before the free lists are refilled)
        out = cap = None
        _resume_tracing()


def _sync_dir(path):
    try:
        d = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except (OSError, AttributeError):
        return
    try:
        os.fsync(d)
    except OSError:
        pass
    finally:
        os.close(d)
