"""The process's memory as the kernel, the C allocator, CPython's object
allocator and tracemalloc see it, recorded in the metadata of every
snapshot under ``memory`` so that a reader can say how much of the
process's memory its Python objects explain.

Each source is read before the walk, once per capture, from files in
/proc and /sys and from counters the interpreter keeps; nothing of the
program runs. A source that cannot be read is left out of the document
and named, with the reason, in ``memory["missing"]``: a missing value is
never written as 0. All sizes are in bytes.

The C allocator's view comes from glibc's ``mallinfo2`` (glibc 2.33 and
later), called through ctypes, which the agent loads at import for its
layout probes; the older ``mallinfo`` is not used, its int fields wrap at
2 GiB. CPython's object allocator is read as ``sys.getallocatedblocks()``:
its arenas are reported only by ``sys._debugmallocstats``, which writes
to file descriptor 2, shared with the program.
"""

import os
import sys

_tm = None
try:
    import _tracemalloc
    _tm = _tracemalloc
except ImportError:  # pragma: no cover
    pass

_MALLINFO2 = None
_MALLINFO_WHY = "not glibc, or glibc before 2.33 (no mallinfo2)"
try:
    import ctypes as _ctypes_pm

    class _MallInfo2(_ctypes_pm.Structure):
        _fields_ = [(_n, _ctypes_pm.c_size_t) for _n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]

    _libc = _ctypes_pm.CDLL(None)
    _MALLINFO2 = _libc.mallinfo2
    _MALLINFO2.restype = _MallInfo2
    _MALLINFO2.argtypes = []
    del _libc
except Exception:
    _MALLINFO2 = None
    if "ctypes" not in sys.modules:
        _MALLINFO_WHY = "no ctypes"

# /proc/self/smaps_rollup and /proc/self/status fields, in kB, by the name
# the metadata gives them
_ROLLUP = {b"Rss": "rss", b"Pss": "pss", b"Pss_Anon": "pss_anon", b"Private_Clean": "private_clean",
           b"Private_Dirty": "private_dirty", b"Anonymous": "anonymous", b"Swap": "swap"}
_STATUS = {b"VmRSS": "rss", b"VmHWM": "rss_peak", b"RssAnon": "rss_anon", b"RssFile": "rss_file",
           b"RssShmem": "rss_shmem", b"VmSwap": "swap", b"VmSize": "virtual"}


def _read_small(path, limit=1 << 16):
    """The bytes of a small file, by file descriptor (no file object)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        parts = []
        n = 0
        while n < limit:
            b = os.read(fd, limit - n)
            if not b:
                break
            parts.append(b)
            n += len(b)
        return b"".join(parts)
    finally:
        os.close(fd)


def _kb_fields(data, names):
    """The fields of a /proc "Name:   123 kB" listing, in bytes, that
    names maps to keys."""
    out = {}
    for line in data.split(b"\n"):
        k, sep, rest = line.partition(b":")
        key = names.get(k.strip())
        if key is None or not sep:
            continue
        v = rest.split()
        if v and v[0].isdigit():
            out[key] = int(v[0]) * (1024 if len(v) > 1 and v[1] == b"kB" else 1)
    return out


def _cgroup():
    """The cgroup v2 the process is in: path, memory.current and
    memory.max (None when unlimited). Raises OSError or ValueError when
    there is none to read."""
    data = _read_small("/proc/self/cgroup")
    path = None
    for line in data.split(b"\n"):
        if line.startswith(b"0::"):
            path = line[3:].decode("utf-8", "replace")
    if path is None:
        raise ValueError("not in a cgroup v2 hierarchy")
    base = "/sys/fs/cgroup" + path.rstrip("/")
    cur = int(_read_small(base + "/memory.current").strip())
    mx = _read_small(base + "/memory.max").strip()
    return {"path": path, "current": cur, "max": None if mx == b"max" else int(mx)}


def _why(e):
    return "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__


def _process_memory():
    """The memory document of the metadata. Never raises."""
    mem = {}
    missing = {}
    try:
        roll = _kb_fields(_read_small("/proc/self/smaps_rollup"), _ROLLUP)
        if "rss" in roll:
            mem["rss"] = roll["rss"]
        for k in ("pss", "pss_anon", "anonymous", "swap"):
            if k in roll:
                mem[k] = roll[k]
        if "private_clean" in roll and "private_dirty" in roll:
            mem["uss"] = roll["private_clean"] + roll["private_dirty"]
    except Exception as e:
        missing["smaps_rollup"] = _why(e)
    try:
        st = _kb_fields(_read_small("/proc/self/status"), _STATUS)
        for k, v in st.items():
            if k not in mem:
                mem[k] = v
    except Exception as e:
        missing["status"] = _why(e)
    if "rss" not in mem:
        missing["rss"] = "neither /proc/self/smaps_rollup nor /proc/self/status gave it"
    try:
        mem["cgroup"] = _cgroup()
    except Exception as e:
        missing["cgroup"] = _why(e)
    if _MALLINFO2 is not None:
        try:
            mi = _MALLINFO2()
            # arena: bytes the allocator got with brk (main arena) and
            # mmap (other arenas); in_use and free are blocks within them;
            # mmapped: large blocks mapped on their own
            mem["malloc"] = {"arena": mi.arena, "in_use": mi.uordblks, "free": mi.fordblks,
                             "mmapped": mi.hblkhd, "releasable": mi.keepcost}
            del mi
        except Exception as e:
            missing["malloc"] = _why(e)
    else:
        missing["malloc"] = _MALLINFO_WHY
    try:
        mem["pymalloc"] = {"allocated_blocks": sys.getallocatedblocks()}
    except Exception as e:
        missing["pymalloc"] = _why(e)
    if _tm is None:
        missing["tracemalloc"] = "no _tracemalloc module"
    else:
        try:
            if _tm.is_tracing():
                traced, peak = _tm.get_traced_memory()
                mem["tracemalloc"] = {"traced": traced, "peak": peak,
                                      "frames": _tm.get_traceback_limit()}
            else:
                missing["tracemalloc"] = "not tracing"
        except Exception as e:
            missing["tracemalloc"] = _why(e)
    if missing:
        mem["missing"] = missing
    return mem


def _memory_containers(mem):
    """The dicts of a memory document, for the capture's own set."""
    return [mem] + [v for v in mem.values() if type(v) is dict]
