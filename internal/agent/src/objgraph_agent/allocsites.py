"""Allocation sites: where each object was allocated, when tracemalloc is
tracing (``PYTHONTRACEMALLOC=N``, ``python -X tracemalloc=N``, or
``tracemalloc.start(N)`` in the program).

For each object the walk writes, the agent reads the traceback
tracemalloc keeps for the object's memory block
(``_tracemalloc._get_object_traceback``, C code: no frame of the program
runs). Each distinct traceback is stored once. Three records carry them,
kinds a reader that does not know them skips:

- ALLOCS (65): object address, traceback number (from 1);
- TRACEBACKS (66): per traceback, its number of frames, in order;
- FRAMES (67): the frames of all tracebacks one after the other, most
  recent first: file name (string id) and line.

tracemalloc records file names and lines, not function names. On 3.11,
tracemalloc finds no traceback for instances whose attributes are kept
inline (their memory block starts before the object).
"""

import array

from .layout import _TC4, _TC8
from .output import _int_col
from .procmem import _tm

_K_ALLOCS, _K_TRACEBACKS, _K_FRAMES = 65, 66, 67
_get_tb = getattr(_tm, "_get_object_traceback", None) if _tm is not None else None


class _AllocSites:
    """The walk's part that notes allocation sites (a mixin of _Capture)."""

    def init_allocs(self):
        on = False
        if _get_tb is not None:
            try:
                on = bool(_tm.is_tracing())
            except Exception:
                on = False
        self.alloc_on = on
        self.tb_ids = {}
        self.alloc_addr = array.array(_TC8)
        self.alloc_tb = array.array(_TC4)
        self.tb_nframes = array.array(_TC4)
        self.frame_file = array.array(_TC4)
        self.frame_line = array.array(_TC4)
        self.file_sids = {}

    def note_allocs(self, objs, addrs):
        """Note the allocation sites of a batch: objs at addresses addrs."""
        try:
            tbs = list(map(_get_tb, objs))
        except Exception:
            self.alloc_on = False
            return
        ids = self.tb_ids
        for j in range(len(tbs)):
            tb = tbs[j]
            if not tb:
                continue
            k = ids.get(tb)
            if k is None:
                k = ids[tb] = len(ids) + 1
                self.tb_nframes.append(len(tb))
                for f, line in tb:
                    s = self.file_sids.get(f)
                    if s is None:
                        s = self.file_sids[f] = self.sid(f.encode("utf-8", "backslashreplace") if type(f) is str else b"?")
                    self.frame_file.append(s)
                    self.frame_line.append(line if type(line) is int and line >= 0 else 0)
            self.alloc_addr.append(addrs[j])
            self.alloc_tb.append(k)

    def write_allocs(self):
        if not len(self.alloc_addr):
            return
        out = self.out
        out.record(_K_TRACEBACKS, len(self.tb_nframes), [_int_col(1, self.tb_nframes)])
        out.record(_K_FRAMES, len(self.frame_file), [_int_col(1, self.frame_file), _int_col(2, self.frame_line)])
        out.record(_K_ALLOCS, len(self.alloc_addr), [_int_col(1, self.alloc_addr, z=False), _int_col(2, self.alloc_tb)])
