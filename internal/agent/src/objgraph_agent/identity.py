"""Edge names by identity: the referents of instances, functions,
classes, modules, frames and subclasses of builtin containers are
matched against values read through attribute accessors, once per
layout, and the layout (a template) is then checked in bulk.

Instance attributes are named even on 3.11+, where they live inline with
no ``__dict__`` object: the agent matches the referents by identity
against attribute values it reads with plain attribute lookup, for
attribute names it learns from the class's code; it never touches
``__dict__``, which would materialise a dict in every instance.
Functions, classes, modules, cells, methods, frames and generators get
their attribute names the same way, through type-level descriptors,
never through an object's own ``__getattr__``. Type objects are never
hashed or compared when a metaclass may define ``__hash__`` or
``__eq__``: tables about types are keyed by ``id``. Only when no
subclass of ``type`` alive in the process (``type.__subclasses__``,
recursively, checked at each capture) overrides either does the agent
look the edges' classes up in a dict keyed by class, which saves an int
per edge.
"""

import types
from collections import deque
from itertools import chain, compress, repeat
from operator import and_, is_, itemgetter

from .layout import (
    _DICT_VALUE_FIRST, _FRAME_BACK, _FRAME_BUILTINS, _FRAME_CODE, _FRAME_GLOBALS, _FRAME_LOCALS,
    _FUNC_CODE, _LIST_REVERSED, _LRU_WRAPPER, _MISS, _NOT, _OBJ_GETATTRIBUTE, _PY, _TNAME, _TUPLE_REVERSED, _getattr,
    _id, _len)
from .names import _enc
from .typeinfo import _C_BASED, _C_FRAME, _C_IDENT, _T_CLS, _T_DICT, _T_GET, _Template


class _ByIdentity:
    """Names of referents by identity, with templates per (type, number
    of referents) kept in _TInfo.tmpl."""

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
            if not (C is types.FunctionType and any(c[1] == _T_DICT for c in checks)):
                # With skip_none, a None is never named (one accessor's None
                # is not told from another's): a template then names only
                # objects whose referents are None where its own were and
                # nowhere else (a function with a docstring and one without
                # have a template each: the second, under ~len, is tried
                # when the first does not fit).
                nones = [j for j, x in enumerate(r) if x is None and not names[j]] if skip_none else ()
                if old is None or len(old.checks) < len(checks):
                    info.tmpl[len(r)] = _Template(names, checks, info, nones, skip_none)
                elif ~len(r) not in info.tmpl and len(old.nones) != len(nones):
                    info.tmpl[~len(r)] = _Template(names, checks, info, nones, skip_none)
        return names

    def _dict_name(self, o, d, info):
        if type(o) is _LRU_WRAPPER and dict.get(d, "__wrapped__", _MISS) is _MISS:
            return self.E["cache"]
        if type(o) is types.FunctionType:
            try:
                code = _FUNC_CODE(o)
                params = set(code.co_varnames)
                if all(k == "return" or k in params for k in d):
                    return self.E["__annotations__"]
            except Exception:
                pass
        return info.dict_name

    def _frame_edges(self, f, via_cells=None):
        """The edges of frame f (values, encoded names). Where f_locals is
        not a dict (3.13+, a proxy that holds nothing) the value of a cell
        or free variable is held by its cell, not by the frame: such
        values' places in the lists are appended to via_cells, so that
        they are found through the cell and written once."""
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
                cells = ()
                if type(loc) is dict:
                    vals.append(loc)
                    nm.append(E["f_locals"])
                elif via_cells is not None:
                    co = _FRAME_CODE(f)
                    cells = set(co.co_cellvars) | set(co.co_freevars)
                for k, v in loc.items():
                    if k in cells:
                        via_cells.append(len(vals))
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
            if rest and tm is not None:
                tm2 = info.tmpl.get(~L)
                if tm2 is not None:
                    ok = self._check(list(map(O.__getitem__, rest)), list(map(R.__getitem__, rest)), info, tm2)
                    if ok is not None and ok.count(1):
                        deque(map(NM.__setitem__, compress(rest, ok), repeat(tm2.names)), 0)
                        rest = list(compress(rest, ok.translate(_NOT)))
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
        if tm.skip_none and k:
            # a None where the template names an accessor's value: another
            # template, or the slow path, leaves it unnamed
            sel = itemgetter(*[j for j, gi in tm.cols])
            nn = bytes(map(is_, chain.from_iterable(map(sel, RR)) if k > 1 else map(sel, RR), repeat(None)))
            if nn.count(1):
                b = bytearray(b"\x01" * m)
                p = nn.find(1)
                while p >= 0:
                    b[p // k] = 0
                    p = nn.find(1, p + 1)
                ok = bytes(b) if ok is None else bytes(map(and_, ok, b))
        for j in tm.cls:
            b = bytes(map(is_, map(itemgetter(j), RR), repeat(C)))
            ok = b if ok is None else bytes(map(and_, ok, b))
        for j in tm.dicts:
            b = bytes(map(is_, map(type, map(itemgetter(j), RR)), repeat(dict)))
            ok = b if ok is None else bytes(map(and_, ok, b))
        for j in tm.nones:
            b = bytes(map(is_, map(itemgetter(j), RR), repeat(None)))
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
