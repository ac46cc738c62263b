"""Tests for objgraph_agent.

Run from the repository root with
    python3 -m unittest discover -s internal/agent -p 'test_*.py'

The snapshots are checked with a small decoder written here from
docs/format.md alone, independent of the agent's encoder.
"""

import gc
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
# 3.11+ keeps instance attributes inline, with no __dict__ object
INLINE_ATTRS = sys.version_info >= (3, 11)
sys.path.insert(0, HERE)
# OBJGRAPH_AGENT_FORM=package: the agent under test is its source package
# (src/objgraph_agent), not the bundled objgraph_agent.py made from it
AGENT_DIR = os.path.join(HERE, "src") if os.environ.get("OBJGRAPH_AGENT_FORM") == "package" else HERE
sys.path.insert(0, AGENT_DIR)

import objgraph_agent  # noqa: E402


def set_agent(name, value):
    """Set a module attribute of the agent's: the one file's, or in the
    package form, that of each of its modules that has the name."""
    for n, m in list(sys.modules.items()):
        if (n == "objgraph_agent" or n.startswith("objgraph_agent.")) and name in vars(m):
            setattr(m, name, value)


# --- a test-only decoder of the .ogs format ----------------------------------

class FormatError(Exception):
    pass


class Snapshot:
    """A decoded snapshot: parallel per-object lists and per-edge lists."""

    def __init__(self):
        self.meta = None
        self.strings = [""]
        self.types = []          # (addr, name, module.name)
        self.addr = []
        self.type = []
        self.size = []
        self.refcount = []
        self.flags = []
        self.label = []
        self.edges = []          # per object: [(target addr, name)]
        self.roots = []          # (kind, name, target addr, thread, depth)
        self.records = 0
        self.end = None

    def name(self, v):
        if v == 0:
            return None
        if v & 1:
            return "[%d]" % (v >> 1)
        return self.strings[v >> 1]

    def index(self):
        self.by_addr = {a: i for i, a in enumerate(self.addr)}
        return self.by_addr

    def type_name(self, i):
        return self.types[self.type[i]][1]

    def type_qualname(self, i):
        return self.types[self.type[i]][2]


def _ints(raw, width, base, rows):
    fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
    vals = struct.unpack("<%d%s" % (rows, fmt), raw)
    if base:
        vals = tuple((v + base) & 0xFFFFFFFFFFFFFFFF for v in vals)
    return vals


def split_blob(lens, blob, what):
    """The UTF-8 strings of the given lengths that blob holds end to end."""
    out = []
    p = 0
    for ln in lens:
        out.append(blob[p:p + ln].decode("utf-8"))
        p += ln
    if p != len(blob):
        raise FormatError(what)
    return out


def decode(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89OGSNAP\n":
        raise FormatError("bad magic")
    major, minor, reserved = struct.unpack_from("<HHI", data, 8)
    if major != 1 or reserved != 0:
        raise FormatError("bad version")
    snap = Snapshot()
    pos = 16
    pending_objects = None
    raw_roots = []
    raw_types = []
    nrec = 0
    while True:
        if pos + 20 > len(data):
            raise FormatError("truncated")
        kind, rows, ncols, length, crc = struct.unpack_from("<IIIII", data, pos)
        body = data[pos + 20:pos + 20 + length]
        if len(body) != length:
            raise FormatError("record runs past the end")
        if zlib.crc32(body) != crc:
            raise FormatError("crc mismatch in record %d" % nrec)
        if nrec == 0 and kind != 1:
            raise FormatError("META is not first")
        if pending_objects is not None and kind != 5:
            raise FormatError("OBJECTS not followed by EDGES")
        cols = {}
        off = 24 * ncols
        for c in range(ncols):
            cid, width, codec, rawlen, storedlen, res, base = struct.unpack_from("<HBBIIIQ", body, 24 * c)
            stored = body[off:off + storedlen]
            off += storedlen
            if codec == 0:
                raw = stored
                if storedlen != rawlen:
                    raise FormatError("raw column length")
            elif codec == 1:
                raw = zlib.decompress(stored)
            else:
                raise FormatError("codec %d" % codec)
            if len(raw) != rawlen:
                raise FormatError("rawlen")
            if cid in cols:
                raise FormatError("column twice")
            if width:
                if rawlen != rows * width:
                    raise FormatError("column %d of record kind %d: %d bytes for %d rows of %d" % (cid, kind, rawlen, rows, width))
                cols[cid] = _ints(raw, width, base, rows)
            else:
                if base:
                    raise FormatError("blob with base")
                cols[cid] = raw
        if off != length:
            raise FormatError("columns do not fill the record")

        def col(cid, default=0):
            v = cols.get(cid)
            return v if v is not None else (default,) * rows

        if kind == 1:
            if nrec != 0 or rows != 1:
                raise FormatError("META")
            snap.meta = json.loads(cols[1].decode("utf-8"))
        elif kind == 2:
            snap.strings.extend(split_blob(cols[1], cols.get(2, b""), "string lengths"))
        elif kind == 3:
            if rows and 2 not in cols:
                raise FormatError("TYPES without names")
            raw_types.extend(zip(col(1), col(2), col(3)))
        elif kind == 4:
            if rows and 1 not in cols:
                raise FormatError("OBJECTS without addresses")
            first = len(snap.addr)
            snap.addr.extend(col(1))
            snap.type.extend(col(2))
            snap.size.extend(col(3))
            snap.refcount.extend(col(4))
            snap.flags.extend(col(5))
            if 9 in cols or 10 in cols:
                # int or float values; the label is the value's repr
                if (9 in cols) == (10 in cols) or 7 in cols or 8 in cols:
                    raise FormatError("value columns")
                for v in cols.get(9, ()):
                    snap.label.append(repr(v - (1 << 64) if v >= 1 << 63 else v))
                for v in cols.get(10, ()):
                    snap.label.append(repr(struct.unpack("<d", struct.pack("<Q", v))[0]))
            else:
                snap.label.extend(split_blob(col(7), cols.get(8, b""), "label lengths"))
            pending_objects = (first, col(6))
        elif kind == 5:
            if pending_objects is None:
                raise FormatError("EDGES without OBJECTS")
            first, counts = pending_objects
            if sum(counts) != rows:
                raise FormatError("edge count %d != %d" % (sum(counts), rows))
            targets = col(1)
            names = col(2)
            p = 0
            for k in counts:
                snap.edges.append(list(zip(targets[p:p + k], names[p:p + k])))
                p += k
            pending_objects = None
        elif kind == 6:
            raw_roots.extend(zip(col(1), col(2), col(3), col(4), col(5)))
        elif kind == 7:
            if rows != 1:
                raise FormatError("END rows")
            snap.end = {k: cols[k][0] for k in cols}
            snap.records = nrec
            pos += 20 + length
            break
        elif kind < 64:
            raise FormatError("unknown kind %d" % kind)
        nrec += 1
        pos += 20 + length
    if pos != len(data):
        raise FormatError("bytes after END")
    for a, n, q in raw_types:
        snap.types.append((a, snap.strings[n], snap.strings[q]))
    for k, n, t, th, d in raw_roots:
        if not 1 <= k <= 6:
            raise FormatError("root kind")
        snap.roots.append((k, snap.strings[n], t, th, d))
    for t in snap.type:
        if t >= len(snap.types):
            raise FormatError("type id out of range")
    snap.edges = [[(t, snap.name(n)) for t, n in e] for e in snap.edges]
    if len(set(snap.addr)) != len(snap.addr):
        raise FormatError("duplicate addresses")
    e = snap.end
    checks = [(1, len(snap.addr)), (2, sum(map(len, snap.edges))), (3, len(snap.strings) - 1),
              (4, len(snap.types)), (5, len(snap.roots)), (6, snap.records)]
    for cid, have in checks:
        if cid in e and e[cid] != have:
            raise FormatError("END column %d says %d, file has %d" % (cid, e[cid], have))
    return snap


# --- helpers -------------------------------------------------------------------

class Marker:
    """A class only the tests make instances of."""

    def __init__(self, n):
        self.n = n
        self.label = "marker-%d" % n
        self.items = [n]


class Slotted:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


class Hostile:
    """Every hook the agent must not call, or must survive."""

    def __init__(self):
        self.payload = ["payload"]

    def __repr__(self):
        raise RuntimeError("repr called")

    def __getattr__(self, name):
        raise RuntimeError("getattr called for %s" % name)

    def __eq__(self, other):
        raise RuntimeError("eq called")

    def __hash__(self):
        raise RuntimeError("hash called")

    def __sizeof__(self):
        raise RuntimeError("sizeof called")


class Twin:
    """Hostile's layout, with no hooks."""

    def __init__(self):
        self.payload = ["payload"]


class HostileMeta(type):
    def __hash__(cls):
        raise RuntimeError("metaclass hash called")

    def __eq__(cls, other):
        raise RuntimeError("metaclass eq called")

    def __getattribute__(cls, name):
        if name in ("__name__", "__qualname__", "__module__", "__dict__", "__mro__"):
            raise RuntimeError("metaclass getattribute called for %s" % name)
        return type.__getattribute__(cls, name)


class WithHostileMeta(metaclass=HostileMeta):
    def __init__(self):
        self.value = ("with", "hostile", "meta")


def run_python(code, env=None, timeout=60, args=()):
    """Run code (python3 -c), or with code None the script and arguments in
    args, with the agent importable."""
    e = dict(os.environ)
    e["PYTHONPATH"] = AGENT_DIR + os.pathsep + e.get("PYTHONPATH", "")
    if env:
        e.update(env)
    argv = [sys.executable] + (["-c", code] if code is not None else []) + list(args)
    return subprocess.run(argv, env=e, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


class AgentTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-agent-test-")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def take(self, **kw):
        path = os.path.join(self.tmp, "snap.ogs")
        if os.path.exists(path):
            os.unlink(path)
        self.assertEqual(objgraph_agent.snapshot(path, **kw), path)
        return decode(path)

    # the file

    def test_file_is_well_formed(self):
        snap = self.take()
        m = snap.meta
        self.assertEqual(m["producer"], "objgraph_agent 1.0")
        self.assertEqual(m["runtime"], "CPython")
        self.assertEqual(m["version"], "%d.%d.%d" % sys.version_info[:3])
        self.assertEqual(m["pid"], os.getpid())
        self.assertEqual(m["host"], socket.gethostname())
        self.assertEqual(m["pointer_size"], struct.calcsize("P"))
        self.assertEqual(m["gc_header_size"], 16 if struct.calcsize("P") == 8 else 8)
        self.assertGreater(m["page_size"], 0)
        self.assertTrue(m["time"].endswith("Z"))
        self.assertEqual(set(m["gc"]), {"enabled", "thresholds", "counts", "freeze_count"})
        self.assertEqual(m["capture"]["errors"], [])
        self.assertFalse(m["capture"]["redacted"])
        self.assertGreater(m["capture"]["seconds"], 0)
        self.assertGreater(len(snap.addr), 1000)
        self.assertEqual(oct(os.stat(os.path.join(self.tmp, "snap.ogs")).st_mode & 0o777), "0o600")
        # every edge target and root target is an object of the snapshot
        idx = snap.index()
        dangling = sum(1 for e in snap.edges for t, _ in e if t not in idx)
        self.assertLess(dangling, 5, "edges to objects not in the snapshot")
        for kind, name, target, thread, depth in snap.roots:
            if kind in (1, 2, 5):
                self.assertIn(target, idx, name)

    def test_tracked_objects_match_gc(self):
        keep = [Marker(i) for i in range(300)]
        gc.collect()
        was = gc.isenabled()
        gc.disable()
        try:
            before = gc.get_objects()
            snap = self.take(collect=False)
            after = gc.get_objects()
        finally:
            if was:
                gc.enable()
        idx = snap.index()
        # frozen objects (flag 8) are not listed by gc.get_objects()
        tracked = {snap.addr[i] for i in range(len(snap.addr)) if snap.flags[i] & (1 | 8) == 1}
        missing = [o for o in before if id(o) not in tracked and o is not before]
        self.assertEqual(missing, [], "tracked objects missing from the snapshot")
        # tracked objects in the snapshot that the program did not have:
        # the agent's own would show up here (alive before and after: none)
        extra = tracked - set(map(id, before)) - {id(before)}
        self.assertLess(len(extra), 20)
        # the only objects the capture leaves behind: before 3.13, reading
        # f_locals of a running frame stores a dict in the frame
        left = [o for o in after if id(o) in extra and o is not after]
        if sys.version_info < (3, 13):
            left = [o for o in left if type(o) is not dict]
        self.assertEqual([type(o).__name__ for o in left], [], "objects made during the snapshot")
        # per type, for the tracked objects the program had
        counts = {}
        for i in range(len(snap.addr)):
            if snap.flags[i] & (1 | 8) == 1:
                q = snap.type_qualname(i)
                counts[q] = counts.get(q, 0) + 1
        expect = {}
        for o in before:
            t = type(o)
            q = "%s.%s" % (t.__module__, t.__name__) if t.__module__ else t.__name__
            expect[q] = expect.get(q, 0) + 1
        self.assertEqual(counts.get(__name__ + ".Marker"), 300)
        for q, n in expect.items():
            self.assertGreaterEqual(counts.get(q, 0), n, q)
            self.assertLessEqual(counts.get(q, 0) - n, 12, q)
        del keep

    def test_atom_labels_and_sizes(self):
        # ints and floats go out as values (most of them), str and bytes
        # with repr labels; each with its own size; one reference each
        # or shared
        big = 1 << 70
        vals = [1.5, 0.1, 1e300, -0.0, float("inf"), 2.5e-7, -5, 0, 1 << 62, -(1 << 63), big, -big,
                "s" * 50, "it's", "\u00e9t\u00e9", b"\x00by", 12345.0 + 0.5, 10 ** 40]
        keep = [vals, [float(i) / 7 for i in range(3000)], [i * 1000003 for i in range(3000)], [big + i for i in range(300)]]
        shared = [vals[0]] * 3 + [vals[6]] * 3
        snap = self.take()
        idx = snap.index()
        for v in vals + keep[1][::97] + keep[2][::97] + keep[3][::31]:
            i = idx[id(v)]
            want = repr(v[:40]) if type(v) in (str, bytes) else repr(v)
            if type(v) is int and v.bit_length() > 128:
                want = "<int of %d bits>" % v.bit_length()
            self.assertEqual(snap.label[i], want, repr(v))
            self.assertEqual(snap.size[i], sys.getsizeof(v), repr(v))
        for o in (None, True, False, Ellipsis, NotImplemented):
            self.assertEqual(snap.label[idx[id(o)]], repr(o))
        self.assertEqual(len(snap.addr), len(set(snap.addr)))
        del keep, shared

    def test_slow_paths_agree(self):
        # ids by map(id) instead of copied from list memory, and atoms
        # told apart by id(type) instead of by class: the same snapshot
        keep = [[Marker(i) for i in range(200)], [{"k%d" % i: [i, str(i), i + 0.5]} for i in range(200)],
                [(i, "p%d" % i, None) for i in range(200)], [b"b%d" % i for i in range(50)]]
        # everything compared is alive through both snapshots (an address
        # freed in between could be taken by another object)
        check = [keep] + keep + [o for part in keep for o in part]
        check += [r for o in check if gc.is_tracked(o) for r in gc.get_referents(o)]
        check += [r for o in check if type(o) is dict for r in gc.get_referents(o)]
        fast = self.take(collect=True)
        saved = objgraph_agent._list_ids, objgraph_agent._types_hash_safely
        set_agent("_list_ids", objgraph_agent._map_ids)
        set_agent("_types_hash_safely", lambda: False)
        try:
            slow = self.take(collect=True)
        finally:
            set_agent("_list_ids", saved[0])
            set_agent("_types_hash_safely", saved[1])
        fi, si = fast.index(), slow.index()

        def view(snap, i):
            return (snap.type_qualname(i), snap.size[i], snap.flags[i], snap.label[i], sorted(snap.edges[i]))
        n = 0
        for r in check:
            self.assertIn(id(r), fi, repr(r)[:60])
            f, w = fi[id(r)], si[id(r)]
            self.assertEqual(view(fast, f), view(slow, w), repr(r)[:60])
            # (counts of shared objects such as small ints move between two snapshots)
            if not (type(r) is int and -5 <= r <= 256) and r is not None:
                self.assertEqual(fast.refcount[f], slow.refcount[w], repr(r)[:60])
            n += 1
        self.assertGreater(n, 2000)
        del keep, check

    def test_edges_are_the_referents(self):
        keep = [Marker(i) for i in range(50)] + [{"k%d" % i: [i]} for i in range(50)] + [(i, str(i)) for i in range(50)]
        sample = keep + gc.get_objects()[::97]
        snap = self.take()
        idx = snap.index()
        checked = 0
        for o in sample:
            i = idx.get(id(o))
            if i is None:
                continue
            have = {}
            for t, _ in snap.edges[i]:
                have[t] = have.get(t, 0) + 1
            for r in gc.get_referents(o):
                self.assertGreater(have.get(id(r), 0), 0, "%s -> %s" % (type(o).__name__, type(r).__name__))
                have[id(r)] -= 1
            checked += 1
        self.assertGreater(checked, 100)

    def test_refcounts(self):
        strs = ["value-%d" % i for i in range(100)]
        markers = [Marker(i) for i in range(100)]
        table = {"s%d" % i: s for i, s in enumerate(strs)}
        shared = Marker(-1)
        holders = [[shared] * (i % 4) for i in range(20)]
        objs = strs + markers + [table, shared] + holders + [m.items for m in markers]
        snap = self.take()
        idx = snap.index()
        for o in objs:
            i = idx[id(o)]
            if snap.flags[i] & 64:
                continue
            # the snapshot counts every reference the program holds; here,
            # sys.getrefcount also counts its argument and the variable o
            self.assertEqual(snap.refcount[i], sys.getrefcount(o) - 2, type(o).__name__)
        del table, holders

    def test_dict_and_attribute_names(self):
        cached = Marker(7)
        holder = {"cache": cached, "not an identifier": [1], 42: (2,), ("t", 1): 3.5}
        point = Slotted([1], "right side")
        seq = [None, cached, "x"]

        def names_to(src, dst):
            return [n for t, n in snap.edges[idx[id(src)]] if t == id(dst)]

        snap = self.take()
        idx = snap.index()

        self.assertEqual(names_to(holder, cached), ["cache"])
        self.assertIn("<key>", [n for t, n in snap.edges[idx[id(holder)]] if t == id("cache") or n == "<key>"])
        self.assertEqual(names_to(holder, holder["not an identifier"]), ["'not an identifier'"])
        self.assertEqual(names_to(holder, holder[42]), ["[42]"])
        self.assertEqual(names_to(holder, holder[("t", 1)]), ["('t', 1)"])
        attrs = cached if INLINE_ATTRS else cached.__dict__
        self.assertEqual(names_to(attrs, cached.items), ["items"])
        self.assertEqual(names_to(attrs, cached.label), ["label"])
        self.assertEqual(names_to(cached, Marker), ["__class__"])
        if not INLINE_ATTRS:
            self.assertEqual(names_to(cached, cached.__dict__), ["__dict__"])
        self.assertEqual(names_to(point, point.left), ["left"])
        self.assertEqual(names_to(point, point.right), ["right"])
        self.assertEqual(names_to(seq, cached), ["[1]"])
        self.assertEqual(names_to(seq, "x"), ["[2]"])
        i = idx[id(holder)]
        self.assertEqual(snap.label[i], "4 items")
        self.assertEqual(snap.label[idx[id(cached.label)]], "'marker-7'")
        f = idx[id(names_to)] if id(names_to) in idx else None
        self.assertIsNotNone(f)
        self.assertEqual(snap.label[f], "AgentTest.test_dict_and_attribute_names.<locals>.names_to")
        fn_names = {n for t, n in snap.edges[f]}
        self.assertTrue({"__code__", "__globals__", "__name__", "__closure__"} <= fn_names, fn_names)
        self.assertEqual(snap.label[idx[id(Marker)]], "Marker")
        self.assertEqual(snap.label[idx[id(sys)]], "sys")
        self.assertEqual(snap.type_name(idx[id(Marker)]), "type")
        self.assertEqual((snap.flags[idx[id(sys)]] >> 8) & 15, 1)
        self.assertEqual((snap.flags[idx[id(Marker)]] >> 8) & 15, 3)
        self.assertEqual((snap.flags[idx[id(names_to)]] >> 8) & 15, 4)

    def test_lru_cache_dict_is_named_cache(self):
        import functools

        @functools.lru_cache(maxsize=None)
        def make(n):
            return Marker(n)
        made = make(3)
        cache = [r for r in gc.get_referents(make) if type(r) is dict and r is not make.__dict__]
        self.assertEqual(len(cache), 1)
        snap = self.take()
        idx = snap.index()
        names = dict((t, n) for t, n in snap.edges[idx[id(make)]])
        self.assertEqual(names.get(id(cache[0])), "cache")
        self.assertEqual(names.get(id(make.__dict__)), "__dict__")
        self.assertEqual([n for t, n in snap.edges[idx[id(cache[0])]] if t == id(made)], ["[3]"])

    def test_thread_local_leak_has_a_root(self):
        ready = threading.Event()
        done = threading.Event()
        box = {}

        def worker():
            leak = bytearray(b"held only by a local variable")
            box["id"] = id(leak)
            ready.set()
            done.wait(10)

        t = threading.Thread(target=worker, name="leaky-worker")
        t.start()
        try:
            ready.wait(10)
            snap = self.take()
        finally:
            done.set()
            t.join()
        idx = snap.index()
        self.assertIn(box["id"], idx)
        locals_ = [r for r in snap.roots if r[0] == 3 and r[2] == box["id"]]
        self.assertEqual(len(locals_), 1)
        kind, name, target, thread, depth = locals_[0]
        self.assertEqual(name, "leaky-worker: AgentTest.test_thread_local_leak_has_a_root.<locals>.worker: leak"
                         if sys.version_info >= (3, 11) else "leaky-worker: worker: leak")
        self.assertEqual(thread, t.ident)
        frames = [r for r in snap.roots if r[0] == 2 and r[3] == t.ident]
        self.assertEqual([r[4] for r in frames], list(range(len(frames))))
        self.assertIn("Event.wait" if sys.version_info >= (3, 11) else ": wait", frames[1][1])
        mine = [r for r in frames if "worker (test_agent.py:" in r[1]]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0][4], depth)
        fr = idx[mine[0][2]]
        self.assertEqual((snap.flags[fr] >> 8) & 15, 2)
        self.assertIn((box["id"], "leak"), snap.edges[fr])
        self.assertTrue(snap.label[fr].startswith("test_agent.py:"))
        threads = [r for r in snap.roots if r[0] == 5 and r[3] == t.ident]
        self.assertEqual(threads[0][1], "leaky-worker")
        self.assertEqual(threads[0][2], id(t))
        # the agent's own frames are not roots
        self.assertFalse([r for r in snap.roots if r[0] == 2 and "objgraph_agent" in r[1]])
        mine = [r for r in snap.roots if r[0] == 2 and r[3] == threading.get_ident()]
        self.assertIn("take (test_agent.py:", mine[0][1])
        self.assertIn("test_thread_local_leak_has_a_root", mine[1][1])
        mods = {r[1]: r[2] for r in snap.roots if r[0] == 1}
        self.assertEqual(mods["sys"], id(sys))

    def test_coroutine_frames_written_once(self):
        """An asyncio program snapshotted from inside a coroutine: the
        running coroutine's frame is written once, as a frame root that the
        coroutine refers to (on 3.11+ such a frame has one reference of its
        own, and a walk that let go of the frame roots took the coroutine's
        edge for the only one and wrote the frame again), and so is each
        waiting task's coroutine frame, referred to by its coroutine."""
        path = os.path.join(self.tmp, "tasks.ogs")
        r = run_python(None, args=[os.path.join(HERE, "testdata", "asyncio_tasks.py"), path])
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        info = json.loads(r.stdout)
        snap = decode(path)  # an address written twice fails here
        idx = snap.index()
        running = info["running_frame"]
        self.assertEqual(snap.addr.count(running), 1)
        self.assertEqual(snap.type_name(idx[running]), "frame")
        self.assertEqual(len([x for x in snap.roots if x[0] == 2 and x[2] == running]), 1)
        self.assertIn(running, [t for t, _ in snap.edges[idx[info["running_coro"]]]])
        self.assertEqual(len(info["coros"]), 25)
        for coro, frame in zip(info["coros"], info["frames"]):
            self.assertEqual(snap.addr.count(frame), 1)
            self.assertEqual(snap.type_name(idx[frame]), "frame")
            self.assertEqual(snap.type_name(idx[coro]), "coroutine")
            self.assertIn(frame, [t for t, _ in snap.edges[idx[coro]]])

    def test_redact(self):
        secret = "password=hunter2 " * 3
        plain = 2
        # "plain" is a name in this code (the variable), so it names its edge
        table = {"user@example.com": 1, "plain": plain}
        snap = self.take(redact=True)
        self.assertTrue(snap.meta["capture"]["redacted"])
        idx = snap.index()
        self.assertEqual(snap.label[idx[id(secret)]], "")
        for i in range(len(snap.addr)):
            if snap.type_name(i) in ("str", "bytes"):
                self.assertEqual(snap.label[i], "")
        names = {n for t, n in snap.edges[idx[id(table)]]}
        self.assertIn("plain", names)
        self.assertIn("<str of 16>", names)
        self.assertFalse([n for n in names if n and "example" in n])
        self.assertFalse([s for s in snap.strings if "hunter2" in s])
        with open(os.path.join(self.tmp, "snap.ogs"), "rb") as f:
            self.assertNotIn(b"hunter2", zlib_all(f.read()))

    def test_redact_leaves_no_planted_secret(self):
        """A secret planted in every place a string of the program can
        reach a snapshot: values, identifier-shaped and other dict keys (a
        token cache), bytes keys and values, tuple keys, set members,
        attribute names set from data, thread names, the command line, a
        str subclass, a local variable. None of it is in the file, inflated."""
        secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
        path = os.path.join(self.tmp, "r.ogs")
        r = run_python(None, args=[os.path.join(HERE, "testdata", "plant_secret.py"), secret, path,
                                   "--password=" + secret])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path, "rb") as f:
            raw = zlib_all(f.read())
        self.assertNotIn(secret[8:20].encode(), raw)
        snap = decode(path)
        # structure stays: the cache's edges are there, named by length
        names = [n for es in snap.edges for _, n in es if n]
        self.assertIn("<str of %d>" % len(secret), names)
        self.assertIn("<bytes of %d>" % len(secret), names)
        self.assertNotIn("--password=", str(snap.meta["argv"]))
        self.assertIn("<str of %d>" % len("--password=" + secret), snap.meta["argv"])
        # names from the code stay
        self.assertIn("local_secret", " ".join(r[1] for r in snap.roots))
        self.assertIn("tokens", names)

    @unittest.skipUnless(hasattr(signal, "SIGUSR2"), "no SIGUSR2")
    def test_back_to_back_snapshots_hold_the_same_objects(self):
        """Nothing of the agent's: snapshots taken one after the other, with
        nothing in between, hold the same objects (by address and type),
        tracked or not, on the signal path and with a collection first,
        the first against the second included (no cache of the agent's
        fills up on first use)."""
        code = """if 1:
            import os, signal, objgraph_agent
            objgraph_agent.install(signal.SIGUSR2, %r, collect=True)
            for i in range(5):
                if i == 3:
                    objgraph_agent._installed.count = 300  # past the cached small ints
                os.kill(os.getpid(), signal.SIGUSR2)
        """ % self.tmp
        r = run_python(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = sorted(os.listdir(self.tmp), key=lambda f: int(f.split("-")[-1][:-4]))
        self.assertEqual(len(files), 5)

        def objects(f):
            s = decode(os.path.join(self.tmp, f))
            return {(a, s.type_qualname(i)) for i, a in enumerate(s.addr)}
        # the first and the second, and two numbered past the small ints
        for x, y in ((0, 1), (1, 2), (3, 4)):
            a, b = objects(files[x]), objects(files[y])
            self.assertEqual(sorted(b - a), [], "new in %s" % files[y])
            self.assertEqual(sorted(a - b), [], "gone from %s" % files[x])

    def test_hostile_objects(self):
        class FreshHostile(Hostile):
            pass

        class FreshTwin(Twin):
            pass
        # the first instances of two new classes alike: their attribute
        # values (3.11+) take the same room
        objs = [FreshHostile() for _ in range(20)] + [WithHostileMeta() for _ in range(5)]
        twins = [FreshTwin() for _ in range(20)]
        d = {id(WithHostileMeta): WithHostileMeta}
        snap = self.take()
        idx = snap.index()
        for o in objs:
            i = idx[id(o)]
            self.assertEqual(snap.label[i], "")
        i = idx[id(objs[0])]
        # its __sizeof__ is never called: the C-level size, flagged estimated
        self.assertEqual(snap.size[i], snap.size[idx[id(twins[0])]])
        if not INLINE_ATTRS:
            self.assertEqual(snap.size[i], sys.getsizeof(Twin()))
        self.assertTrue(snap.flags[i] & (1 << 12))
        if not INLINE_ATTRS:
            i = idx[id(object.__getattribute__(objs[0], "__dict__"))]
        self.assertIn((id(objs[0].payload), "payload"), snap.edges[i])
        self.assertEqual(snap.types[snap.type[idx[id(WithHostileMeta)]]][1], "HostileMeta")
        self.assertIn(id(d), idx)

    # failures

    def test_gc_state_restored_after_failure(self):
        orig = objgraph_agent._Capture.write_roots

        def boom(self):
            raise MemoryError("simulated")

        objgraph_agent._Capture.write_roots = boom
        try:
            for enabled in (True, False):
                (gc.enable if enabled else gc.disable)()
                with self.assertRaises(MemoryError):
                    objgraph_agent.snapshot(os.path.join(self.tmp, "x.ogs"))
                self.assertEqual(gc.isenabled(), enabled)
                self.assertEqual(os.listdir(self.tmp), [])
                self.assertNotIn(objgraph_agent._gc_guard, gc.callbacks)
        finally:
            objgraph_agent._Capture.write_roots = orig
            gc.enable()

    def test_no_partial_file_when_rename_fails(self):
        path = os.path.join(self.tmp, "snap.ogs")
        with open(path, "wb") as f:
            f.write(b"old")
        orig = os.replace

        def fail(a, b):
            raise OSError(28, "No space left on device")

        os.replace = fail
        try:
            with self.assertRaises(OSError):
                objgraph_agent.snapshot(path)
        finally:
            os.replace = orig
        self.assertEqual(os.listdir(self.tmp), ["snap.ogs"])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"old")

    def test_no_partial_file_when_disk_fills(self):
        orig = os.write
        calls = [0]

        def write(fd, data):
            calls[0] += 1
            if calls[0] > 8:
                raise OSError(28, "No space left on device")
            return orig(fd, data)

        os.write = write
        try:
            with self.assertRaises(OSError) as cm:
                objgraph_agent.snapshot(os.path.join(self.tmp, "full.ogs"))
        finally:
            os.write = orig
        self.assertEqual(cm.exception.errno, 28)
        self.assertEqual(os.listdir(self.tmp), [])
        self.assertTrue(gc.isenabled())

    def test_unwritable_place(self):
        with self.assertRaises(OSError):
            objgraph_agent.snapshot(os.path.join(self.tmp, "no-such-dir", "x.ogs"))
        self.assertTrue(gc.isenabled())

    def test_reentrant_call_refused(self):
        orig = objgraph_agent._Capture.write_roots
        seen = []

        def again(self):
            try:
                objgraph_agent.snapshot(os.path.join(HERE, "never.ogs"))
            except RuntimeError as e:
                seen.append(e)
            return orig(self)

        objgraph_agent._Capture.write_roots = again
        try:
            self.take()
        finally:
            objgraph_agent._Capture.write_roots = orig
        self.assertEqual(len(seen), 1)

    # other processes

    def test_frozen_objects(self):
        code = """if 1:
            import gc, sys, objgraph_agent
            frozen = [("frozen", i) for i in range(3)]
            box = {"frozen": frozen}
            gc.freeze()
            later = [box]
            objgraph_agent.snapshot(sys.argv[1] if len(sys.argv) > 1 else %r)
            print(id(frozen), id(box), id(later))
        """ % os.path.join(self.tmp, "f.ogs")
        r = run_python(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        fid, bid, lid = map(int, r.stdout.split())
        snap = decode(os.path.join(self.tmp, "f.ogs"))
        idx = snap.index()
        self.assertGreater(snap.meta["gc"]["freeze_count"], 0)
        for a in (fid, bid):
            self.assertEqual(snap.flags[idx[a]] & (1 | 8), 1 | 8)
        self.assertEqual(snap.flags[idx[lid]] & 8, 0)
        self.assertEqual(snap.flags[idx[lid]] & 1, 1)

    def test_startup_frozen_objects(self):
        # CPython 3.12 starts with the tuples of its static types frozen;
        # no edge leads to them, and they are all found
        code = """if 1:
            import gc, sys, objgraph_agent
            n = gc.get_freeze_count()
            objgraph_agent.snapshot(sys.argv[1] if len(sys.argv) > 1 else %r)
            print(n)
        """ % os.path.join(self.tmp, "s.ogs")
        r = run_python(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        snap = decode(os.path.join(self.tmp, "s.ogs"))
        frozen = [i for i in range(len(snap.addr)) if snap.flags[i] & 8]
        self.assertEqual(len(frozen), int(r.stdout))
        self.assertEqual(len(frozen), snap.meta["gc"]["freeze_count"])
        for i in frozen:
            self.assertEqual(snap.flags[i] & 1, 1)
            self.assertEqual(snap.type_qualname(i), "builtins.tuple")

    def test_signal_periodic_and_exit(self):
        if not hasattr(signal, "SIGUSR2"):
            self.skipTest("no SIGUSR2")
        code = """if 1:
            import os, signal, time, objgraph_agent
            objgraph_agent.install(signal.SIGUSR2, %r, every=0.3, at_exit=True)
            os.kill(os.getpid(), signal.SIGUSR2)
            t = time.time()
            while time.time() - t < 0.8:
                sum(range(1000))
        """ % self.tmp
        r = run_python(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = sorted(os.listdir(self.tmp), key=lambda f: int(f.split("-")[-1][:-4]))
        self.assertGreaterEqual(len(files), 3, r.stderr)
        for f in files:
            self.assertRegex(f, r"^objgraph-\d+-\d{8}-\d{6}-\d+\.ogs$")
            snap = decode(os.path.join(self.tmp, f))
            # taken on the main thread, where the program was interrupted
            # (the last one, at exit, after the program's code)
            main = [r for r in snap.roots if r[0] == 2 and r[1].startswith("MainThread:")]
            if f != files[-1]:
                self.assertTrue(main, f)
            self.assertFalse([r for r in snap.roots if "objgraph_agent" in r[1] and r[0] == 2])

    def test_autostart_from_env(self):
        code = """if 1:
            import os, signal, objgraph_agent
            assert objgraph_agent._installed is None
            assert objgraph_agent._autostart_from_env()
            os.kill(os.getpid(), signal.SIGUSR1)
        """
        r = run_python(code, env={"OBJGRAPH_AGENT_DIR": self.tmp, "OBJGRAPH_AGENT_SIGNAL": "SIGUSR1",
                                  "OBJGRAPH_AGENT_EVERY": "0", "OBJGRAPH_AGENT_AT_EXIT": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(os.listdir(self.tmp)), 2, r.stderr)

    # the state file 'objgraph run' and 'objgraph snapshot' find the process by

    def state_dir(self):
        d = tempfile.mkdtemp(prefix="objgraph-agent-state-")
        self.addCleanup(lambda: [os.unlink(os.path.join(d, f)) for f in os.listdir(d)] and None or os.rmdir(d))
        return d

    def autostart_env(self, state, signal_name="SIGUSR1"):
        return {"OBJGRAPH_AGENT_DIR": self.tmp, "OBJGRAPH_AGENT_SIGNAL": signal_name,
                "OBJGRAPH_AGENT_EVERY": "0", "OBJGRAPH_AGENT_STATE": state}

    def test_publishes_its_pid_once_the_handler_is_installed(self):
        state = self.state_dir()
        code = """if 1:
            import json, os, signal, stat, objgraph_agent
            path = os.path.join(%r, "agent.json")
            real = signal.signal
            def spy(signum, handler):
                assert not os.path.exists(path), "published before the handler was installed"
                return real(signum, handler)
            signal.signal = spy
            assert objgraph_agent._autostart_from_env()
            signal.signal = real
            assert signal.getsignal(signal.SIGUSR1) is objgraph_agent._on_signal
            st = os.lstat(path)
            assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
            with open(path) as f:
                s = json.load(f)
            assert s["pid"] == os.getpid() and s["signal"] == "SIGUSR1" and s["signum"] == signal.SIGUSR1, s
            assert s["dir"] == os.path.abspath(%r) and isinstance(s["start"], int), s
            if os.path.exists("/proc/self/stat"):
                with open("/proc/self/stat") as f:
                    assert s["start"] == int(f.read().rsplit(")", 1)[1].split()[19]), s
            assert os.listdir(os.path.dirname(path)) == ["agent.json"]  # no temporary file left
            objgraph_agent.uninstall()
            assert not os.path.exists(path)
        """ % (state, self.tmp)
        r = run_python(code, env=self.autostart_env(state))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")

    def test_publish_refuses_an_open_directory_and_follows_no_link(self):
        code = """if 1:
            import os, objgraph_agent
            assert objgraph_agent._autostart_from_env()
            assert objgraph_agent._installed is not None
        """
        state = self.state_dir()
        os.chmod(state, 0o755)
        r = run_python(code, env=self.autostart_env(state))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("is not a private directory", r.stderr)
        self.assertEqual(os.listdir(state), [])
        os.chmod(state, 0o700)
        victim = os.path.join(self.state_dir(), "victim")
        with open(victim, "w") as f:
            f.write("precious")
        os.symlink(victim, os.path.join(state, "agent.json"))
        r = run_python(code, env=self.autostart_env(state))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious")
        self.assertFalse(os.path.islink(os.path.join(state, "agent.json")))

    def test_the_first_live_process_keeps_the_state(self):
        state = self.state_dir()
        path = os.path.join(state, "agent.json")
        code = """if 1:
            import json, os, objgraph_agent
            objgraph_agent._autostart_from_env()
            with open(%r) as f:
                print(json.load(f)["pid"])
        """ % path
        # Another live process (this one) published first: it keeps the file.
        with open(path, "w") as f:
            json.dump({"pid": os.getpid()}, f)
        os.chmod(path, 0o600)
        r = run_python(code, env=self.autostart_env(state))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(int(r.stdout), os.getpid())
        # The process that published is gone: a new one takes over.
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        with open(path, "w") as f:
            json.dump({"pid": gone.pid}, f)
        r = run_python(code, env=self.autostart_env(state))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(int(r.stdout), (gone.pid, os.getpid()))

    def test_a_forked_child_leaves_the_state_alone(self):
        if not hasattr(os, "fork"):
            self.skipTest("no fork")
        state = self.state_dir()
        code = """if 1:
            import os, objgraph_agent
            objgraph_agent._autostart_from_env()
            pid = os.fork()
            if pid == 0:
                objgraph_agent.uninstall()
                os._exit(0)
            os.waitpid(pid, 0)
            assert os.path.exists(os.path.join(%r, "agent.json"))
        """ % state
        r = run_python(code, env=self.autostart_env(state))
        self.assertEqual(r.returncode, 0, r.stderr)

    # periodic snapshots

    def test_periodic_snapshots_are_counted_from_the_end_of_the_last(self):
        if not hasattr(signal, "SIGUSR2"):
            self.skipTest("no SIGUSR2")
        # every is a quarter of what a snapshot takes: snapshots must still
        # be `every` apart, with nothing dropped.
        code = """if 1:
            import os, signal, time, objgraph_agent
            d = %r
            heap = [[i, str(i)] for i in range(150000)]
            t = time.monotonic()
            objgraph_agent.snapshot(os.path.join(d, "probe.ogs"))
            took = time.monotonic() - t
            os.unlink(os.path.join(d, "probe.ogs"))
            every = took / 4
            objgraph_agent.install(signal.SIGUSR2, d, every=every)
            t = time.monotonic()
            while len([f for f in os.listdir(d) if f.endswith(".ogs")]) < 3 and time.monotonic() - t < 300:
                sum(range(1000))
            objgraph_agent.uninstall()
            print(every)
        """ % self.tmp
        r = run_python(code, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        every = float(r.stdout)
        import datetime
        spans = []
        for f in os.listdir(self.tmp):
            m = decode(os.path.join(self.tmp, f)).meta
            start = datetime.datetime.strptime(m["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
            spans.append((start, start + m["capture"]["seconds"]))
        spans.sort()
        self.assertGreaterEqual(len(spans), 3, r.stderr)
        gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
        self.assertGreater(min(gaps), every * 0.8, "gaps %r, every %r" % (gaps, every))
        self.assertNotIn("dropped", r.stderr)

    def test_requests_during_a_snapshot_are_said_dropped_once(self):
        if not hasattr(signal, "SIGUSR2"):
            self.skipTest("no SIGUSR2")
        code = """if 1:
            import os, signal, time, objgraph_agent
            heap = [[i, str(i)] for i in range(300000)]
            objgraph_agent.install(signal.SIGUSR2, %r)
            os.kill(os.getpid(), signal.SIGUSR2)
            time.sleep(0.5)
        """ % self.tmp
        e = dict(os.environ)
        e["PYTHONPATH"] = AGENT_DIR + os.pathsep + e.get("PYTHONPATH", "")
        p = subprocess.Popen([sys.executable, "-c", code], env=e, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
        try:
            sent = 0
            deadline = time.time() + 120
            while sent < 5 and time.time() < deadline and p.poll() is None:
                files = os.listdir(self.tmp)
                if any(f.endswith(".ogs") for f in files):
                    break  # the snapshot is done
                if any(".tmp-" in f for f in files):  # it is being taken
                    os.kill(p.pid, signal.SIGUSR2)
                    sent += 1
                    time.sleep(0.03)
                else:
                    time.sleep(0.002)
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 0, err)
        self.assertGreaterEqual(sent, 2, "the snapshot was too quick to send requests during it")
        self.assertEqual(err.count("dropped"), 1, err)

    def test_command_line(self):
        r = subprocess.run([sys.executable, os.path.join(HERE, "objgraph_agent.py"), "--help"],
                           stdout=subprocess.PIPE, universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn("objgraph_agent.py run", r.stdout)
        script = os.path.join(self.tmp, "prog.py")
        with open(script, "w") as f:
            f.write("import sys\nimport objgraph_agent\nassert objgraph_agent._installed is not None\n"
                    "leak = [sys.argv[1]] * 3\n")
        r = subprocess.run([sys.executable, os.path.join(HERE, "objgraph_agent.py"), "run", "--dir", self.tmp,
                            "--at-exit", script, "hello"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        snaps = [f for f in os.listdir(self.tmp) if f.endswith(".ogs")]
        self.assertEqual(len(snaps), 1, r.stderr)
        os.unlink(script)


def zlib_all(data):
    """The file's bytes with every zlib column inflated, for searching."""
    out = [data]
    snapdata = data
    pos = 16
    while pos + 20 <= len(snapdata):
        kind, rows, ncols, length, crc = struct.unpack_from("<IIIII", snapdata, pos)
        body = snapdata[pos + 20:pos + 20 + length]
        off = 24 * ncols
        for c in range(ncols):
            cid, width, codec, rawlen, storedlen, res, base = struct.unpack_from("<HBBIIIQ", body, 24 * c)
            stored = body[off:off + storedlen]
            off += storedlen
            if codec == 1:
                out.append(zlib.decompress(stored))
        pos += 20 + length
        if kind == 7:
            break
    return b"".join(out)


if __name__ == "__main__":
    unittest.main()
