"""The agent inside a host process: what other threads, signal handlers,
fork() and the program's own __sizeof__ do during a capture must neither
hang the process nor change it.

Each test runs a program of its own in a fresh interpreter (sys.executable)
with a deadline: a hang is a failure, not a stuck test run.
"""

import os
import signal
import sys
import tempfile
import unittest

from test_agent import decode, run_python

DEADLINE = 90

# A heap big enough that a capture takes a while (tens of milliseconds)
# and a helper that waits until a capture is in its walk.
PRELUDE = """if 1:
    import gc, os, signal, sys, threading, time
    import objgraph_agent
    class Node:
        def __init__(self, i):
            self.i = i
            self.name = "n%d" % i
            self.kids = [i]
    heap = [Node(i) for i in range(60000)]
    def walking():
        return objgraph_agent._walkn[objgraph_agent._WALK_OWNER] != 0
    def wait_walk(timeout=30):
        t = time.time()
        while not walking():
            if time.time() - t > timeout:
                raise SystemExit("no capture seen")
            time.sleep(0.0002)
"""


def run(code, args=()):
    return run_python(PRELUDE + code, timeout=DEADLINE, args=args)


class SafetyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-safety-test-")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def path(self, name="snap.ogs"):
        return os.path.join(self.tmp, name)

    def test_other_threads_toggle_gc(self):
        """Threads that re-enable gc, disable and re-enable it around
        critical sections, call gc.collect() and change thresholds: every
        capture finishes (an automatic collection in the agent's writer
        thread used to wait for the capture that waited for the writer) and
        gc ends as the program last set it."""
        code = """
    stop = False
    def reenabler():
        while not stop:
            gc.enable()
            junk = [[] for _ in range(20)]
            time.sleep(0.0005)
    def toggler():
        while not stop:
            gc.disable()
            junk = [[] for _ in range(50)]
            gc.enable()
            time.sleep(0.0005)
    def collector():
        while not stop:
            gc.collect()
            time.sleep(0.002)
    def thresholds():
        while not stop:
            gc.set_threshold(1)
            time.sleep(0.0005)
            gc.set_threshold(700)
            time.sleep(0.0005)
    ts = [threading.Thread(target=f) for f in (reenabler, toggler, collector, thresholds)]
    for t in ts:
        t.start()
    for k in range(8):
        objgraph_agent.snapshot(sys.argv[1] + str(k))
    stop = True
    for t in ts:
        t.join()
    # the program's last word stands: enabled by the togglers, 700
    assert gc.isenabled(), "gc left disabled"
    assert gc.get_threshold()[0] == 700, gc.get_threshold()
    assert objgraph_agent._gc_guard not in gc.callbacks
    gc.disable()
    objgraph_agent.snapshot(sys.argv[1] + "x")
    assert not gc.isenabled(), "gc enabled by the agent"
    print("ok")
"""
        r = run(code, [self.path()])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ok")
        self.assertEqual(len(os.listdir(self.tmp)), 9)
        for f in os.listdir(self.tmp):
            decode(os.path.join(self.tmp, f))

    def test_gc_state_of_the_program_stands(self):
        """A thread that turns gc off during the capture, and leaves it off,
        finds it off afterwards; the switch interval and thresholds are as
        they were."""
        code = """
    def off():
        wait_walk()
        gc.disable()
    si, thr = sys.getswitchinterval(), gc.get_threshold()
    t = threading.Thread(target=off)
    t.start()
    objgraph_agent.snapshot(sys.argv[1])
    t.join()
    assert not gc.isenabled(), "the program's gc.disable() was undone"
    assert sys.getswitchinterval() == si, sys.getswitchinterval()
    assert gc.get_threshold() == thr, gc.get_threshold()
    print("ok")
"""
        r = run(code, [self.path()])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_program_sizeof_never_runs(self):
        """A __sizeof__ written in Python is the program's code: it would
        deadlock here (it takes a lock that a thread blocked in gc.collect()
        holds). The snapshot gives the C-level size, flagged estimated."""
        code = """
    lock = threading.Lock()
    calls = []
    class Sized:
        def __init__(self):
            self.a = 1
        def __sizeof__(self):
            calls.append(1)
            with lock:
                return 10 ** 6
    class Plain:
        def __init__(self):
            self.a = 1
    class SizedDict(dict):
        def __sizeof__(self):
            calls.append(1)
            with lock:
                return 10 ** 6
    objs = [Sized() for _ in range(100)]
    plain = Plain()
    sd = SizedDict(a=1, b=2)
    stop = False
    def holder():
        while not stop:
            with lock:
                gc.collect()
    t = threading.Thread(target=holder)
    t.start()
    for k in range(3):
        objgraph_agent.snapshot(sys.argv[1])
    stop = True
    t.join()
    assert not calls, "__sizeof__ ran %d times" % len(calls)
    class PlainDict(dict):
        pass
    print(id(objs[0]), sys.getsizeof(plain), id(sd), sys.getsizeof(PlainDict(a=1, b=2)), id(plain))
"""
        r = run(code, [self.path()])
        self.assertEqual(r.returncode, 0, r.stderr)
        oid, plain_size, did, dict_size, pid = map(int, r.stdout.split())
        snap = decode(self.path())
        idx = snap.index()
        i = idx[oid]
        # the C-level size, and on 3.11+ the attribute values, the same as
        # for the first instance of a class alike with no __sizeof__
        self.assertEqual(snap.size[i], snap.size[idx[pid]])
        if sys.version_info < (3, 11):
            self.assertEqual(snap.size[i], plain_size)
        else:
            self.assertGreater(snap.size[i], plain_size)
        self.assertTrue(snap.flags[i] & (1 << 12), "size not flagged estimated")
        j = idx[did]
        self.assertEqual(snap.size[j], dict_size)
        self.assertTrue(snap.flags[j] & (1 << 12))
        plain = [k for k in range(len(snap.addr)) if snap.type_name(k) == "Plain"]
        self.assertFalse(snap.flags[plain[0]] & (1 << 12))

    def test_extension_getsets_never_run(self):
        """The attribute names tried to name an instance's edges come from
        its class's code; one that an extension type defines as a getset
        is never read: TextIOWrapper.closed asks its buffer, which asks the
        raw stream, whose closed is the program's property."""
        code = """
    import io
    ran = []
    class Raw(io.RawIOBase):
        @property
        def closed(self):
            ran.append(1)
            return False
        def readable(self):
            return True
    class Wrapper(io.TextIOWrapper):
        def state(self):
            return self.closed, self.name, self.line_buffering
    ws = [Wrapper(io.BufferedReader(Raw()), encoding="utf-8") for _ in range(20)]
    del ran[:]
    objgraph_agent.snapshot(sys.argv[1])
    assert not ran, "the program's property ran %d times" % len(ran)
"""
        r = run(code, [self.path()])
        self.assertEqual(r.returncode, 0, r.stderr)
        decode(self.path())

    @unittest.skipUnless(hasattr(os, "fork"), "no fork")
    def test_fork_during_capture(self):
        """A thread forks while the capture runs on another: the child has
        the program's gc state, thresholds and callbacks, no agent state,
        and can collect and take its own snapshot."""
        code = """
    gc.set_threshold(555)
    si = sys.getswitchinterval()
    result = {}
    def forker():
        wait_walk()
        pid = os.fork()
        if pid == 0:
            ok = (gc.isenabled() and gc.get_threshold()[0] == 555 and sys.getswitchinterval() == si
                  and objgraph_agent._gc_guard not in gc.callbacks
                  and not walking() and objgraph_agent._owner[0] == 0)
            gc.collect()
            objgraph_agent.snapshot(sys.argv[1] + ".child")
            os._exit(0 if ok else 3)
        result["status"] = os.waitpid(pid, 0)[1]
    t = threading.Thread(target=forker)
    t.start()
    objgraph_agent.snapshot(sys.argv[1])
    t.join()
    st = result["status"]
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, "child status %r" % st
    print("ok")
"""
        r = run(code, [self.path()])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ok")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["snap.ogs", "snap.ogs.child"])
        decode(self.path("snap.ogs.child"))

    @unittest.skipUnless(hasattr(signal, "SIGUSR2"), "no SIGUSR2")
    def test_program_exceptions_in_signal_handlers_propagate(self):
        """SystemExit from a SIGTERM handler and TimeoutError from a SIGALRM
        handler that run during a signal-triggered capture reach the
        program, after the agent has put everything back."""
        code = """
    mode = sys.argv[2]
    objgraph_agent.install(signal.SIGUSR2, sys.argv[1])
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(7))
    def alarm(s, f):
        raise TimeoutError("deadline")
    signal.signal(signal.SIGALRM, alarm)
    me = os.getpid()
    def poke():
        wait_walk()
        os.kill(me, signal.SIGTERM if mode == "term" else signal.SIGALRM)
    threading.Thread(target=poke, daemon=True).start()
    try:
        os.kill(me, signal.SIGUSR2)
        time.sleep(30)
    except TimeoutError as e:
        assert gc.isenabled() and objgraph_agent._gc_guard not in gc.callbacks
        assert not walking()
        print("caught", e)
        sys.exit(0)
    print("not interrupted")
"""
        r = run(code, [self.tmp, "term"])
        self.assertEqual(r.returncode, 7, r.stdout + r.stderr)
        self.assertNotIn("snapshot failed", r.stderr)
        r = run(code, [self.tmp, "alarm"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "caught deadline")
        self.assertEqual([f for f in os.listdir(self.tmp) if ".tmp-" in f], [])

    def test_asyncio_program_exits_after_snapshot(self):
        """An asyncio program snapshotted from a coroutine, with a freed
        FutureIter in _asyncio's free list, collects and exits with its own
        status within the deadline (on 3.12 a walk that took the module's
        freed FutureIter objects as referents freed them again, and the
        next collection never ended). No object the walk reaches is one
        with no reference: every mortal object in the snapshot has a
        reference count of at least 1."""
        prog = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "asyncio_tasks.py")
        r = run_python(None, timeout=DEADLINE, args=[prog, self.path()])
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        snap = decode(self.path())
        immortal = 1 << 6
        dead = [(snap.type_name(i), hex(snap.addr[i])) for i in range(len(snap.addr))
                if snap.refcount[i] == 0 and not snap.flags[i] & immortal]
        self.assertEqual(dead, [])

    def test_failed_snapshot_is_reported_not_raised(self):
        """The agent's own failures (here an unwritable directory) are said
        on stderr; the program goes on."""
        code = """
    objgraph_agent.install(None, sys.argv[1])
    objgraph_agent._installed.directory = os.path.join(sys.argv[1], "gone")
    assert objgraph_agent._installed.take() is None
    print("ok")
"""
        r = run(code, [self.tmp])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("snapshot failed", r.stderr)


if __name__ == "__main__":
    unittest.main()
