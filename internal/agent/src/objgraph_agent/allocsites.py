"""Allocation sites: where each object was allocated, when tracemalloc is
tracing (``PYTHONTRACEMALLOC=N``, ``python -X tracemalloc=N``,
``objgraph run --trace-alloc N``, or ``tracemalloc.start(N)`` in the
program).

For each object the walk writes, the agent reads the traceback
tracemalloc keeps for the object's memory block
(``_tracemalloc._get_object_traceback``, C code: no frame of the program
runs). Each distinct traceback is stored once. Three records carry them,
kinds a reader that does not know them skips:

- ALLOCS (65): object address, traceback number (from 1);
- TRACEBACKS (66): per traceback, its number of frames, in order;
- FRAMES (67): the frames of all tracebacks one after the other, most
  recent first: file name (string id), line, function (string id).

Tracing makes every allocation cost more, the walk's own too: with
tracemalloc on, a walk took ten times as long. So, by default
(``_tuning.pause_tracemalloc``), the tracebacks are read before the walk,
for the tracked objects and the untracked ones they refer to (found as the
walk finds them), tracemalloc is stopped for the walk and started again
right after it with the same number of frames. tracemalloc forgets its
traces when it stops: the agent keeps, between captures, the traceback of
every object it read one for (an address and a number per object, in
arrays), and gives an object that has no trace now the one its address had
then. What other threads allocate while the walk runs is not traced; the
program's own readings of tracemalloc (``take_snapshot``,
``get_traced_memory``) start over at each capture. With
``pause_tracemalloc`` off, tracebacks are read batch by batch during the
walk, tracing on.

tracemalloc records file names and lines, not function names: the function
of a frame is the innermost code object of that file whose line table has
the line, among the code of the functions the heap holds (and of their
nested code, and of running frames); none for lines of code that is gone
(a module's body once imported). On 3.11, tracemalloc finds no traceback
for instances whose attributes are kept inline (their memory block starts
before the object).
"""

import array
import gc
import types
from itertools import compress, repeat
from operator import is_, is_not, not_, sub

from .layout import _CODE_CONSTS, _CODE_FILE, _CODE_LINE, _CODE_QUAL, _FRAME_CODE, _FUNC_CODE, _TC4, _TC8, _list_ids
from .output import _int_col
from .procmem import _tm
from .settings import _tuning

_K_ALLOCS, _K_TRACEBACKS, _K_FRAMES = 65, 66, 67
_get_tb = getattr(_tm, "_get_object_traceback", None) if _tm is not None else None
_CT = types.CodeType
_FT = types.FunctionType

# What the last capture that stopped tracemalloc read: the tracebacks of
# the objects then, which tracemalloc no longer has. Kept in arrays made
# once and refilled in place, so that the agent's state adds no object to
# later snapshots: addresses, traceback numbers from 0, frames per
# traceback, file numbers, lines, and the file names (UTF-8, one after the
# other, with their end offsets). _carried says whether they hold a
# capture's tracebacks.
_c_addr = array.array(_TC8)
_c_tb = array.array(_TC4)
_c_nfr = array.array(_TC4)
_c_file = array.array(_TC4)
_c_line = array.array(_TC4)
_c_names = bytearray()
_c_end = array.array(_TC4)
_carried = False
# The frame count tracemalloc had when the capture stopped it; 0 when it
# is not stopped. _refill: the free lists are still to be refilled.
_paused = 0
_refill = False


def _resume_tracing():
    """tracemalloc started again, if a capture stopped it, and the free
    lists refilled once the walk's objects are freed (on every path out of
    a capture, last)."""
    global _paused, _refill
    n = _paused
    if n:
        _paused = 0
        if not _tm.is_tracing():
            _tm.start(n)
            _refill = True
    if _refill:
        _refill = False
        _refill_free_lists()


def _refill_free_lists():
    """The interpreter's free lists of tuples, lists, dicts and floats
    filled with blocks allocated while tracing. Blocks the walk allocated
    while tracemalloc was stopped have no trace, and an object the program
    makes from one later (from a free list, without a new allocation) would
    never get one: tracemalloc updates the traceback of a reused block only
    when the block has a trace. So make twice as many objects as each free
    list holds (CPython keeps at most 2000 tuples of each length below 20,
    80 lists, 80 dicts, 100 floats), which takes all its blocks and then
    new, traced ones, and free them newest first: the traced ones fill the
    list again and the untraced ones are freed."""
    try:
        for n in range(1, 20):
            t = tuple(range(n))
            objs = list(map(tuple, repeat(list(t), 4000)))
            while objs:
                objs.pop()
        # (literals: list() and dict() would not take from the free lists)
        for objs in ([[] for j in range(160)], [{} for j in range(160)], [j + 0.5 for j in range(200)]):
            while objs:
                objs.pop()
    except Exception:
        pass


def _tracing():
    if _get_tb is None:
        return False
    try:
        return bool(_tm.is_tracing())
    except Exception:
        return False


def _code_lines(code):
    """The lines code's line table names."""
    co_lines = getattr(code, "co_lines", None)
    if co_lines is not None:
        return set(t[2] for t in co_lines())
    # before 3.10: co_lnotab, pairs of (bytecode, line) increments
    line = _CODE_LINE(code)
    out = {line}
    tab = code.co_lnotab
    for i in range(1, len(tab), 2):
        d = tab[i]
        line += d - 256 if d >= 128 else d
        out.add(line)
    return out


class _AllocSites:
    """The walk's part that notes allocation sites (a mixin of _Capture)."""

    def init_allocs(self):
        self.alloc_on = False         # the walk reads tracebacks batch by batch
        self.alloc_codes = None       # code objects functions are named from
        self.tb_ids = {}
        self.alloc_addr = array.array(_TC8)
        self.alloc_tb = array.array(_TC4)
        self.tbs = []                 # the tracebacks, in number order

    def read_allocs(self, gens, frames):
        """Before the walk: with pause_tracemalloc, the tracebacks of the
        objects in gens, of the frames and of the untracked objects they
        refer to; then tracemalloc stopped until resume_tracing. Either way,
        the code objects to name functions from. Without tracing, nothing."""
        global _carried, _paused
        if not _tracing():
            _carried = False
            return
        if not _tuning.pause_tracemalloc:
            self.alloc_on = True
            _carried = False
        else:
            try:
                nframe = _tm.get_traceback_limit()
                miss = self._read_all(gens, frames)
                _paused = nframe
                _tm.stop()
                if miss:
                    self._carry(miss)
                del miss
            except Exception as e:
                self.error("allocation tracebacks: %r" % (e,))
                self.alloc_addr = array.array(_TC8)
                self.alloc_tb = array.array(_TC4)
                self.tbs = []
                self.tb_ids = {}
                _resume_tracing()
                return
        codes = []
        for lst in gens:
            codes.extend(map(_FUNC_CODE, compress(lst, map(is_, map(type, lst), repeat(_FT)))))
        for f in frames:
            codes.append(f if type(f) is _CT else _FRAME_CODE(f))
        self.alloc_codes = codes

    def resume_tracing(self):
        """Once the walk is done: tracemalloc on again, with the frames it
        had, if read_allocs stopped it; the tracebacks read are kept for the
        next capture."""
        global _carried
        if not _paused:
            return
        _carried = False
        for a in (_c_addr, _c_tb, _c_nfr, _c_file, _c_line, _c_end):
            del a[:]
        del _c_names[:]
        files = {}
        for tb in self.tbs:
            _c_nfr.append(len(tb))
            for f, line in tb:
                k = files.get(f)
                if k is None:
                    k = files[f] = len(files)
                    _c_names.extend(f.encode("utf-8", "surrogatepass") if type(f) is str else b"?")
                    _c_end.append(len(_c_names))
                _c_file.append(k)
                _c_line.append(line if type(line) is int and 0 <= line < 1 << 32 else 0)
        _c_addr.extend(self.alloc_addr)
        _c_tb.extend(map(sub, self.alloc_tb, repeat(1)))
        _carried = True
        _resume_tracing()

    def _read_all(self, gens, frames):
        """The tracebacks of the tracked objects, then of the untracked ones
        they refer to, and so on. Returns the addresses of those without
        one, when the last capture left tracebacks (see _carry)."""
        miss = array.array(_TC8) if _carried else None
        batch = _tuning.batch
        todo = list(gens)
        todo.append([f for f in frames if type(f) is not _CT and not gc.is_tracked(f)])
        seen = set(map(id, todo[-1]))  # untracked objects met
        while todo:
            nxt = []
            for lst in todo:
                for i in range(0, len(lst), batch):
                    objs = lst[i:i + batch]
                    addrs = _list_ids(objs)
                    tbs = list(map(_get_tb, objs))
                    self._note(tbs, addrs)
                    if miss is not None:
                        miss.extend(compress(addrs, map(not_, tbs)))
                    refs = gc.get_referents(*objs)
                    un = list(compress(refs, map(not_, map(gc.is_tracked, refs))))
                    if un:
                        ua = _list_ids(un)
                        new = list(compress(un, map(not_, map(seen.__contains__, ua))))
                        if new:
                            # (each once: a batch may refer to one twice)
                            byid = dict(zip(map(id, new), new))
                            seen.update(byid)
                            nxt.append(list(byid.values()))
                            del byid
                        del ua, new
                    del objs, refs, un, tbs
            todo = nxt
        return miss

    def _carry(self, miss):
        """Objects at addresses miss, which have no trace: the tracebacks
        the last capture read at those addresses (tracemalloc forgot them
        when that capture stopped it). Run with tracing stopped."""
        old = dict(zip(_c_addr, _c_tb))
        ot = list(map(old.get, miss))
        del old
        sel = list(map(is_not, ot, repeat(None)))
        if not any(sel):
            return
        ids = self.tb_ids
        starts = [0]
        for n in _c_nfr:
            starts.append(starts[-1] + n)
        files = []
        lo = 0
        for hi in _c_end:
            files.append(_c_names[lo:hi].decode("utf-8", "surrogatepass"))
            lo = hi
        old_new = {}
        for k in set(compress(ot, sel)):
            lo, hi = starts[k], starts[k + 1]
            tb = tuple(zip(map(files.__getitem__, _c_file[lo:hi]), _c_line[lo:hi]))
            n = ids.get(tb)
            if n is None:
                n = ids[tb] = len(ids) + 1
                self.tbs.append(tb)
            old_new[k] = n
        self.alloc_addr.extend(compress(miss, sel))
        self.alloc_tb.extend(map(old_new.__getitem__, compress(ot, sel)))

    def note_allocs(self, objs, addrs):
        """During the walk (pause_tracemalloc off): note the allocation
        sites of a batch, objs at addresses addrs."""
        try:
            tbs = list(map(_get_tb, objs))
        except Exception:
            self.alloc_on = False
            return
        self._note(tbs, addrs)

    def _note(self, tbs, addrs):
        """Note tracebacks tbs (None for none) of the objects at addrs."""
        ids = self.tb_ids
        got = list(filter(None, tbs))
        if not got:
            return
        for tb in compress(got, map(is_, map(ids.get, got), repeat(None))):
            if tb not in ids:
                ids[tb] = len(ids) + 1
                self.tbs.append(tb)
        self.alloc_addr.extend(compress(addrs, map(bool, tbs)))
        self.alloc_tb.extend(map(ids.__getitem__, got))

    def _functions(self):
        """(file, line) -> function name, for the frames of the tracebacks."""
        want = {}
        for tb in self.tbs:
            for f, line in tb:
                s = want.get(f)
                if s is None:
                    s = want[f] = set()
                s.add(line)
        byfile = {}
        codes = self.alloc_codes or []
        done = set()
        while codes:
            c = codes.pop()
            if type(c) is not _CT or id(c) in done:
                continue
            done.add(id(c))
            f = _CODE_FILE(c)
            if f not in want:
                continue
            byfile.setdefault(f, []).append(c)
            codes.extend(compress(_CODE_CONSTS(c), map(is_, map(type, _CODE_CONSTS(c)), repeat(_CT))))
        names = {}
        for f, cs in byfile.items():
            lines = want[f]
            best = {}
            for c in cs:
                first = _CODE_LINE(c)
                for line in lines.intersection(_code_lines(c)):
                    b = best.get(line)
                    if b is None or first > b[0]:
                        best[line] = (first, c)
            for line, (first, c) in best.items():
                names[(f, line)] = _CODE_QUAL(c)
        return names

    def write_allocs(self):
        try:
            self._write_allocs()
        finally:
            self.resume_tracing()

    def _write_allocs(self):
        if not len(self.alloc_addr):
            return
        try:
            fn = self._functions()
        except Exception as e:
            self.error("allocation sites' functions: %r" % (e,))
            fn = {}
        nfr = array.array(_TC4)
        ffile = array.array(_TC4)
        fline = array.array(_TC4)
        ffunc = array.array(_TC4)
        sids = {}

        def sid(s):
            k = sids.get(s)
            if k is None:
                k = sids[s] = self.sid(s.encode("utf-8", "backslashreplace")) if type(s) is str and s else 0
            return k

        for tb in self.tbs:
            nfr.append(len(tb))
            for f, line in tb:
                ffile.append(sid(f) or self.sid(b"?"))
                ok = type(line) is int and 0 <= line < 1 << 32
                fline.append(line if ok else 0)
                ffunc.append(sid(fn.get((f, line))))
        out = self.out
        out.record(_K_TRACEBACKS, len(nfr), [_int_col(1, nfr)])
        out.record(_K_FRAMES, len(ffile), [_int_col(1, ffile), _int_col(2, fline), _int_col(3, ffunc)])
        out.record(_K_ALLOCS, len(self.alloc_addr), [_int_col(1, self.alloc_addr, z=False), _int_col(2, self.alloc_tb)])
