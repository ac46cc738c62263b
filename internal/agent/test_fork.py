"""Tests of the fork capture (objgraph_agent.snapshot(path, fork=True)).

Each test runs its program in a fresh interpreter with a deadline, so a
hang or a crash fails the test rather than the suite."""

import json
import os
import sys
import tempfile
import unittest

from test_agent import decode, run_python

CAN_FORK = hasattr(os, "fork") and not (hasattr(sys, "_is_gil_enabled") and not sys._is_gil_enabled())

# The program: a heap, an idle thread blocked in a lock (whose frames only
# the parent can record), an in-process snapshot and a fork snapshot of the
# same quiescent moment (a warm-up in-process snapshot first, so that no
# first-use cache of the interpreter's differs between the two).
EQUAL_PROGRAM = r"""if 1:
    import gc, json, os, sys, threading, time
    import objgraph_agent
    class Node:
        def __init__(self, i):
            self.i = i
            self.name = "node-%d" % i
            self.kids = []
    heap = [Node(i) for i in range(20000)]
    for a, b in zip(heap, heap[1:]):
        a.kids.append(b)
    table = {"k%d" % i: [i, str(i), float(i)] for i in range(5000)}
    ev = threading.Event()
    def idle(ev):
        planted = ["local of the idle thread"]
        ev.wait()
    t = threading.Thread(target=idle, args=(ev,), name="idler")
    t.start()
    time.sleep(0.2)
    d = sys.argv[1]
    before = (gc.isenabled(), gc.get_threshold(), len(gc.callbacks), sys.getswitchinterval())
    objgraph_agent.snapshot(os.path.join(d, "warm.ogs"), fork=False)
    objgraph_agent.snapshot(os.path.join(d, "inproc.ogs"), fork=False)
    objgraph_agent.snapshot(os.path.join(d, "fork.ogs"), fork=True, wait=True)
    after = (gc.isenabled(), gc.get_threshold(), len(gc.callbacks), sys.getswitchinterval())
    ev.set()
    t.join()
    try:
        os.waitpid(-1, os.WNOHANG)
        children = "some"
    except ChildProcessError:
        children = "none"
    json.dump({"before": before, "after": after, "children": children,
               "threading": id(vars(threading)), "nodes": [id(n) for n in heap]},
              open(os.path.join(d, "facts.json"), "w"))
"""

# what threading's own at-fork handler replaces in the child (new locks,
# the forking thread's ident, the stopped threads' state)
AT_FORK_TYPES = {"_thread.lock", "_thread.RLock", "builtins.int", "builtins.set", "weakref.ReferenceType", "builtins.weakref",
                 "builtins.builtin_function_or_method", "collections.deque", "builtins.bool"}
THREAD_TYPES = {"threading.Thread", "threading._MainThread"}


@unittest.skipUnless(CAN_FORK, "no fork() here, or a free-threaded build")
class ForkCaptureTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="objgraph-fork-test-")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def test_fork_snapshot_equals_in_process_snapshot(self):
        """The same objects (address, type) and edges as an in-process
        snapshot of the same quiescent moment, but for what threading's
        at-fork handler replaces in the child; no zombie; gc state as the
        program left it."""
        r = run_python(None, args=["-c", EQUAL_PROGRAM, self.tmp], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "facts.json")) as f:
            facts = json.load(f)
        self.assertEqual(facts["before"], facts["after"], "gc state changed")
        self.assertEqual(facts["children"], "none", "a child is left (a zombie, or not reaped)")
        A = decode(os.path.join(self.tmp, "inproc.ogs"))
        B = decode(os.path.join(self.tmp, "fork.ogs"))
        fork_meta = B.meta["capture"]["fork"]
        self.assertGreater(fork_meta["child_private_bytes"], 0)
        self.assertGreater(fork_meta["estimate_bytes"], 0)
        ia, ib = A.index(), B.index()
        oa = {(a, A.type_qualname(i)) for i, a in enumerate(A.addr)}
        ob = {(a, B.type_qualname(i)) for i, a in enumerate(B.addr)}
        self.assertGreater(len(oa), 100000)
        diff = oa ^ ob
        self.assertLessEqual(len(diff), 16, sorted(diff, key=str))
        for a, t in diff:
            self.assertIn(t, AT_FORK_TYPES, "%s at %#x is in one snapshot only" % (t, a))
        # the objects threading's at-fork handler writes to: its module
        # dict, the Thread objects and what they hold (their dicts before
        # 3.11, their Events and Conditions), the sets and dicts of its state
        thr = facts["threading"]
        self.assertIn(thr, ia)
        state = {thr}
        inner = {"builtins.dict", "builtins.set", "_weakrefset.WeakSet", "threading.Event", "threading.Condition",
                 "collections.deque", "builtins.builtin_function_or_method"} | THREAD_TYPES
        for S, idx in ((A, ia), (B, ib)):
            todo = [thr] + [a for i, a in enumerate(S.addr) if S.type_qualname(i) in THREAD_TYPES]
            depth = {a: 0 for a in todo}
            while todo:
                a = todo.pop()
                state.add(a)
                if depth[a] >= 6:
                    continue
                for dst, _ in S.edges[idx[a]]:
                    if dst in idx and dst not in depth and S.type_qualname(idx[dst]) in inner:
                        depth[dst] = depth[a] + 1
                        todo.append(dst)

        def edges(S):
            return {(S.addr[i], dst, nm) for i in range(len(S.addr)) for dst, nm in S.edges[i]}
        ea, eb = edges(A), edges(B)
        for src, dst, nm in ea ^ eb:
            if src in state:
                continue
            ts = A.type_qualname(ia[src]) if src in ia else B.type_qualname(ib[src])
            # an object replaced by one of the same type at the same address
            # (a bound method of a new lock, on 3.8) refers to the new one
            replaced = ts in AT_FORK_TYPES and any(x[0] == dst for x in diff)
            self.assertTrue((src, ts) in diff or replaced, "edge %s from %s at %#x differs" % (nm, ts, src))
        # the program's heap, exactly
        for a in facts["nodes"]:
            self.assertEqual(sorted(A.edges[ia[a]], key=str), sorted(B.edges[ib[a]], key=str))
        # the idle thread's frames and their locals, recorded before the fork
        planted = [B.addr[i] for i, lab in enumerate(B.label) if lab == "'local of the idle thread'"]
        self.assertEqual(len(planted), 1)
        local = [r for r in B.roots if "idler" in r[1] and r[1].endswith(": planted")]
        self.assertEqual(len(local), 1, [r[1] for r in B.roots if "idler" in r[1]])
        self.assertIn(local[0][2], ib)

    def test_returns_at_once_and_reaps_its_child(self):
        """fork=True returns before the child is done; the file appears
        complete; the agent's reaper leaves the program's own child alone
        (the program waits for it and gets its status)."""
        code = r"""if 1:
            import os, sys, time, objgraph_agent
            heap = [[i] for i in range(300000)]
            mine = os.fork()
            if mine == 0:
                time.sleep(1.0)
                os._exit(7)
            p = os.path.join(sys.argv[1], "f.ogs")
            t = time.perf_counter()
            objgraph_agent.snapshot(p, fork=True)
            back = time.perf_counter() - t
            seen_early = os.path.exists(p)
            end = time.time() + 60
            while not os.path.exists(p) and time.time() < end:
                time.sleep(0.01)
            c = objgraph_agent._last_child[0]
            c.done.acquire(timeout=60)
            pid, status = os.waitpid(mine, 0)
            print(back, seen_early, os.WEXITSTATUS(status), os.path.exists("/proc/%d" % c.pid), c.private_bytes)
        """
        r = run_python(None, args=["-c", code, self.tmp], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        back, seen_early, status, child_left, private = r.stdout.split()
        self.assertEqual(seen_early, "False", "the file was in place before the child could have written it")
        self.assertEqual(status, "7", "the program's own child was not the program's to reap")
        self.assertEqual(child_left, "False", "the snapshot's child is still there (a zombie)")
        self.assertGreater(int(private), 0)
        s = decode(os.path.join(self.tmp, "f.ogs"))
        self.assertGreater(len(s.addr), 300000)
        self.assertEqual([f for f in os.listdir(self.tmp) if ".tmp-" in f], [])

    def test_busy_threads_each_object_once(self):
        """A fork snapshot taken on a thread threading did not start while
        threading's threads run Python code (as objgraph snapshot PID's
        loader takes it) writes each address once: the objects the parent
        wrote for the running frames are not written again by the child."""
        code = r"""if 1:
            import _thread, os, sys, threading, objgraph_agent
            running = [True]
            def spin():
                while running[0]:
                    junk = [str(i) for i in range(50)]
            for _ in range(3):
                threading.Thread(target=spin, daemon=True).start()
            done = _thread.allocate_lock()
            done.acquire()
            def take():
                try:
                    for k in range(3):
                        objgraph_agent.snapshot(os.path.join(sys.argv[1], "b%d.ogs" % k), fork=True, wait=True)
                finally:
                    running[0] = False
                    done.release()
            _thread.start_new_thread(take, ())
            while running[0]:
                junk = [i for i in range(100)]
            done.acquire()
        """
        r = run_python(None, args=["-c", code, self.tmp], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        for k in range(3):
            s = decode(os.path.join(self.tmp, "b%d.ogs" % k))
            dup = len(s.addr) - len(set(s.addr))
            self.assertEqual(dup, 0, "snapshot %d: %d addresses written twice" % (k, dup))

    def test_fork_refusal_says_why(self):
        """_fork_refusal() (objgraph snapshot PID --fork=auto) is None where
        a fork capture would be taken whatever the heap's size, and the
        memory check's message where the child would not fit."""
        code = r"""if 1:
            import objgraph_agent as a
            print(repr(a._fork_refusal()))
            a._fork_budget = lambda: (8 << 30, 1 << 30, "MemAvailable")
            print(a._fork_refusal())
        """
        r = run_python(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        first, second = r.stdout.splitlines()
        self.assertEqual(first, "None")
        self.assertIn("a fork snapshot would copy about 8192 MiB of this process's memory, and MemAvailable leaves 1024 MiB", second)

    def test_refuses_when_memory_is_short(self):
        """An estimate over what the process may use: a clear MemoryError,
        no child, no file."""
        code = r"""if 1:
            import os, sys, objgraph_agent
            for m in [m for n, m in sys.modules.items() if n.startswith("objgraph_agent")]:
                if "_FORK_SHARE" in vars(m):
                    m._FORK_SHARE = 1e-9
            p = os.path.join(sys.argv[1], "f.ogs")
            try:
                objgraph_agent.snapshot(p, fork=True)
            except MemoryError as e:
                print("refused:", e)
            try:
                os.waitpid(-1, os.WNOHANG)
                print("a child")
            except ChildProcessError:
                pass
            print(sorted(os.listdir(sys.argv[1])))
        """
        r = run_python(None, args=["-c", code, self.tmp], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("refused: objgraph_agent: a fork snapshot would copy about", r.stdout)
        self.assertIn("take the snapshot in-process", r.stdout)
        self.assertNotIn("a child", r.stdout)
        self.assertIn("[]", r.stdout)

    def test_failure_in_the_child_is_reported(self):
        """A child that cannot write its file: wait=True raises with the
        child's error, no temporary file is left, the program goes on."""
        code = r"""if 1:
            import os, sys, objgraph_agent
            for m in [m for n, m in sys.modules.items() if n.startswith("objgraph_agent")]:
                if "_walk_gens" in vars(m) and "_child" in vars(m):
                    def boom(*a):
                        raise OSError(28, "No space left on device (simulated)")
                    m._walk_gens = boom
            p = os.path.join(sys.argv[1], "f.ogs")
            try:
                objgraph_agent.snapshot(p, fork=True, wait=True)
            except OSError as e:
                print("raised:", e)
            print(sorted(os.listdir(sys.argv[1])))
        """
        r = run_python(None, args=["-c", code, self.tmp], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("raised: objgraph_agent: fork snapshot", r.stdout)
        self.assertIn("No space left on device (simulated)", r.stdout)
        self.assertIn("[]", r.stdout)

    def test_signal_path_forks_when_asked(self):
        """install(fork=True): the snapshot on a signal is a fork snapshot,
        and the agent says so on stderr once the child is done."""
        code = r"""if 1:
            import os, signal, sys, time, objgraph_agent
            objgraph_agent.install(signal.SIGUSR2, sys.argv[1], fork=True)
            os.kill(os.getpid(), signal.SIGUSR2)
            end = time.time() + 60
            while not [f for f in os.listdir(sys.argv[1]) if f.endswith(".ogs")] and time.time() < end:
                time.sleep(0.01)
            objgraph_agent._last_child[0].done.acquire(timeout=60)
            time.sleep(0.1)
        """
        r = run_python(None, args=["-c", code, self.tmp], timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = [f for f in os.listdir(self.tmp) if f.endswith(".ogs")]
        self.assertEqual(len(files), 1, files)
        s = decode(os.path.join(self.tmp, files[0]))
        self.assertIn("fork", s.meta["capture"])
        self.assertIn("objgraph_agent: wrote %s" % os.path.join(self.tmp, files[0]), r.stderr)


if __name__ == "__main__":
    unittest.main()
