"""Object sizes: how the size of a type's instances is found once per type
(a constant, a C-level __sizeof__ plus a header, sys.getsizeof, or an
estimate where __sizeof__ is Python code, which never runs), and the
sizes of a batch's objects from that."""

from itertools import compress, repeat
from operator import add, not_

from .layout import (
    _GC_HEAD, _HAVE_GC, _HEAPTYPE, _METHOD_DESC, _POINTER_SIZE, _PREHEADER, _PY, _TDICT, _TITEMSIZE,
    _TMRO, _getsizeof, _tlookup)


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

    def _sizes_each(self, O, T):
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
