"""The walk of what the collector does not list: untracked containers'
referents (code objects), objects reached both from a frame and from a
cell, and the dicts of threading.local objects."""

import json
import os
import tempfile
import unittest

from test_agent import decode, run_python

CELL_CHILD = r'''
import json, sys
import objgraph_agent

def outer():
    d = {}
    def inner():
        return d
    objgraph_agent.snapshot(sys.argv[1], True)
    return inner, d

inner, d = outer()
print(json.dumps({"d": id(d), "cell": id(inner.__closure__[0])}))
'''

CODE_CHILD = r'''
import json, sys
import objgraph_agent

funcs = []
for i in range(200):
    ns = {}
    exec("def f%d(alpha_%d):\n    beta = alpha_%d\n    return 'constant of function %d'\n" % (i, i, i, i), ns)
    funcs.append(ns["f%d" % i])
objgraph_agent.snapshot(sys.argv[1], True)
out = []
for f in funcs:
    co = f.__code__
    const = [c for c in co.co_consts if type(c) is str][0]
    out.append({"code": id(co), "consts": id(co.co_consts), "const": id(const),
                "names": id(co.co_names), "file": id(co.co_filename), "name": id(co.co_name),
                "varname": id(co.co_varnames[0])})
print(json.dumps(out))
'''


TLS_CHILD = r'''
import json, sys, threading
import objgraph_agent

class Cache:
    pass

_tls = threading.local()
_tls.cache = {"main": Cache()}
ready = []
go = threading.Event()
done = threading.Event()

def work():
    _tls.cache = {"k%d" % i: Cache() for i in range(5)}
    ready.append(threading.current_thread().name)
    go.set()
    done.wait()

threads = []
for name in ("worker-1", "worker-2"):
    go.clear()
    t = threading.Thread(target=work, name=name)
    t.start()
    go.wait()
    threads.append(t)
objgraph_agent.snapshot(sys.argv[1], False, redact=sys.argv[2] == "redact")
d = [r for r in __import__("gc").get_referents(_tls) if type(r) is dict][0]
out = {"local": id(_tls), "dicts": id(d), "per_thread": [id(v) for v in d.values()],
       "caches": {}}
done.set()
for t in threads:
    t.join()
print(json.dumps(out))
'''


class UntrackedTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-untracked-test-")
        self.path = os.path.join(self.tmp, "snap.ogs")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def child(self, code, *args):
        r = run_python(code, args=(self.path,) + args, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1]), decode(self.path)

    def test_untracked_local_held_by_a_cell_is_written_once(self):
        # an untracked object in a variable an inner function also uses: the
        # frame and the cell both lead to it (decode fails on a duplicate)
        got, snap = self.child(CELL_CHILD)
        idx = snap.index()
        self.assertTrue(got["d"] in idx, "the dict is missing")
        self.assertEqual(snap.type_name(idx[got["d"]]), "dict")
        self.assertIn((got["d"], "cell_contents"), snap.edges[idx[got["cell"]]])
        frames = [i for i in range(len(snap.addr)) if snap.type_name(i) == "frame"
                  and (got["d"], "d") in snap.edges[i]]
        self.assertEqual(len(frames), 1)

    def test_code_objects_lead_to_their_constants(self):
        got, snap = self.child(CODE_CHILD)
        idx = snap.index()
        self.assertEqual(len(got), 200)
        for g in got:
            self.assertTrue(g["const"] in idx, "a code object's constant is missing")
            code = idx[g["code"]]
            edges = dict((n, t) for t, n in snap.edges[code])
            self.assertEqual(edges.get("co_consts"), g["consts"])
            self.assertEqual(edges.get("co_names"), g["names"])
            self.assertEqual(edges.get("co_filename"), g["file"])
            self.assertEqual(edges.get("co_name"), g["name"])
            consts = idx[g["consts"]]
            self.assertIn(g["const"], [t for t, n in snap.edges[consts]])
            # the local variable names
            names = [t for t, n in snap.edges[code] if n in ("co_varnames", "co_localsplusnames")]
            self.assertEqual(len(names), 1)
            self.assertIn(g["varname"], [t for t, n in snap.edges[idx[names[0]]]])
        # the constants count in the code objects' retained bytes: reached
        # from nothing else
        for g in got:
            holders = [i for i in range(len(snap.addr)) if g["const"] in (t for t, n in snap.edges[i])]
            self.assertEqual([snap.addr[i] for i in holders], [g["consts"]])
            break

    def thread_local(self, how):
        got, snap = self.child(TLS_CHILD, how)
        idx = snap.index()
        self.assertEqual(sum(1 for e in snap.edges for t, _ in e if t not in idx), 0,
                         "edges to objects not in the snapshot")
        local = dict((n, t) for t, n in snap.edges[idx[got["local"]]])
        self.assertEqual(local.get("<threads>"), got["dicts"], "the local's dict of dicts")
        names = dict((t, n) for t, n in snap.edges[idx[got["dicts"]]])
        return sorted(names.get(a) for a in got["per_thread"])

    def test_thread_local_dicts_are_named_by_their_thread(self):
        import sys
        if sys.implementation.name != "cpython":
            self.skipTest("thread states are read where the build is CPython's")
        self.assertEqual(self.thread_local("plain"),
                         ['thread "MainThread"', 'thread "worker-1"', 'thread "worker-2"'])

    def test_thread_local_dicts_redacted_by_place(self):
        import sys
        if sys.implementation.name != "cpython":
            self.skipTest("thread states are read where the build is CPython's")
        self.assertEqual(self.thread_local("redact"),
                         ['thread "MainThread"', 'thread "Thread-1"', 'thread "Thread-2"'])


if __name__ == "__main__":
    unittest.main()
