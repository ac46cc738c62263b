"""The category handlers: for a block of objects of one category, their
sizes, edge counts, referents, edge names and labels."""

import array
from bisect import bisect_left
from collections import deque
from itertools import chain, compress, islice, repeat
from operator import eq, getitem, is_, mul

from .layout import (
    _DICT_VALUE_FIRST, _FREELIST_REFERENTS, _MOD_DICT, _SL40, _TC4, _TNAME, _by_id, _get_referents, _len)
from .names import _names_array
from .output import _KIND_MODULE
from .untracked import _CODE_TID, _code_referents
from .sizes import _with_hidden_dicts
from .typeinfo import _C_BASED, _C_BYTES, _C_FLOAT, _C_FRAME, _C_IDENT, _C_INST, _C_INT, _C_OTHER, _C_STR


class _Split(tuple):
    """What a handler returns for its edges when discover() should look for
    new objects in other lists: (the edges, [lists holding the same
    objects, repeats left out where that is cheap])."""
    __slots__ = ()


class _Handlers:
    """Category handlers: (objects, type ids, category, frames?) ->
    (sizes, edge counts, referents, edge names, labels or None)."""

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
        sizes = self._dict_sizes(O, T)
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
            held = []
            base = 0
            for f in O:
                via = []
                vals, nm = self._frame_edges(f, via)
                R.append(vals)
                NM.append(nm)
                held.extend(base + k for k in via)
                base += len(vals)
            labels = list(map(self._label_frame, O))
            if held:
                # cell contents: found through their cells (_frame_edges)
                counts = list(map(_len, R))
                flat = list(chain.from_iterable(R))
                del R
                keep = bytearray(b"\x01") * len(flat)
                for k in held:
                    keep[k] = 0
                return (sizes, counts, _Split((flat, [list(compress(flat, keep))])),
                        chain.from_iterable(NM), labels)
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
            if c == _C_IDENT and _FREELIST_REFERENTS and _KIND_MODULE in set(
                    (self.tfl[t] >> 8) & 15 for t in set(T)):
                R = list(map(self._module_referents, O, T))
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
                ct = self.tindex.get(_CODE_TID) if c == _C_IDENT else None
                if ct is not None and ct in T:
                    self._code_edges(O, R, T, NM, ct)
                else:
                    self._templates(O, R, T, NM)
                if c == _C_IDENT:
                    labels = self._ident_labels(O, T)
        counts = list(map(_len, R))
        flat = list(chain.from_iterable(R))
        del R
        nm = repeat(0, len(flat)) if NM is None else chain.from_iterable(NM)
        return sizes, counts, flat, nm, labels

    def _module_referents(self, o, t):
        """o's referents; for an _asyncio module where gc.get_referents
        would hand out its freed FutureIter objects (_FREELIST_REFERENTS),
        its __dict__ alone: what only the module's C state holds gets no
        edge from it."""
        if (self.tfl[t] >> 8) & 15 == _KIND_MODULE:
            try:
                d = _MOD_DICT(o)
                # the key "__name__" set by the import system is the
                # interned string, found by identity: no key's __eq__ runs
                name = dict.get(d, "__name__") if type(d) is dict else None
            except Exception:
                d = name = None
            if type(name) is str and name == "_asyncio":
                return [d]
        return _get_referents(o)

    def _code_edges(self, O, R, T, NM, ct):
        """The edges of the code objects among O (type index ct), which the
        collector reports nothing for (untracked._code_referents); the
        others named by _templates."""
        ci = [j for j in range(len(T)) if T[j] == ct]
        ename = self._ename
        for j in ci:
            try:
                vals, names = _code_referents(O[j])
                R[j] = vals
                NM[j] = list(map(ename, names))
            except Exception as e:
                self.error("code object referents: %s" % e)
                R[j] = ()
                NM[j] = ()
        if len(ci) < len(T):
            rest = [j for j in range(len(T)) if T[j] != ct]
            RO = list(map(O.__getitem__, rest))
            RR = list(map(R.__getitem__, rest))
            RN = [None] * len(rest)
            self._templates(RO, RR, list(map(T.__getitem__, rest)), RN)
            for k, j in enumerate(rest):
                NM[j] = RN[k]

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
        nm = _names_array(NMs)
        if self.any_vals:
            counts, flat, nm = _with_hidden_dicts(O, T, self.tvals, counts, flat, nm, self.E["__dict__"])
        return sizes, counts, flat, nm, None

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
