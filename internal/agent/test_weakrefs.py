"""Tests of the WEAKREFS record: every live weak reference with its
referent, read without the program's code, dead ones left out, and none of
them an edge.

Run from the repository root with
    python3 -m unittest discover -s internal/agent -p 'test_*.py'
"""

import os
import struct
import tempfile
import unittest
import weakref
import zlib

from test_agent import decode, objgraph_agent


def weak_rows(path):
    """The WEAKREFS record's rows as {weak reference address: referent
    address}, read from docs/format.md's record layout."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 16
    out = {}
    while pos < len(data):
        kind, rows, ncols, length, crc = struct.unpack_from("<IIIII", data, pos)
        body = data[pos + 20:pos + 20 + length]
        if kind == 68:
            off = 24 * ncols
            cols = {}
            for c in range(ncols):
                cid, width, codec, rawlen, storedlen, res, base = struct.unpack_from("<HBBIIIQ", body, 24 * c)
                raw = body[off:off + storedlen]
                off += storedlen
                if codec == 1:
                    raw = zlib.decompress(raw)
                fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
                cols[cid] = [(v + base) & 0xFFFFFFFFFFFFFFFF for v in struct.unpack("<%d%s" % (rows, fmt), raw)]
            for a, t in zip(cols[1], cols[2]):
                if a in out:
                    raise AssertionError("weak reference %#x twice in WEAKREFS" % a)
                out[a] = t
        if kind == 7:
            break
        pos += 20 + length
    return out


class Target:
    def method(self):
        return 1

    def __call__(self):
        return 2


class Noisy(weakref.ref):
    """A weak reference whose __call__ the capture must never run."""
    calls = 0

    def __call__(self):
        Noisy.calls += 1
        raise RuntimeError("__call__ ran")


class Hostile:
    """A referent whose methods the capture must never run through a proxy."""
    calls = 0

    def __getattr__(self, name):
        Hostile.calls += 1
        raise RuntimeError("__getattr__ ran")

    def __repr__(self):
        Hostile.calls += 1
        raise RuntimeError("__repr__ ran")

    def __call__(self):
        Hostile.calls += 1
        raise RuntimeError("__call__ ran")


class WeakRefsTest(unittest.TestCase):
    def snap(self):
        d = tempfile.mkdtemp()
        p = os.path.join(d, "s.ogs")
        objgraph_agent.snapshot(p)
        self.addCleanup(os.rmdir, d)
        self.addCleanup(os.unlink, p)
        return p

    def test_weak_references_with_referents(self):
        a, b, h = Target(), Target(), Hostile()
        hc = Hostile()
        dead = Target()
        refs = {
            "ref": (weakref.ref(a), a),
            "ref with callback": (weakref.ref(a, lambda r: None), a),
            "subclass overriding __call__": (Noisy(b), b),
            "WeakMethod": (weakref.WeakMethod(a.method), a),
            "proxy": (weakref.proxy(h), h),
            "callable proxy": (weakref.proxy(hc), hc),
        }
        dead_ref = weakref.ref(dead)
        dead_proxy = weakref.proxy(dead)
        del dead
        wvd = weakref.WeakValueDictionary({"b": b})
        Noisy.calls = Hostile.calls = 0
        p = self.snap()
        self.assertEqual(Noisy.calls, 0, "a weak reference subclass's __call__ ran")
        self.assertEqual(Hostile.calls, 0, "a proxy's referent's method ran")
        rows = weak_rows(p)
        for what, (r, target) in refs.items():
            self.assertEqual(rows.get(id(r)), id(target), what)
        keyed = wvd.data["b"]
        self.assertEqual(rows.get(id(keyed)), id(b), "KeyedRef of a WeakValueDictionary")
        self.assertNotIn(id(dead_ref), rows, "a dead weak reference has a row")
        self.assertNotIn(id(dead_proxy), rows, "a dead proxy has a row")
        # no weak reference's referent is among its edges
        snap = decode(p)
        by_addr = snap.index()
        for what, (r, target) in refs.items():
            targets = [t for t, _ in snap.edges[by_addr[id(r)]]]
            self.assertNotIn(id(target), targets, what + ": the referent is an edge")
        # every row names objects of the snapshot, but for untracked referents
        for ref_addr, to in rows.items():
            self.assertIn(ref_addr, by_addr)

    def test_callable_proxy_type(self):
        hc = Hostile()
        px = weakref.proxy(hc)
        self.assertIs(type(px), weakref.CallableProxyType)
        Hostile.calls = 0
        rows = weak_rows(self.snap())
        self.assertEqual(Hostile.calls, 0)
        self.assertEqual(rows.get(id(px)), id(hc))


if __name__ == "__main__":
    unittest.main()
