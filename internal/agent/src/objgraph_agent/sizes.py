"""Object sizes: how the size of a type's instances is found once per type
(a constant, a C-level __sizeof__ plus a header, sys.getsizeof, or an
estimate where __sizeof__ is Python code, which never runs), and the
sizes of a batch's objects from that.

A size is what the allocator holds for the object: the object, its GC
header and the 3.11+ pre-header (what sys.getsizeof counts), and what
__sizeof__ leaves out although the object owns it alone:

- The attribute values of an instance whose class keeps its ``__dict__``
  managed (3.11+). On 3.11 and 3.12 they are an array allocated apart
  (``PyDictValues``: a prefix of roundup(n + 2, 8) bytes, then n
  pointers), pointed to from the pre-header until the instance's
  ``__dict__`` is made, which then owns it; on 3.13 they are inline, after
  the object header (roundup(n, 8) bytes of prefix, n + 1 pointers), for
  the object's whole life. n is the capacity the class's shared keys give
  (``dk_nentries + dk_usable`` of ``ht_cached_keys``).
- The values prefix of a split dict (an instance's ``__dict__`` once made)
  on 3.11 and 3.12, which ``dict.__sizeof__`` leaves out; on 3.13 such a
  dict's values are inline in the instance, and ``dict.__sizeof__`` counts
  them, so they are taken off the dict's size (the instance counts them).

None of this runs the program's code or touches ``__dict__`` (making it
would change the heap): the shared keys and the values pointer are read
from memory with ctypes (_Mem), after the layout has been checked on
probe classes the agent makes at import. Where ctypes is missing, or the
check fails (not CPython, free-threaded, an unknown layout), those sizes
are what __sizeof__ says, and the types concerned are flagged *size
estimated*.
"""

from collections import deque
from itertools import compress, repeat
from operator import add, not_, rshift

from .layout import (
    _FREE_THREADED, _GC_HEAD, _HAVE_GC, _HEAPTYPE, _LITTLE, _METHOD_DESC, _POINTER_SIZE, _PREHEADER,
    _PY, _TDICT, _TITEMSIZE, _TMRO, _getsizeof, _id, _list_ids, _tlookup)
import array
import sys


_OBJ_SIZEOF = object.__dict__["__sizeof__"]


def _c_sizeof(tp, tflags):
    """(function, header) giving the size of tp's instances without running
    a __sizeof__ of the program's: the nearest C-level __sizeof__ on tp's
    MRO (object's counts the basic size plus the item size times the
    length), plus what sys.getsizeof adds: the GC header and, on 3.11+, the
    managed dict and weakref pointers before the object."""
    fn = _OBJ_SIZEOF
    try:
        for k in _TMRO(tp):
            f = _TDICT(k).get("__sizeof__")
            if type(f) is _METHOD_DESC:
                fn = f
                break
    except Exception:
        pass
    hdr = _GC_HEAD if tflags & _HAVE_GC else 0
    if _PY >= (3, 11) and tflags & _PREHEADER:
        hdr += 2 * _POINTER_SIZE
    return (fn, hdr)


def _type_sizes(t, tflags, sample):
    """(size, sizefn, estimated): how the sizes of type t's objects are
    found, sample being one of them. A constant size for fixed-size types
    that use object.__sizeof__; sizefn, a C __sizeof__ plus the constant
    GC header, for builtin types; neither (sys.getsizeof object by object)
    for other types whose __sizeof__ is C code; and for a __sizeof__
    written in Python, which is the program's code and never runs, the
    C-level size (_c_sizeof), estimated."""
    size, sizefn, estimated = 0, None, False
    try:
        sf = _tlookup(t, "__sizeof__")
        if type(sf) is not _METHOD_DESC:
            sizefn = _c_sizeof(t, tflags)
            estimated = True
        else:
            full_size = _getsizeof(sample)
            if sf is _OBJ_SIZEOF and not _TITEMSIZE(t):
                size = full_size
            elif sf is _OBJ_SIZEOF or not (tflags & _HEAPTYPE):
                sizefn = (sf, full_size - sf(sample))
    except Exception:
        sizefn = _c_sizeof(t, tflags)
        estimated = True
    return size, sizefn, estimated

_MANAGED_DICT = 1 << 4   # Py_TPFLAGS_MANAGED_DICT (3.11+)
_INLINE_VALUES = 1 << 2  # Py_TPFLAGS_INLINE_VALUES (3.13+)


def _round8(n):
    return (n + 7) & ~7


# the most values a 3.11/3.12 instance gets: the shared keys start with
# room for 30 (SHARED_KEYS_MAX_SIZE), and the first instance takes one
_FIRST_CAPACITY = 29
_BASE = 1 << 12   # the views of memory start above the null page


class _Mem:
    """Reads of the interpreter's memory for sizes (see the module's
    docstring), set up once at import; ok is False where they cannot be
    done safely, and then no method is called.

    Memory is read through two memoryviews over the address space (one by
    byte, one by 8-byte word) made from one ctypes array at _BASE: a view
    costs nothing until it is read, and reading one byte or word of it
    from C (map over its __getitem__) costs a tenth of a ctypes call.
    Only addresses inside live objects, or that their fields point to, are
    ever read."""

    def __init__(self):
        self.ok = False
        if _PY < (3, 11) or _PY >= (3, 14) or sys.implementation.name != "cpython":
            return
        if _POINTER_SIZE != 8 or _FREE_THREADED or dict.__basicsize__ != 48 or not _LITTLE:
            return
        try:
            import ctypes
        except Exception:
            return
        try:
            self._setup(ctypes)
        except Exception:
            self.ok = False

    def _setup(self, ctypes):
        span = ((1 << 62) - _BASE) & ~7
        raw = memoryview((ctypes.c_char * span).from_address(_BASE))
        self.B = raw.cast("B")
        self.Q = raw.cast("B").cast("Q")
        self.pyobj = ctypes.py_object.from_address

        class _Outer:
            class _Probe:
                pass

            class _Wide:
                pass
        P, W = _Outer._Probe, _Outer._Wide
        # kept: classes are cycles, which without this would be garbage
        # of the agent's in the next snapshot (and in a loader's target)
        self.probes = _Outer
        # ht_qualname is the only field of the heap type that holds the
        # qualified name, which differs from __name__ here; ht_cached_keys
        # follows it on 3.11-3.13
        nw = type.__basicsize__ // 8
        tw = self.words(_id(P), nw)
        qn = _id(type.__dict__["__qualname__"].__get__(P))
        if tw.count(qn) != 1 or tw.index(qn) < nw // 2:
            return
        self.keys_off = 8 * (tw.index(qn) + 1)
        p = P()
        w = W()
        for i, name in enumerate(("a", "b", "c")):
            setattr(p, name, i)
        for i in range(12):
            setattr(w, "x%d" % i, i)
        for t, nattr in ((P, 3), (W, 12)):
            ka = self.words(_id(t) + self.keys_off, 1)[0]
            if not ka or ka & 7:
                return
            kw = self.words(ka, 4)
            if self.B[ka + 10 - _BASE] != 2 or kw[3] != nattr or not (0 < kw[2] + kw[3] < 256):
                return
            if not (0 < kw[0] < 1 << 40):
                return
        if _PY < (3, 13):
            # the values pointer, in the pre-header: plain on 3.11, tagged
            # with bit 0 on 3.12; gone once __dict__ is made
            self.voff = 32 if _PY < (3, 12) else 24
            self.vtag = _PY >= (3, 12)
            for o in (p, w):
                v = self.words(_id(o) - self.voff, 1)[0]
                if not v or (self.vtag and not v & 1) or (not self.vtag and v & 7):
                    return
        else:
            # the inline values' capacity byte, and no __dict__ yet
            for o, t in ((p, P), (w, W)):
                if self.words(_id(o) - 24, 1)[0] or self.B[_id(o) + 16 - _BASE] < self.usable(t):
                    return
        self.ok = True

    def words(self, addr, n):
        """n 8-byte words at addr (8-aligned), as a list."""
        k = (addr - _BASE) >> 3
        return self.Q[k:k + n].tolist()

    def usable(self, t):
        """The values capacity t's shared keys give now, or 0 if t has none."""
        ka = self.words(_id(t) + self.keys_off, 1)[0]
        if not ka:
            return 0
        kw = self.words(ka, 4)
        n = kw[2] + kw[3]
        if self.B[ka + 10 - _BASE] != 2 or not 0 < n < 256:
            return 0
        return n

    def values_size(self, t, tflags):
        """True when t's instances may hold attribute values that
        __sizeof__ leaves out (see values)."""
        if not tflags & _MANAGED_DICT or not tflags & _HEAPTYPE:
            return False
        if _PY >= (3, 13):
            return bool(tflags & _INLINE_VALUES) and t.__basicsize__ == 16
        return True

    def _array_bytes(self, prefix, now):
        """Bytes of a 3.11/3.12 values array whose prefix is prefix bytes:
        it holds n = prefix - 2 pointers at most, and no more than the
        first instance of a class gets (_FIRST_CAPACITY); n = now (the capacity
        the shared keys give now) when that fits the prefix. Each instance
        a class makes takes one from the keys' capacity until it reaches
        the keys' entries plus one, and it never grows, so the capacity of
        the latest instances is the one the keys give and only a class's
        first few instances get the upper bound."""
        if _round8(now + 2) == prefix:
            return prefix + 8 * now
        return prefix + 8 * max(min(prefix - 2, _FIRST_CAPACITY), 0)

    def values(self, objs, tabs=None):
        """The bytes of each object's attribute values (objs are instances
        of one type with values_size true): on 3.13 from the capacity
        byte at the head of the inline values, on 3.11/3.12 from the values
        array's prefix, 0 where the array has gone to a __dict__."""
        B = self.B
        addrs = _list_ids(objs)
        if _PY >= (3, 13):
            return list(map(_INLINE_BYTES.__getitem__, map(B.__getitem__, map(add, addrs, repeat(16 - _BASE)))))
        vp = list(map(self.Q.__getitem__, map(rshift, map(add, addrs, repeat(-self.voff - _BASE)), repeat(3))))
        att = bytes(map((1).__and__, vp)) if self.vtag else bytes(map(bool, vp))
        out = [0] * len(vp)
        if att.count(0) == len(att):
            return out
        now = self.usable(type(objs[0]))
        # (tabs: the tables made so far by one capture, by capacity)
        tab = tabs.get(now) if tabs is not None else None
        if tab is None:
            tab = [self._array_bytes(p, now) for p in range(256)]
            if tabs is not None:
                tabs[now] = tab
        idx = list(compress(range(len(vp)), att))
        # the prefix's size is the byte before the array (3.12 tags the
        # pointer by subtracting 1)
        pre = map(B.__getitem__, map(add, map(vp.__getitem__, idx), repeat(-_BASE if self.vtag else -1 - _BASE)))
        deque(map(out.__setitem__, idx, map(tab.__getitem__, pre)), 0)
        return out

    def hidden_dicts(self, objs):
        """3.13: (index, dict) for each of objs (instances with inline
        values) whose __dict__ has been made while its values are still
        inline: gc.get_referents reports the values then, not the dict,
        which no other edge may reach."""
        if _PY < (3, 13):
            return []
        addrs = _list_ids(objs)
        dp = list(map(self.Q.__getitem__, map(rshift, map(add, addrs, repeat(-24 - _BASE)), repeat(3))))
        if dp.count(0) == len(dp):
            return []
        B = self.B
        pyobj = self.pyobj
        return [(j, pyobj(addrs[j] - 24).value) for j in range(len(dp))
                if dp[j] and B[addrs[j] + 19 - _BASE]]

    def split_dict_fix(self, addrs):
        """For dicts (by address): what dict.__sizeof__ gets wrong about a
        split dict's values (it counts 8 bytes for each entry the shared
        keys have room for now): on 3.11/3.12 the array's real size is put
        in; on 3.13, where the values are inline in the instance, which
        counts them, they are taken off. 0 for the other dicts."""
        vals = list(map(self.Q.__getitem__, map(rshift, map(add, addrs, repeat(40 - _BASE)), repeat(3))))
        out = [0] * len(vals)
        if vals.count(0) == len(vals):
            return out
        B = self.B
        for j in compress(range(len(vals)), vals):
            v = vals[j]
            ka = self.words(addrs[j] + 32, 1)[0]
            kw = self.words(ka, 4)
            now = kw[2] + kw[3]
            if _PY >= (3, 13):
                if B[v + 2 - _BASE]:     # embedded in the instance
                    out[j] = -8 * now
            else:
                out[j] = self._array_bytes(B[v - 1 - _BASE], now) - 8 * now
        return out


_INLINE_BYTES = [_round8(c) + 8 * (c + 1) for c in range(256)]
_mem = _Mem()


def _values_size(t, tflags):
    """(has values, estimated): whether t's instances hold attribute values
    (_Mem.values_size), and whether they may but cannot be read."""
    if _PY < (3, 11) or not tflags & _MANAGED_DICT or not tflags & _HEAPTYPE:
        return False, False
    if not _mem.ok:
        return False, True
    try:
        return _mem.values_size(t, tflags), False
    except Exception:
        return False, True


def _with_hidden_dicts(O, T, tvals, counts, flat, nm, dict_name):
    """3.13: the edges of instances (counts, flat, nm) with an edge named
    dict_name added to each __dict__ gc.get_referents leaves out
    (_Mem.hidden_dicts); as they were where there is none."""
    if _PY < (3, 13) or not _mem.ok:
        return counts, flat, nm
    idx = [j for j in range(len(O)) if tvals[T[j]]]
    if not idx:
        return counts, flat, nm
    found = _mem.hidden_dicts(list(map(O.__getitem__, idx)))
    if not found:
        return counts, flat, nm
    add_at = {idx[k]: d for k, d in found}
    nflat = []
    nnm = array.array(nm.typecode)
    ncounts = list(counts)
    p = 0
    for j, c in enumerate(counts):
        nflat.extend(flat[p:p + c])
        nnm.extend(nm[p:p + c])
        p += c
        d = add_at.get(j)
        if d is not None:
            nflat.append(d)
            nnm.append(dict_name)
            ncounts[j] = c + 1
    return ncounts, nflat, nnm


class _Sizes:
    """Sizes of a batch's objects from the per-type tsize and tsizefn
    tables (_TypeTable)."""

    def _sizes_by_fn(self, O, T):
        fnh = self.tsizefn[T[0]]
        if fnh is None:
            return self._sizes_each(O, T)
        fn, hdr = fnh
        if hdr:
            return list(map(add, map(fn, O), repeat(hdr)))
        return list(map(fn, O))

    def _dict_sizes(self, O, T):
        """Sizes of exact dicts: _sizes_by_fn, and on 3.11+ the split dicts'
        values put right (_Mem.split_dict_fix)."""
        sz = self._sizes_by_fn(O, T)
        if _mem.ok:
            try:
                fix = _mem.split_dict_fix(_list_ids(O))
                if any(fix):
                    sz = list(map(add, sz, fix))
            except Exception as e:
                self.error("dict sizes: %s" % e)
        return sz

    def _add_values(self, O, T, sz):
        """sz with the attribute values of managed-dict instances added
        (tvals, per type; on 3.11 and 3.12 only while the object holds
        them)."""
        tv = self.tvals
        if not any(map(tv.__getitem__, set(T))):
            return sz
        st = set(T)
        tabs = self.__dict__.get("vtabs")
        if tabs is None:
            tabs = self.vtabs = {}  # (dropped with the capture by release())
        for t in st:
            if not tv[t]:
                continue
            # the objects of type t, picked in C (no loop per object)
            idx = None if len(st) == 1 else list(compress(range(len(T)), map(t.__eq__, T)))
            try:
                vb = _mem.values(O if idx is None else list(map(O.__getitem__, idx)), tabs)
            except Exception as e:
                self.error("instance sizes: %s" % e)
                continue
            if idx is None:
                return list(map(add, sz, vb))
            deque(map(sz.__setitem__, idx, map(add, map(sz.__getitem__, idx), vb)), 0)
        return sz

    def _sizes_each(self, O, T):
        sz = self._sizes_each_base(O, T)
        if self.any_vals and _mem.ok:
            sz = self._add_values(O, T, sz)
        return sz

    def _sizes_each_base(self, O, T):
        sz = list(map(self.tsize.__getitem__, T))
        if 0 in sz:
            tsizefn = self.tsizefn
            for j in compress(range(len(sz)), bytes(map(not_, sz))):
                o = O[j]
                try:
                    fnh = tsizefn[T[j]]
                    sz[j] = fnh[0](o) + fnh[1] if fnh is not None else _getsizeof(o)
                except Exception:
                    sz[j] = 0
        return sz
