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


class UntrackedTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-untracked-test-")
        self.path = os.path.join(self.tmp, "snap.ogs")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def child(self, code):
        r = run_python(code, args=(self.path,), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1]), decode(self.path)

    def test_untracked_local_held_by_a_cell_is_written_once(self):
        # an untracked object in a variable an inner function also uses: the
        # frame and the cell both lead to it (decode fails on a duplicate)
        got, snap = self.child(CELL_CHILD)
        idx = snap.index()
        self.assertIn(got["d"], idx)
        self.assertEqual(snap.type_name(idx[got["d"]]), "dict")
        self.assertIn((got["d"], "cell_contents"), snap.edges[idx[got["cell"]]])
        frames = [i for i in range(len(snap.addr)) if snap.type_name(i) == "frame"
                  and (got["d"], "d") in snap.edges[i]]
        self.assertEqual(len(frames), 1)


if __name__ == "__main__":
    unittest.main()
