"""Sizes in the snapshot against what tracemalloc traces in the live
process, and the referents of the untracked containers the walk reaches.

Each size case runs in a fresh interpreter: it allocates N objects of one
kind while tracemalloc traces, then takes a snapshot. The snapshot's bytes
for those objects (each one's size, plus the objects only it refers to,
such as a Logger's own lists and dicts) must be within 5% of the traced
bytes.
"""

import json
import os
import sys
import tempfile
import unittest

from test_agent import AGENT_DIR, decode, run_python

N = 20000

SIZE_CHILD = r'''
import gc, json, logging, sys, tracemalloc, types
import objgraph_agent
N = %(n)d
KEYS = ["key_%%d" %% i for i in range(5)]
SEQ = [object() for _ in range(10)]
NAMES = ["logger-%%d" %% i for i in range(N)]

class Plain:
    def __init__(self):
        self.a = 1; self.b = 2; self.c = 3; self.d = 4; self.e = 5; self.f = 6

class Slotted:
    __slots__ = ("a", "b", "c")
    def __init__(self):
        self.a = 1; self.b = 2; self.c = 3

class Wide:
    def __init__(self):
        for i, k in enumerate(KEYS):
            setattr(self, k, i)

def materialised():
    o = Plain()
    o.__dict__
    return o

class DictSub(dict):
    pass

class ListSub(list):
    pass

class SetSub(set):
    pass

def template():
    return "constant"

CODE = template.__code__
G = {}
make = %(make)s
held = [None] * N
gc.collect()
tracemalloc.start()
m0 = tracemalloc.get_traced_memory()[0]
for i in range(N):
    held[i] = make(i)
m1 = tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
objgraph_agent.snapshot(sys.argv[1], False)
print(json.dumps({"traced": m1 - m0, "held": id(held)}))
'''

CASES = [
    ("plain instances", "lambda i: Plain()"),
    ("instances of another class", "lambda i: Wide()"),
    ("instances with a __dict__ made", "lambda i: materialised()"),
    ("__slots__ instances", "lambda i: Slotted()"),
    ("dicts", "lambda i: dict.fromkeys(KEYS)"),
    ("dict subclass instances", "lambda i: DictSub.fromkeys(KEYS)"),
    ("lists", "lambda i: list(SEQ)"),
    ("list subclass instances", "lambda i: ListSub(SEQ)"),
    ("sets", "lambda i: set(SEQ)"),
    ("set subclass instances", "lambda i: SetSub(SEQ)"),
    ("functions", "lambda i: types.FunctionType(CODE, G)"),
    ("code objects", "lambda i: CODE.replace(co_firstlineno=i + 1)"),
    ("loggers", "lambda i: logging.Logger(NAMES[i])"),
]


class SizesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-sizes-test-")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def test_sizes_match_tracemalloc(self):
        for what, make in CASES:
            with self.subTest(what):
                path = os.path.join(self.tmp, "sizes.ogs")
                r = run_python(SIZE_CHILD % {"n": N, "make": make}, args=(path,), timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                got = json.loads(r.stdout.strip().splitlines()[-1])
                snap = decode(path)
                os.unlink(path)
                idx = snap.index()
                held = idx[got["held"]]
                made = [t for t, _ in snap.edges[held]]
                self.assertEqual(len(made), N)
                total = 0
                # each made object and what it alone holds
                todo = list(made)
                seen = set()
                while todo:
                    a = todo.pop()
                    if a in seen:
                        continue
                    seen.add(a)
                    i = idx[a]
                    total += snap.size[i]
                    todo.extend(t for t, _ in snap.edges[i] if snap.refcount[idx[t]] == 1)
                traced = got["traced"]
                self.assertLess(abs(total - traced), 0.05 * traced,
                                "%s: snapshot %d bytes (%.1f each), tracemalloc %d (%.1f each)"
                                % (what, total, total / N, traced, traced / N))


if __name__ == "__main__":
    unittest.main()
