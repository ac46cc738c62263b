"""The end of an in-process capture on a thread of the agent's: an
in-process snapshot not waited for returns once the walk is done, its file
appears only when complete, what fails reaches wait(), and neither the
program's exit nor a fork() meanwhile leaves a partial file or a stuck
thread.

Each test runs a program of its own in a fresh interpreter with a deadline.
The file's fsync is made to wait for the program's go-ahead, so that the
finishing thread is at work for as long as a test needs it to be.
"""

import os
import tempfile
import unittest

from test_agent import decode, run_python

DEADLINE = 90

PRELUDE = """if 1:
    import _thread, os, sys, threading, time
    import objgraph_agent
    class Node:
        def __init__(self, i):
            self.i = i
            self.name = "n%d" % i
            self.kids = [i]
    heap = [Node(i) for i in range(20000)]
    go = threading.Event()
    fsyncs = []
    real_fsync = os.fsync
    def fsync(fd):
        fsyncs.append(_thread.get_ident())
        go.wait(30)
        return real_fsync(fd)
    os.fsync = fsync
    me = _thread.get_ident()
    threads_before = _thread._count()
"""


def run(code):
    return run_python(PRELUDE + code, timeout=DEADLINE)


class FinishTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-finish-test-")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def path(self, name="snap.ogs"):
        return os.path.join(self.tmp, name)

    def check(self, r, out="ok"):
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), out.split(), r.stderr)

    def test_returns_before_the_file_is_finished(self):
        path = self.path()
        r = run("""
    objgraph_agent.snapshot(%r, fork=False)
    # back in the caller: the file is still being finished elsewhere
    assert not os.path.exists(%r), "file in place before its fsync"
    assert objgraph_agent.wait(0.2) is False
    go.set()
    assert objgraph_agent.wait() is True
    assert fsyncs and me not in fsyncs, fsyncs
    assert os.path.exists(%r)
    assert [f for f in os.listdir(os.path.dirname(%r)) if ".tmp-" in f] == []
    t = time.time()
    while _thread._count() > threads_before and time.time() - t < 10:
        time.sleep(0.01)
    assert _thread._count() == threads_before, (_thread._count(), threads_before)
    print("ok")
""" % (path, path, path, path))
        self.check(r)
        snap = decode(path)
        self.assertGreater(len(snap.addr), 60000)
        nodes = [j for j in range(len(snap.addr)) if snap.type_name(j) == "Node"]
        self.assertEqual(len(nodes), 20000)

    def test_waiting_finishes_on_the_calling_thread(self):
        path = self.path()
        r = run("""
    go.set()
    objgraph_agent.snapshot(%r, fork=False, wait=True)
    assert os.path.exists(%r)
    assert fsyncs and set(fsyncs) == {me}, fsyncs
    objgraph_agent.snapshot(%r + "2")
    assert os.path.exists(%r + "2")
    print("ok")
""" % (path, path, path, path))
        self.check(r)
        decode(path)
        decode(path + "2")

    def test_failure_reaches_wait(self):
        path = self.path()
        r = run("""
    go.set()
    def fail(a, b):
        raise OSError(28, "No space left on device")
    os.replace = fail
    objgraph_agent.snapshot(%r, fork=False)
    try:
        objgraph_agent.wait()
    except OSError as e:
        assert e.errno == 28, e
        print("raised")
    assert objgraph_agent.wait() is True  # raised once
    print(sorted(os.listdir(os.path.dirname(%r))) == [])
""" % (path, path))
        self.check(r, "raised True")
        self.assertIn("failed", r.stderr)
        self.assertIn("No space left on device", r.stderr)

    def test_next_snapshot_waits_for_the_one_before(self):
        path = self.path()
        r = run("""
    objgraph_agent.snapshot(%r, fork=False)
    threading.Timer(0.3, go.set).start()
    t = time.time()
    objgraph_agent.snapshot(%r, fork=False)
    assert time.time() - t >= 0.25, "did not wait for the first one's file"
    objgraph_agent.wait()
    print(len(fsyncs) >= 2)
""" % (path, path))
        self.check(r, "True")
        decode(path)
        self.assertEqual(os.listdir(self.tmp), ["snap.ogs"])

    def test_exit_right_after_leaves_a_complete_file(self):
        path = self.path()
        r = run("""
    t = threading.Timer(0.5, go.set)
    t.daemon = True  # not joined at exit: the agent's at-exit wait is what waits
    t.start()
    objgraph_agent.snapshot(%r, fork=False)
    print("ok")
    sys.exit(3)
""" % (path,))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stdout.split(), ["ok"])
        decode(path)
        self.assertEqual(os.listdir(self.tmp), ["snap.ogs"])

    def test_fork_while_finishing(self):
        path = self.path()
        r = run("""
    objgraph_agent.snapshot(%r, fork=False)
    pid = os.fork()
    if pid == 0:
        # the child has no finishing thread: nothing to wait for, and its
        # own snapshots work
        ok = objgraph_agent.wait(5) is True
        os.fsync = real_fsync
        objgraph_agent.snapshot(%r + ".child", fork=False, wait=True)
        os._exit(0 if ok and os.path.exists(%r + ".child") else 1)
    _, status = os.waitpid(pid, 0)
    go.set()
    objgraph_agent.wait()
    print(status == 0, os.path.exists(%r))
""" % (path, path, path, path))
        self.check(r, "True True")
        decode(path)
        decode(path + ".child")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["snap.ogs", "snap.ogs.child"])


if __name__ == "__main__":
    unittest.main()
