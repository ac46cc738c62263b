"""Heap snapshots of a running CPython process, for objgraph.

This module is self-contained and uses only the standard library (CPython
3.8 to 3.14). Copy it next to the program under investigation, or let
``objgraph run`` put it on the path, and call::

    import objgraph_agent
    objgraph_agent.snapshot("heap.ogs")            # one snapshot, now
    objgraph_agent.install(signal.SIGUSR2, "/tmp")  # one snapshot per signal

It writes the ``.ogs`` format (docs/format.md in the objgraph repository):
every object the cycle collector tracks, every untracked object reachable
from them (str, int, float, bytes, untracked tuples and dicts, ...), their
types, sizes, reference counts, flags and short labels, every reference
between them with a name where Python can tell one, and the roots the graph
is held from (modules, thread stacks, stack frames' local variables,
threads).

Command line::

    python3 objgraph_agent.py --help
    python3 objgraph_agent.py run [--dir D] [--signal SIG] [--every S]
                                  [--at-exit] [--redact] script.py [args...]
    python3 objgraph_agent.py run [options] -m module [args...]

Design decisions
----------------

Speed and memory. Objects are processed in batches of ``_BATCH``; every
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

Ids. In CPython a list's items are an array of object pointers, and a
pointer is what ``id()`` returns: the agent copies the ids of its own
lists' items out of that array with ``ctypes.string_at`` instead of calling
``id()`` per object, which allocates an int each time. It does so only
after reading, inside probe lists, the length and capacity fields that
surround the array pointer and finding them where the layout puts them;
elsewhere (PyPy, free-threaded builds, no ctypes) it uses ``map(id, ...)``.

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

External roots (kind 4) are not written. They need, per object, the number
of in-graph referrers; the reader has every edge and every count in compact
columns and computes them far more cheaply than Python could, so this agent
leaves them to it.

Labels. Modules get their name, functions their qualified name (lambdas
``lambda: file:line``), classes their name, containers ``N items``, frames
``file:line``, str and bytes the first 40 characters of their repr, int
and float their repr. Most ints and floats are written as 8-byte values
(OBJECTS columns 9 and 10) and the reader formats them: Python would spend
more on a float's repr than on the rest of its record. With ``redact=True``
str and bytes get no label. No user ``__repr__`` is ever called: it is arbitrary code, may raise,
be slow or change state. Other objects get no label.

Edge names. List and tuple elements are named by index; dict values by
their key (an identifier key as itself, e.g. ``cache``; an int key from 0
to 2**31-1 as an index ``[k]``; other keys of builtin types by their repr,
cut to 40 characters, in dicts of up to 256 entries; with ``redact=True``
str and bytes keys by their type and length, see Redaction). Dicts whose keys
are all str do not report their keys to the collector, yet they hold them:
the agent adds those edges, named ``<key>`` like the key edges of other
dicts. Instance attributes are named even on 3.11+, where they live inline
with no ``__dict__`` object: the agent matches the referents by identity
against attribute values it reads with plain attribute lookup, for
attribute names it learns from the class's code; it never touches
``__dict__``, which would materialise a dict in every instance. Functions,
classes, modules, cells, methods, frames and generators get their
attribute names the same way, through type-level descriptors, never through
an object's own ``__getattr__``. Type objects are never hashed or compared
when a metaclass may define ``__hash__`` or ``__eq__``: tables about types
are keyed by ``id``. Only when no subclass of ``type`` alive in the process
(``type.__subclasses__``, recursively, checked at each capture) overrides
either does the agent look the edges' classes up in a dict keyed by class,
which saves an int per edge.

Stack frames. Running frames are not tracked and, on 3.11+, report no
referents; the agent writes each thread's frames itself, with edges
``f_back``, ``f_code``, ``f_globals``, ``f_builtins``, ``f_locals`` and one
per local variable, plus frame roots and local-variable roots. Reading
``f_locals`` of a running frame before 3.13 makes CPython store a dict of
the locals in the frame, as any debugger does; the agent does it before it
lists the heap, so those dicts are in the snapshot too.

The permanent generation (``gc.freeze()``) is not listed by
``gc.get_objects()``. When the freeze count is not zero, the agent first
writes the ``__mro__`` and ``__bases__`` tuples of static types that are
tracked but not listed: static types report no referents, and CPython 3.12
starts with 375 such tuples frozen. If they account for the whole freeze
count, the walk goes on as without frozen objects. Otherwise it marks every
listed object in its byte map, and writes every tracked referent not marked
there as a frozen object (flag ``permanent``), found by following
references; frozen objects nothing else refers to are not found then.

Hygiene. Automatic collections are off during the walk (generation 0's
threshold is 0) and a gc.collect() another thread of the program asks for
waits for the walk to end (a ``gc.callbacks`` hook), since a collection
would untrack objects under the walk. The agent never calls gc.disable() or
gc.enable(): what the program's threads do with them during a capture
stands. The agent's own threads never wait in the hook, and the hook stops
waiting when the capturing thread is gone or the interpreter is shutting
down, so no collection waits for ever. A child forked during a capture gets
the program's threshold back, the hook removed and the agent's locks new
(``os.register_at_fork``). No Python code of the program runs during the
walk: a ``__sizeof__`` written in Python is not called (the object's C-level
size is written, flagged estimated); with a capture on the main thread, the
program's Python signal handlers are held and the signals raised again once
the agent's state is restored, so that what they raise reaches the program.
With other threads in the process, the walk does no I/O (records are held
in memory and written after it): each time it let go of the GIL it waited
for every busy thread to have its turn. Objects the agent makes are kept out
of the snapshot. The file is written to a temporary name in the same
directory, synced and renamed; on any error the temporary file is removed
and the error raised to the caller of ``snapshot()``.

Redaction (``redact=True``) leaves out the contents of every str and bytes
object wherever they would appear: labels, dict keys used as edge names
(a key is named only when it is a name of the program's code, see
``_code_vocabulary``; other keys become ``<str of N>``), thread names (by
their place instead), the command line's arguments and error details.

Signals. The snapshot is taken in the signal handler, on the main thread,
which is stopped meanwhile, so the heap holds still (see the comment above
``_Installed`` for why that cannot deadlock).
"""

import _thread
import array
import atexit
import gc
import json
import queue as _queue
import os
import signal
import struct
import sys
import threading
import time
import types
import weakref
import zlib
from bisect import bisect_left
from collections import defaultdict, deque
from functools import partial
from itertools import accumulate, chain, compress, islice, repeat
from operator import add, and_, attrgetter, eq, ge, getitem, is_, itemgetter, mul, not_, rshift, setitem

__all__ = ["snapshot", "install", "uninstall", "main"]
__version__ = "1.0"
PRODUCER = "objgraph_agent " + __version__

# --- format constants (docs/format.md) ---------------------------------------

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

# --- tuning ------------------------------------------------------------------

_BATCH = 8192               # objects per batch of the walk (small batches stay in cache)
_ATOM_BATCH = 32768         # objects per record of single-reference str, int, float
_PART = 65536               # edges examined at once for untracked objects
_EDGE_BYTES_LIMIT = 256 << 20  # split a batch whose edges would exceed this
_KEY_NAMES_BASE = 50000     # dict-key-derived names kept: base + tracked/32
_MAX_ERRORS = 20
_META_SLACK = 8192
_THREADED_WRITER = True
_HOLD_WITH_THREADS = True   # with other threads, records are written after the walk
_QUIET_FAST_PATH = True
_NARROW = 1

# --- facts about this interpreter --------------------------------------------

_PY = sys.version_info[:2]
_POINTER_SIZE = struct.calcsize("P")
_LITTLE = sys.byteorder == "little"
_TC = {}
for _tc in "BHILQ":
    _TC.setdefault(array.array(_tc).itemsize, _tc)
_TC4, _TC8 = _TC[4], _TC[8]
del _tc

try:
    import mmap as _mmap
    _MMAP_PAGESIZE = _mmap.PAGESIZE
except Exception:  # pragma: no cover
    _MMAP_PAGESIZE = 0
try:
    import sysconfig as _sysconfig
    _FREE_THREADED = bool(_sysconfig.get_config_var("Py_GIL_DISABLED"))
except Exception:  # pragma: no cover
    _FREE_THREADED = False

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
_G = globals()            # frames running this module's code are the agent's

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

# Categories: how names and labels are made for a type's objects.
(_C_OTHER, _C_LIST, _C_TUPLE, _C_DICT, _C_SET, _C_FSET, _C_INST, _C_BASED, _C_IDENT, _C_FRAME,
 _C_STR, _C_BYTES, _C_INT, _C_FLOAT, _C_CONST) = range(15)
_ALL_CATS = tuple(range(15))
_CONTAINER_BASES = (dict, list, tuple, set, frozenset, deque)
_CONST_TYPES = (bool, type(None), type(Ellipsis), type(NotImplemented), complex)
_CHEAP_KEY_TYPES = (str, int, float, bool, type(None), bytes, complex)
# Tables about types are keyed by id(type): hashing or comparing a type
# object runs its metaclass's __hash__ or __eq__, which may be anything.
_ATOM_CODE = {id(str): 1, id(int): 2, id(float): 3, id(bytes): 4}
_SINGLETON = 5
_SINGLETONS = (None, True, False, Ellipsis, NotImplemented)
# keyed by id: a dict keyed by the types themselves would call a
# metaclass's __hash__
_ATOM_TYPE = {id(str): 1, id(int): 2, id(float): 3, id(bytes): 4}
_ATOM_TYPE.update((id(type(o)), _SINGLETON) for o in _SINGLETONS)
_ATOM_CLASS = {str: 1, int: 2, float: 3, bytes: 4}
_ATOM_CLASS.update((type(o), _SINGLETON) for o in _SINGLETONS)
_SIMPLE_CATS = {id(list): _C_LIST, id(tuple): _C_TUPLE, id(dict): _C_DICT, id(set): _C_SET,
                id(frozenset): _C_FSET, id(str): _C_STR, id(bytes): _C_BYTES, id(int): _C_INT,
                id(float): _C_FLOAT}
for _t in _CONST_TYPES:
    _SIMPLE_CATS[id(_t)] = _C_CONST
_DESC_IDS = frozenset(map(id, _DescTypes))
_GEN_IDS = frozenset(map(id, _GenTypes))
del _t

# Template checks (see _Capture._templates).
_T_ANY, _T_GET, _T_CLS, _T_DICT = range(4)


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


def _copy_str(s):
    """A new str equal to s, so that caches never hold the program's objects."""
    return s.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


def _enc(s, limit=60):
    if type(s) is not str:
        return b""
    return s[:limit].encode("utf-8", "backslashreplace")


def _basename(path):
    if type(path) is not str:
        return "?"
    i = max(path.rfind("/"), path.rfind("\\"))
    return path[i + 1:]


# --- output ------------------------------------------------------------------

_list_ids = _ids_by_copy() or _map_ids


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


# --- roots (taken before the heap is listed) ---------------------------------

def _thread_names():
    names = {}
    try:
        active = dict(threading._active)  # no lock: see the module docstring
    except Exception:
        active = {}
    for ident, t in active.items():
        try:
            n = _OBJ_GETATTRIBUTE(t, "_name")
        except Exception:
            n = None
        names[ident] = (n if type(n) is str else "Thread-%d" % ident, t)
    return names


def _collect_roots(skip_threads, redact=False):
    """Roots as arrays and encoded names, and the stack frames to write.

    Returns [kinds, names, targets, threads, depths, frames, quiet]; names
    are bytes, targets ids, so that nothing here holds the program's objects
    except the frames (which the capture writes itself). quiet: no thread but
    this one and the agent's own has Python code running or waiting to run."""
    kinds = array.array("B")
    names = []
    me = _thread.get_ident()
    targets = array.array("Q")
    threads = array.array("Q")
    depths = array.array("I")
    frames = []
    for name, mod in list(sys.modules.items()):
        kinds.append(_R_MODULE)
        names.append(_enc(name, 200) if type(name) is str else b"?")
        targets.append(_id(mod))
        threads.append(0)
        depths.append(0)
    tnames = _thread_names()
    cur = sys._current_frames()
    main_ident = threading.main_thread().ident
    order = sorted(cur, key=lambda i: (i != main_ident, i))
    for k, ident in enumerate(order):
        if ident in skip_threads:
            continue
        tname, tobj = tnames.get(ident, ("Thread-%d" % ident, None))
        if redact:
            # a thread's name is the program's data: its place instead
            tname = "MainThread" if ident == main_ident else "Thread-%d" % k
        if tobj is not None:
            kinds.append(_R_THREAD)
            names.append(_enc(tname, 200))
            targets.append(_id(tobj))
            threads.append(ident)
            depths.append(0)
        f = cur[ident]
        depth = 0
        while f is not None:
            if _FRAME_GLOBALS(f) is _G:
                f = _FRAME_BACK(f)
                continue
            try:
                code = _FRAME_CODE(f)
                fname = _CODE_QUAL(code)
                where = "%s (%s:%d)" % (fname, _basename(_CODE_FILE(code)), _FRAME_LINE(f) or 0)
            except Exception:
                fname, where = "?", "?"
            kinds.append(_R_FRAME)
            names.append(_enc("%s: %s" % (tname, where), 300))
            targets.append(_id(f))
            threads.append(ident)
            depths.append(depth)
            frames.append(f)
            try:
                loc = _FRAME_LOCALS(f)
                if loc is not _FRAME_GLOBALS(f):
                    for var, val in loc.items():
                        kinds.append(_R_LOCAL)
                        names.append(_enc("%s: %s: %s" % (tname, fname, var), 300))
                        targets.append(_id(val))
                        threads.append(ident)
                        depths.append(depth)
            except Exception:
                pass
            depth += 1
            f = _FRAME_BACK(f)
    quiet = not (set(cur) - {me} - set(skip_threads))
    del cur, tnames, order
    return [kinds, names, targets, threads, depths, frames, quiet]


_CODE_VARNAMES = types.CodeType.__dict__["co_varnames"].__get__
_CODE_CELLVARS = types.CodeType.__dict__["co_cellvars"].__get__
_CODE_FREEVARS = types.CodeType.__dict__["co_freevars"].__get__


def _code_vocabulary(gens, frames):
    """The names the program's code is written with, for redacted snapshots:
    the names, variable names and cell names of every code object that a
    function, a running frame or another code object (co_consts) holds,
    the keys of module and class dicts (global names, attributes, methods).
    A dict key is named in a redacted snapshot only when it is one of these:
    a key that is data (a token, an e-mail address) is not, even when it
    looks like an identifier; a name from the source is no secret. String
    constants are left out: a secret can be a literal in the source."""
    vocab = set()
    codes = []
    seen = set()
    F = types.FunctionType
    for lst in gens:
        metas = set()
        mods = set()
        for t in list(_by_id(list(map(type, lst))).values()):
            if issubclass(t, type):
                metas.add(_id(t))
            elif issubclass(t, types.ModuleType):
                mods.add(_id(t))
        tids = list(map(_id, map(type, lst)))
        for o in compress(lst, map(is_, map(type, lst), repeat(F))):
            codes.append(_FUNC_CODE(o))
        for o in compress(lst, map(metas.__contains__, tids)):
            try:
                vocab.update(k for k in _TDICT(o) if type(k) is str)
            except Exception:
                pass
        for o in compress(lst, map(mods.__contains__, tids)):
            try:
                vocab.update(k for k in _MOD_DICT(o) if type(k) is str)
            except Exception:
                pass
        del tids
    codes.extend(map(_FRAME_CODE, frames))
    CT = types.CodeType
    while codes:
        c = codes.pop()
        if _id(c) in seen or type(c) is not CT:
            continue
        seen.add(_id(c))
        for get in (_CODE_NAMES, _CODE_VARNAMES, _CODE_CELLVARS, _CODE_FREEVARS):
            vocab.update(get(c))
        vocab.add(_CODE_NAME(c))
        codes.extend(compress(_CODE_CONSTS(c), map(is_, map(type, _CODE_CONSTS(c)), repeat(CT))))
    return vocab


def _get_generations():
    """The tracked objects, one list per generation. No other thread can
    move objects between generations meanwhile: collections wait for the
    capture (_gc_guard). Generation 0 holds the lists' own container."""
    if _FREE_THREADED:
        return [gc.get_objects()]
    gens = [None, None, None]
    gens[0] = gc.get_objects(0)
    gens[1] = gc.get_objects(1)
    gens[2] = gc.get_objects(2)
    return gens


# --- the capture -------------------------------------------------------------

class _TInfo:
    """What the capture knows about one type."""
    __slots__ = ("cat", "getters", "cands", "tries", "tmpl", "dict_name", "base", "label", "unsafe",
                 "full", "class_attr_safe")

    def __init__(self, cat):
        self.cat = cat
        self.getters = []      # (encoded name, one(o), many(objs), attribute name or None)
        self.cands = []        # attribute names not yet seen on any instance
        self.tries = 0
        self.tmpl = {}         # len(referents) -> _Template
        self.dict_name = 0
        self.base = None
        self.label = None
        self.unsafe = False
        self.full = None
        self.class_attr_safe = False


class _Template:
    """The layout of one kind of referent list: per position, what is there."""
    __slots__ = ("names", "checks", "ag", "sel", "cls", "dicts", "cols", "agc")

    def __init__(self, names, checks, info):
        self.names = tuple(names)
        self.checks = checks
        gets = [(j, gi) for j, kind, gi in checks if kind == _T_GET]
        self.cls = [j for j, kind, gi in checks if kind == _T_CLS]
        self.dicts = [j for j, kind, gi in checks if kind == _T_DICT]
        self.ag = self.sel = self.agc = None
        self.cols = gets
        attrs = [info.getters[gi][3] for j, gi in gets]
        if gets and all(a is not None for a in attrs) and not info.unsafe:
            self.ag = attrgetter(*attrs)
            self.sel = itemgetter(*[j for j, gi in gets])
            if len(checks) == len(names) and not self.dicts and info.class_attr_safe:
                # every position named by an attribute or the class: one
                # getter returns the whole expected referent list
                full = []
                for j, kind, gi in checks:
                    full.append(info.getters[gi][3] if kind == _T_GET else "__class__")
                self.agc = attrgetter(*full) if len(full) > 1 else None
                if self.agc is not None and info.full is None:
                    info.full = self


class _KeyNames(dict):
    """str dict key -> encoded edge name; fills itself on a miss."""
    __slots__ = ("cap",)

    def __missing__(self, key):
        return self.cap._new_key_name(key)


class _Indexes(dict):
    """n -> the index names of a sequence's n referents."""
    __slots__ = ("rev",)

    def __missing__(self, n):
        r = array.array(_TC4, range(2 * n - 1, 0, -2) if self.rev else range(1, 2 * n, 2))
        if n <= 4096:
            self[n] = r
        return r


class _ItemsLabel(dict):
    __slots__ = ()

    def __missing__(self, n):
        v = b"%d items" % n
        if n < 100000:
            self[n] = v
        return v


_OBJ_SIZEOF = object.__dict__["__sizeof__"]


class _Split(tuple):
    """What a handler returns for its edges when discover() should look for
    new objects in other lists: (the edges, [lists holding the same
    objects, repeats left out where that is cheap])."""
    __slots__ = ()


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


def _by_id(objs):
    """objs (a list) as a dict from id to object: each object once."""
    return dict(zip(_list_ids(objs), objs))


def _names_array(parts):
    """Encoded edge names, from arrays and other iterables of them, as one
    array."""
    out = array.array(_TC4)
    for p in parts:
        if type(p) is array.array and p.typecode == _TC4:
            out.extend(p)
        else:
            out.fromlist(list(p))
    return out


def _int_label(v):
    n = v.bit_length()
    return int.__repr__(v) if n <= 128 else "<int of %d bits>" % n


class _Capture:
    def __init__(self, out, redact, roots, frozen, errors, ntracked, quiet=False):
        self.out = out
        self.quiet = quiet
        self.by_class = _types_hash_safely()
        self.rc1 = -1
        self.acc = {}
        self.redact = redact
        self.vocab = None  # with redact: the identifiers dict keys may be named by (_code_vocabulary)
        self.roots = roots
        self.frozen = frozen
        self.errors = errors
        self.strtab = {b"": 0}
        self.str_pending = []
        self.tindex = {}
        self.type_pending = []
        self.tcat = bytearray()
        self.tgc = bytearray()
        self.tdel = bytearray()
        self.tfl = []
        self.tflg = {}
        self.tsize = []
        self.tsizefn = []
        self.tinfo = []
        self.any_del = False
        self.kcache = _KeyNames()
        self.kcache.cap = self
        self.kcap = _KEY_NAMES_BASE + ntracked // 32
        self.nrepr = 0
        self.idx_list = _Indexes()
        self.idx_list.rev = _LIST_REVERSED
        self.idx_tuple = _Indexes()
        self.idx_tuple.rev = _TUPLE_REVERSED
        self.items = _ItemsLabel()
        self.bytemap = defaultdict(partial(bytearray, _CHUNK_BYTES))
        self.nobjects = 0
        self.nedges = 0
        self.overhead = 0
        self.E = {}
        for name in ("__class__", "__dict__", "__annotations__", "<key>", "f_back", "f_code",
                     "f_globals", "f_builtins", "f_locals"):
            self.E[name] = 2 * self.sid(name.encode())
        self.KEY = self.E["<key>"]
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

    # strings and types

    def sid(self, b):
        s = self.strtab.get(b)
        if s is None:
            s = self.strtab[b] = len(self.strtab)
            self.str_pending.append(b)
        return s

    def error(self, msg):
        if len(self.errors) < _MAX_ERRORS:
            if self.redact:
                # what follows the first colon may quote the program's data
                msg = msg.split(":", 1)[0] + ": (details redacted)"
            self.errors.append(msg[:300])

    def redacted(self, n, what="str"):
        """The edge name that stands for a key redacted away: its type and
        length, never its contents."""
        return 2 * self.sid(("<%s of %d>" % (what, n)).encode())

    def _new_key_name(self, key):
        """Name for a str key not in the cache: the key itself when it is an
        identifier, else its repr cut to 40 characters (not when redacting).
        Cached while the cache is below its cap; repr names, which are
        mostly data, get half of it."""
        kc = self.kcache
        if len(kc) >= self.kcap:
            return 0
        if len(key) <= 60 and key.isidentifier() and (self.vocab is None or key in self.vocab):
            enc = 2 * self.sid(key.encode("utf-8", "backslashreplace"))
        elif self.redact:
            enc = self.redacted(len(key))
        elif self.nrepr >= self.kcap // 2:
            enc = 0
        else:
            self.nrepr += 1
            enc = 2 * self.sid(repr(key[:40])[:40].encode("utf-8", "backslashreplace"))
        kc[_copy_str(key)] = enc
        return enc

    def key_name(self, k):
        """Encoded edge name for the value under dict key k (any type)."""
        t = type(k)
        if t is str:
            v = self.kcache.get(k)
            return v if v is not None else self._new_key_name(k)
        if t is int and 0 <= k < 1 << 31:
            return 2 * k + 1
        if t not in _CHEAP_KEY_TYPES and not (t is tuple and len(k) <= 4 and
                                              all(type(e) in _CHEAP_KEY_TYPES for e in k)):
            return 0
        if self.redact and (t is bytes or t is tuple):
            return self.redacted(len(k), "bytes") if t is bytes else 0
        if self.nrepr >= self.kcap // 2:
            return 0
        try:
            if t is int and k.bit_length() > 128:
                return 0
            if t is bytes:
                r = bytes.__repr__(k[:40])[:40]
            elif t is tuple:
                r = tuple.__repr__(k)[:40]
            else:
                r = repr(k)[:40]
        except Exception:
            return 0
        b = r.encode("utf-8", "backslashreplace")
        if b not in self.strtab:
            self.nrepr += 1
        return 2 * self.sid(b)

    def register_types(self, tids, tl, objs):
        for tid in set(tids) - self.tindex.keys():
            j = tids.index(tid)
            self._register(tl[j], objs[j])

    def flags_for(self, genbits):
        f = self.tflg.get(genbits)
        if f is None:
            f = self.tflg[genbits] = [v | genbits for v in self.tfl]
        return f

    def _register(self, t, sample):
        idx = len(self.tinfo)
        self.tindex[_id(t)] = idx
        try:
            name = _TNAME(t)
        except Exception:
            name = "?"
        try:
            mod = _TMODULE(t)
        except Exception:
            mod = None
        if type(name) is not str:
            name = "?"
        # module and __name__, as objgraph's typestats(shortnames=False)
        # names types (not __qualname__)
        full = "%s.%s" % (mod, name) if type(mod) is str and mod else name
        self.type_pending.append((_id(t), self.sid(_enc(name, 200)), self.sid(_enc(full, 300))))
        try:
            tflags = _TFLAGS(t)
        except Exception:
            tflags = 0
        kind = 0
        if issubclass(t, types.ModuleType):
            kind = _KIND_MODULE
        elif t is types.FrameType:
            kind = _KIND_FRAME
        elif issubclass(t, type):
            kind = _KIND_TYPE
        elif t is types.FunctionType:
            kind = _KIND_FUNCTION
        elif t is types.CodeType:
            kind = _KIND_CODE
        elif t is _CellType:
            kind = _KIND_CELL
        elif issubclass(t, _WeakTypes):
            kind = _KIND_WEAKREF
        fl = kind << 8
        hasdel = False
        try:
            hasdel = _tlookup(t, "__del__") is not _MISS
        except Exception:
            pass
        if hasdel:
            fl |= _F_HASDEL
            self.any_del = True
        info = self._classify(t, kind, tflags)
        # sizes: a constant for fixed-size types that use object.__sizeof__,
        # a C __sizeof__ plus the constant GC header for builtin types,
        # sys.getsizeof object by object for other types whose __sizeof__ is
        # C code, and for a __sizeof__ written in Python, which is the
        # program's code and never runs, the C-level size (_c_sizeof),
        # flagged as an estimate
        size, sizefn = 0, None
        try:
            sf = _tlookup(t, "__sizeof__")
            if type(sf) is not _METHOD_DESC:
                sizefn = _c_sizeof(t, tflags)
                fl |= _F_SIZE_ESTIMATED
            else:
                full_size = _getsizeof(sample)
                if sf is _OBJ_SIZEOF and not _TITEMSIZE(t):
                    size = full_size
                elif sf is _OBJ_SIZEOF or not (tflags & _HEAPTYPE):
                    sizefn = (sf, full_size - sf(sample))
        except Exception:
            sizefn = _c_sizeof(t, tflags)
            fl |= _F_SIZE_ESTIMATED
        self.tcat.append(info.cat)
        self.tgc.append(1 if tflags & _HAVE_GC else 0)
        self.tdel.append(1 if hasdel else 0)
        self.tfl.append(fl)
        for gb, lst in self.tflg.items():
            lst.append(fl | gb)
        self.tsize.append(size)
        self.tsizefn.append(sizefn)
        self.tinfo.append(info)

    def _classify(self, t, kind, tflags):
        simple = _SIMPLE_CATS.get(_id(t))
        if simple is not None:
            return _TInfo(simple)
        if t is types.FrameType:
            info = _TInfo(_C_FRAME)
            info.getters = [(self._ename(n), one, many, None) for n, one, many in _IDENT_GETTERS[t]]
            info.dict_name = self.E["f_locals"]
            return info
        g = _IDENT_GETTERS_BY_ID.get(_id(t))
        if g is None and kind == _KIND_TYPE:
            g = _IDENT_GETTERS[type]
        if g is None and kind == _KIND_MODULE:
            g = _IDENT_GETTERS[types.ModuleType]
        if g is not None:
            info = _TInfo(_C_IDENT)
            info.getters = [(self._ename(n), one, many, None) for n, one, many in g]
            if kind == _KIND_TYPE or t is types.FunctionType:
                info.dict_name = self.E["__dict__"]
            info.label = self._ident_labeler(t, kind)
            return info
        if issubclass(t, _CONTAINER_BASES):
            info = _TInfo(_C_BASED)
            for b in _CONTAINER_BASES:
                if issubclass(t, b):
                    info.base = b
                    break
            self._instance_getters(t, info)
            return info
        if tflags & _HEAPTYPE:
            info = _TInfo(_C_INST)
            self._instance_getters(t, info)
            return info
        return _TInfo(_C_OTHER)

    def _ename(self, name):
        return 2 * self.sid(name.encode("utf-8", "backslashreplace"))

    def _ident_labeler(self, t, kind):
        if t is types.FunctionType:
            return self._label_functions
        if kind == _KIND_TYPE:
            return partial(self._label_map, _TNAME)
        if kind == _KIND_MODULE:
            return partial(self._label_each, self._label_module)
        if t is types.CodeType:
            return partial(self._label_map, _CODE_QUAL)
        if t is types.BuiltinFunctionType:
            return partial(self._label_map, _BUILTIN_NAME)
        if t is types.MethodType:
            return partial(self._label_each, self._label_method)
        if _id(t) in _DESC_IDS:
            return partial(self._label_each, self._label_descriptor)
        if _id(t) in _GEN_IDS:
            return partial(self._label_map, _IDENT_GETTERS[t][2][1])
        return None

    # instance attribute names

    def _instance_getters(self, t, info):
        """Candidate attribute names of t's instances, from its classes' code."""
        try:
            ga = _tlookup(t, "__getattribute__")
            info.unsafe = ga is not _OBJ_GA_SLOT or _tlookup(t, "__getattr__") is not _MISS
            info.class_attr_safe = _tlookup(t, "__class__") is _OBJ_CLASS
            cands = {}
            skip = {"__dict__", "__weakref__", "__class__"}
            for k in _TMRO(t):
                if not (_TFLAGS(k) & _HEAPTYPE):
                    continue
                d = _TDICT(k)
                for name, v in list(d.items()):
                    vt = type(v)
                    if vt is _MEMBER_DESC:
                        cands[name] = None
                        continue
                    if _tlookup(vt, "__get__") is not _MISS:
                        skip.add(name)
                    self._harvest(v, cands, 0)
                for key in ("__annotations__", "__dataclass_fields__"):
                    v = d.get(key)
                    if type(v) is dict:
                        for name in v:
                            if type(name) is str:
                                cands[name] = None
            names = [_copy_str(n) for n in cands if type(n) is str and n not in skip
                     and n.isidentifier() and len(n) <= 64][:512]
        except Exception as e:
            self.error("attribute names of %s: %s" % (_TNAME(t), e))
            names = []
        info.cands = names
        info.tries = 8 if names else 0
        info.dict_name = self.E["__dict__"]

    def _harvest(self, v, out, depth):
        vt = type(v)
        if vt is types.FunctionType:
            v = _FUNC_CODE(v)
            vt = types.CodeType
        elif vt is classmethod or vt is staticmethod:
            f = v.__func__
            if type(f) is types.FunctionType:
                self._harvest(f, out, depth)
            return
        elif vt is property:
            for f in (v.fget, v.fset, v.fdel):
                if type(f) is types.FunctionType:
                    self._harvest(f, out, depth)
            return
        if vt is not types.CodeType or depth > 3:
            return
        for n in _CODE_NAMES(v):
            out[n] = None
        for c in _CODE_CONSTS(v):
            if type(c) is str:
                if len(c) <= 64 and c.isidentifier():
                    out[c] = None
            elif type(c) is types.CodeType:
                self._harvest(c, out, depth + 1)

    def _attr_getter(self, info, name):
        enc = self._ename(name)
        if info.unsafe:
            def one(o, _n=name):
                try:
                    return _OBJ_GETATTRIBUTE(o, _n)
                except Exception:
                    return _MISS

            def many(objs, _one=one):
                return list(map(_one, objs))
        else:
            def one(o, _n=name):
                return _getattr(o, _n, _MISS)

            def many(objs, _n=name):
                return list(map(_getattr, objs, repeat(_n), repeat(_MISS)))
        return (enc, one, many, name)

    def slow_names(self, o, r, info):
        """Names of o's referents r by identity; learns a template."""
        getters = info.getters
        skip_none = info.cat == _C_IDENT or info.cat == _C_FRAME
        m = {}
        for gi, g in enumerate(getters):
            try:
                v = g[1](o)
            except Exception:
                continue
            if v is _MISS or (v is None and skip_none):
                continue
            m.setdefault(_id(v), []).append(gi)
        tried = None
        if info.tries > 0 and info.cands and len(m) < len(r):
            info.tries -= 1
            tried = info.cands
            for ci, name in enumerate(tried):
                try:
                    v = _OBJ_GETATTRIBUTE(o, name) if info.unsafe else _getattr(o, name, _MISS)
                except Exception:
                    continue
                if v is _MISS or (v is None and skip_none):
                    continue
                m.setdefault(_id(v), []).append(-1 - ci)
        C = type(o)
        names = []
        checks = []
        learned = {}
        for j, x in enumerate(r):
            lst = m.get(_id(x))
            if lst:
                gi = lst.pop(0) if len(lst) > 1 else lst[0]
                if gi < 0:
                    name = tried[-1 - gi]
                    gi = learned.get(name)
                    if gi is None:
                        gi = learned[name] = len(getters)
                        getters.append(self._attr_getter(info, name))
                names.append(getters[gi][0])
                checks.append((j, _T_GET, gi))
            elif x is C:
                names.append(self.E["__class__"])
                checks.append((j, _T_CLS, 0))
            elif type(x) is dict and info.dict_name:
                names.append(self._dict_name(o, x, info))
                checks.append((j, _T_DICT, 0))
            else:
                names.append(0)
        if learned:
            info.cands = [n for n in info.cands if n not in learned]
        if info.cat != _C_BASED and info.cat != _C_FRAME:
            old = info.tmpl.get(len(r))
            if (old is None or len(old.checks) < len(checks)) and not (
                    C is types.FunctionType and any(c[1] == _T_DICT for c in checks)):
                info.tmpl[len(r)] = _Template(names, checks, info)
        return names

    def _dict_name(self, o, d, info):
        if type(o) is types.FunctionType:
            try:
                code = _FUNC_CODE(o)
                params = set(code.co_varnames)
                if all(k == "return" or k in params for k in d):
                    return self.E["__annotations__"]
            except Exception:
                pass
        return info.dict_name

    # the walk

    def calibrate(self):
        """The references the agent holds on an object while it counts them:
        a probe held exactly like a batch's objects (one list, one batch
        list), minus the probe's own variable."""
        probe = object()
        big = [probe]
        sl = big[0:1]
        self.overhead = list(map(_getrefcount, sl))[0] - 1
        del big, sl, probe
        if self.quiet:
            # the count discover() sees for an object with one reference
            # held by a list of edges only, as the edge lists hold them
            # (checked against the count with a second list)
            probe = float(len(self.strtab)) + 0.5
            flat = [probe]
            rc1 = list(map(_getrefcount, flat))[0]
            other = flat[0:1]
            rc2 = list(map(_getrefcount, other))[0]
            del flat, other, probe
            if rc2 == rc1 + 1:
                self.rc1 = rc1
            else:
                self.quiet = False

    def mark(self, ids):
        """Test-and-set ids in the byte map; returns bytes, 1 where already set."""
        g = list(map(rshift, ids, repeat(_GRAIN)))
        chunks = list(map(self.bytemap.__getitem__, map(rshift, g, repeat(_CHUNK_SHIFT - _GRAIN))))
        offs = list(map(and_, g, repeat(_CHUNK_MASK)))
        seen = bytes(map(getitem, chunks, offs))
        deque(map(setitem, chunks, offs, repeat(1)), 0)
        return seen

    def run_list(self, lst, genbits, frames=False):
        """Write the objects of lst batch by batch, and the objects each batch
        finds, depth first."""
        stack = [[lst, 0, genbits, frames]]
        B = _BATCH
        while stack:
            top = stack[-1]
            cur, i = top[0], top[1]
            if i >= len(cur):
                stack.pop()
                continue
            top[1] = i + B
            new = self.emit(cur, i, top[2], top[3])
            del cur, top
            if new:
                for part in self._by_type(new):
                    stack.append([part, 0, 0, False])
                del part
            del new

    def _by_type(self, new):
        """new, split into lists of str, int, float, bytes and the rest, so
        that most batches of untracked objects have one type."""
        if len(new) < 64:
            return [new]
        try:
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
        """Write the batch cur[i:i+_BATCH]; return the new objects it refers to.

        Within the batch, objects are grouped by category (one record still),
        so that containers are handled in bulk. While their reference counts
        are taken, the objects are held by cur and by one batch list only."""
        sl = cur[i:i + _BATCH]
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
        if len(acc.ids) >= _ATOM_BATCH:
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
        W = _NARROW
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

    def discover(self, flats):
        """Objects the edges lead to that are not in the snapshot yet, marked
        in the byte map now so that they are written once.

        In a quiet process (no other thread can run Python code during the
        capture, see _collect_roots) an object whose only reference is the
        edge at hand cannot be reached again: it is taken without the byte
        map, which is most of the untracked objects of a heap (str, int and
        float values of containers). str, int, float and bytes objects are
        picked out first, by type: they are never tracked, and those with one
        reference are written at once (_take_atoms).

        Reference counts are compared with rc1 + 1 for an object that the
        edge list flat holds and one more list, rc1 for one in flat only
        (the lists are kept exactly so while counting)."""
        new = []
        frozen = self.frozen
        quiet = self.quiet
        rc1 = self.rc1
        rc2 = rc1 + 1
        ids = _list_ids
        by_class = self.by_class
        for flat in flats:
            L = len(flat)
            for p in range(0, L, _PART):
                part = flat if L <= _PART else flat[p:p + _PART]
                k = len(part)
                rest = part
                if quiet:
                    if by_class:
                        codes = bytes(map(_ATOM_CLASS.get, map(type, part), repeat(0)))
                    else:
                        codes = bytes(map(_ATOM_TYPE.get, map(_id, map(type, part)), repeat(0)))
                    n0 = codes.count(0)
                    if n0 < k:
                        # atoms, and None, True, False, ... (written first)
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
                                self._dedupe(list(compress(O, one.translate(_NOT))), new)
                            else:
                                self._dedupe(O, new)
                        del groups, O
                        if rest is None:
                            continue
                    else:
                        del part
                else:
                    del part
                tr = bytes(map(_is_tracked, rest))
                nt = tr.count(1)
                if nt and frozen:
                    # tracked objects are new only if frozen (gc.freeze()):
                    # the listed ones are in the byte map already
                    self._dedupe(rest if nt == len(tr) else list(compress(rest, tr)), new)
                if nt == len(tr):
                    continue
                cobjs = list(compress(rest, tr.translate(_NOT))) if nt else rest
                del rest, tr
                if quiet:
                    # untracked objects with one reference: taken as they are
                    one = bytes(map((rc1 if cobjs is flat else rc2).__eq__, map(_getrefcount, cobjs)))
                    n1 = one.count(1)
                    if n1:
                        new.extend(compress(cobjs, one))
                        if n1 == len(one):
                            continue
                        cobjs = list(compress(cobjs, one.translate(_NOT)))
                self._dedupe(cobjs, new)
                del cobjs
        return new

    # category handlers: (objects, type ids, category, frames?) ->
    # (sizes, edge counts, referents, edge names, labels or None)

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

    def _h_seq(self, tp, idx_names, O, T, c, frames):
        lens = list(map(_len, O))
        flat = _get_referents(*O)
        if len(flat) != sum(lens):
            R = list(map(_get_referents, O))
            lens = list(map(_len, R))
            flat = list(chain.from_iterable(R))
            del R
        if idx_names is not None:
            nm = array.array(_TC4)
            nm.frombytes(b"".join(map(idx_names.__getitem__, lens)))
        else:
            nm = array.array(_TC4, bytes(4 * len(flat)))
        return self._sizes_by_fn(O, T), lens, flat, nm, list(map(self.items.__getitem__, lens))

    def _h_dict(self, O, T, c, frames):
        """Exact dicts. A dict whose keys are all str reports only its values;
        others report value, key pairs. Values are named by their key, and
        the keys themselves are edges named <key> (added where the collector
        does not report them)."""
        m = len(O)
        lens = list(map(_len, O))
        flat = _get_referents(*O)
        tot = sum(lens)
        KEY = self.KEY
        sizes = self._sizes_by_fn(O, T)
        labels = list(map(self.items.__getitem__, lens))
        counts2 = list(map(mul, lens, repeat(2)))
        if len(flat) == tot:
            if all(map(is_, flat, chain.from_iterable(map(dict.values, O)))):
                keys = list(chain.from_iterable(O))
                vn = self._str_key_names(keys)
                edges = list(chain.from_iterable(zip(flat, keys)))
                # the keys of a batch of dicts are mostly the same few
                # objects: discover() sees each once
                uk = list(_by_id(keys).values())
                del keys
                nm = array.array(_TC4, [KEY]) * len(edges)
                nm[0::2] = array.array(_TC4, vn)
                return sizes, counts2, _Split((edges, [flat, uk])), nm, labels
        elif len(flat) == 2 * tot:
            keys = list(chain.from_iterable(O))
            if all(map(is_, flat[1::2] if _DICT_VALUE_FIRST else flat[0::2], keys)):
                kn = self._key_names(keys, lens)
                nm = zip(kn, repeat(KEY)) if _DICT_VALUE_FIRST else zip(repeat(KEY), kn)
                vals = flat[0::2] if _DICT_VALUE_FIRST else flat[1::2]
                uk = list(_by_id(keys).values())
                del keys
                return sizes, counts2, _Split((flat, [vals, uk])), chain.from_iterable(nm), labels
        del flat
        # both kinds in one batch: dict by dict, still in C where possible
        R = list(map(_get_referents, O))
        lr = list(map(_len, R))
        NM = [None] * m
        vi = list(compress(range(m), map(eq, lr, lens)))
        if vi:
            VO = list(map(O.__getitem__, vi))
            VR = list(map(R.__getitem__, vi))
            ok = bytes(map(all, map(map, repeat(is_), VR, map(dict.values, VO))))
            if ok.count(0):
                vi = list(compress(vi, ok))
                VO = list(compress(VO, ok))
                VR = list(compress(VR, ok))
            keys = list(map(list, VO))
            kl = list(map(_len, keys))
            it = iter(self._str_key_names(list(chain.from_iterable(keys))))
            kn = map(list, map(islice, repeat(it), kl))
            deque(map(R.__setitem__, vi, map(list, map(chain.from_iterable, map(zip, VR, keys)))), 0)
            deque(map(NM.__setitem__, vi, map(list, map(chain.from_iterable, map(zip, kn, repeat(repeat(KEY)))))), 0)
            del VO, VR, keys, kl, it, kn
        pi = [j for j in compress(range(m), map(eq, lr, counts2)) if NM[j] is None]
        for j in pi:
            d = O[j]
            r = R[j]
            keys = list(d)
            if all(map(is_, r[1::2] if _DICT_VALUE_FIRST else r[0::2], keys)):
                kn = self._key_names(keys, [len(keys)])
                NM[j] = list(chain.from_iterable(zip(kn, repeat(KEY)) if _DICT_VALUE_FIRST else zip(repeat(KEY), kn)))
        for j in range(m):
            if NM[j] is None:
                try:
                    NM[j] = self._dict_names(O[j], R[j], KEY)
                except Exception as e:
                    self.error("dict names: %s" % e)
                    NM[j] = bytes(len(R[j]))
        return sizes, list(map(_len, R)), list(chain.from_iterable(R)), chain.from_iterable(NM), labels

    def _str_key_names(self, keys):
        """Encoded names for str dict keys, through the cache (in C for keys
        already seen)."""
        kc = self.kcache
        if len(kc) >= self.kcap:
            return list(map(kc.get, keys, repeat(0)))
        return list(map(kc.__getitem__, keys))

    def _key_names(self, keys, lens):
        """Names for the keys of dicts with lens entries each, keys of all
        the dicts in one list. Keys other than str and int are named by
        their repr only in dicts of up to 256 entries: a big table keyed by
        tuples or floats has its keys as edges anyway, and a repr per key
        costs more than it tells."""
        if all(map(is_, map(type, keys), repeat(str))):
            return self._str_key_names(keys)
        if max(lens) <= 256:
            return list(map(self.key_name, keys))
        out = []
        it = iter(keys)
        for n in lens:
            ks = list(islice(it, n))
            if n <= 256:
                out.extend(map(self.key_name, ks))
            else:
                out.extend(self.key_name(k) if type(k) is str or type(k) is int else 0 for k in ks)
        return out

    def _dict_names(self, d, r, KEY):
        """Names for the referents r of exact dict d, one dict at a time."""
        keys = list(d)
        n = len(keys)
        if len(r) == 2 * n:
            ks = r[1::2] if _DICT_VALUE_FIRST else r[0::2]
            if all(map(is_, ks, keys)):
                kn = self._key_names(keys, [n])
                return list(chain.from_iterable(zip(kn, repeat(KEY)) if _DICT_VALUE_FIRST else zip(repeat(KEY), kn)))
        # values in another order (split tables), or changed meanwhile
        m = {}
        for k, v in zip(keys, dict.values(d)):
            m.setdefault(_id(v), []).append(k)
        kid = set(map(_id, keys))
        out = []
        for x in r:
            lst = m.get(_id(x))
            if lst:
                out.append(self.key_name(lst.pop(0) if len(lst) > 1 else lst[0]))
            elif _id(x) in kid:
                out.append(KEY)
            else:
                out.append(0)
        if len(r) == n:
            # str-keyed dict: its keys are not referents; add them
            r.extend(keys)
            out.extend(repeat(KEY, n))
        return out

    def _h_atom(self, O, T, c, frames):
        m = len(O)
        if c == _C_STR:
            sizes = list(map(str.__sizeof__, O))
            lab = None if self.redact else list(map(str.encode, map(str.__repr__, map(getitem, O, repeat(_SL40)))))
        elif c == _C_BYTES:
            sizes = list(map(bytes.__sizeof__, O))
            lab = None if self.redact else list(map(str.encode, map(bytes.__repr__, map(getitem, O, repeat(_SL40)))))
        elif c == _C_INT:
            sizes = list(map(int.__sizeof__, O))
            if max(map(int.bit_length, O)) <= 128:
                lab = list(map(b"%d".__mod__, O))
            else:
                lab = [(int.__repr__(v) if v.bit_length() <= 128 else "<int of %d bits>" % v.bit_length()).encode()[:40]
                       for v in O]
        elif c == _C_FLOAT:
            sizes = self._sizes_each(O, T)
            lab = list(map(str.encode, map(float.__repr__, O)))
        else:
            sizes = self._sizes_each(O, T)
            lab = []
            for o in O:
                t = type(o)
                try:
                    lab.append((complex.__repr__(o) if t is complex else bool.__repr__(o) if t is bool
                                else "None" if o is None else "Ellipsis" if o is Ellipsis
                                else "NotImplemented").encode())
                except Exception:
                    lab.append(b"")
        return sizes, bytes(m), (), (), lab

    def _h_each(self, O, T, c, frames):
        """Objects whose referents are listed one by one: instances, functions,
        classes, modules, frames, and types the agent knows nothing about."""
        m = len(O)
        sizes = self._sizes_each(O, T)
        labels = None
        if frames:
            R = []
            NM = []
            for f in O:
                vals, nm = self._frame_edges(f)
                R.append(vals)
                NM.append(nm)
            labels = list(map(self._label_frame, O))
        elif c == _C_OTHER:
            gcm = bytes(map(self.tgc.__getitem__, T))
            if gcm.count(0) == 0:
                R = list(map(_get_referents, O))
            else:
                R = [()] * m
                gi = list(compress(range(m), gcm))
                if gi:
                    deque(map(R.__setitem__, gi, map(_get_referents, map(O.__getitem__, gi))), 0)
            NM = None
        elif c == _C_INST:
            return self._h_instances(O, T, sizes)
        else:
            R = list(map(_get_referents, O))
            NM = [None] * m
            if c == _C_FRAME:
                labels = list(map(self._label_frame, O))
                for j in range(m):
                    NM[j] = self._dead_frame_names(O[j], R[j], T[j])
            elif c == _C_BASED:
                labels = [b""] * m
                for j in range(m):
                    info = self.tinfo[T[j]]
                    try:
                        NM[j], k = self._based_names(O[j], R[j], info)
                        labels[j] = self.items[k]
                    except Exception as e:
                        self.error("names of %s: %s" % (_TNAME(type(O[j])), e))
                        NM[j] = bytes(len(R[j]))
            else:
                self._templates(O, R, T, NM)
                if c == _C_IDENT:
                    labels = self._ident_labels(O, T)
        counts = list(map(_len, R))
        flat = list(chain.from_iterable(R))
        del R
        nm = repeat(0, len(flat)) if NM is None else chain.from_iterable(NM)
        return sizes, counts, flat, nm, labels

    def _h_instances(self, O, T, sizes):
        """Instances of Python classes, sorted by class. For a class whose
        template accounts for every referent, the referents of all its
        instances are fetched in one call and checked in one pass against
        the attribute values (and the class) in template order: each value is
        a referent of its own instance, so when the whole sequence matches
        and has the expected length, every instance has exactly that layout."""
        m = len(O)
        counts = []
        flats = []
        NMs = []
        bounds = [bisect_left(T, t) for t in sorted(set(T))] + [m]
        tinfo = self.tinfo
        for a, b in zip(bounds, bounds[1:]):
            Os = O if b - a == m else O[a:b]
            info = tinfo[T[a]]
            tm = info.full
            if tm is not None:
                L = len(tm.names)
                flat = _get_referents(*Os)
                if len(flat) == L * (b - a):
                    try:
                        ok = all(map(is_, flat, chain.from_iterable(map(tm.agc, Os))))
                    except Exception:
                        ok = False
                    if ok:
                        counts.extend(repeat(L, b - a))
                        flats.append(flat)
                        NMs.append(array.array(_TC4, tm.names) * (b - a))
                        continue
                del flat
            R = list(map(_get_referents, Os))
            NM = [None] * (b - a)
            self._templates(Os, R, T[a:b], NM)
            counts.extend(map(_len, R))
            flats.append(list(chain.from_iterable(R)))
            NMs.append(chain.from_iterable(NM))
            del R, NM
        flat = flats[0] if len(flats) == 1 else list(chain.from_iterable(flats))
        return sizes, counts, flat, _names_array(NMs), None

    def _ident_labels(self, O, T):
        tinfo = self.tinfo
        by_label = {}
        for j, t in enumerate(T):
            lab = tinfo[t].label
            if lab is not None:
                g = by_label.get(lab)
                if g is None:
                    by_label[lab] = [j]
                else:
                    g.append(j)
        labels = [b""] * len(O)
        for lab, idx in by_label.items():
            try:
                deque(map(labels.__setitem__, idx, lab(list(map(O.__getitem__, idx)))), 0)
            except Exception as e:
                self.error("labels: %s" % e)
        return labels

    def _frame_edges(self, f):
        E = self.E
        vals = []
        nm = []
        try:
            b = _FRAME_BACK(f)
            if b is not None:
                vals.append(b)
                nm.append(E["f_back"])
            vals.append(_FRAME_CODE(f))
            nm.append(E["f_code"])
            g = _FRAME_GLOBALS(f)
            vals.append(g)
            nm.append(E["f_globals"])
            vals.append(_FRAME_BUILTINS(f))
            nm.append(E["f_builtins"])
            loc = _FRAME_LOCALS(f)
            if loc is not g:
                if type(loc) is dict:
                    vals.append(loc)
                    nm.append(E["f_locals"])
                for k, v in loc.items():
                    vals.append(v)
                    nm.append(2 * self.sid(_enc(k, 200)) if type(k) is str else 0)
        except Exception as e:
            self.error("frame: %s" % e)
        return vals, nm

    def _templates(self, O, R, T, NM):
        """Names for instances and other objects named by identity.

        Objects of one type whose referent lists have one length usually have
        one layout. The first one is named the slow way, by identity, which
        gives a template: per position, the accessor whose value is there, or
        the class, or a dict. The others are checked against the template in
        C, position by position, and get its names when every check holds."""
        lens = list(map(_len, R))
        if T.count(T[0]) == len(T) and lens.count(lens[0]) == len(T):
            groups = {(T[0], lens[0]): list(range(len(T)))}
        else:
            groups = {}
            get = groups.get
            for j, k in enumerate(zip(T, lens)):
                g = get(k)
                if g is None:
                    groups[k] = [j]
                else:
                    g.append(j)
        tinfo = self.tinfo
        for (t, L), gi in groups.items():
            info = tinfo[t]
            tm = info.tmpl.get(L)
            if tm is None:
                j = gi[0]
                self._slow1(O, R, info, NM, j)
                gi = gi[1:]
                tm = info.tmpl.get(L)
            rest = gi
            if tm is not None and gi:
                ok = self._check(list(map(O.__getitem__, gi)), list(map(R.__getitem__, gi)), info, tm)
                if ok is not None:
                    if ok.count(0) == 0:
                        good, rest = gi, ()
                    else:
                        good = list(compress(gi, ok))
                        rest = list(compress(gi, ok.translate(_NOT)))
                    deque(map(NM.__setitem__, good, repeat(tm.names)), 0)
                    if len(tm.checks) < L and info.tries > 0 and good:
                        # positions the template cannot name: look again
                        self._slow1(O, R, info, NM, good[0])
            for j in rest:
                self._slow1(O, R, info, NM, j)

    def _slow1(self, O, R, info, NM, j):
        try:
            NM[j] = self.slow_names(O[j], R[j], info)
        except Exception as e:
            self.error("names of %s: %s" % (_TNAME(type(O[j])), e))
            NM[j] = bytes(len(R[j]))

    def _check(self, O, RR, info, tm):
        """bytes, 1 where the object's referents fit template tm: every
        accessor's value is the object at its position, the class is at its
        positions, a dict at the dict's."""
        m = len(O)
        ok = None
        C = type(O[0])
        k = len(tm.cols)
        if tm.ag is not None:
            try:
                vals = list(map(tm.ag, O))
            except Exception:
                vals = None
            if vals is not None:
                if k == 1:
                    ok = bytes(map(is_, map(tm.sel, RR), vals))
                else:
                    flat = bytes(map(is_, chain.from_iterable(map(tm.sel, RR)), chain.from_iterable(vals)))
                    if flat.count(0) == 0:
                        ok = b"\x01" * m
                    else:
                        ok = bytearray(b"\x01" * m)
                        p = flat.find(0)
                        while p >= 0:
                            ok[p // k] = 0
                            p = flat.find(0, p + 1)
                        ok = bytes(ok)
        if ok is None:
            for j, gi in tm.cols:
                try:
                    vals = info.getters[gi][2](O)
                except Exception:
                    return None
                b = bytes(map(is_, map(itemgetter(j), RR), vals))
                ok = b if ok is None else bytes(map(and_, ok, b))
        for j in tm.cls:
            b = bytes(map(is_, map(itemgetter(j), RR), repeat(C)))
            ok = b if ok is None else bytes(map(and_, ok, b))
        for j in tm.dicts:
            b = bytes(map(is_, map(type, map(itemgetter(j), RR)), repeat(dict)))
            ok = b if ok is None else bytes(map(and_, ok, b))
        if ok is None:
            ok = b"\x01" * m
        return ok

    def _based_names(self, o, r, info):
        """Instances of subclasses of builtin containers: the container's items
        come last; what comes before is named like an instance's."""
        base = info.base
        n = base.__len__(o)
        L = len(r)
        if base is dict:
            KEY = self.KEY
            keys = list(dict.keys(o))
            if L >= 2 * n and n:
                tail = r[L - 2 * n:]
                ks = tail[1::2] if _DICT_VALUE_FIRST else tail[0::2]
                if all(map(is_, ks, keys)):
                    kn = self._key_names(keys, [n])
                    tn = list(chain.from_iterable(zip(kn, repeat(KEY)) if _DICT_VALUE_FIRST else zip(repeat(KEY), kn)))
                    return self.slow_names(o, r[:L - 2 * n], info) + tn, n
            tail = r[L - n:] if n else []
            if all(map(is_, tail, dict.values(o))):
                nm = self.slow_names(o, r[:L - n], info) + self._key_names(keys, [n])
                r.extend(keys)
                nm.extend(repeat(KEY, n))
                return nm, n
            return self.slow_names(o, r, info), n
        if L < n:
            return self.slow_names(o, r, info), n
        if base is list or base is tuple:
            rev = _LIST_REVERSED if base is list else _TUPLE_REVERSED
            tn = list(range(2 * n - 1, 0, -2) if rev else range(1, 2 * n, 2))
        elif base is deque:
            tn = list(range(1, 2 * n, 2))
        else:
            tn = [0] * n
        return self.slow_names(o, r[:L - n], info) + tn, n

    def _dead_frame_names(self, f, r, t):
        info = self.tinfo[t]
        nm = self.slow_names(f, r, info)
        if _PY >= (3, 13):
            try:
                m = {}
                for k, v in _FRAME_LOCALS(f).items():
                    if type(k) is str:
                        m.setdefault(_id(v), k)
                for j, x in enumerate(r):
                    if not nm[j]:
                        k = m.get(_id(x))
                        if k is not None:
                            nm[j] = 2 * self.sid(_enc(k, 200))
            except Exception:
                pass
        return nm

    # labels

    def _label_map(self, getter, objs):
        return map(str.encode, map(getitem, map(getter, objs), repeat(_SL60)),
                   repeat("utf-8"), repeat("backslashreplace"))

    def _label_each(self, fn, objs):
        out = []
        for o in objs:
            try:
                out.append(fn(o))
            except Exception:
                out.append(b"")
        return out

    def _label_functions(self, objs):
        qn = list(map(_FUNC_QUAL, objs))
        out = list(map(str.encode, map(getitem, qn, repeat(_SL60)), repeat("utf-8"), repeat("backslashreplace")))
        for i in compress(range(len(qn)), map(str.endswith, qn, repeat("<lambda>"))):
            try:
                code = _FUNC_CODE(objs[i])
                out[i] = _enc("lambda: %s:%d" % (_basename(_CODE_FILE(code)), _CODE_LINE(code)))
            except Exception:
                pass
        return out

    def _label_module(self, m):
        n = _MOD_DICT(m).get("__name__")
        return _enc(n) if type(n) is str else b""

    def _label_method(self, m):
        f = _METH_FUNC(m)
        return _enc(_FUNC_QUAL(f)) if type(f) is types.FunctionType else b""

    def _label_descriptor(self, d):
        t = type(d)
        oc = _IDENT_GETTERS[t][0][1](d)
        name = _IDENT_GETTERS[t][1][1](d)
        return _enc("%s.%s" % (_TNAME(oc), name)) if type(name) is str and isinstance(oc, type) else b""

    def _label_frame(self, f):
        try:
            code = _FRAME_CODE(f)
            return _enc("%s:%d" % (_basename(_CODE_FILE(code)), _FRAME_LINE(f) or 0))
        except Exception:
            return b""

    # records

    def flush_small(self, force=False):
        out = self.out
        if self.str_pending and (force or len(self.str_pending) >= 4096):
            p = self.str_pending
            self.str_pending = []
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
        if total * 12 <= _EDGE_BYTES_LIMIT or n == 1:
            ranges = [(0, n, 0, total)]
        else:
            ranges = []
            offs = list(accumulate(nedges, initial=0))
            lo = 0
            while lo < n:
                hi = lo + 1
                while hi < n and (offs[hi + 1] - offs[lo]) * 12 <= _EDGE_BYTES_LIMIT:
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
            W = _NARROW
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
                ecols.append(_int_col(2, nm, width=_NARROW and 4))
            out.record(_K_EDGES, ehi - elo, ecols)
        self.nobjects += n
        self.nedges += total

    def write_roots(self):
        kinds, names, targets, threads, depths = self.roots[:5]
        sids = list(map(self.sid, names))
        self.flush_small(force=True)
        self.out.record(_K_ROOTS, len(kinds), [
            _int_col(1, kinds), _int_col(2, sids), (3, 8, False, targets, 0) if _LITTLE else _int_col(3, targets),
            _int_col(4, threads), _int_col(5, depths)])

    def write_end(self):
        self.flush_small(force=True)
        self.out.flush()
        nroots = len(self.roots[0])
        vals = (self.nobjects, self.nedges, len(self.strtab) - 1, len(self.tinfo), nroots, self.out.nrec)
        cols = []
        for i, v in enumerate(vals):
            cols.append((i + 1, 8, False, _U64.pack(v), 0))
        self.out.record(_K_END, 1, cols)


_ONE = [bytes(1 if i == c else 0 for i in range(256)) for c in range(32)]


# --- snapshot ----------------------------------------------------------------

_lock = _thread.allocate_lock()
_owner = array.array("Q", [0])  # the thread taking a snapshot, 0 = none
_agent_idents = set()
# ids of tracked objects left out of every snapshot: those of a loader that
# imported this module for one snapshot (objgraph snapshot PID), the module's
# own included
_exclude = set()

# The walk: while it runs, automatic collections are off (generation 0's
# threshold is 0, which CPython 3.8-3.14 take to mean "never"), and a
# collection that a thread of the program asks for with gc.collect() waits
# for it to end (_gc_guard). The program's own gc.enable() and gc.disable()
# are left alone: the agent never touches the enabled flag, so whatever
# another thread does with it during the capture stands afterwards. The
# agent's own threads (the capturing one and its writer) never wait in the
# guard, so no collection can wait on a thread that waits on it.
# (exempt and the held signals are kept in objects made once: an object a
# capture made before it lists the heap would be in the snapshot)
_exempt = array.array("Q")  # threads the guard never holds up
# The walk's numbers as raw values, not int objects: an int the capture made
# and kept in the agent's state would be a new object in the next snapshot.
_WALK_OWNER, _WALK_THRESHOLD, _WALK_FD = range(3)   # (fd + 1: 0 = none)
_walkn = array.array("Q", [0, 0, 0])
_walk_lock = _thread.allocate_lock()


def _gc_guard(phase, info):
    """gc.callbacks hook, installed only during the walk: a collection that
    another thread of the program starts waits for the walk to end (it would
    untrack objects the walk relies on)."""
    if phase == "start" and _walkn[_WALK_OWNER] and _thread.get_ident() not in _exempt:
        # Never for ever: not while the interpreter shuts down (daemon
        # threads, a capturing one included, stop where they are), and not
        # once the capturing thread is gone.
        lk = _walk_lock
        while not lk.acquire(timeout=0.5):
            owner = _walkn[_WALK_OWNER]
            if not owner or _is_finalizing() or owner not in sys._current_frames():
                return
        lk.release()


_is_finalizing = getattr(sys, "is_finalizing", lambda: False)


def _walk_begin(fd):
    """Stop automatic collections and install the guard; undone by
    _walk_end, or in a forked child by _after_fork."""
    _walk_lock.acquire()
    n = _walkn
    n[_WALK_FD] = fd + 1
    n[_WALK_THRESHOLD] = gc.get_threshold()[0]
    if n[_WALK_THRESHOLD]:
        gc.set_threshold(0)
    me = _thread.get_ident()
    del _exempt[:]
    _exempt.append(me)
    n[_WALK_OWNER] = me
    gc.callbacks.append(_gc_guard)


def _walk_exempt(ident):
    """The agent's writer thread: never held up by the guard."""
    _exempt.append(ident)


def _walk_end():
    """Undo _walk_begin. A threshold the program set meanwhile is the
    program's and stays."""
    n = _walkn
    if not n[_WALK_OWNER]:
        return
    cbs = gc.callbacks
    for i in range(len(cbs) - 1, -1, -1):
        # by identity: `in` and remove() would call the program's callbacks' __eq__
        if cbs[i] is _gc_guard:
            del cbs[i]
    thr = n[_WALK_THRESHOLD]
    if thr and gc.get_threshold()[0] == 0:
        gc.set_threshold(thr)
    n[_WALK_OWNER] = 0
    del _exempt[:]
    n[_WALK_FD] = 0
    _walk_lock.release()


# While the records held during a walk are written, the switch interval is
# short. Each compress() and write() lets go of the GIL, and getting it back
# from a busy thread takes one switch interval (5 ms by default): some 500 of
# them for 400,000 objects. The walk is over, and a short interval costs the
# program's threads nothing but more frequent turns.
_QUICK_SWITCH = 0.0005
_switch = []  # [the program's interval, ours as read back] while it is ours


def _switch_quickly():
    si = sys.getswitchinterval()
    if si > _QUICK_SWITCH and not _switch:
        sys.setswitchinterval(_QUICK_SWITCH)
        _switch[:] = [si, sys.getswitchinterval()]


def _switch_back():
    """The program's switch interval back, unless it set one meanwhile."""
    if _switch:
        si, ours = _switch
        del _switch[:]
        if sys.getswitchinterval() == ours:
            sys.setswitchinterval(si)


def _after_fork():
    """In a child forked while a capture ran on another thread (which the
    child does not have): the program's gc state and callbacks back, the
    parent's file descriptor closed, the agent's locks new and free."""
    global _lock, _walk_lock
    _walk_lock = _thread.allocate_lock()  # the old one's holder is gone
    if _walkn[_WALK_OWNER]:
        fd = _walkn[_WALK_FD] - 1
        _walk_lock.acquire()  # for _walk_end to release
        _walk_end()
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
    _switch_back()
    _lock = _thread.allocate_lock()
    _owner[0] = 0
    a = _installed
    if a is not None:
        a.thread = None  # the periodic thread is the parent's


# The hook holds _after_fork weakly, and its globals are its own: an agent
# loaded for one snapshot and then dropped (objgraph snapshot PID) leaves
# behind only this lambda, its dict and a dead weak reference, never the
# module.
_fork_hook = eval("lambda: (r() or n)()", {"r": weakref.ref(_after_fork), "n": type(None), "__builtins__": {}})
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fork_hook)


def _agent_caused(e):
    """Whether exception e was raised by the agent's own code (a failed
    write, say), not by the program: its signal handlers run on the main
    thread between any two bytecodes of a capture, and what they raise
    (SystemExit, KeyboardInterrupt, TimeoutError, ...) is the program's."""
    if not isinstance(e, Exception):
        return False
    tb = e.__traceback__
    if tb is None:
        return True
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals is _G


def snapshot(path, collect=True, redact=False):
    """Write a heap snapshot of this process to path; return path.

    collect: run gc.collect() first (its result goes in the metadata).
    redact: leave out the contents of str and bytes objects.

    Raises OSError and the like when the file cannot be written; the file
    is then left as it was and no partial file remains."""
    path = os.fspath(path)
    me = _thread.get_ident()
    if _owner[0] == me:
        raise RuntimeError("objgraph_agent: a snapshot is already being taken by this thread")
    # not a with-statement: its bound __exit__ would be an object of ours
    # in the heap while it is listed
    held = _hold_signals()
    try:
        _lock.acquire()
        try:
            _owner[0] = me
            try:
                _capture(path, bool(collect), bool(redact))
            finally:
                _owner[0] = 0
        finally:
            _lock.release()
    finally:
        _release_signals(held)
    return path


# The program's signal handlers during a capture on the main thread. Python
# runs them on the main thread between any two bytecodes, so they would run
# in the middle of the walk: the program's code, which may raise (SystemExit
# from a SIGTERM handler, TimeoutError from SIGALRM), take a lock or change
# the heap. While the capture runs, each Python-level handler but the
# agent's own is replaced by _held, which notes the signal; afterwards the
# handlers are put back and the noted signals raised again, so that each
# handler runs, and what it raises reaches the program, once the agent's
# state is restored. The signals' OS-level disposition never changes.
_held_signals = []    # signals that arrived while held
_held_saved = []      # [signum, handler, signum, handler, ...] of the handlers held
_VALID_SIGNALS = sorted(getattr(signal, "valid_signals", lambda: range(1, getattr(signal, "NSIG", 65)))())


def _held(signum, frame):
    _held_signals.append(signum)


def _hold_signals():
    """Hold the program's handlers, on the main thread; returns whether it
    did (and _release_signals must follow)."""
    if _thread.get_ident() != threading.main_thread().ident or _held_saved:
        return False
    saved = _held_saved
    for s in _VALID_SIGNALS:
        try:
            h = signal.getsignal(s)
            if callable(h) and h is not _on_signal and h is not _held:
                signal.signal(s, _held)
                saved.append(s)
                saved.append(h)
        except (ValueError, OSError, RuntimeError, TypeError):
            pass
    return True


def _release_signals(held):
    if not held:
        return
    saved = _held_saved
    for i in range(0, len(saved), 2):
        try:
            if signal.getsignal(saved[i]) is _held:
                signal.signal(saved[i], saved[i + 1])
        except (ValueError, OSError, RuntimeError, TypeError):
            pass
    del saved[:]
    pending = sorted(set(_held_signals))
    del _held_signals[:]
    for s in pending:
        signal.raise_signal(s) if hasattr(signal, "raise_signal") else os.kill(os.getpid(), s)


def _argv(redact):
    """The command line for the metadata; redacted, the program and the
    length of each argument (which may be a password)."""
    argv = [a for a in getattr(sys, "orig_argv", sys.argv) if type(a) is str]
    if redact:
        argv = argv[:1] + ["<str of %d>" % len(a) for a in argv[1:]]
    return argv


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


def _page_size():
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except Exception:
        return _MMAP_PAGESIZE


def _host_name():
    """The machine's network name, as uname(2) gives it, or "" when there
    is none."""
    try:
        return os.uname().nodename
    except (AttributeError, OSError):
        return ""


def _capture(path, collect, redact):
    t0 = time.perf_counter()
    now = time.time()
    tmp = "%s.tmp-%d" % (path, os.getpid())
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:
        os.unlink(tmp)
        fd = os.open(tmp, flags, 0o600)
    was_enabled = gc.isenabled()
    ok = False
    walking = False
    out = cap = None
    try:
        # Collect first: a collection moves what exists to an older
        # generation, and the objects of the agent's own made below must be
        # in generation 0 when the heap is listed (see own).
        c0, c1, c2 = gc.get_count()  # (ints: a tuple kept here would be tracked, and in the heap)
        collected = gc.collect() if collect else 0
        errors = []
        meta = {
            "producer": PRODUCER,
            "runtime": "CPython" if sys.implementation.name == "cpython" else sys.implementation.name,
            "version": "%d.%d.%d" % sys.version_info[:3],
            "platform": sys.platform,
            "host": _host_name(),
            "pid": os.getpid(),
            "argv": _argv(redact),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + (".%06dZ" % int((now % 1) * 1e6)),
            "pointer_size": _POINTER_SIZE,
            "gc_header_size": sys.getsizeof(()) - ().__sizeof__(),
            "page_size": _page_size(),
            "gc": {"enabled": was_enabled, "thresholds": list(gc.get_threshold()),
                   "counts": [c0, c1, c2], "freeze_count": gc.get_freeze_count()},
            "capture": {"seconds": 0.0, "collected": 0, "redacted": redact, "errors": errors},
        }
        msize = len(_meta_json(meta)) + _META_SLACK
        head = _FILE_HDR.pack(_MAGIC, 1, 0, 0)
        os.write(fd, head)
        _write_meta(fd, meta, msize)

        _walk_begin(fd)
        walking = True
        frozen = gc.get_freeze_count() > 0

        # Everything the agent made so far that the collector tracks is in
        # generation 0 of the lists below; own holds their ids.
        own = set()
        roots = _collect_roots(_agent_idents, redact)
        gens = _get_generations()
        own.update((_id(own), _id(roots), _id(gens), _id(errors), _id(meta), _id(meta["capture"]),
                    _id(meta["gc"]), _id(meta["argv"]), _id(meta["gc"]["thresholds"]),
                    _id(meta["gc"]["counts"])))
        own.update(map(_id, roots))
        g0 = gens[0]
        gens[0] = list(compress(g0, bytes(map(own.__contains__, map(_id, g0))).translate(_NOT)))
        del g0
        if _exclude:
            for i in range(len(gens)):
                gens[i] = list(compress(gens[i], bytes(map(_exclude.__contains__, map(_id, gens[i]))).translate(_NOT)))
        if _FREE_THREADED:
            genbits = [_F_TRACKED]
        else:
            genbits = [_F_TRACKED | (g << 1) for g in range(len(gens))]
        ntracked = sum(map(_len, gens))
        # With other threads in the process, the walk does no I/O: each time
        # it let go of the GIL, it waited for every busy thread to have had
        # its switch interval before it got it back (_Out.hold).
        out = _Out(fd, threaded=_THREADED_WRITER, hold=_HOLD_WITH_THREADS and not roots[6])
        out.nrec = 1
        cap = _Capture(out, redact, roots, frozen, errors, ntracked, quiet=roots[6] and _QUIET_FAST_PATH)
        cap.calibrate()
        if redact:
            cap.vocab = _code_vocabulary(gens, roots[5])
        perm = []
        lst = None
        if frozen:
            if not _FREE_THREADED:
                # frozen objects that no edge leads to, found directly: the
                # tracked tuples of static types not listed by the collector
                st = [o for o in _static_type_tuples() if _is_tracked(o)]
                st = _by_id(st)
                listed = set()
                for lst in gens:
                    listed.update(filter(st.__contains__, map(_id, lst)))
                # (no comprehension here: before 3.12 one naming a local
                # would make a cell of it, an object of the agent's)
                perm = list(compress(st.values(), bytes(map(listed.__contains__, st)).translate(_NOT)))
                del st, listed
            if len(perm) == gc.get_freeze_count():
                # they are all the frozen objects: every other tracked
                # object a walk meets is listed
                cap.frozen = False
            else:
                for lst in gens:
                    for i in range(0, len(lst), _BATCH):
                        cap.mark(list(map(_id, lst[i:i + _BATCH])))
            del lst
            if perm:
                cap.mark(list(map(_id, perm)))
        if cap.quiet:
            # edges to these are passed over by type (see discover)
            single = list(_SINGLETONS)
            cap.mark(list(map(_id, single)))
            cap.run_list(single, 0)
            del single
        frames = [f for f in roots[5] if not _is_tracked(f)]
        roots[5] = None
        cap.mark(list(map(_id, frames)))
        cap.run_list(frames, 0, frames=True)
        del frames
        if perm:
            cap.run_list(perm, _F_TRACKED | _F_PERMANENT)
        del perm
        for i in range(len(gens)):
            cap.run_list(gens[i], genbits[i])
        cap.flush_single()
        cap.write_roots()
        cap.write_end()
        cap.release()
        walking = False
        _walk_end()
        if out.held:
            _switch_quickly()
            try:
                out.write_held()
            finally:
                _switch_back()
        out.close()
        meta["capture"]["seconds"] = round(time.perf_counter() - t0, 6)
        meta["capture"]["collected"] = collected
        os.lseek(fd, len(head), os.SEEK_SET)
        _write_meta(fd, meta, msize)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
        ok = True
        _sync_dir(path)
    finally:
        if walking:
            _walk_end()
        if cap is not None and not ok:
            cap.release()
        if out is not None and not ok:
            if not out.close(wait=False):
                fd = -1  # the writer thread is stuck in write(): leave its descriptor alone
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
        if not ok:
            try:
                os.unlink(tmp)
            except OSError:
                pass


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


def _sync_dir(path):
    try:
        d = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except (OSError, AttributeError):
        return
    try:
        os.fsync(d)
    except OSError:
        pass
    finally:
        os.close(d)


# --- signal, periodic and at-exit snapshots ----------------------------------
#
# The snapshot is taken in the signal handler itself, on the main thread.
# That is safe here because the capture takes no lock that the interrupted
# code could hold: it imports nothing, reads threading._active without
# threading's lock, writes to its own file descriptor, and takes its own
# lock without waiting (a signal that arrives during a capture is dropped,
# with a message). It is also what keeps the snapshot consistent: while the
# handler runs, the program's main thread is stopped, whereas a capture on
# another thread would race with it. Periodic snapshots are requests to the
# main thread by the same signal (pthread_kill); the periodic thread waits for
# the handler to return (_Installed._done) before it counts the next period.
# Without a signal, where there is no pthread_kill, or when the program has
# replaced the handler, the periodic thread takes them itself.


class _Installed:
    def __init__(self, signum, directory, every, redact, collect):
        self.signum = signum
        self.directory = directory
        self.every = every
        self.redact = redact
        self.collect = collect
        self._n = array.array("Q", [0, 0])  # count, handled (raw: see _walkn)
        self.at_exit = False
        self.closed = False  # the program is exiting: no more snapshots but the one at exit
        self.stopped = False          # set by halt()
        self.wake = _thread.allocate_lock()  # released to wake the periodic thread
        self.wake.acquire()
        self.dropped = False          # a dropped request was reported
        self.thread = None

    # snapshots taken, for the file names
    count = property(lambda self: self._n[0], lambda self, v: self._n.__setitem__(0, v))
    # signal handler calls that have returned
    handled = property(lambda self: self._n[1], lambda self, v: self._n.__setitem__(1, v))

    def next_path(self):
        self.count += 1
        return os.path.join(self.directory, "objgraph-%d-%s-%d.ogs" % (
            os.getpid(), time.strftime("%Y%m%d-%H%M%S"), self.count))

    def take(self, wait=True, final=False):
        """Take one snapshot; return its path, or None when it was dropped
        or failed (said on stderr). What the program's signal handlers
        raise is raised once the agent's state is restored (_hold_signals)."""
        held = _hold_signals()
        try:
            return self._take(wait, final)
        finally:
            _release_signals(held)

    def _take(self, wait, final):
        if not _lock.acquire(wait):
            self._drop()
            return None
        path = failed = None
        try:
            if self.closed and not final:
                # at exit: a daemon thread's capture could be stopped half
                # way when the interpreter finalizes
                return None
            if _owner[0]:
                self._drop()
                return None
            else:
                path = self.next_path()
                _owner[0] = _thread.get_ident()
                try:
                    _capture(path, self.collect, self.redact)
                finally:
                    _owner[0] = 0
        except BaseException as e:
            if not _agent_caused(e):
                raise
            # a snapshot that fails never ends the program
            failed = "snapshot failed: %s: %s" % (type(e).__name__, e)
        finally:
            _lock.release()
        if failed is not None:
            _say("objgraph_agent: " + failed)
            return None
        _say("objgraph_agent: wrote %s" % path)
        return path

    def periodic(self):
        """The periodic thread: a snapshot every `every` seconds, counted
        from the end of the previous one, so that snapshots that take longer
        than `every` are never taken back to back."""
        _agent_idents.add(_thread.get_ident())
        main = threading.main_thread()
        try:
            while self._sleep(self.every):
                if (self.signum is None or _pthread_kill is None or not main.is_alive()
                        or signal.getsignal(self.signum) is not _on_signal):
                    self.take()
                    continue
                seen = self.handled
                try:
                    _pthread_kill(main.ident, self.signum)
                except (OSError, ValueError):
                    self.take()
                    continue
                # The main thread takes it in the handler: wait till that is
                # over (or the main thread is gone) before counting again.
                while main.is_alive() and (self.handled == seen or _lock.locked()):
                    if not self._sleep(1.0, seen):
                        return
        finally:
            _agent_idents.discard(_thread.get_ident())

    def _sleep(self, seconds, seen=None):
        """Wait for seconds; with seen, only until a signal handler call
        after the count `seen` has returned and no snapshot is being taken.
        Returns False when uninstall() stopped the thread."""
        end = time.monotonic() + seconds
        while not self.stopped:
            left = end - time.monotonic()
            if left <= 0 or (seen is not None and self.handled != seen and not _lock.locked()):
                return True
            self.wake.acquire(timeout=min(left, _thread.TIMEOUT_MAX))
        return False

    def halt(self):
        """End periodic snapshots (the periodic thread returns when it next
        wakes, which this makes it do now)."""
        self.stopped = True
        try:
            self.wake.release()
        except RuntimeError:
            pass

    def _done(self):
        """Called as the signal handler returns, whatever it did: the
        periodic thread waits for it."""
        self.handled += 1
        try:
            self.wake.release()
        except RuntimeError:  # already released
            pass

    def _drop(self):
        """A request came while a snapshot was being taken: say so once per
        run of such requests."""
        if not self.dropped:
            self.dropped = True
            _say("objgraph_agent: a snapshot is being taken; requests are dropped until it is done")


_installed = None
_prev_handler = {}
_pthread_kill = getattr(signal, "pthread_kill", None)


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


def _on_signal(signum, frame):
    a = _installed
    if a is None:
        return
    try:
        if _lock.locked():
            a._drop()
        else:
            a.dropped = False
            # positional: before 3.11, a call with keywords makes a bound
            # method, an object of the agent's in the heap it lists
            a.take(False)
    finally:
        a._done()


def _on_exit():
    """At exit: periodic snapshots end (one under way is waited for, so
    that the interpreter's finalization does not stop it half way), then the
    snapshot at exit, if asked for."""
    a = _installed
    if a is not None:
        a.closed = True
        a.halt()
        if a.at_exit:
            a.take(True, True)  # (wait, final; positional, see _on_signal)
        elif _lock.acquire(timeout=60):
            _lock.release()


def install(signum=getattr(signal, "SIGUSR2", None), directory=".", every=0, at_exit=False,
            redact=False, collect=True):
    """Take a snapshot into directory on each signal signum (None: no
    signal), every `every` seconds (0: never) and when the program exits
    (at_exit=True). Snapshot files are named
    objgraph-<pid>-<YYYYmmdd-HHMMSS>-<n>.ogs. Call uninstall() to stop.
    With a signal, install() must be called from the main thread (Python's
    rule for signal handlers). Under objgraph run, install() then publishes
    this process for 'objgraph snapshot' (_publish); uninstall() withdraws
    it."""
    global _installed
    uninstall()
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise NotADirectoryError("objgraph_agent: %r is not a directory" % (directory,))
    every = float(every or 0)
    a = _Installed(signum, directory, every, bool(redact), bool(collect))
    if signum is not None:
        _prev_handler[signum] = signal.signal(signum, _on_signal)
    _installed = a
    if every > 0:
        a.thread = threading.Thread(target=a.periodic, name="objgraph-agent", daemon=True)
        a.thread.start()
    a.at_exit = bool(at_exit)
    if at_exit or every > 0:
        atexit.register(_on_exit)
    if signum is not None and _state_dir:
        try:
            _publish(signum, directory)
        except (OSError, ValueError) as e:
            _say("objgraph_agent: 'objgraph snapshot' will not find this process: %s" % (e,))


def uninstall():
    """Undo install(): restore the signal handler, stop periodic snapshots."""
    global _installed
    _unpublish()
    a = _installed
    _installed = None
    for signum, prev in list(_prev_handler.items()):
        try:
            signal.signal(signum, prev if prev is not None else signal.SIG_DFL)
        except (ValueError, OSError, TypeError):
            pass
        del _prev_handler[signum]
    try:
        atexit.unregister(_on_exit)
    except Exception:
        pass
    if a is not None:
        a.halt()


def _parse_signal(name):
    if name is None:
        return getattr(signal, "SIGUSR2", None)
    name = name.strip()
    if name.lower() in ("", "none", "off", "0"):
        return None
    if name.isdigit():
        return int(name)
    if not name.upper().startswith("SIG"):
        name = "SIG" + name
    sig = getattr(signal, name.upper(), None)
    if sig is None:
        raise ValueError("objgraph_agent: unknown signal %r" % name)
    return sig


# --- the run's state: the process 'objgraph snapshot' is to signal ------------

_state_dir = None   # objgraph run's directory for this run (OBJGRAPH_AGENT_STATE)
_published = None   # (path, pid) of the state file this process wrote


def _start_ticks():
    """This process's start time as /proc/self/stat has it (0 elsewhere)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            s = f.read()
        return int(s[s.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def _read_state(path):
    """The pid in the state file at path, or None (no file, a link, not
    ours to read, not JSON)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            return int(json.loads(os.read(fd, 65536).decode())["pid"])
        finally:
            os.close(fd)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _publish(signum, directory):
    """Write agent.json in _state_dir: this process's pid, snapshot
    directory and signal, for 'objgraph snapshot' to signal it. Called once
    the handler is installed. The directory must be this user's and private
    (objgraph run makes it so); the file is made mode 0600 under a temporary
    name, exclusively and without following links, then linked into place.
    The run's first Python process keeps the file while it runs: a later one
    (a subprocess) takes it over only when that process is gone."""
    global _published
    import stat
    st = os.lstat(_state_dir)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise OSError("%s is not a private directory of this user" % (_state_dir,))
    me = os.getpid()
    path = os.path.join(_state_dir, "agent.json")
    tmp = "%s.tmp-%d" % (path, me)
    data = json.dumps({"pid": me, "dir": os.path.abspath(directory), "signal": signal.Signals(signum).name,
                       "signum": int(signum), "start": _start_ticks()}).encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:  # left by this pid before an exec
        os.unlink(tmp)
        fd = os.open(tmp, flags, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    try:
        try:
            os.link(tmp, path)  # fails when there is a file already
        except FileExistsError:
            holder = _read_state(path)
            if holder is not None and holder != me and _alive(holder):
                return False
            os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    _published = (path, me)
    return True


def _unpublish():
    """Remove the state file _publish wrote, if it still names this process
    (not in a child forked from it)."""
    global _published
    p, _published = _published, None
    if p is not None and p[1] == os.getpid() and _read_state(p[0]) == p[1]:
        try:
            os.unlink(p[0])
        except OSError:
            pass


def _autostart_from_env(environ=None):
    """Install according to OBJGRAPH_AGENT_* variables; nothing happens on
    import. OBJGRAPH_AGENT_DIR (required), OBJGRAPH_AGENT_SIGNAL (a name such
    as SIGUSR2, or "none"), OBJGRAPH_AGENT_EVERY (seconds, 0 = off),
    OBJGRAPH_AGENT_AT_EXIT (1 or 0), OBJGRAPH_AGENT_REDACT (1 or 0),
    OBJGRAPH_AGENT_STATE (objgraph run's private directory: install()
    publishes this process there, see _publish). Returns True when it
    installed."""
    global _state_dir
    env = os.environ if environ is None else environ
    directory = env.get("OBJGRAPH_AGENT_DIR")
    if not directory:
        return False
    _state_dir = env.get("OBJGRAPH_AGENT_STATE") or None
    signum = _parse_signal(env.get("OBJGRAPH_AGENT_SIGNAL"))
    every = float(env.get("OBJGRAPH_AGENT_EVERY") or 0)
    at_exit = (env.get("OBJGRAPH_AGENT_AT_EXIT") or "0").strip() not in ("", "0", "false", "no")
    redact = (env.get("OBJGRAPH_AGENT_REDACT") or "0").strip() not in ("", "0", "false", "no")
    install(signum=signum, directory=directory, every=every, at_exit=at_exit, redact=redact)
    return True


_USAGE = """\
usage: python3 objgraph_agent.py run [options] script.py [args...]
       python3 objgraph_agent.py run [options] -m module [args...]

Runs a Python program with the objgraph agent installed, which writes heap
snapshots (.ogs files, read by the objgraph command) of the program:

  on a signal       --signal SIG   (default SIGUSR2; "none" for no signal)
  periodically      --every SECONDS
  when it exits     --at-exit

options:
  --dir DIR         where snapshots go (default: $OBJGRAPH_AGENT_DIR or .)
  --redact          leave the contents of str and bytes out
  -h, --help        this text

Snapshot files are named objgraph-<pid>-<YYYYmmdd-HHMMSS>-<n>.ogs. Options
default to the OBJGRAPH_AGENT_SIGNAL, _EVERY, _AT_EXIT and _REDACT
variables. From Python code: import objgraph_agent, then
objgraph_agent.snapshot(path) or objgraph_agent.install(...).
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(_USAGE)
        return 0 if argv else 2
    if argv[0] != "run":
        sys.stderr.write("objgraph_agent: unknown command %r\n\n%s" % (argv[0], _USAGE))
        return 2
    args = argv[1:]
    env = os.environ
    opts = {"dir": env.get("OBJGRAPH_AGENT_DIR") or ".", "signal": env.get("OBJGRAPH_AGENT_SIGNAL"),
            "every": env.get("OBJGRAPH_AGENT_EVERY") or "0",
            "at_exit": (env.get("OBJGRAPH_AGENT_AT_EXIT") or "0") not in ("", "0"),
            "redact": (env.get("OBJGRAPH_AGENT_REDACT") or "0") not in ("", "0")}
    module = None
    while args and args[0].startswith("-"):
        a = args.pop(0)
        if a in ("-h", "--help"):
            sys.stdout.write(_USAGE)
            return 0
        if a == "-m":
            if not args:
                break
            module = args.pop(0)
            break
        if a == "--":
            break
        key, eq_, val = a.partition("=")
        if key in ("--dir", "--signal", "--every"):
            if not eq_:
                if not args:
                    sys.stderr.write("objgraph_agent: %s needs a value\n" % key)
                    return 2
                val = args.pop(0)
            opts[key[2:]] = val
        elif key == "--at-exit":
            opts["at_exit"] = True
        elif key == "--redact":
            opts["redact"] = True
        else:
            sys.stderr.write("objgraph_agent: unknown option %s\n\n%s" % (a, _USAGE))
            return 2
    if module is None and not args:
        sys.stderr.write("objgraph_agent: run needs a script or -m module\n\n%s" % _USAGE)
        return 2
    try:
        install(signum=_parse_signal(opts["signal"]), directory=opts["dir"], every=float(opts["every"]),
                at_exit=opts["at_exit"], redact=opts["redact"])
    except (ValueError, OSError) as e:
        sys.stderr.write("%s\n" % e)
        return 2
    # Code in the program that imports objgraph_agent gets this module, with
    # its daemon, not a second copy.
    sys.modules.setdefault("objgraph_agent", sys.modules[__name__])
    import runpy
    if module is not None:
        sys.argv = [module] + args
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script = args[0]
        sys.argv = list(args)
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
