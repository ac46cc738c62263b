"""Names and labels: the string table, the names of dict values (by key)
and of sequence items (by index), the labels of objects, and the
vocabulary of names a redacted snapshot may show.

Labels. Modules get their name, functions their qualified name (lambdas
``lambda: file:line``), classes their name, containers ``N items``, frames
``file:line``, str and bytes the first 40 characters of their repr, int
and float their repr. Most ints and floats are written as 8-byte values
(OBJECTS columns 9 and 10) and the reader formats them: Python would spend
more on a float's repr than on the rest of its record. With ``redact=True``
str and bytes get no label. No user ``__repr__`` is ever called: it is arbitrary code, may raise,
be slow or change state. Other objects get no label.

Edge names. List and tuple elements are named by index; dict values by
their key, in dicts of any size: an identifier key as itself, e.g.
``cache``; an int key from 0 to 2**31-1 as an index ``[k]``; other keys
that are str, int, float, bool, None, bytes, complex or tuples of those by
their repr, cut to 40 characters; with ``redact=True`` str, bytes and
tuple keys by their type and length, see Redaction. Each distinct name is
one entry of the string table, written once; memory is bounded by the
length cap, not by leaving keys unnamed: the cache from str keys to names
holds at most ``key_names_base + tracked/32`` keys, and keys past it are
named through the string table. Dicts whose keys are all str do not report their keys to the
collector, yet they hold them: the agent adds those edges, named
``<key>`` like the key edges of other dicts.

Redaction (``redact=True``) leaves out the contents of every str and bytes
object wherever they would appear: labels, dict keys used as edge names
(a key is named only when it is a name of the program's code, see
``_code_vocabulary``; other keys become ``<str of N>``), thread names (by
their place instead), the command line's arguments and error details.
"""

import array
import types
from collections import deque
from itertools import chain, compress, count, repeat
from operator import and_, getitem, is_, le, mul, not_

from .layout import (
    _CODE_CONSTS, _CODE_FILE, _CODE_LINE, _CODE_NAME, _CODE_NAMES, _DICT_VALUE_FIRST, _FRAME_CODE,
    _FRAME_LINE, _FUNC_CODE, _FUNC_QUAL, _IDENT_GETTERS, _METH_FUNC, _MOD_DICT, _SL40, _SL60, _TC4, _TDICT,
    _TNAME, _by_id, _id)
from .threadlocals import _tl_key_name


# by id: comparing a key's type with == could call its metaclass's __eq__
_CHEAP_KEY_TYPES = frozenset(map(id, (str, int, float, bool, type(None), bytes, complex)))


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


def _tuple_label(k):
    """The repr of a tuple key of builtin scalars, from its first 8 items at
    most (the name is cut to 40 characters anyway); ints beyond 128 bits by
    their size, as labels show them."""
    parts = []
    for e in k[:8]:
        t = type(e)
        if t is int:
            parts.append(_int_label(e))
        elif t is str:
            parts.append(repr(e[:40]))
        elif t is bytes:
            parts.append(bytes.__repr__(e[:40]))
        else:
            parts.append(repr(e))
    if len(k) == 1:
        return "(%s,)" % parts[0]
    return "(%s%s)" % (", ".join(parts), ", ..." if len(k) > 8 else "")


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
    # (a fork capture passes the frames' code objects: see forked.py)
    codes.extend(f if type(f) is types.CodeType else _FRAME_CODE(f) for f in frames)
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


class _Naming:
    """The string table and edge names: a capture's strtab and pending
    strings, its dict-key name cache (kcache, at most kcap keys) and, with redact, the vocabulary of names keys may show."""

    tl_names = None   # the names of thread-local dicts by their key (threadlocals)

    def sid(self, b):
        s = self.strtab.get(b)
        if s is None:
            s = self.strtab[b] = len(self.strtab)
            self.str_pending.append(b)
        return s

    def _ename(self, name):
        return 2 * self.sid(name.encode("utf-8", "backslashreplace"))

    def redacted(self, n, what="str"):
        """The edge name that stands for a key redacted away: its type and
        length, never its contents."""
        return 2 * self.sid(("<%s of %d>" % (what, n)).encode())

    def _new_key_name(self, key):
        """Name for a str key not in the cache: the key itself when it is an
        identifier of up to 60 characters, else its repr cut to 40
        characters (with redact, its type and length). Every key is named;
        the cache keeps the names of at most kcap keys (a copy of each), so
        that keys seen again are named in C, and past that a key is named
        through the string table alone, which holds each name once."""
        if len(key) <= 60 and key.isidentifier() and (self.vocab is None or key in self.vocab):
            enc = 2 * self.sid(key.encode("utf-8", "backslashreplace"))
        elif self.redact:
            enc = self.redacted(len(key))
        else:
            enc = 2 * self.sid(repr(key[:40])[:40].encode("utf-8", "backslashreplace"))
        kc = self.kcache
        if len(kc) < self.kcap:
            kc[_copy_str(key)] = enc
        return enc

    def key_name(self, k):
        """Encoded edge name for the value under dict key k (any type): str,
        int, float, bool, None, bytes, complex and tuples of those are named
        (long ones by a repr cut to 40 characters), other keys are not."""
        t = type(k)
        if t is str:
            v = self.kcache.get(k)
            return v if v is not None else self._new_key_name(k)
        if t is int and 0 <= k < 1 << 31:
            return 2 * k + 1
        if t is tuple:
            if not all(_id(type(e)) in _CHEAP_KEY_TYPES for e in k):
                return 0
        elif _id(t) not in _CHEAP_KEY_TYPES:
            tl = self.tl_names
            return _tl_key_name(tl, k, t) if tl else 0
        if self.redact and (t is bytes or t is tuple):
            return self.redacted(len(k), "bytes" if t is bytes else "tuple")
        try:
            if t is int:
                r = _int_label(k)
            elif t is bytes:
                r = bytes.__repr__(k[:40])
            elif t is tuple:
                r = _tuple_label(k)
            else:
                r = repr(k)
        except Exception:
            r = "<%s>" % t.__name__
        return 2 * self.sid(r[:40].encode("utf-8", "backslashreplace"))

    def sids(self, bs):
        """String ids of the byte strings bs, new ones numbered in one go,
        each once."""
        st = self.strtab
        got = list(map(st.get, bs))
        if None in got:
            mi = list(compress(range(len(got)), map(is_, got, repeat(None))))
            new = list(map(bs.__getitem__, mi))
            uniq = dict.fromkeys(new)
            n0 = len(st)
            st.update(zip(uniq, count(n0)))
            if len(uniq) == len(new):
                deque(map(got.__setitem__, mi, count(n0)), 0)
            else:
                deque(map(got.__setitem__, mi, map(st.__getitem__, new)), 0)
            self.str_pending.extend(uniq)
        return got

    def _str_key_names(self, keys):
        """Encoded names for str dict keys, through the cache (in C for keys
        already seen); the keys it misses are named together."""
        out = list(map(self.kcache.get, keys))
        if None not in out:
            return out
        miss = list(compress(range(len(out)), map(is_, out, repeat(None))))
        mk = list(map(keys.__getitem__, miss))
        deque(map(out.__setitem__, miss, self._new_str_key_names(mk)), 0)
        return out

    def _new_str_key_names(self, mk):
        """Encoded names for str keys the cache does not hold, as
        _new_key_name names them, then cached while there is room."""
        n = len(mk)
        ident = list(map(and_, map(str.isidentifier, mk), map(le, map(len, mk), repeat(60))))
        if self.vocab is not None:
            ident = list(map(and_, ident, map(self.vocab.__contains__, mk)))
        bs = [b""] * n
        ii = list(compress(range(n), ident))
        deque(map(bs.__setitem__, ii, map(str.encode, map(mk.__getitem__, ii), repeat("utf-8"),
                                          repeat("backslashreplace"))), 0)
        oi = list(compress(range(n), map(not_, ident)))
        if self.redact:
            other = [("<str of %d>" % len(mk[i])).encode() for i in oi]
        else:
            other = map(str.encode, map(getitem, map(repr, map(getitem, map(mk.__getitem__, oi), repeat(_SL40))),
                                        repeat(_SL40)), repeat("utf-8"), repeat("backslashreplace"))
        deque(map(bs.__setitem__, oi, other), 0)
        encs = list(map(mul, self.sids(bs), repeat(2)))
        kc = self.kcache
        room = self.kcap - len(kc)
        if room > 0:
            kc.update(zip(map(_copy_str, mk[:room]), encs[:room]))
        return encs

    def _key_names(self, keys, lens):
        """Names for the keys of dicts with lens entries each, keys of all
        the dicts in one list."""
        if all(map(is_, map(type, keys), repeat(str))):
            return self._str_key_names(keys)
        return list(map(self.key_name, keys))

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


class _Labels:
    """Labels of functions, classes, modules, code, methods, descriptors
    and frames, each read through type-level accessors."""

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
