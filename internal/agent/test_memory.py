"""Tests of the process memory in the metadata and of the BUFFERS record.

Run from the repository root with
    python3 -m unittest discover -s internal/agent -p 'test_*.py'
"""

import array
import mmap
import os
import json
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

from test_agent import AGENT_DIR, decode, objgraph_agent


def buffer_rows(path):
    """The BUFFERS record's rows as {address: (owned, in_size)}, read from
    docs/format.md's record layout."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 16
    out = {}
    while pos < len(data):
        kind, rows, ncols, length, crc = struct.unpack_from("<IIIII", data, pos)
        body = data[pos + 20:pos + 20 + length]
        if kind == 64:
            off = 24 * ncols
            cols = {}
            for c in range(ncols):
                cid, width, codec, rawlen, storedlen, res, base = struct.unpack_from("<HBBIIIQ", body, 24 * c)
                raw = body[off:off + storedlen]
                off += storedlen
                if codec == 1:
                    raw = zlib.decompress(raw)
                fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
                cols[cid] = [v + base for v in struct.unpack("<%d%s" % (rows, fmt), raw)]
            for a, o, s in zip(cols[1], cols.get(2, [0] * rows), cols.get(3, [0] * rows)):
                if a in out:
                    raise AssertionError("address %#x twice in BUFFERS" % a)
                out[a] = (o, s)
        if kind == 7:
            break
        pos += 20 + length
    return out


class Hostile(bytearray):
    """A bytearray whose Python-level methods must never run in a capture."""
    calls = 0

    def __sizeof__(self):
        Hostile.calls += 1
        raise RuntimeError("__sizeof__ ran")

    def __len__(self):
        Hostile.calls += 1
        raise RuntimeError("__len__ ran")


class TestProcessMemory(unittest.TestCase):
    def snap(self):
        d = tempfile.mkdtemp()
        p = os.path.join(d, "s.ogs")
        objgraph_agent.snapshot(p)
        self.addCleanup(os.rmdir, d)
        self.addCleanup(os.unlink, p)
        return p

    def test_memory_recorded_and_missing_named(self):
        mem = decode(self.snap()).meta["memory"]
        missing = mem.get("missing", {})
        for k, v in missing.items():
            self.assertIsInstance(v, str)
            self.assertNotIn(k, mem, "a missing source has a value")
        if sys.platform.startswith("linux"):
            self.assertGreater(mem["rss"], 1 << 20)
            self.assertGreater(mem["uss"], 0)
            self.assertGreaterEqual(mem["rss_peak"], mem["rss"] // 2)
        else:
            self.assertTrue("rss" in mem or "rss" in missing)
        self.assertGreater(mem["pymalloc"]["allocated_blocks"], 1000)
        if "malloc" in mem:
            m = mem["malloc"]
            self.assertGreater(m["arena"], 0)
            self.assertLessEqual(m["in_use"] + m["free"], m["arena"] + m["mmapped"] + (1 << 20))
        else:
            self.assertIn("malloc", missing)
        if "cgroup" in mem:
            self.assertGreater(mem["cgroup"]["current"], 0)
        else:
            self.assertIn("cgroup", missing)

    def test_tracemalloc_total(self):
        # in a small interpreter of its own: a capture while tracemalloc
        # traces costs much more in a large heap
        d = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, d)
        prog = (
            "import sys, json, tracemalloc\n"
            "sys.path.insert(0, %r)\n"
            "import objgraph_agent\n"
            "from test_agent import decode\n"
            "p = %r\n"
            "objgraph_agent.snapshot(p)\n"
            "off = decode(p).meta['memory']\n"
            "tracemalloc.start(3)\n"
            "keep = [bytes(1000) for _ in range(1000)]\n"
            "objgraph_agent.snapshot(p)\n"
            "on = decode(p).meta['memory']\n"
            "tracemalloc.stop()\n"
            "import os; os.unlink(p)\n"
            "print(json.dumps([off, on]))\n") % (AGENT_DIR, os.path.join(d, "t.ogs"))
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
        out = subprocess.run([sys.executable, "-S", "-c", prog], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=300, check=False)
        self.assertEqual(out.returncode, 0, out.stdout.decode("utf-8", "replace"))
        off, on = json.loads(out.stdout.decode().splitlines()[-1])
        self.assertNotIn("tracemalloc", off)
        self.assertEqual(off["missing"]["tracemalloc"], "not tracing")
        self.assertGreater(on["tracemalloc"]["traced"], 1000 * 1000)
        self.assertEqual(on["tracemalloc"]["frames"], 3)

    def test_buffers_charged_to_owners(self):
        ba = bytearray(1 << 20)
        view = memoryview(ba)
        ar = array.array("d", bytes(8 * 1000))
        mm = mmap.mmap(-1, 1 << 16)
        closed = mmap.mmap(-1, 1 << 16)
        closed.close()
        hostile = Hostile(5000)
        holder = [ba, view, ar, mm, closed, hostile]
        Hostile.calls = 0
        p = self.snap()
        self.assertEqual(Hostile.calls, 0, "a Python-level method of the program ran")
        rows = buffer_rows(p)
        snap = decode(p)
        by_addr = snap.index()

        def owned(o):
            return rows.get(id(o), (0, 0))

        o, s = owned(ba)
        self.assertGreaterEqual(o, 1 << 20)
        self.assertEqual(s, o, "getsizeof of a bytearray counts its items")
        self.assertLessEqual(snap.size[by_addr[id(ba)]] - o, 128)
        self.assertEqual(owned(view), (0, 0), "a memoryview owns nothing")
        o, s = owned(ar)
        self.assertGreaterEqual(o, 8000)
        self.assertEqual(s, o)
        self.assertEqual(owned(mm), (1 << 16, 0), "an mmap's pages are not in its size")
        self.assertEqual(owned(closed), (0, 0))
        self.assertGreaterEqual(owned(hostile)[0], 5000)
        for a in rows:
            self.assertIn(a, by_addr, "a buffer owner not in the snapshot")
        del holder
        mm.close()


if __name__ == "__main__":
    unittest.main()
