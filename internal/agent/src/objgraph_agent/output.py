"""The .ogs output (docs/format.md): record kinds, column ids, object
flags and kinds, root kinds, the record writer (_Out, with its writer
thread), integer columns, the META record, and the records the capture
writes (_Records: STRINGS, TYPES, OBJECTS and EDGES, ROOTS, END)."""

import _thread
import array
import json
import os
import queue as _queue
import struct
import zlib
from itertools import accumulate
from operator import itemgetter

from .guard import _walk_exempt
from .layout import _LITTLE, _TC, _len
from .settings import _tuning


__version__ = "1.0"
PRODUCER = "objgraph_agent " + __version__

# Format constants (docs/format.md).

_MAGIC = b"\x89OGSNAP\n"
_FILE_HDR = struct.Struct("<8sHHI")
_REC_HDR = struct.Struct("<IIIII")
_COL_ENT = struct.Struct("<HBBIIIQ")
_U64 = struct.Struct("<Q")  # made once: struct.pack(format) would cache a Struct of the capture's in the heap
_K_META, _K_STRINGS, _K_TYPES, _K_OBJECTS, _K_EDGES, _K_ROOTS, _K_END = range(1, 8)
_MAX_RECORD = 1 << 30
_REC_OBJECTS = 1 << 17      # objects per OBJECTS record, at most (batches are joined)
_REC_EDGES = 1 << 21        # edges per EDGES record, at most (unless one batch has more)

_COL_INT_VALUE = 9           # OBJECTS columns: the values of int and float objects
_COL_FLOAT_VALUE = 10        # (their labels are made from them when the file is read)
_F_TRACKED = 1
_F_PERMANENT = 1 << 3
_F_HASDEL = 1 << 4
_F_IMMORTAL = 1 << 6
_F_FINALIZED = 1 << 7
_F_SIZE_ESTIMATED = 1 << 12  # size computed at C level: the type's __sizeof__ is Python code
_KIND_MODULE, _KIND_FRAME, _KIND_TYPE, _KIND_FUNCTION, _KIND_CODE, _KIND_CELL, _KIND_WEAKREF = range(1, 8)

_R_MODULE, _R_FRAME, _R_LOCAL, _R_EXTERNAL, _R_THREAD, _R_OTHER = range(1, 7)


class _Out:
    """Writes records to a file descriptor: CRC, zlib per column, and, when a
    thread can be started, compression and writing on that thread (zlib and
    write() release the GIL, so they overlap with the walk)."""

    DEPTH = 4

    def __init__(self, fd, threaded=True, hold=False):
        self.fd = fd
        self.nrec = 0
        self.pend = None
        self.incoming = None
        self.err = None
        self.q = None
        # hold: keep the records in memory until write_held(), so that the
        # walk never lets go of the GIL (see _walk_hold_gil)
        self.held = [] if hold else None
        if threaded and not hold:
            try:
                self.q = _queue.SimpleQueue()
                self.slots = _queue.SimpleQueue()
                for _ in range(self.DEPTH):
                    self.slots.put(None)
                self.done = _thread.allocate_lock()
                self.done.acquire()
                self.running = True
                _thread.start_new_thread(self._worker, ())
            except Exception:
                self.q = None

    def _worker(self):
        _walk_exempt(_thread.get_ident())
        q = self.q
        try:
            while True:
                job = q.get()
                if job is None:
                    break
                if self.err is None:
                    try:
                        self._record(*job)
                    except BaseException as e:
                        self.err = e
                del job
                self.slots.put(None)
        finally:
            self.running = False
            self.done.release()

    def write(self, data):
        fd = self.fd
        mv = memoryview(data)
        if mv.ndim != 1 or mv.itemsize != 1:
            mv = mv.cast("B")
        while mv:
            n = os.write(fd, mv)
            mv = mv[n:]

    def record(self, kind, rows, cols):
        """cols: (id, width, zlib?, buffer, base) with little-endian buffers.

        An OBJECTS record and the EDGES record after it are held and joined
        with the next pair of the same columns: the walk goes in batches
        small enough to stay in the CPU's cache, but a record per batch would
        cost the writer thread more GIL hand-overs than it can afford."""
        if kind == _K_OBJECTS:
            self.incoming = (rows, cols)
            return
        if kind == _K_EDGES:
            orows, ocols = self.incoming
            self.incoming = None
            key = (tuple((c[0], c[1], c[2], c[4]) for c in ocols), tuple((c[0], c[1], c[2], c[4]) for c in cols))
            p = self.pend
            if p is not None and (p[0] != key or p[1] + orows > _REC_OBJECTS or p[2] + rows > _REC_EDGES):
                self.flush()
                p = None
            if p is None:
                self.pend = [key, orows, rows, [[c[3]] for c in ocols], [[c[3]] for c in cols]]
            else:
                p[1] += orows
                p[2] += rows
                for acc, c in zip(p[3], ocols):
                    acc.append(c[3])
                for acc, c in zip(p[4], cols):
                    acc.append(c[3])
            return
        self.flush()
        self._put(kind, rows, [(c[0], c[1], c[2], c[4], c[3]) for c in cols])

    def flush(self):
        """Write the held OBJECTS and EDGES pair."""
        p = self.pend
        if p is None:
            return
        self.pend = None
        key, orows, erows, obufs, ebufs = p
        self._put(_K_OBJECTS, orows, [k + (b,) for k, b in zip(key[0], obufs)])
        self._put(_K_EDGES, erows, [k + (b,) for k, b in zip(key[1], ebufs)])

    def _put(self, kind, rows, cols):
        """cols: (id, width, zlib?, base, buffer or list of buffers)."""
        self.nrec += 1
        if self.held is not None:
            self.held.append((kind, rows, cols))
            return
        if self.q is None:
            self._record(kind, rows, cols)
            return
        while True:
            if self.err is not None:
                raise self.err
            try:
                self.slots.get(timeout=1.0)
                break
            except Exception:
                if not self.running:
                    raise OSError("objgraph_agent: the writer thread stopped")
        self.q.put((kind, rows, cols))

    def write_held(self):
        """Write the records held during the walk, in order, each freed once
        written."""
        held, self.held = self.held, None
        if held:
            held.reverse()
            while held:
                self._record(*held.pop())

    def close(self, wait=True):
        """Stop the writer thread after the queued records; raise its error."""
        if self.q is not None:
            self.q.put(None)
            if not self.done.acquire(timeout=-1 if wait else 60):
                return False
            self.q = None
        if self.err is not None and wait:
            raise self.err
        return True

    def _record(self, kind, rows, cols):
        ents = []
        datas = []
        for cid, width, z, base, buf in cols:
            if type(buf) is list:
                buf = buf[0] if len(buf) == 1 else b"".join(buf)
            raw = memoryview(buf)
            if raw.ndim != 1 or raw.itemsize != 1:
                raw = raw.cast("B")
            rawlen = raw.nbytes
            data, codec = raw, 0
            if z and rawlen > 32:
                c = zlib.compress(raw, 1)
                if len(c) < rawlen:
                    data, codec = c, 1
            ents.append(_COL_ENT.pack(cid, width, codec, rawlen, len(data), 0, base))
            datas.append(data)
        # one buffer, one CRC call and one write() per record: each of them
        # lets other threads take the GIL, and getting it back takes time
        body = b"".join(ents + datas)
        if len(body) > _MAX_RECORD:
            raise ValueError("record of %d bytes is over the format's 1 GiB limit" % len(body))
        self.write(_REC_HDR.pack(kind, rows, len(cols), len(body), zlib.crc32(body)) + body)


def _int_col(cid, values, z=True, base=0, width=0):
    """An integer column from values (a list or array of unsigned ints) as a
    little-endian array: of the given width, or of the smallest width that
    holds the values' maximum."""
    w = width
    if not w:
        mx = max(values) if len(values) else 0
        w = 1 if mx < 0x100 else 2 if mx < 0x10000 else 4 if mx < 0x100000000 else 8
    tc = _TC[w]
    if type(values) is not array.array or values.typecode != tc:
        try:
            values = array.array(tc, values)
        except OverflowError:
            return _int_col(cid, values, z, base)
    if not _LITTLE and w > 1:
        values = array.array(tc, values)
        values.byteswap()
    return (cid, w, z, values, base)


def _width(n):
    return 1 if n < 0x100 else 2 if n < 0x10000 else 4 if n < 0x100000000 else 8


def _meta_json(meta, size=None):
    b = json.dumps(meta, separators=(",", ":"), ensure_ascii=True).encode()
    if size is not None:
        if len(b) > size:
            cap = meta.get("capture", {})
            cap["errors"] = cap.get("errors", [])[:2] + ["(more errors left out)"]
            b = json.dumps(meta, separators=(",", ":"), ensure_ascii=True).encode()
            if len(b) > size:
                cap["errors"] = ["(errors left out)"]
                b = json.dumps(meta, separators=(",", ":"), ensure_ascii=True).encode()
        b = b + b" " * (size - len(b))
    return b


def _write_meta(fd, meta, size):
    """The META record, its JSON padded with spaces to size bytes so that it
    can be rewritten in place once the capture is done."""
    blob = _meta_json(meta, size)
    ent = _COL_ENT.pack(1, 0, 0, len(blob), len(blob), 0, 0)
    crc = zlib.crc32(blob, zlib.crc32(ent))
    rec = _REC_HDR.pack(_K_META, 1, 1, len(ent) + len(blob), crc) + ent + blob
    mv = memoryview(rec)
    while mv:
        mv = mv[os.write(fd, mv):]


class _Records:
    """The capture's records: strings and types as they pile up, a batch's
    OBJECTS and EDGES, the ROOTS and the END record."""

    def flush_small(self, force=False):
        out = self.out
        if self.str_pending and (force or len(self.str_pending) >= 4096):
            pending = self.str_pending
            self.str_pending = []
            # a dict of many distinct keys names them all at once: records
            # of at most 65536 strings each
            for i in range(0, len(pending), 65536):
                p = pending[i:i + 65536]
                out.record(_K_STRINGS, len(p), [_int_col(1, list(map(_len, p))), (2, 0, True, b"".join(p), 0)])
        if self.type_pending and (force or len(self.type_pending) >= 1024):
            p = self.type_pending
            self.type_pending = []
            out.record(_K_TYPES, len(p), [
                _int_col(1, list(map(itemgetter(0), p))),
                _int_col(2, list(map(itemgetter(1), p))),
                _int_col(3, list(map(itemgetter(2), p)))])

    def write_batch(self, n, addrs, ti, sizes, rc, fl, nedges, lens, labels, targets, names):
        self.flush_small()
        total = len(targets)
        if total * 12 <= _tuning.edge_bytes_limit or n == 1:
            ranges = [(0, n, 0, total)]
        else:
            ranges = []
            offs = list(accumulate(nedges, initial=0))
            lo = 0
            while lo < n:
                hi = lo + 1
                while hi < n and (offs[hi + 1] - offs[lo]) * 12 <= _tuning.edge_bytes_limit:
                    hi += 1
                ranges.append((lo, hi, offs[lo], offs[hi]))
                lo = hi
        loff = None
        if len(ranges) > 1:
            loff = list(accumulate(lens, initial=0))
        out = self.out
        # reference counts are stored as counted; the base subtracts the
        # agent's own references (mod 2**64, as the format defines base)
        rcbase = (-self.overhead) & 0xFFFFFFFFFFFFFFFF
        for lo, hi, elo, ehi in ranges:
            whole = lo == 0 and hi == n
            sl = (lambda a: a) if whole else (lambda a: a[lo:hi])
            # widths from known bounds where there are some: max() over every
            # column costs more than zlib does on the wider column
            W = _tuning.narrow
            cols = [(1, 8, False, sl(addrs), 0), _int_col(2, sl(ti), width=_width(len(self.tinfo))),
                    _int_col(3, sl(sizes), width=W and 4), _int_col(4, sl(rc), base=rcbase, width=W and 4),
                    _int_col(5, sl(fl), width=2), _int_col(6, sl(nedges), width=W and 4)]
            lab = labels if whole else labels[loff[lo]:loff[hi]]
            if lab:
                cols.append(_int_col(7, sl(lens), width=W and 2))
                cols.append((8, 0, True, lab, 0))
            if not _LITTLE:
                cols[0] = _int_col(1, cols[0][3], z=False)
            out.record(_K_OBJECTS, hi - lo, cols)
            t = targets if whole else targets[elo:ehi]
            nm = names if whole else names[elo:ehi]
            ecols = [(1, 8, False, t, 0) if _LITTLE else _int_col(1, t, z=False)]
            if any(nm):
                ecols.append(_int_col(2, nm, width=_tuning.narrow and 4))
            out.record(_K_EDGES, ehi - elo, ecols)
        self.nobjects += n
        self.nedges += total

    def write_roots(self):
        r = self.roots
        kinds, names, targets, threads, depths = r.kinds, r.names, r.targets, r.threads, r.depths
        sids = list(map(self.sid, names))
        self.flush_small(force=True)
        self.out.record(_K_ROOTS, len(kinds), [
            _int_col(1, kinds), _int_col(2, sids), (3, 8, False, targets, 0) if _LITTLE else _int_col(3, targets),
            _int_col(4, threads), _int_col(5, depths)])

    def write_end(self):
        self.flush_small(force=True)
        self.out.flush()
        nroots = len(self.roots.kinds)
        vals = (self.nobjects, self.nedges, len(self.strtab) - 1, len(self.tinfo), nroots, self.out.nrec)
        cols = []
        for i, v in enumerate(vals):
            cols.append((i + 1, 8, False, _U64.pack(v), 0))
        self.out.record(_K_END, 1, cols)


def _say(msg):
    """A line on standard error, written to file descriptor 2 itself: not
    through sys.stderr, whose buffer lock the interrupted code may hold (the
    agent speaks from signal handlers) and which makes objects of its own on
    first use."""
    try:
        b = (msg + "\n").encode("utf-8", "backslashreplace")
        while b:
            b = b[os.write(2, b):]
    except Exception:
        pass
