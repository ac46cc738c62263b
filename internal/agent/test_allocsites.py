"""Allocation sites: tracemalloc is stopped during the walk and started
again after it with its frame limit, on every path, and the interpreter's
free lists are refilled with traced blocks; with pause_tracemalloc off,
tracemalloc keeps its traces through a capture.

Each case runs in an interpreter of its own, started with -S so that its
heap is small.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from test_agent import AGENT_DIR

CHILD = r'''
import json, os, sys, tracemalloc
sys.path.insert(0, %(agent)r)
import objgraph_agent
path = %(path)r
out = {}
tracemalloc.start(4)
early = [{"n": i} for i in range(100)]
objgraph_agent._tuning.pause_tracemalloc = %(pause)s
out["early_before"] = sum(tracemalloc.get_object_traceback(o) is not None for o in early)
objgraph_agent.snapshot(path)
out["tracing"] = tracemalloc.is_tracing()
out["frames"] = tracemalloc.get_traceback_limit()
# made right after the capture, from the free lists: traced (the lists'
# and floats' free lists may also get blocks the capture's threads free
# later, so only dicts and tuples are sure)
n = len(early)
made = [{}, tuple(range(n %% 7))]
out["made_traced"] = [tracemalloc.get_object_traceback(o) is not None for o in made]
out["early_traced"] = sum(tracemalloc.get_object_traceback(o) is not None for o in early)
# a capture that fails (its directory is gone) restores tracing too
try:
    objgraph_agent.snapshot(os.path.join(path + ".missing", "x.ogs"))
except OSError:
    out["failed"] = True
out["tracing_after_failure"] = tracemalloc.is_tracing()
out["frames_after_failure"] = tracemalloc.get_traceback_limit()
os.unlink(path)
print(json.dumps(out))
'''


def run_child(pause):
    d = tempfile.mkdtemp()
    try:
        code = CHILD % {"agent": AGENT_DIR, "path": os.path.join(d, "a.ogs"), "pause": pause}
        out = subprocess.run([sys.executable, "-S", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=300, check=False)
    finally:
        os.rmdir(d)
    if out.returncode != 0:
        raise AssertionError(out.stdout.decode("utf-8", "replace"))
    return json.loads(out.stdout.decode().splitlines()[-1])


class AllocSitesTest(unittest.TestCase):
    def test_paused_and_restored(self):
        r = run_child(True)
        self.assertTrue(r["tracing"])
        self.assertEqual(r["frames"], 4)
        self.assertEqual(r["made_traced"], [True, True])
        # tracemalloc forgot what it traced before the capture
        self.assertEqual(r["early_traced"], 0)
        self.assertTrue(r["failed"])
        self.assertTrue(r["tracing_after_failure"])
        self.assertEqual(r["frames_after_failure"], 4)

    def test_not_paused(self):
        r = run_child(False)
        self.assertTrue(r["tracing"])
        self.assertEqual(r["frames"], 4)
        self.assertGreater(r["early_before"], 50)
        self.assertEqual(r["early_traced"], r["early_before"])
        self.assertTrue(r["tracing_after_failure"])


if __name__ == "__main__":
    unittest.main()
