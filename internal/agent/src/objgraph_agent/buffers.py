"""Buffers charged to their owners: objects whose data lives in a block of
memory of its own, outside the object (a numpy array's data, a
bytearray's or array.array's items, an mmap's pages), and the bytes each
one owns.

A type is recognised by its module and name along its MRO, without
importing any library: ``numpy.ndarray`` and its subclasses,
``bytearray``, ``array.array``, ``mmap.mmap``. What an object owns is read
through the C-level accessors of the recognised base type, never through
a subclass's attributes, so none of the program's code runs:

- an ndarray owns ``nbytes`` when ``flags.owndata`` is set; a view (a
  slice, a reshape, ``np.frombuffer`` of bytes) owns nothing, the array or
  object it is a view of owns the data, so no buffer is counted twice;
- a bytearray or array.array owns its allocated items: its C
  ``__sizeof__`` less its type's basic size;
- an mmap owns its length (0 once closed).

A memoryview never owns its buffer: the exporter it refers to does.
pandas objects are charged through the ndarrays their blocks hold.

The BUFFERS record (kind 64, which readers that do not know it skip)
lists the owners: address, bytes owned, and how many of those bytes the
object's size already counts (``sys.getsizeof`` of an array that owns
its data includes them; an mmap's does not).
"""

import array
import sys

from .layout import _TC8, _TMODULE, _TNAME, _id
from .output import _int_col

_K_BUFFERS = 64
_BASICSIZE = type.__dict__["__basicsize__"].__get__
_MRO = type.__dict__["__mro__"].__get__
_is_none = None.__class__.__instancecheck__


def _items_reader(base):
    """Bytes owned by a bytearray or array.array: its C __sizeof__ less
    the basic size of its type."""
    sizeof = base.__sizeof__

    def owned(o):
        return sizeof(o) - _BASICSIZE(type(o))
    return owned


def _mmap_reader(base):
    length = base.__len__

    def owned(o):
        try:
            return length(o)
        except ValueError:  # closed
            return 0
    return owned


def _ndarray_reader(base):
    d = base.__dict__
    nbytes = d["nbytes"].__get__
    flags = d["flags"].__get__
    cache = {}

    def owned(o):
        f = flags(o)
        t = type(f)
        own = cache.get(_id(t))
        if own is None:
            own = cache[_id(t)] = t.__dict__["owndata"].__get__
        return nbytes(o) if own(f) else 0
    return owned


def _buffer_reader(t):
    """The function giving the bytes an object of type t owns outside
    itself, or None when t is no buffer owner the agent knows."""
    try:
        mro = _MRO(t)
    except Exception:
        return None
    if type(mro) is not tuple:  # a type not yet ready
        return None
    for b in mro:
        if b is bytearray or b is array.array:
            return _items_reader(b)
        if b is object:
            break
        try:
            mod, name = _TMODULE(b), _TNAME(b)
        except Exception:
            continue
        if type(mod) is not str:
            continue
        if name == "ndarray" and mod == "numpy":
            try:
                return _ndarray_reader(b)
            except Exception:
                return None
        if name == "mmap" and mod == "mmap" and sys.modules.get("mmap") is not None:
            if b is getattr(sys.modules["mmap"], "mmap", None):
                return _mmap_reader(b)
    return None


class _Buffers:
    """The walk's part that notes buffer owners (a mixin of _Capture)."""

    def init_buffers(self):
        self.tbuf = []           # per type index: its reader, or None
        self.any_buf = False
        self.buf_addr = array.array(_TC8)
        self.buf_owned = array.array(_TC8)
        self.buf_in_size = array.array(_TC8)

    def register_buffer_type(self, t):
        try:
            r = _buffer_reader(t)
        except Exception:
            r = None
        self.tbuf.append(r)
        if r is not None:
            self.any_buf = True

    def note_buffers(self, objs, ti, addrs, sizes):
        """Note the buffer owners of a batch: objs with their type indexes
        ti, addresses addrs and sizes as written."""
        tbuf = self.tbuf
        if all(map(_is_none, map(tbuf.__getitem__, set(ti)))):
            return
        for j in range(len(objs)):
            r = tbuf[ti[j]]
            if r is None:
                continue
            try:
                n = r(objs[j])
            except Exception:
                continue
            if type(n) is not int or n <= 0:
                continue
            # the object's size holds its buffer when it is at least the
            # type's basic size plus the buffer (getsizeof of an owning
            # ndarray, bytearray or array.array)
            try:
                inside = n if sizes[j] >= _BASICSIZE(type(objs[j])) + n else 0
            except Exception:
                inside = 0
            self.buf_addr.append(addrs[j])
            self.buf_owned.append(n)
            self.buf_in_size.append(inside)

    def write_buffers(self):
        if not len(self.buf_addr):
            return
        self.out.record(_K_BUFFERS, len(self.buf_addr), [
            _int_col(1, self.buf_addr, z=False), _int_col(2, self.buf_owned), _int_col(3, self.buf_in_size)])
