"""Facts about this interpreter: version, pointer size and byte order,
array type codes, how gc.get_referents orders what it reports, the
type-level accessors that read an object without running its code,
the type flags and header sizes the walk relies on, and how the ids of a
list's items are read.

Ids. In CPython a list's items are an array of object pointers, and a
pointer is what ``id()`` returns: the agent copies the ids of its own
lists' items out of that array with ``ctypes.string_at`` instead of calling
``id()`` per object, which allocates an int each time. It does so only
after reading, inside probe lists, the length and capacity fields that
surround the array pointer and finding them where the layout puts them;
elsewhere (PyPy, free-threaded builds, no ctypes) it uses ``map(id, ...)``.
"""

import array
import gc
import struct
import sys
import types
import weakref
import functools
from functools import partial


# The interpreter.

_PY = sys.version_info[:2]
_POINTER_SIZE = struct.calcsize("P")
_LITTLE = sys.byteorder == "little"
_TC = {}
for _tc in "BHILQ":
    _TC.setdefault(array.array(_tc).itemsize, _tc)
_TC4, _TC8 = _TC[4], _TC[8]
del _tc

try:
    import mmap as _mmap_module
    _HAVE_MMAP = True
except Exception:  # pragma: no cover
    _HAVE_MMAP = False
_MMAP_PAGESIZE = _mmap_module.PAGESIZE if _HAVE_MMAP else 0
try:
    import sysconfig as _sysconfig
    _FREE_THREADED = bool(_sysconfig.get_config_var("Py_GIL_DISABLED"))
except Exception:  # pragma: no cover
    _FREE_THREADED = False

# CPython 3.12 (and 3.13 before its release) lists the free list of each
# _asyncio module among the module's referents: FutureIter objects already
# freed and kept for reuse, with a reference count of 0. A list of referents
# holding them frees them once more when it goes, which turns the free list
# into a cycle that the next collection, at exit if not before, follows for
# ever. The walk takes the __dict__ of such a module as its only referent
# (_Handlers._module_referents).
_FREELIST_REFERENTS = sys.implementation.name == "cpython" and (3, 12) <= _PY and \
    sys.version_info[:4] < (3, 13, 0, "final")

# Distinct live objects never overlap and none is smaller than the bare
# object header, so address >> _GRAIN is unique per live object.
_GRAIN = 4 if object.__basicsize__ >= 16 else 3
_CHUNK_SHIFT = 16
_CHUNK_MASK = (1 << (_CHUNK_SHIFT - _GRAIN)) - 1
_CHUNK_BYTES = 1 << (_CHUNK_SHIFT - _GRAIN)

# Immortal objects (3.12+) have counts of at least 2**31 on 64-bit builds
# (0xFFFFFFFF on 3.12-3.13, 3 << 30 on 3.14); mortal ones never get near.
if _PY >= (3, 12):
    _IMMORTAL_MIN = (1 << 31) if sys.maxsize > 2 ** 32 else (1 << 29)
else:
    _IMMORTAL_MIN = 1 << 62

_getrefcount = sys.getrefcount
_getsizeof = sys.getsizeof
_get_referents = gc.get_referents
_is_tracked = gc.is_tracked
_is_finalized = getattr(gc, "is_finalized", None)
_getattr = getattr
_type = type
_id = id
_len = len
_MISS = object()          # "no such attribute"
# functools.lru_cache's wrapper: a C type whose referents hold two dicts, the
# cache and the wrapper's __dict__ (with __wrapped__, set by update_wrapper)
_LRU_WRAPPER = functools._lru_cache_wrapper


def _map_ids(lst):
    """The ids of lst's items, as an array."""
    return array.array(_TC8, list(map(_id, lst)))


def _ids_by_copy():
    """A function that returns the ids of a list's items as an array by
    copying the list's item pointers (which are the ids in CPython), or None
    where that cannot be done safely. The list layout is taken to be
    PyObject_VAR_HEAD, ob_item, allocated, and is checked on probe lists
    first: ob_size must read as len() and allocated as what __sizeof__
    implies, both read inside the list object itself, before any item
    pointer is followed."""
    try:
        if sys.implementation.name != "cpython" or _POINTER_SIZE != 8 or _FREE_THREADED:
            return None
        import ctypes
        P = _POINTER_SIZE
        head = object.__basicsize__
        if list.__basicsize__ != head + 3 * P:
            return None
        off_size, off_item, off_alloc = head, head + P, head + 2 * P
        ssize = ctypes.c_ssize_t.from_address
        vptr = ctypes.c_void_p.from_address
        string_at = ctypes.string_at
        probes = [[], [object()], [object() for _ in range(13)], list(range(1000, 1100))]
        probes[2].append(object())
        for lst in probes:
            a = _id(lst)
            alloc = (list.__sizeof__(lst) - list.__basicsize__) // P
            if ssize(a + off_size).value != len(lst) or ssize(a + off_alloc).value != alloc:
                return None
        for lst in probes:
            if lst:
                got = array.array(_TC8)
                got.frombytes(string_at(vptr(_id(lst) + off_item).value, P * len(lst)))
                if got != _map_ids(lst):
                    return None

        def ids(lst):
            if type(lst) is not list:
                return _map_ids(lst)
            n = len(lst)
            out = array.array(_TC8)
            if n:
                out.frombytes(string_at(vptr(_id(lst) + off_item).value, P * n))
            return out
        return ids
    except Exception:
        return None

_NOT = bytes.maketrans(b"\x00\x01", b"\x01\x00")
_SL40 = slice(0, 40)
_SL60 = slice(0, 60)

# ids of the globals of the modules the agent is made of: frames running
# their code are the agent's (one dict when the agent is one file)
_AGENT_GLOBALS = {id(globals())}

# gc.get_referents reports list and tuple items last to first on the
# versions checked; measure it rather than assume.
_a, _b = [0], [1]
_LIST_REVERSED = _get_referents([_a, _b])[0] is _b
_TUPLE_REVERSED = _get_referents((_a, _b))[0] is _b
_k = (0.5,)
_d = {_k: _b}
_DICT_VALUE_FIRST = _get_referents(_d)[0] is _b
del _a, _b, _d, _k

# Type-level accessors: they read a field of the object's C structure and
# never run the object's own __getattr__ or __repr__.
_TDICT = type.__dict__["__dict__"].__get__
_TMRO = type.__dict__["__mro__"].__get__
_TBASES = type.__dict__["__bases__"].__get__
_TNAME = type.__dict__["__name__"].__get__
_TMODULE = type.__dict__["__module__"].__get__
_TFLAGS = type.__dict__["__flags__"].__get__
_TITEMSIZE = type.__dict__["__itemsize__"].__get__
_MOD_DICT = types.ModuleType.__dict__["__dict__"].__get__
_FUNC_QUAL = types.FunctionType.__dict__["__qualname__"].__get__
_FUNC_CODE = types.FunctionType.__dict__["__code__"].__get__
_CODE_FILE = types.CodeType.__dict__["co_filename"].__get__
_CODE_LINE = types.CodeType.__dict__["co_firstlineno"].__get__
_CODE_NAME = types.CodeType.__dict__["co_name"].__get__
_CODE_QUAL = types.CodeType.__dict__["co_qualname"].__get__ if "co_qualname" in types.CodeType.__dict__ else _CODE_NAME
_CODE_NAMES = types.CodeType.__dict__["co_names"].__get__
_CODE_CONSTS = types.CodeType.__dict__["co_consts"].__get__
_METH_FUNC = types.MethodType.__dict__["__func__"].__get__
_BUILTIN_NAME = types.BuiltinFunctionType.__dict__["__name__"].__get__
_FRAME_CODE = types.FrameType.__dict__["f_code"].__get__
_FRAME_LINE = types.FrameType.__dict__["f_lineno"].__get__
_FRAME_BACK = types.FrameType.__dict__["f_back"].__get__
_FRAME_GLOBALS = types.FrameType.__dict__["f_globals"].__get__
_FRAME_BUILTINS = types.FrameType.__dict__["f_builtins"].__get__
_FRAME_LOCALS = types.FrameType.__dict__["f_locals"].__get__
_OBJ_GETATTRIBUTE = object.__getattribute__
_OBJ_GA_SLOT = object.__dict__["__getattribute__"]
_OBJ_CLASS = object.__dict__["__class__"]
_MEMBER_DESC = type(types.FunctionType.__dict__["__globals__"])
_METHOD_DESC = type(dict.__dict__["__sizeof__"])
_GETSET_DESC = type(types.FunctionType.__dict__["__code__"])
_HEAPTYPE = 1 << 9
_HAVE_GC = 1 << 14
_PREHEADER = (1 << 3) | (1 << 4)   # Py_TPFLAGS_MANAGED_WEAKREF (3.12+) | _MANAGED_DICT (3.11+)
_GC_HEAD = sys.getsizeof(()) - ().__sizeof__()

_CellType = type((lambda x: lambda: x)(0).__closure__[0])
_GenTypes = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)
_WeakTypes = (weakref.ReferenceType, weakref.ProxyType, weakref.CallableProxyType)
_DescTypes = (types.MethodDescriptorType, types.ClassMethodDescriptorType, types.WrapperDescriptorType,
              types.GetSetDescriptorType, types.MemberDescriptorType)


def _getters(tp, names):
    """(name, one, many) accessors for the descriptors of tp among names."""
    out = []
    d = _TDICT(tp)
    for name in names:
        desc = d.get(name)
        if desc is None or (type(desc) is not _MEMBER_DESC and type(desc) is not _GETSET_DESC):
            continue
        one = desc.__get__
        out.append((name, one, partial(_map_list, one)))
    return tuple(out)


def _map_list(fn, objs):
    return list(map(fn, objs))


# Attributes whose getters return the stored object itself (so identity
# matching works) and create nothing. Left out on purpose: function
# __dict__/__annotations__ (created on access), generator gi_frame and
# frame f_locals (materialise frames/dicts), code co_code/co_varnames (built
# on access on newer versions).
_IDENT_GETTERS = {
    types.FunctionType: _getters(types.FunctionType, (
        "__code__", "__globals__", "__builtins__", "__module__", "__defaults__", "__kwdefaults__",
        "__doc__", "__name__", "__closure__", "__qualname__")),
    type: _getters(type, ("__mro__", "__bases__", "__base__")),
    types.ModuleType: _getters(types.ModuleType, ("__dict__",)),
    _CellType: _getters(_CellType, ("cell_contents",)),
    types.MethodType: _getters(types.MethodType, ("__func__", "__self__")),
    types.BuiltinFunctionType: _getters(types.BuiltinFunctionType, ("__self__", "__module__")),
    property: _getters(property, ("fget", "fset", "fdel", "__doc__")),
    classmethod: _getters(classmethod, ("__func__", "__wrapped__")),
    staticmethod: _getters(staticmethod, ("__func__", "__wrapped__")),
    types.GeneratorType: _getters(types.GeneratorType, ("gi_code", "__name__", "__qualname__")),
    types.CoroutineType: _getters(types.CoroutineType, ("cr_code", "__name__", "__qualname__")),
    types.AsyncGeneratorType: _getters(types.AsyncGeneratorType, ("ag_code", "__name__", "__qualname__")),
    weakref.ReferenceType: _getters(weakref.ReferenceType, ("__callback__",)),
    types.CodeType: _getters(types.CodeType, (
        "co_consts", "co_names", "co_filename", "co_name", "co_qualname", "co_linetable",
        "co_exceptiontable")),
    types.FrameType: _getters(types.FrameType, ("f_back", "f_code", "f_globals", "f_builtins", "f_trace")),
}
for _t in _DescTypes:
    _IDENT_GETTERS[_t] = _getters(_t, ("__objclass__", "__name__"))
del _t
_IDENT_GETTERS_BY_ID = {id(k): v for k, v in _IDENT_GETTERS.items()}


def _tlookup(tp, name):
    """name looked up on tp's MRO through the type dicts (no descriptors run)."""
    for k in _TMRO(tp):
        d = _TDICT(k)
        if name in d:
            return d[name]
    return _MISS


_OBJ_HASH = object.__dict__["__hash__"]
_OBJ_EQ = object.__dict__["__eq__"]
_TYPE_SUBCLASSES = type.__dict__["__subclasses__"]


class _TooManyClasses(Exception):
    pass


def _class_tree(root, follow=None):
    """root and its subclasses (type.__subclasses__), recursively, each
    once, going only through the classes follow accepts (all if None).
    Raises _TooManyClasses past 100,000 classes."""
    todo = [root]
    seen = set()
    while todo:
        t = todo.pop()
        if _id(t) in seen or (follow is not None and not follow(t)):
            continue
        seen.add(_id(t))
        yield t
        todo.extend(_TYPE_SUBCLASSES(t))
        if len(seen) > 100000:
            raise _TooManyClasses()


def _types_hash_safely():
    """True when hashing any class runs no Python code: no metaclass (a
    subclass of type, all of which are alive to __subclasses__) overrides
    __hash__ or __eq__. Then a dict keyed by classes can look up type(o)."""
    try:
        for m in _class_tree(type):
            if _tlookup(m, "__hash__") is not _OBJ_HASH or _tlookup(m, "__eq__") is not _OBJ_EQ:
                return False
        return True
    except Exception:
        return False


def _is_static(t):
    return not _TFLAGS(t) & _HEAPTYPE


def _static_type_tuples():
    """The __mro__ and __bases__ tuples of the static (C) types alive to
    type.__subclasses__. Static types report no referents to the collector,
    so their tuples are reached by no edge; since 3.12 CPython keeps them
    in the permanent generation (its freeze count is not zero at startup)."""
    out = []
    try:
        for t in _class_tree(object, _is_static):
            out.append(_TMRO(t))
            out.append(_TBASES(t))
    except Exception:
        pass
    return out


def _by_id(objs):
    """objs (a list) as a dict from id to object: each object once."""
    return dict(zip(_list_ids(objs), objs))


_list_ids = _ids_by_copy() or _map_ids

_ONE = [bytes(1 if i == c else 0 for i in range(256)) for c in range(32)]
