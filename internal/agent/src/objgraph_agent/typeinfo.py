"""What the capture knows about each type: its category (how its
objects are named and labelled), flags, size function, attribute
accessors and learnt layouts, registered once per type in the TYPES
records."""

import types
from collections import deque
from functools import partial
from itertools import repeat
from operator import attrgetter, itemgetter

from .layout import (
    _BUILTIN_NAME, _CODE_CONSTS, _CODE_NAMES, _CODE_QUAL, _CellType, _DescTypes, _FUNC_CODE, _GenTypes,
    _GETSET_DESC, _HAVE_GC, _HEAPTYPE, _IDENT_GETTERS, _IDENT_GETTERS_BY_ID, _LRU_WRAPPER, _MEMBER_DESC, _MISS, _OBJ_CLASS,
    _OBJ_GA_SLOT, _OBJ_GETATTRIBUTE, _TDICT, _TFLAGS, _TMODULE, _TMRO, _TNAME, _WeakTypes, _getattr,
    _id, _tlookup)
from .names import _copy_str, _enc
from .output import (
    _F_HASDEL, _F_SIZE_ESTIMATED, _KIND_CELL, _KIND_CODE, _KIND_FRAME, _KIND_FUNCTION, _KIND_MODULE,
    _KIND_TYPE, _KIND_WEAKREF)
from .sizes import _type_sizes, _values_size
from .threadlocals import _LOCAL


# Categories: how names and labels are made for a type's objects.
(_C_OTHER, _C_LIST, _C_TUPLE, _C_DICT, _C_SET, _C_FSET, _C_INST, _C_BASED, _C_IDENT, _C_FRAME,
 _C_STR, _C_BYTES, _C_INT, _C_FLOAT, _C_CONST) = range(15)
_ALL_CATS = tuple(range(15))
_CONTAINER_BASES = (dict, list, tuple, set, frozenset, deque)
_CONST_TYPES = (bool, type(None), type(Ellipsis), type(NotImplemented), complex)
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
for _ct in _CONST_TYPES:
    _SIMPLE_CATS[id(_ct)] = _C_CONST
_DESC_IDS = frozenset(map(id, _DescTypes))
_GEN_IDS = frozenset(map(id, _GenTypes))
del _ct

# Template checks (see _Capture._templates).
_T_ANY, _T_GET, _T_CLS, _T_DICT = range(4)
_GETSET_OWNER = _GETSET_DESC.__dict__["__objclass__"].__get__


def _runs_code(t, name):
    """Whether getattr(o, name) on an instance o of t could run a
    descriptor's getter that is not the interpreter's own: t's MRO has a
    descriptor of that name other than a slot's member descriptor or a
    getset of a builtin type (BaseException.args). An extension's getset
    can call back into Python: torch's tensor getters dispatch to a
    subclass's __torch_function__ or warn, numpy's ndarray.ctypes imports
    and calls numpy's Python code."""
    v = _tlookup(t, name)
    if v is _MISS:
        return False
    vt = type(v)
    if vt is _MEMBER_DESC:
        return False
    if vt is _GETSET_DESC and _TMODULE(_GETSET_OWNER(v)) == "builtins":
        return False
    return _tlookup(vt, "__get__") is not _MISS


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
    __slots__ = ("names", "checks", "ag", "sel", "cls", "dicts", "cols", "agc", "nones", "skip_none")

    def __init__(self, names, checks, info, nones=(), skip_none=False):
        self.names = tuple(names)
        self.checks = checks
        self.nones = nones  # positions that must hold None
        self.skip_none = skip_none  # accessors' positions must not
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


class _TypeTable:
    """The capture's type table: tindex (id(type) -> index), per-type
    categories, gc and __del__ bits, flags, sizes and _TInfo."""

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
        size, sizefn, estimated = _type_sizes(t, tflags, sample)
        vbytes, vest = _values_size(t, tflags)
        estimated = estimated or vest
        if vbytes:
            self.any_vals = True
        if estimated:
            fl |= _F_SIZE_ESTIMATED
        self.tcat.append(info.cat)
        self.tgc.append(1 if tflags & _HAVE_GC else 0)
        self.tdel.append(1 if hasdel else 0)
        self.tfl.append(fl)
        for gb, lst in self.tflg.items():
            lst.append(fl | gb)
        self.tsize.append(size)
        self.tsizefn.append(sizefn)
        self.tvals.append(vbytes)
        self.tinfo.append(info)
        self.register_buffer_type(t)
        self.register_weak_type(t)

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
        if tflags & _HEAPTYPE or t is _LRU_WRAPPER or t is _LOCAL:
            info = _TInfo(_C_INST)
            self._instance_getters(t, info)
            if issubclass(t, _LOCAL):
                # a thread-local's one dict holds its dict per thread
                info.dict_name = self._ename("<threads>")
            return info
        return _TInfo(_C_OTHER)

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
                     and n.isidentifier() and len(n) <= 64 and not _runs_code(t, n)][:512]
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
