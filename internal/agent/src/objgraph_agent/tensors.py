"""torch tensors as buffer owners: the bytes of each CPU storage, charged
once, to a tensor that holds it, without importing torch and without
running any of the program's or torch's Python code.

A tensor type is recognised by its C base along its MRO: ``torch._C``'s
``_TensorBase`` (torch 1.x) or ``TensorBase`` (2.x), the very object that
the loaded ``torch._C`` module holds. Nothing is done when torch is not
loaded: the check is one lookup in ``sys.modules`` per capture.

Reading a tensor. torch's C methods and getters (``is_cpu``, ``layout``,
``_is_view``, the storage) first ask whether the call must go to a Python
``__torch_function__``, as torch's ``check_has_torch_function`` does: yes
when a torch function mode is active on the calling thread; otherwise no
for ``torch.Tensor`` and ``torch.nn.Parameter`` exactly, and for any other
class no only when the instance's ``__torch_function__`` attribute is
torch's disabled implementation. So a tensor is read only when its class
cannot dispatch:

- no torch function mode is active on the capturing thread
  (``torch._C._is_torch_function_mode_enabled()``, C code reading
  thread-local state);
- no class of its MRO defines ``__getattribute__`` or ``__getattr__``
  (the attribute lookup torch makes would run them);
- the class is ``torch.Tensor``, or ``__torch_function__`` and
  ``__torch_dispatch__`` looked up in the MRO's type dicts (no descriptor
  runs) are torch's disabled implementations (as ``Parameter`` has them),
  and the instance's own ``__torch_function__``, read with the generic C
  lookup (which finds that builtin, no descriptor, or an instance
  attribute), is that same disabled implementation.

Any other tensor is left uncharged and counted. The C methods are those of
the C base's ``__dict__``, never attributes of the object; a tensor whose
storage is not CPU memory (CUDA, meta, other devices) or whose layout is
not strided (sparse, mkldnn) is charged nothing and counted.

Charging. Views (a slice, ``.view()``, ``.T``, ``t[::2]``) share their
base's storage, and so do ``detach()``, a ``Parameter`` made of a tensor,
or ``torch.from_numpy``'s tensor with its array. Each storage is charged
once, by the address of its data, after the walk: to a numpy array that
owns memory the storage begins in (``from_numpy``); else to the tensor of
lowest address among those that are no view (``_is_view()``); else, when
the walk met only views of it, to the view of lowest address. A storage
that begins inside another one (``from_numpy`` of an array over a
tensor's storage at an offset) is charged to nobody. The array of
``t.numpy()`` owns nothing (its base is the tensor), so the tensor keeps
the storage.
"""

import array
import sys
import types
from bisect import bisect_right

from .layout import _MISS, _MOD_DICT, _OBJ_GA_SLOT, _TC8, _TDICT, _TMRO, _id, _tlookup

_TENSOR_BASES = ("_TensorBase", "TensorBase")
_OBJ_GA = object.__getattribute__

# the kind of a tensor row noted in the walk
_T_OWNER = 0   # no view: holds its storage
_T_VIEW = 1    # a view of another tensor's storage


def _module_dict(name):
    """The dict of sys.modules[name] when that is a module, else None."""
    m = sys.modules.get(name)
    if type(m) is not types.ModuleType:
        return None
    d = _MOD_DICT(m)
    return d if type(d) is dict else None


class _TorchReader:
    """What a capture needs to read tensors: torch's C base and accessors,
    found once per capture, and the counts of tensors not charged."""

    def __init__(self, cd):
        base = None
        for name in _TENSOR_BASES:
            b = cd.get(name)
            if isinstance(b, type):  # (of torch's metaclass, _TensorMeta)
                base = b
                break
        if base is None:
            raise LookupError("torch._C has no tensor base type")
        bd = _TDICT(base)
        self.base = base
        self.is_cpu = bd["is_cpu"].__get__
        self.layout = bd["layout"].__get__
        self.is_view = bd["_is_view"]
        st = bd.get("untyped_storage")
        if st is None:
            st = bd["_storage"]
        self.storage = st
        sb = cd["StorageBase"]
        sd = _TDICT(sb)
        self.storage_base = sb
        self.s_ptr = sd["data_ptr"]
        self.s_nbytes = sd["nbytes"]
        self.tf_off = cd["_disabled_torch_function_impl"]
        self.td_off = cd["_disabled_torch_dispatch_impl"]
        mode = cd.get("_is_torch_function_mode_enabled")
        # (a builtin of torch._C: C code reading the thread's state)
        self.mode = bool(mode()) if type(mode) is types.BuiltinFunctionType else True
        td = _module_dict("torch")
        self.strided = td.get("strided", _MISS) if td is not None else _MISS
        tt = _module_dict("torch._tensor")
        self.tensor = tt.get("Tensor") if tt is not None else None
        self.seen = 0
        self.unread = 0      # of a class that may run Python code
        self.elsewhere = 0   # not CPU memory, or not strided
        self.stypes = {}     # id(storage type) -> True when its MRO has StorageBase

    def safe_class(self, t):
        """0 when t's tensors cannot be read, 1 when they can, 2 when they
        can once the instance's own __torch_function__ is checked."""
        if self.mode:
            return 0
        if _tlookup(t, "__getattribute__") is not _OBJ_GA_SLOT or _tlookup(t, "__getattr__") is not _MISS:
            return 0
        if t is self.tensor:
            return 1
        if _tlookup(t, "__torch_function__") is self.tf_off and _tlookup(t, "__torch_dispatch__") is self.td_off:
            return 2
        return 0

    def reader(self, t):
        """The function giving (kind, storage data address, storage bytes)
        for a tensor of type t, or 0 when it is charged nothing."""
        safe = self.safe_class(t)
        if not safe:
            def unread(o):
                self.seen += 1
                self.unread += 1
                return 0
            return unread
        own_tf = safe == 2
        tf_off, is_cpu, layout, strided = self.tf_off, self.is_cpu, self.layout, self.strided
        is_view, storage, s_ptr, s_nbytes, stypes = self.is_view, self.storage, self.s_ptr, self.s_nbytes, _storage_check(self)

        def owned(o):
            self.seen += 1
            if own_tf and _OBJ_GA(o, "__torch_function__") is not tf_off:
                self.unread += 1
                return 0
            if not is_cpu(o) or layout(o) is not strided:
                self.elsewhere += 1
                return 0
            s = storage(o)
            if not stypes(type(s)):
                self.unread += 1
                return 0
            n = s_nbytes(s)
            p = s_ptr(s)
            if type(n) is not int or n <= 0 or type(p) is not int or p <= 0:
                return 0
            return (_T_VIEW if is_view(o) else _T_OWNER, p, n)
        return owned

    def meta(self):
        """What the snapshot's metadata says of the tensors met."""
        return {"seen": self.seen, "unread": self.unread, "elsewhere": self.elsewhere}


def _storage_check(tr):
    """A check that a storage's type has torch's C storage base in its MRO
    (its C methods then apply), cached by type."""
    cache = tr.stypes
    sb = tr.storage_base

    def ok(st):
        r = cache.get(_id(st))
        if r is None:
            try:
                r = sb in _TMRO(st)
            except Exception:
                r = False
            cache[_id(st)] = r
        return r
    return ok


def _torch_reader():
    """The capture's _TorchReader, or None when torch is not loaded or not
    one the agent knows how to read."""
    cd = _module_dict("torch._C")
    if cd is None:
        return None
    try:
        return _TorchReader(cd)
    except Exception:
        return None


class _Storages:
    """The tensors and numpy arrays noted in the walk, by the address of
    their data, and which of them is charged each storage."""

    def __init__(self):
        self.t_addr = array.array(_TC8)
        self.t_ptr = array.array(_TC8)
        self.t_bytes = array.array(_TC8)
        self.t_kind = bytearray()
        self.t_inside = array.array(_TC8)
        self.a_start = array.array(_TC8)   # numpy arrays that own their data
        self.a_end = array.array(_TC8)

    def tensor(self, addr, kind, ptr, n, inside):
        self.t_addr.append(addr)
        self.t_ptr.append(ptr)
        self.t_bytes.append(n)
        self.t_kind.append(kind)
        self.t_inside.append(inside)

    def owner_array(self, ptr, n):
        self.a_start.append(ptr)
        self.a_end.append(ptr + n)

    def charged(self):
        """The tensors charged a storage: (addresses, bytes, bytes their
        sizes count), each storage once (see the module docstring)."""
        starts = sorted(range(len(self.a_start)), key=self.a_start.__getitem__)
        a_start = [self.a_start[i] for i in starts]
        a_end = [self.a_end[i] for i in starts]
        best = {}   # storage data address -> index of the tensor charged
        t_addr, t_ptr, t_kind = self.t_addr, self.t_ptr, self.t_kind
        for j in range(len(t_addr)):
            p = t_ptr[j]
            k = bisect_right(a_start, p) - 1
            if k >= 0 and p < a_end[k]:
                continue  # an array's memory (torch.from_numpy)
            b = best.get(p)
            if b is None or (t_kind[j], t_addr[j]) < (t_kind[b], t_addr[b]):
                best[p] = j
        # a storage over memory another one begins before (a tensor made
        # by from_numpy of another tensor's .numpy() at an offset)
        idx = []
        end = 0
        for p in sorted(best):
            j = best[p]
            if p >= end:
                idx.append(j)
            end = max(end, p + self.t_bytes[j])
        idx.sort()
        return [t_addr[j] for j in idx], [self.t_bytes[j] for j in idx], [self.t_inside[j] for j in idx]
