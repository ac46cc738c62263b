"""The walk: objects batch by batch, the untracked objects their edges
lead to, each written once.

Speed and memory. Objects are processed in batches of ``_tuning.batch``; every
column is built with C-level iteration (``map``, ``array``, ``itertools``)
and records are written as they are made, on a writer thread that
compresses and writes while the walk goes on (zlib and write() release the
GIL). Within a batch, objects are grouped by kind, so that lists, tuples,
sets and dicts are handled in bulk (one ``gc.get_referents(*objs)`` per
group) and instances of a class are checked against its layout in one
pass (``_Capture._h_instances``). Per-object Python code runs only where a
name or a label needs it, and rarely even then. Consecutive batches with the
same columns are joined into one record, so that the writer thread needs
the GIL back a few hundred times per capture rather than for every batch.

Atoms. The referents of a batch are sorted by type first: str, int, float
and bytes objects are never tracked, and most have one reference; they are
written from accumulators (``_AtomAcc``) without a per-object label for
ints and floats, whose 8-byte values go out instead (OBJECTS columns 9 and
10) and which the reader labels with their repr. None, True, False,
Ellipsis and NotImplemented are written first and their edges passed over.

Untracked objects are found from the edges of the objects written, and each
must be written once. The agent keeps a byte map with one byte per 16 bytes
of the address ranges that hold such objects (a Python set of ids would cost
some 70 bytes per object). When no other thread can run Python code during
the capture (a "quiet" process: only the capturing thread and the agent's
own; see ``_collect_roots``), an untracked object referred to by the edge at
hand only (its count is 1) cannot be reached again, needs no byte map, and
is written right away while it is still in the CPU's cache; that is most
str, int and float objects. With other threads, which can move references
around during the walk, every untracked object goes through the byte map.

Reference counts. ``sys.getrefcount`` counts the references the agent holds
while it asks: the list the object came from, the batch list and the call
itself. That overhead is measured once per capture on a probe object held
the very same way (``_Capture.calibrate``) and subtracted (through the
column's ``base``), so the counts written are the program's own. Immortal
objects (3.12+) are flagged and get a count of 0, since theirs means
nothing. On 3.8-3.11 the few objects the agent itself uses while it works
(None, True, False, small ints, some interned strings) have counts that
include the agent's transient references.
"""

import array
import os
from collections import defaultdict, deque
from functools import partial
from itertools import compress, repeat
from operator import and_, ge, getitem, is_, rshift, setitem

from .allocsites import _AllocSites
from .buffers import _Buffers
from .handlers import _Handlers, _Split
from .identity import _ByIdentity
from .layout import (
    _CHUNK_BYTES, _CHUNK_MASK, _CHUNK_SHIFT, _GRAIN, _IMMORTAL_MIN, _LIST_REVERSED, _LITTLE, _NOT, _ONE,
    _SL40, _TC4, _TC8, _TUPLE_REVERSED, _by_id, _getrefcount, _getsizeof, _id, _is_finalized,
    _is_tracked, _len, _list_ids, _HAVE_MMAP, _mmap_module, _types_hash_safely)
from .names import _Indexes, _ItemsLabel, _KeyNames, _Labels, _Naming, _int_label, _names_array
from .output import (
    _COL_FLOAT_VALUE, _COL_INT_VALUE, _F_FINALIZED, _F_IMMORTAL, _F_PERMANENT, _F_TRACKED, _K_EDGES,
    _K_OBJECTS, _Records, _int_col)
from .settings import _tuning
from .sizes import _Sizes
from .weakrefs import _WeakRefs
from .typeinfo import (
    _ALL_CATS, _ATOM_CLASS, _ATOM_CODE, _ATOM_TYPE, _C_BASED, _C_BYTES, _C_CONST, _C_DICT, _C_FLOAT,
    _C_FRAME, _C_FSET, _C_IDENT, _C_INST, _C_INT, _C_LIST, _C_OTHER, _C_SET, _C_STR, _C_TUPLE,
    _SINGLETON, _TypeTable)


# Progress, for whoever waits for the snapshot outside the process (the
# attach loader sets it): a writable buffer of _PROGRESS_LEN bytes, a
# shared mapping of a file, in which the walk keeps one fixed-width line,
# "walk" or "write", the objects written so far and the tracked objects
# there are. Writing it is a copy into memory: no system call, so the
# walk never lets go of the GIL for it.
_progress = [None]
_PROGRESS_LEN = 64
_PROGRESS_EVERY = 1 << 17  # objects between two updates


def _map_progress(path):
    """A shared mapping of the file at path, made private to this user if
    it is not there, _PROGRESS_LEN bytes long, for _progress; None when it
    cannot be made (the capture goes on without)."""
    if not _HAVE_MMAP:
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return None
    try:
        os.ftruncate(fd, _PROGRESS_LEN)
        return _mmap_module.mmap(fd, _PROGRESS_LEN)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def _progress_line(phase, n, ntracked):
    return (b"%-6s%16d%16d" % (phase, n, ntracked)).ljust(_PROGRESS_LEN - 1) + b"\n"


# _ATOM_CODE by class, for when classes hash safely (_types_hash_safely)
_ATOM_CODE_BY_CLASS = {str: 1, int: 2, float: 3, bytes: 4}


class _AtomAcc:
    """str, bytes, int, float or constant (None, True, complex, ...) objects
    of one type (index t, category c) gathered for one OBJECTS record: ids,
    sizes (unless all are size), and the values of ints and floats or the
    labels of the others."""
    __slots__ = ("t", "c", "size", "ids", "sizes", "vals", "labels")

    def __init__(self, t, c, size):
        self.t = t
        self.c = c
        self.size = size
        self.ids = array.array(_TC8)
        self.sizes = None if size else array.array(_TC4)
        self.vals = array.array("q") if c == _C_INT else array.array("d") if c == _C_FLOAT else None
        self.labels = []

    def add(self, O, I, redact):
        self.ids.extend(I)
        c = self.c
        if self.sizes is not None:
            fn = (str.__sizeof__ if c == _C_STR else bytes.__sizeof__ if c == _C_BYTES
                  else int.__sizeof__ if c == _C_INT else _getsizeof)
            n0 = len(self.sizes)
            try:
                self.sizes.extend(map(fn, O))
            except OverflowError:
                del self.sizes[n0:]
                self.sizes = array.array(_TC8, self.sizes)
                self.sizes.extend(map(fn, O))
        if self.vals is not None:
            n0 = len(self.vals)
            try:
                self.vals.extend(O)
                return
            except (OverflowError, TypeError):
                # an int beyond 64 bits: labels for all of them instead
                del self.vals[n0:]
                self.labels = list(map(_int_label, self.vals))
                self.vals = None
        if c == _C_STR:
            if not redact:
                self.labels.extend(map(str.__repr__, map(getitem, O, repeat(_SL40))))
        elif c == _C_BYTES:
            if not redact:
                self.labels.extend(map(bytes.__repr__, map(getitem, O, repeat(_SL40))))
        elif c == _C_INT:
            self.labels.extend(map(_int_label, O))
        else:
            self.labels.extend(map(repr, O))

    def label_columns(self):
        """The labels as a column of lengths and one of bytes."""
        labels = self.labels
        j = "".join(labels)
        b = j.encode("utf-8", "backslashreplace")
        if len(b) != len(j):
            labels = [s.encode("utf-8", "backslashreplace") for s in labels]
            b = b"".join(labels)
        return list(map(_len, labels)), b


class _Capture(_AllocSites, _Buffers, _WeakRefs, _Records, _Handlers, _Sizes, _ByIdentity, _TypeTable, _Labels, _Naming):
    """One capture's walk. The walk itself (batches, untracked objects, the
    byte map, reference counts) is here; the parts it is built from, each
    in its own module, share this object's state: _Naming (names), the
    string table and key names; _Labels (names), labels; _TypeTable
    (typeinfo), the types; _ByIdentity (identity), names by identity;
    _Sizes (sizes), sizes; _Handlers (handlers), the category handlers;
    _Records (output), the records."""

    def __init__(self, out, redact, roots, frozen, errors, ntracked, quiet=False):
        # the walk's
        self.out = out
        self.quiet = quiet
        self.by_class = _types_hash_safely()
        self.rc1 = -1
        self.acc = {}
        self.roots = roots
        self.frozen = frozen
        self.errors = errors
        self.bytemap = defaultdict(partial(bytearray, _CHUNK_BYTES))
        self.nobjects = 0
        self.nedges = 0
        self.overhead = 0
        self.ntracked = ntracked
        self.progress = None
        self.progress_next = 0
        self.start_progress()
        # _Naming's: the string table, dict-key and index names, labels
        self.redact = redact
        self.vocab = None  # with redact: the identifiers dict keys may be named by (_code_vocabulary)
        self.strtab = {b"": 0}
        self.str_pending = []
        self.kcache = _KeyNames()
        self.kcache.cap = self
        self.kcap = _tuning.key_names_base + ntracked // 32
        self.idx_list = _Indexes()
        self.idx_list.rev = _LIST_REVERSED
        self.idx_tuple = _Indexes()
        self.idx_tuple.rev = _TUPLE_REVERSED
        self.items = _ItemsLabel()
        # _TypeTable's: per type index
        self.tindex = {}
        self.type_pending = []
        self.tcat = bytearray()
        self.tgc = bytearray()
        self.tdel = bytearray()
        self.tfl = []
        self.tflg = {}
        self.tsize = []
        self.tsizefn = []
        self.tvals = []
        self.any_vals = False
        self.tinfo = []
        self.any_del = False
        self.init_buffers()
        self.init_weakrefs()
        self.init_allocs()
        # the edge names every part uses
        self.E = {}
        for name in ("__class__", "__dict__", "__annotations__", "cache", "<key>", "f_back", "f_code",
                     "f_globals", "f_builtins", "f_locals"):
            self.E[name] = 2 * self.sid(name.encode())
        self.KEY = self.E["<key>"]
        # _Handlers', by category
        h = self._h_each
        self.handlers = {
            _C_LIST: partial(self._h_seq, list, self.idx_list), _C_TUPLE: partial(self._h_seq, tuple, self.idx_tuple),
            _C_DICT: self._h_dict, _C_SET: partial(self._h_seq, set, None), _C_FSET: partial(self._h_seq, frozenset, None),
            _C_STR: self._h_atom, _C_BYTES: self._h_atom, _C_INT: self._h_atom, _C_FLOAT: self._h_atom,
            _C_CONST: self._h_atom, _C_INST: h, _C_IDENT: h, _C_BASED: h, _C_FRAME: h, _C_OTHER: h,
        }

    def release(self):
        """Drop everything, cycles included (the collector may be off)."""
        kc = self.__dict__.get("kcache")
        if kc is not None:
            kc.cap = None
        self.__dict__.clear()

    def error(self, msg):
        if len(self.errors) < _tuning.max_errors:
            if self.redact:
                # what follows the first colon may quote the program's data
                msg = msg.split(":", 1)[0] + ": (details redacted)"
            self.errors.append(msg[:300])

    def calibrate(self):
        """The references the agent holds on an object while it counts them:
        a probe held exactly like a batch's objects (one list, one batch
        list), minus the probe's own variable."""
        probe = object()
        big = [probe]
        sl = big[0:1]
        self.overhead = list(map(_getrefcount, sl))[0] - 1
        del big, sl, probe
        # the count discover() sees for an object with one reference held
        # by a list of edges only, as the edge lists hold them (checked
        # against the count with a second list)
        probe = float(len(self.strtab)) + 0.5
        flat = [probe]
        rc1 = list(map(_getrefcount, flat))[0]
        other = flat[0:1]
        rc2 = list(map(_getrefcount, other))[0]
        del flat, other, probe
        if rc2 == rc1 + 1:
            self.rc1 = rc1
        else:
            self.rc1 = -2
            self.quiet = False

    def mark(self, ids):
        """Test-and-set ids in the byte map; returns bytes, 1 where already set."""
        chunks = list(map(self.bytemap.__getitem__, map(rshift, ids, repeat(_CHUNK_SHIFT))))
        offs = list(map(and_, map(rshift, ids, repeat(_GRAIN)), repeat(_CHUNK_MASK)))
        seen = bytes(map(getitem, chunks, offs))
        deque(map(setitem, chunks, offs, repeat(1)), 0)
        return seen

    def run_list(self, lst, genbits, frames=False):
        """Write the objects of lst batch by batch, and the objects each batch
        finds, depth first."""
        stack = [[lst, 0, genbits, frames]]
        B = _tuning.batch
        while stack:
            top = stack[-1]
            cur, i = top[0], top[1]
            if i >= len(cur):
                stack.pop()
                continue
            top[1] = i + B
            if self.progress is not None and self.nobjects >= self.progress_next:
                self.say_progress(b"walk")
            new = self.emit(cur, i, top[2], top[3])
            del cur, top
            if new:
                # lists of one type each but the last (discover); that one
                # split by type where it has atoms
                for part in new[:-1]:
                    stack.append([part, 0, 0, False])
                if new[-1]:
                    for part in self._by_type(new[-1]):
                        stack.append([part, 0, 0, False])
                part = None
                del part
            del new

    def start_progress(self):
        """Takes the progress buffer (see _progress), if there is one that
        fits."""
        buf = _progress[0]
        self.progress = buf if buf is not None and len(buf) == _PROGRESS_LEN else None
        self.progress_next = 0

    def say_progress(self, phase):
        """Puts the progress line (see _progress) in place."""
        self.progress_next = self.nobjects + _PROGRESS_EVERY
        try:
            self.progress[0:_PROGRESS_LEN] = _progress_line(phase, self.nobjects, self.ntracked)
        except (ValueError, TypeError, IndexError):  # closed, or not a buffer of that size
            self.progress = None

    def _by_type(self, new):
        """new, split into lists of str, int, float, bytes and the rest, so
        that most batches of untracked objects have one type."""
        if len(new) < 64:
            return [new]
        try:
            if self.by_class:
                codes = bytes(map(_ATOM_CODE_BY_CLASS.get, map(type, new), repeat(0)))
            else:
                codes = bytes(map(_ATOM_CODE.get, map(_id, map(type, new)), repeat(0)))
        except Exception:
            return [new]
        out = []
        for c in range(5):
            k = codes.count(c)
            if k == len(new):
                return [new]
            if k:
                out.append(list(compress(new, codes.translate(_ONE[c]))))
        return out

    def emit(self, cur, i, genbits, frames):
        """Write the batch cur[i:i+_tuning.batch]; return the new objects it refers to.

        Within the batch, objects are grouped by category (one record still),
        so that containers are handled in bulk. While their reference counts
        are taken, the objects are held by cur and by one batch list only."""
        sl = cur[i:i + _tuning.batch]
        n = len(sl)
        tl = list(map(type, sl))
        tindex = self.tindex
        if all(map(is_, tl, repeat(tl[0]))):
            # one type (untracked objects are split by type when found)
            t = tindex.get(_id(tl[0]))
            if t is None:
                self._register(tl[0], sl[0])
                t = tindex[_id(tl[0])]
            c = self.tcat[t]
            if c >= _C_STR and not frames and not self.frozen:
                del tl
                return self._emit_atoms(sl, n, t, c)
            ti = [t] * n
            present = [c]
            del tl
        else:
            tids = list(map(_id, tl))
            try:
                ti = list(map(tindex.__getitem__, tids))
            except KeyError:
                self.register_types(tids, tl, sl)
                ti = list(map(tindex.__getitem__, tids))
            del tl, tids
            cats = bytes(map(self.tcat.__getitem__, ti))
            present = [c for c in _ALL_CATS if c in cats]
        if len(present) == 1:
            cats = None
        if len(present) == 1 and not (present[0] == _C_INST and ti.count(ti[0]) != n):
            objs = sl
            blocks = [(present[0], 0, n)]
        else:
            # by category; instances by class too
            order = []
            blocks = []
            for c in present:
                a = len(order)
                idx = range(n) if len(present) == 1 else compress(range(n), cats.translate(_ONE[c]))
                if c == _C_INST:
                    idx = sorted(idx, key=ti.__getitem__)
                order.extend(idx)
                blocks.append((c, a, len(order)))
            objs = list(map(sl.__getitem__, order))
            ti = list(map(ti.__getitem__, order))
            del order, idx
        del sl
        rc = list(map(_getrefcount, objs))

        ov = self.overhead
        fl = list(map(self.flags_for(genbits).__getitem__, ti))
        if self.frozen and not genbits and not frames:
            tr = bytes(map(_is_tracked, objs))
            if tr.count(1):
                for j in compress(range(n), tr):
                    fl[j] |= _F_TRACKED | _F_PERMANENT
        if _IMMORTAL_MIN < 1 << 62 and max(rc) >= _IMMORTAL_MIN:
            for j in compress(range(n), map(ge, rc, repeat(_IMMORTAL_MIN))):
                fl[j] |= _F_IMMORTAL
                rc[j] = ov
        if self.any_del and _is_finalized is not None:
            tdel = self.tdel
            if any(map(tdel.__getitem__, set(ti))):
                for j in compress(range(n), map(tdel.__getitem__, ti)):
                    try:
                        if _is_finalized(objs[j]):
                            fl[j] |= _F_FINALIZED
                    except Exception:
                        pass
        addrs = _list_ids(objs)

        sizes = [0] * n
        counts = []
        flats = []
        discs = []
        names = []
        labels = [b""] * n
        handlers = self.handlers
        for c, a, b in blocks:
            O = objs if b - a == n else objs[a:b]
            T = ti if b - a == n else ti[a:b]
            sz, cnt, flat, nm, lab = handlers[c](O, T, c, frames)
            sizes[a:b] = sz
            counts.extend(cnt)
            if type(flat) is _Split:
                flats.append(flat[0])
                discs.extend(flat[1])
            else:
                flats.append(flat)
                discs.append(flat)
            names.append(nm)
            if lab is not None:
                labels[a:b] = lab
            del O, sz, cnt, flat, nm, lab

        if self.any_buf:
            self.note_buffers(objs, ti, addrs, sizes)
        if self.any_weak:
            self.note_weakrefs(objs, ti, addrs)
        if self.alloc_on:
            self.note_allocs(objs, addrs)
        targets = array.array(_TC8)
        for flat in flats:
            targets.extend(_list_ids(flat))
        # the edge lists go before discover() counts references
        del flats, flat
        nm = _names_array(names)
        del names
        if len(nm) != len(targets):
            self.error("edge names out of step with edges; names dropped for a batch")
            nm = array.array(_TC4, bytes(4 * len(targets)))
        new = self.discover(discs)
        del discs
        lens = list(map(_len, labels))
        lab = b"".join(labels)
        del labels
        self.write_batch(n, addrs, ti, sizes, rc, fl, counts, lens, lab, targets, nm)
        return new

    def _emit_atoms(self, objs, n, t, c):
        """A batch of untracked objects of one type without referents (str,
        bytes, int, float and the constants): no edges, and constant type
        and flags but for immortality."""
        rc = list(map(_getrefcount, objs))
        fl = None
        if _IMMORTAL_MIN < 1 << 62 and max(rc) >= _IMMORTAL_MIN:
            fl = [self.tfl[t]] * n
            ov = self.overhead
            for j in compress(range(n), map(ge, rc, repeat(_IMMORTAL_MIN))):
                fl[j] |= _F_IMMORTAL
                rc[j] = ov
        addrs = _list_ids(objs)
        if self.alloc_on:
            self.note_allocs(objs, addrs)
        acc = _AtomAcc(t, c, self.tsize[t])
        acc.add(objs, (), self.redact)
        del objs
        self._write_atoms(acc, rc, fl, addrs)
        return None

    def _take_atoms(self, c, O, I):
        """str, int, float or bytes objects (code c) with one reference, just
        found (so still in the CPU's cache): written from here, their count
        being 1 and their id known."""
        acc = self.acc.get(c)
        if acc is None:
            tp = type(O[0])
            t = self.tindex.get(_id(tp))
            if t is None:
                self._register(tp, O[0])
                t = self.tindex[_id(tp)]
            acc = self.acc[c] = _AtomAcc(t, self.tcat[t], self.tsize[t])
        acc.add(O, I, self.redact)
        if len(acc.ids) >= _tuning.atom_batch:
            self.flush_single(c)

    def flush_single(self, c=None):
        """Write the objects gathered by _take_atoms (of code c, or all)."""
        for code in ([c] if c is not None else list(self.acc)):
            acc = self.acc.pop(code)
            if len(acc.ids):
                self._write_atoms(acc, None, None, acc.ids)

    def _write_atoms(self, acc, rc, fl, addrs):
        """An OBJECTS record (and its empty EDGES) for the objects in acc, of
        reference counts rc (None: 1 each) and flags fl (None: the type's)."""
        n = len(addrs)
        t = acc.t
        self.flush_small()
        W = _tuning.narrow
        cols = [(1, 8, False, addrs, 0) if _LITTLE else _int_col(1, addrs, z=False), (2, 1, True, bytes(n), t)]
        if acc.size:
            cols.append((3, 1, True, bytes(n), acc.size))
        else:
            cols.append(_int_col(3, acc.sizes, width=W and (4 if acc.sizes.itemsize == 4 else 8)))
        if rc is None:
            cols.append((4, 1, True, bytes(n), 1))
        else:
            cols.append(_int_col(4, rc, base=(-self.overhead) & 0xFFFFFFFFFFFFFFFF, width=W and 4))
        if fl is not None:
            cols.append(_int_col(5, fl, width=2))
        elif self.tfl[t]:
            cols.append((5, 1, True, bytes(n), self.tfl[t]))
        if acc.vals is not None:
            v = acc.vals
            if not _LITTLE:
                v = array.array(v.typecode, v)
                v.byteswap()
            cols.append((_COL_INT_VALUE if acc.c == _C_INT else _COL_FLOAT_VALUE, 8, acc.c == _C_INT, v, 0))
        elif acc.labels:
            lens, blob = acc.label_columns()
            cols.append(_int_col(7, lens, width=W and 2))
            cols.append((8, 0, True, blob, 0))
        self.out.record(_K_OBJECTS, n, cols)
        self.out.record(_K_EDGES, 0, [])
        self.nobjects += n

    def _dedupe(self, objs, new):
        """Append to new those of objs (a list) not yet in the byte map,
        marking them."""
        d = _by_id(objs)
        seen = self.mark(list(d))
        if seen.count(0):
            new.extend(compress(d.values(), seen.translate(_NOT)))

    def _dedupe_once(self, objs, ids, new):
        """_dedupe for objs that are each in the list once (their counts
        say so): no dict by id needed. Returns the marks, 1 where already
        set."""
        seen = self.mark(ids)
        n0 = seen.count(0)
        if n0 == len(seen):
            new.extend(objs)
        elif n0:
            new.extend(compress(objs, seen.translate(_NOT)))
        return seen

    def discover(self, flats):
        """Objects the edges lead to that are not in the snapshot yet, marked
        in the byte map now so that they are written once; returned as
        lists of one type each for str, int, float and bytes, and last a
        list of the others (perhaps empty).

        str, int, float and bytes objects are picked out first, by type:
        they are never tracked, so they need no gc.is_tracked, and lists
        of one of those types are written without sorting them by type
        again. In a quiet process (no other thread can run Python code
        during the capture, see _collect_roots) an object whose only
        reference is the edge at hand cannot be reached again: it is taken
        without the byte map, which is most of the untracked objects of a
        heap (str, int and float values of containers); those of the four
        types are written at once (_take_atoms). None, True, False, ...
        are passed over there, since a quiet capture writes them first.

        Reference counts are compared with rc1 + 1 for an object that the
        edge list flat holds and one more list, rc1 for one in flat only
        (the lists are kept exactly so while counting)."""
        new = [[], [], [], [], []]   # others, then by atom code
        rest_new = new[0]
        frozen = self.frozen
        quiet = self.quiet
        rc1 = self.rc1
        rc2 = rc1 + 1
        ids = _list_ids
        by_class = self.by_class
        if quiet:
            tcodes = _ATOM_CLASS if by_class else _ATOM_TYPE
        else:
            tcodes = _ATOM_CODE_BY_CLASS if by_class else _ATOM_CODE
        for flat in flats:
            L = len(flat)
            for p in range(0, L, _tuning.part):
                part = flat if L <= _tuning.part else flat[p:p + _tuning.part]
                k = len(part)
                rest = part
                if by_class:
                    codes = bytes(map(tcodes.get, map(type, part), repeat(0)))
                else:
                    codes = bytes(map(tcodes.get, map(_id, map(type, part)), repeat(0)))
                n0 = codes.count(0)
                if n0 < k:
                    # atoms, and in a quiet capture None, True, False, ...
                    # (written first)
                    groups = []
                    if n0 == 0 and codes.count(codes[0]) == k:
                        if codes[0] != _SINGLETON:
                            groups.append((codes[0], part))
                    else:
                        for c in range(1, _SINGLETON):
                            if c in codes:
                                groups.append((c, list(compress(part, codes.translate(_ONE[c])))))
                    rest = list(compress(part, codes.translate(_ONE[0]))) if n0 else None
                    del part
                    O = None
                    for c, O in groups:
                        rcx = rc1 if O is flat else rc2
                        rcs = list(map(_getrefcount, O))
                        n1 = rcs.count(rcx)
                        if not quiet:
                            # another thread may give them another reference
                            # later: marked, but those referred to once need
                            # no dict by id, and are written from here
                            if not n1:
                                del rcs
                                self._dedupe(O, new[c])
                                continue
                            if n1 == len(O):
                                S = O
                            else:
                                one = bytes(map(rcx.__eq__, rcs))
                                S = list(compress(O, one))
                                self._dedupe(list(compress(O, one.translate(_NOT))), new[c])
                            del rcs
                            got = []
                            I = ids(S)
                            seen = self._dedupe_once(S, I, got)
                            del S
                            if got:
                                if len(got) < len(I):
                                    I = array.array(_TC8, compress(I, seen.translate(_NOT)))
                                self._take_atoms(c, got, I)
                            del got, I
                            continue
                        if n1 == len(O):
                            del rcs
                            self._take_atoms(c, O, ids(O))
                            continue
                        one = bytes(map(rcx.__eq__, rcs))
                        del rcs
                        if n1:
                            S = list(compress(O, one))
                            self._take_atoms(c, S, ids(S))
                            del S
                            self._dedupe(list(compress(O, one.translate(_NOT))), new[c])
                        else:
                            self._dedupe(O, new[c])
                    del groups, O
                    if rest is None:
                        continue
                else:
                    del part
                tr = bytes(map(_is_tracked, rest))
                nt = tr.count(1)
                if nt and frozen:
                    # tracked objects are new only if frozen (gc.freeze()):
                    # the listed ones are in the byte map already
                    self._dedupe(rest if nt == len(tr) else list(compress(rest, tr)), rest_new)
                if nt == len(tr):
                    continue
                cobjs = list(compress(rest, tr.translate(_NOT))) if nt else rest
                del rest, tr
                # untracked objects with one reference: taken as they are
                # when quiet, else marked without a dict by id
                one = bytes(map((rc1 if cobjs is flat else rc2).__eq__, map(_getrefcount, cobjs)))
                n1 = one.count(1)
                if n1:
                    S = cobjs if n1 == len(one) else list(compress(cobjs, one))
                    if quiet:
                        rest_new.extend(S)
                    else:
                        self._dedupe_once(S, ids(S), rest_new)
                    del S
                    if n1 == len(one):
                        continue
                    cobjs = list(compress(cobjs, one.translate(_NOT)))
                self._dedupe(cobjs, rest_new)
                del cobjs
        out = [lst for lst in new[1:] if lst]
        out.append(rest_new)
        return out
