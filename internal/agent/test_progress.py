"""The walk's progress line (the agent's _progress): what objgraph reads
while it waits for a snapshot of a process it attached to. Each test runs
its program in a fresh interpreter with a deadline."""

import json
import os
import sys
import tempfile
import unittest

from test_agent import decode, run_python

CAN_FORK = hasattr(os, "fork") and not (hasattr(sys, "_is_gil_enabled") and not sys._is_gil_enabled())

# Takes a snapshot with a progress buffer in place (argv: path, fork,
# buffer kind) and prints the buffer as it is afterwards.
PROGRAM = r"""if 1:
    import json, mmap, sys
    import objgraph_agent
    class Node:
        def __init__(self, i):
            self.i = i
            self.name = "node-%d" % i
    heap = [Node(i) for i in range(300000)]
    path, fork, kind = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
    n = objgraph_agent._PROGRESS_LEN
    # a fork capture's child writes it: a shared mapping, as the attach
    # loader's file is
    buf = {"mmap": lambda: mmap.mmap(-1, n), "short": lambda: bytearray(n // 2)}[kind]()
    objgraph_agent._progress[0] = buf
    try:
        objgraph_agent.snapshot(path, fork=fork, wait=True)
    finally:
        objgraph_agent._progress[0] = None
    print(json.dumps({"line": bytes(buf[:]).decode("ascii", "replace")}))
"""


# An objgraph run process (OBJGRAPH_AGENT_STATE set) that takes a snapshot
# on SIGUSR2 (argv: snapshot dir, state dir, fork) and prints its path.
SIGNALLED = r"""if 1:
    import glob, json, os, signal, sys, time
    import objgraph_agent
    class Node:
        def __init__(self, i):
            self.i = i
    heap = [Node(i) for i in range(300000)]
    d, state, fork = sys.argv[1:4]
    objgraph_agent._autostart_from_env({"OBJGRAPH_AGENT_DIR": d, "OBJGRAPH_AGENT_STATE": state,
                                        "OBJGRAPH_AGENT_SIGNAL": "SIGUSR2", "OBJGRAPH_AGENT_FORK": fork})
    os.kill(os.getpid(), signal.SIGUSR2)
    deadline = time.monotonic() + 60
    while not glob.glob(os.path.join(d, "*.ogs")) and time.monotonic() < deadline:
        time.sleep(0.05)
    objgraph_agent.wait()
    objgraph_agent.uninstall()
    print(json.dumps({"path": glob.glob(os.path.join(d, "*.ogs"))[0]}))
"""


class ProgressTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-progress-test-")
        self.path = os.path.join(self.tmp, "s.ogs")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def run_program(self, fork, kind):
        r = run_python(None, args=["-c", PROGRAM, self.path, "1" if fork else "0", kind], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return json.loads(r.stdout)["line"]

    def check_line(self, line):
        self.assertTrue(line.endswith("\n"), repr(line))
        phase, objects, tracked = line.split()
        snap = decode(self.path)
        # the walk ends by saying so, with every object it wrote
        self.assertEqual(phase, "write")
        self.assertEqual(int(objects), len(snap.addr))
        ntracked = sum(1 for f in snap.flags if f & 1)
        self.assertGreater(int(tracked), 300000)
        self.assertLessEqual(int(tracked), ntracked)

    def test_in_process(self):
        self.check_line(self.run_program(False, "mmap"))

    @unittest.skipUnless(CAN_FORK, "no fork here")
    def test_fork(self):
        self.check_line(self.run_program(True, "mmap"))

    def check_signalled(self, fork):
        state = os.path.join(self.tmp, "state")
        os.mkdir(state, 0o700)
        try:
            r = run_python(None, args=["-c", SIGNALLED, self.tmp, state, fork], timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.path = json.loads(r.stdout)["path"]
            with open(os.path.join(state, "progress")) as f:
                self.check_line(f.read())
            self.assertEqual(os.stat(os.path.join(state, "progress")).st_mode & 0o777, 0o600)
        finally:
            for f in os.listdir(state):
                os.unlink(os.path.join(state, f))
            os.rmdir(state)

    def test_signalled(self):
        self.check_signalled("0")

    @unittest.skipUnless(CAN_FORK, "no fork here")
    def test_signalled_fork(self):
        self.check_signalled("1")

    def test_wrong_size(self):
        # a buffer it cannot write is given up, and the snapshot is whole
        line = self.run_program(False, "short")
        self.assertEqual(line.strip("\0"), "")
        self.assertGreater(len(decode(self.path).addr), 300000)


if __name__ == "__main__":
    unittest.main()
