"""Thread-local dicts named by the thread that owns them.

A ``threading.local()`` keeps one dict of attributes per thread in a dict
of its own (the one dict among its referents), keyed by a small object
that stands for the thread: a weak reference to a "local dummy" before
3.13, the dummy itself from 3.13. The dummy is held by the thread's state,
which Python code cannot reach: in the thread state's dict (before 3.13,
under a key of the local's) or in its ``threading_local_key`` field
(3.13). Without more, the per-thread dicts are values under keys that have
no name, and a chain through a thread-local reads ``_tls → dict → - →
cache``, with no thread in it.

So the agent reads, with ctypes, the thread states' list (each state's
first two fields are the previous and next state on every version), each
state's thread ident, and where its dummy is; the offsets of those fields
are found once, on a thread-local of the agent's own, in the importing
thread's state, and checked there (exactly one place holds each value).
The capture then names each per-thread dict by its thread, ``thread
"worker-3"`` (by place with redact, as the roots name threads), and the
edge from the local to its dict of dicts ``<threads>``. Where ctypes is
missing, the build is not CPython's, free-threaded or not 64-bit, or a
check fails, the per-thread dicts stay unnamed; nothing else changes.

Reads happen with the GIL held, in the capturing thread, and only at
addresses of live thread states or of the objects they hold.
"""

import _thread
import sys
import weakref

from .layout import _FREE_THREADED, _POINTER_SIZE, _PY, _id

_LOCAL = _thread._local
_REF = weakref.ref
_REF_CALL = weakref.ref.__call__   # the C slot: a subclass's __call__ is never run
_WORDS = 48     # the words of a thread state searched for its fields
_MAX_STATES = 1 << 16


class _ThreadLocals:
    """How to find each thread's local dummy; ok is False where it cannot
    be done safely (see the module's docstring)."""

    def __init__(self):
        self.ok = False
        self.dummy = None   # the type of the dummies
        if sys.implementation.name != "cpython" or _POINTER_SIZE != 8 or _FREE_THREADED:
            return
        if not (3, 8) <= _PY < (3, 14):
            return
        try:
            import ctypes
            self._setup(ctypes)
        except Exception:
            self.ok = False

    def _setup(self, ctypes):
        import gc
        api = ctypes.pythonapi
        get = api.PyThreadState_Get
        get.restype = ctypes.c_void_p
        get.argtypes = ()
        # The array types are made here and kept: ctypes keeps them only
        # weakly, so one made during a capture would be a new class, with
        # new objects that the program's classes refer to.
        arrays = {n: ctypes.c_uint64 * n for n in (1, 2, _WORDS)}
        self.arrays = arrays
        self.words_at = lambda a, n=_WORDS: list(arrays[n].from_address(a))
        self.pyobj = ctypes.py_object.from_address
        self.current = get
        probe = _LOCAL()
        dicts = [r for r in gc.get_referents(probe) if type(r) is dict]
        if len(dicts) != 1 or len(dicts[0]) != 1:
            return
        key = next(iter(dicts[0]))
        if _PY >= (3, 13):
            dummy = key
        elif type(key) is _REF:
            dummy = _REF_CALL(key)
        else:
            return
        ts = get()
        w = self.words_at(ts)
        ident = _thread.get_ident()
        if w.count(ident) != 1 or w[1] == ts or w[0] == ts:
            return
        self.ident_off = w.index(ident)
        if _PY >= (3, 13):
            if w.count(_id(dummy)) != 1:
                return
            self.key_off = w.index(_id(dummy))
            self.dict_off = None
        else:
            # (an address: ctypes takes a py_object result for a new
            # reference, and this one is borrowed)
            gd = api.PyThreadState_GetDict
            gd.restype = ctypes.c_void_p
            gd.argtypes = ()
            da = gd()
            if not da or w.count(da) != 1:
                return
            self.dict_off = w.index(da)
            self.key_off = None
            d = self.pyobj(ts + 8 * self.dict_off).value
            if type(d) is not dict or not any(v is dummy for v in dict.values(d)):
                return
            del d
        if min(self.ident_off, self.key_off or self.dict_off) < 3:
            return
        self.dummy = type(dummy)
        del dummy, key, dicts, probe
        self.ok = ts in self.states()

    def states(self):
        """The addresses of the interpreter's thread states: from the
        current one back to the head of the list, then forward."""
        head = self.current()
        seen = {head}
        while len(seen) < _MAX_STATES:
            prev = self.words_at(head, 1)[0]
            if not prev or prev in seen:
                break
            seen.add(prev)
            head = prev
        out = []
        done = set()
        a = head
        while a and a not in done and len(out) < _MAX_STATES:
            done.add(a)
            out.append(a)
            a = self.words_at(a, 2)[1]
        return out

    def owners(self, labels):
        """{id of a dummy: its thread's label} for the threads in labels
        (ident: label)."""
        out = {}
        dummy = self.dummy
        for ts in self.states():
            w = self.words_at(ts)
            label = labels.get(w[self.ident_off])
            if label is None:
                continue
            if self.key_off is not None:
                if w[self.key_off]:
                    out[w[self.key_off]] = label
            elif w[self.dict_off]:
                d = self.pyobj(ts + 8 * self.dict_off).value
                if type(d) is dict:
                    for v in dict.values(d):
                        if type(v) is dummy:
                            out[_id(v)] = label
        return out


_TL = _ThreadLocals()


def _thread_local_names(cap, labels):
    """Set cap.tl_names, {id of a dummy: encoded edge name of its thread's
    dict}, for the threads in labels (ident: thread name as the roots give
    it); left None when there are none or they cannot be read."""
    if not _TL.ok:
        return
    try:
        owners = _TL.owners(labels)
    except Exception as e:
        cap.error("thread-local dicts: %s" % e)
        return
    if owners:
        cap.tl_names = {k: cap._ename('thread "%s"' % v) for k, v in owners.items()}


def _tl_key_name(tl, k, t):
    """The encoded name of the per-thread dict under key k (of type t) of a
    thread-local's dict of dicts, or 0."""
    if t is _REF:
        r = _REF_CALL(k)
        if r is None:
            return 0
        return tl.get(_id(r), 0)
    if t is _TL.dummy:
        return tl.get(_id(k), 0)
    return 0
