"""Weak references: each weak reference object and the object it refers to
while that object lives, written apart from the edges.

``gc.get_referents`` of a weak reference gives its callback only, so the
edges never lead from a weak reference to its referent, and paths and
retained sizes built on them go through strong references alone. What a
weak reference refers to is still worth knowing (an object held only by a
WeakValueDictionary, a WeakSet's members, a ``weakref.finalize``
registry's objects), so the WEAKREFS record (kind 68, which readers that
do not know it skip) lists each weak reference object with its referent's
address.

The referent is read through C code only, never through the program's:

- a ``weakref.ref`` or a subclass of it (``KeyedRef``, ``WeakMethod``, the
  program's own): the C slot of the base type, ``weakref.ref.__call__``,
  which a subclass's ``__call__`` does not replace (``WeakMethod``'s would
  build a bound method); a dead reference gives None and no row;
- a proxy (``weakref.ProxyType``, ``CallableProxyType``): any operation on
  it is forwarded to the referent, whose methods may be the program's, so
  none is used; the C ``__repr__`` of the proxy type, which names the
  referent's address (``<weakproxy at 0x...; to 'Foo' at 0x...>``) and
  calls nothing on it, gives the address. Proxy types cannot be
  subclassed, so that slot is the proxy's own.

The referent is held only for the ``id()`` of it. A referent that the walk
does not reach (an untracked object that nothing holds strongly) is
dropped by the reader, as a dangling edge is.
"""

import array
import weakref
from itertools import compress

from .layout import _ONE, _TC8, _id
from .output import _int_col

_K_WEAKREFS = 68
_W_REF = 1
_W_PROXY = 2
_WEAK_CALL = weakref.ref.__call__
_PROXY_REPR = {_id(weakref.ProxyType): weakref.ProxyType.__repr__,
               _id(weakref.CallableProxyType): weakref.CallableProxyType.__repr__}
_NONE_ID = _id(None)


def _weak_kind(t):
    """_W_REF for weakref.ref and its subclasses, _W_PROXY for the proxy
    types, 0 for any other type."""
    if _id(t) in _PROXY_REPR:
        return _W_PROXY
    try:
        if issubclass(t, weakref.ref):
            return _W_REF
    except Exception:
        pass
    return 0


def _ref_target(r):
    """The address of a weak reference's referent, id(None) when it is
    dead or cannot be read."""
    try:
        return _id(_WEAK_CALL(r))
    except Exception:
        return _NONE_ID


def _proxy_target(o):
    """The address a proxy's C repr names, 0 when it is dead."""
    s = _PROXY_REPR[_id(type(o))](o)
    if type(s) is not str or s.endswith("; dead>"):
        return 0
    head, sep, tail = s.rpartition(" at ")
    if not sep or not tail.endswith(">"):
        return 0
    try:
        a = int(tail[:-1], 16)
    except ValueError:
        return 0
    return 0 if a == _NONE_ID else a


class _WeakRefs:
    """The walk's part that notes weak references (a mixin of _Capture)."""

    def init_weakrefs(self):
        self.tweak = bytearray()  # per type index: _W_REF, _W_PROXY or 0
        self.any_weak = False
        self.weak_from = array.array(_TC8)
        self.weak_to = array.array(_TC8)

    def register_weak_type(self, t):
        k = _weak_kind(t)
        self.tweak.append(k)
        if k:
            self.any_weak = True

    def note_weakrefs(self, objs, ti, addrs):
        """Note the weak references of a batch: objs with their type
        indexes ti and addresses addrs. References are read in bulk, one
        C call each (a proxy's repr is parsed one by one)."""
        tweak = self.tweak
        if not any(map(tweak.__getitem__, set(ti))):
            return
        kinds = bytes(map(tweak.__getitem__, ti))
        n = len(objs)
        wf = self.weak_from
        wt = self.weak_to
        if kinds.count(_W_REF):
            idx = range(n) if kinds.count(_W_REF) == n else list(compress(range(n), kinds.translate(_ONE[_W_REF])))
            refs = list(map(objs.__getitem__, idx))
            try:
                tg = list(map(_id, map(_WEAK_CALL, refs)))
            except Exception:
                tg = list(map(_ref_target, refs))
            del refs
            live = bytes(map(_NONE_ID.__ne__, tg))
            wf.extend(compress(map(addrs.__getitem__, idx), live))
            wt.extend(compress(tg, live))
        if kinds.count(_W_PROXY):
            for j in compress(range(n), kinds.translate(_ONE[_W_PROXY])):
                try:
                    a = _proxy_target(objs[j])
                except Exception:
                    continue
                if a:
                    wf.append(addrs[j])
                    wt.append(a)

    def write_weakrefs(self):
        if not len(self.weak_from):
            return
        self.out.record(_K_WEAKREFS, len(self.weak_from), [
            _int_col(1, self.weak_from), _int_col(2, self.weak_to)])
