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
pandas objects are charged through the ndarrays their blocks hold. torch
tensors are charged their CPU storages, each storage once (tensors.py);
while torch is loaded, the address of an owning ndarray's data is noted
too (its C ``__array_interface__``, read only for arrays without fields
and without numpy's warn-on-write flag, for which numpy would run Python
code), so that a tensor made by ``torch.from_numpy`` and its array count
their one buffer once.

The BUFFERS record (kind 64, which readers that do not know it skip)
lists the owners: address, bytes owned, and how many of those bytes the
object's size already counts (``sys.getsizeof`` of an array that owns
its data includes them; an mmap's does not).
"""

import array
import sys

from .layout import _TC8, _TMODULE, _TNAME, _id, _tlookup
from .output import _int_col
from .tensors import _T_OWNER, _Storages, _torch_reader

_K_BUFFERS = 64
_BASICSIZE = type.__dict__["__basicsize__"].__get__
_MRO = type.__dict__["__mro__"].__get__
_is_none = None.__class__.__instancecheck__
_GETSET = type(type.__dict__["__name__"])
_A_OWNER = 2             # an ndarray that owns its data, with its address
_NPY_WARN_ON_WRITE = 1 << 31


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


def _ndarray_reader(base, with_address):
    """Bytes owned by an ndarray; with_address, (_A_OWNER, the address of
    its data, bytes) for an array that owns its data, when the address can
    be read without running Python code."""
    d = base.__dict__
    nbytes = d["nbytes"].__get__
    flags = d["flags"].__get__
    cache = {}
    if with_address:
        interface = d["__array_interface__"].__get__
        dtype = d["dtype"].__get__
        dcache = {}

    def flag_getters(f):
        t = type(f)
        g = cache.get(_id(t))
        if g is None:
            td = t.__dict__
            g = cache[_id(t)] = (td["owndata"].__get__, td["num"].__get__)
        return g

    def names_getter(dt):
        # a structured dtype's __array_interface__ calls numpy's Python
        # code (_internal._array_descr): its names must be None
        t = type(dt)
        g = dcache.get(_id(t))
        if g is None:
            g = _tlookup(t, "names")
            g = dcache[_id(t)] = g.__get__ if type(g) is _GETSET else None
        return g

    def owned(o):
        f = flags(o)
        own, num = flag_getters(f)
        if not own(f):
            return 0
        n = nbytes(o)
        if with_address and n > 0 and not num(f) & _NPY_WARN_ON_WRITE:
            names = names_getter(dtype(o))
            if names is not None and names(dtype(o)) is None:
                p = interface(o)["data"][0]
                if type(p) is int and p > 0:
                    return (_A_OWNER, p, n)
        return n
    return owned


def _buffer_reader(t, torch=None):
    """The function giving the bytes an object of type t owns outside
    itself (or a tuple, for the storages charged after the walk), or None
    when t is no buffer owner the agent knows. torch is the capture's
    _TorchReader, None when torch is not loaded."""
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
        if torch is not None and b is torch.base:
            return torch.reader(t)
        try:
            mod, name = _TMODULE(b), _TNAME(b)
        except Exception:
            continue
        if type(mod) is not str:
            continue
        if name == "ndarray" and mod == "numpy":
            try:
                return _ndarray_reader(b, torch is not None)
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
        # torch loaded: its tensors' storages, charged after the walk
        self.torch = _torch_reader() if "torch._C" in sys.modules else None
        self.storages = _Storages() if self.torch is not None else None

    def register_buffer_type(self, t):
        try:
            r = _buffer_reader(t, self.torch)
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
            if type(n) is tuple:
                kind, p, n = n
            elif type(n) is not int:
                continue
            else:
                kind = -1
            if n <= 0:
                continue
            # the object's size holds its buffer when it is at least the
            # type's basic size plus the buffer (getsizeof of an owning
            # ndarray, bytearray or array.array)
            try:
                inside = n if sizes[j] >= _BASICSIZE(type(objs[j])) + n else 0
            except Exception:
                inside = 0
            if kind == _A_OWNER:
                self.storages.owner_array(p, n)
            elif kind >= _T_OWNER:
                self.storages.tensor(addrs[j], kind, p, n, inside)
                continue
            self.buf_addr.append(addrs[j])
            self.buf_owned.append(n)
            self.buf_in_size.append(inside)

    def write_buffers(self):
        if self.storages is not None:
            a, n, inside = self.storages.charged()
            self.buf_addr.extend(a)
            self.buf_owned.extend(n)
            self.buf_in_size.extend(inside)
            self.storages = None
            tr = self.torch
            cm = self.__dict__.get("meta_capture")
            if tr.seen and type(cm) is dict:
                cm["tensors"] = tr.meta()
        if not len(self.buf_addr):
            return
        self.out.record(_K_BUFFERS, len(self.buf_addr), [
            _int_col(1, self.buf_addr, z=False), _int_col(2, self.buf_owned), _int_col(3, self.buf_in_size)])
