"""Benchmark: the pause a program sees, side by side.

    python3 internal/agent/bench_pause.py [--sizes 1,3,10] [--repeat 3] [--heartbeats 2]

Builds, in one process, heaps of 1M, 3M and 10M objects (instances with
attributes, dicts, lists, strings and ints; --sizes in millions, each
heap grown from the one before), and at each size measures the pause of:

  show_growth   objgraph.show_growth() (objgraph from Debian's
                python3-objgraph, /usr/lib/python3/dist-packages, or any
                objgraph importable)
  get_objects   gc.get_objects()
  floor         the least a snapshot made in Python does, and nothing
                more: each tracked object's id and type, and the id of
                what each of its references refers to (gc.get_referents
                of 4,096 objects at a time, so no list per object). No
                size, count, edge boundary or name, nothing of the
                untracked objects but their ids, no file: a snapshot
                must do all this and more, so an in-process snapshot
                taken in Python cannot pause the program for less
  snapshot      objgraph_agent.snapshot(path, fork=False): in-process
  fork          objgraph_agent.snapshot(path, fork=True): returns once the
                child runs; the child's own time and memory are reported
  attach        'objgraph snapshot PID --fork=always --injector ptrace' of
                this process, run from outside (--objgraph names the
                command; this row is left out without it): objgraph stops
                one thread with ptrace, a thread of this process borrowed
                at a safe point starts the agent's loader, which reads the
                agent, forks and waits for the child
  attach-gdb    the same with --injector gdb: gdb stops every thread

The pause of a call is the longest any thread of the program is held up:
the calling thread for the call's duration, and each of --heartbeats
threads for the longest gap between its beats (a beat every millisecond)
that overlaps the call (for attach, whose calling thread only waits for
the command, the heartbeats' alone). Each call runs --repeat times; the
median is printed, with its ratio to show_growth(), and the CPU time of
the calling thread during the call (time.thread_time), which other jobs on
the machine change far less than the wall time. For the fork snapshot, "child"
is the child's walk and write in seconds and "child MiB" the memory the
child held alone at the end (Private_Dirty), which the parent's container
pays for while the child runs.

For attach, "stopped" is how long the thread the loader ran on was held
(of it "attach", stopping it; no other thread is stopped), for attach-gdb
how long gdb held every thread stopped (of it "attach", ptrace's attach
and gdb setting itself up); "load" the loader
reading the agent and finding its own objects, "fork" the capture's time
before the fork returned, on the agent's thread, and "command" the wall
time of the whole command, the child's walk included.

--collect 0 takes both snapshots without gc.collect() first
(show_growth() always collects); the default collects.

The in-process snapshot returns once the walk is done; its file is
finished (compressed, written, synced, renamed) by a thread of the agent's
while the program goes on, and objgraph_agent.wait() is called after the
measured call, before the next one. --agent PATH (repeatable) measures the
agents of those files too, in turn with this one, on the same heap
(snapshot[NAME] rows, NAME the file's directory): the way to compare two
versions of the agent on a machine whose speed drifts.
"""

import argparse
import array
import importlib.util
import gc
import io
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import objgraph_agent  # noqa: E402

try:
    import objgraph
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import objgraph
    except ImportError:
        objgraph = None


class Item:
    def __init__(self, i):
        self.ident = i
        self.name = "item-%d" % i
        self.tags = [i, i + 1]
        self.attrs = {"rank": i * 3, "label": "l%d" % i}


def grow(heap, units):
    """Add units Items: about 8 objects each (the instance, its dict before
    3.11, a list, a dict, two strs, ints)."""
    start = len(heap)
    heap.extend(Item(i) for i in range(start, start + units))


class Heartbeat(threading.Thread):
    """A thread that beats every millisecond and keeps the longest gap
    between beats since reset()."""

    def __init__(self):
        super().__init__(daemon=True)
        self.gap = 0.0
        self.last = time.perf_counter()
        self.stop = False

    def run(self):
        while not self.stop:
            time.sleep(0.001)
            now = time.perf_counter()
            g = now - self.last
            self.last = now
            if g > self.gap:
                self.gap = g

    def reset(self):
        self.gap = 0.0


def floor(collect):
    """The least work of any heap snapshot taken in Python (see the
    module's doc); returns how many references it found."""
    if collect:
        gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        objs = gc.get_objects()
        ids = array.array("Q", map(id, objs))
        types = list(map(type, objs))
        targets = array.array("Q")
        for i in range(0, len(objs), 4096):
            targets.extend(map(id, gc.get_referents(*objs[i:i + 4096])))
        del objs, types, ids
        return len(targets)
    finally:
        if was:
            gc.enable()


def measure(fn, beats):
    for b in beats:
        b.reset()
    t = time.perf_counter()
    c = time.thread_time()
    res = fn()
    cpu = time.thread_time() - c
    call = time.perf_counter() - t
    time.sleep(0.05)  # for each beat to see the end of its gap
    gap = max([b.gap for b in beats] or [0.0])
    return res, max(call, gap), call, gap, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,3,10", help="heap sizes, in millions of objects")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--heartbeats", type=int, default=2)
    ap.add_argument("--collect", type=int, default=1)
    ap.add_argument("--only", default="show_growth,get_objects,floor,snapshot,fork,attach,attach-gdb")
    ap.add_argument("--agent", action="append", default=[], help="another agent file to measure in turn")
    ap.add_argument("--objgraph", default="", help="the objgraph command, for the attach row")
    args = ap.parse_args()
    agents = [("snapshot", objgraph_agent)]
    for k, f in enumerate(args.agent):
        spec = importlib.util.spec_from_file_location("objgraph_agent_%d" % k, f)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        agents.append(("snapshot[%s]" % os.path.basename(os.path.dirname(os.path.abspath(f))), mod))
    only = args.only.split(",")
    beats = [Heartbeat() for _ in range(args.heartbeats)]
    for b in beats:
        b.start()
    tmp = tempfile.mkdtemp(prefix="objgraph-pause-")
    path = os.path.join(tmp, "s.ogs")
    heap = []
    per_unit = None
    print("python %s, objgraph %s, %d heartbeat threads, collect=%d" % (
        sys.version.split()[0], getattr(objgraph, "__version__", "missing"), len(beats), args.collect))
    print("| objects | call | pause s (median) | runs | ÷ show_growth | caller's CPU s (median) | ÷ show_growth | notes |")
    print("|---|---|---|---|---|---|---|---|")
    for millions in [float(x) for x in args.sizes.split(",")]:
        target = int(millions * 1e6)
        # measure objects per unit once, then grow to the target
        if per_unit is None:
            for _, mod in agents[1:]:
                mod.snapshot(path, fork=False)  # each agent's first capture builds its tables
            objgraph_agent.snapshot(path, fork=False, wait=True)
            base_objects = objgraph_agent_count(path)
            grow(heap, 10000)
            gc.collect()
            objgraph_agent.snapshot(path, fork=False, wait=True)
            per_unit = (objgraph_agent_count(path) - base_objects) / 10000.0
        have = base_objects + int(len(heap) * per_unit)
        if target > have:
            grow(heap, int((target - have) / per_unit))
        gc.collect()
        rows = {}
        if objgraph is not None and "show_growth" in only:
            objgraph.show_growth(file=io.StringIO())  # the baseline
            rows["show_growth"] = [measure(lambda: objgraph.show_growth(file=io.StringIO()), beats)
                                   for _ in range(args.repeat)]
        if "get_objects" in only:
            rows["get_objects"] = [measure(lambda: len(gc.get_objects()), beats) for _ in range(args.repeat)]
        if "floor" in only:
            rows["floor"] = [measure(lambda: floor(args.collect), beats) for _ in range(args.repeat)]
        nobj = base_objects + int(len(heap) * per_unit)  # until a snapshot counts them
        if "snapshot" in only:
            for name, _ in agents:
                rows[name] = []
            for _ in range(args.repeat):
                for name, mod in agents:
                    rows[name].append(measure(
                        lambda: mod.snapshot(path, collect=bool(args.collect), fork=False), beats))
                    getattr(mod, "wait", lambda: None)()  # the file, finished on the agent's thread
                    nobj = objgraph_agent_count(path)
        notes = {}
        if "fork" in only:
            rows["fork"] = []
            child_s, child_mb = [], []
            for _ in range(args.repeat):
                os.path.exists(path) and os.unlink(path)
                rows["fork"].append(measure(
                    lambda: objgraph_agent.snapshot(path, collect=bool(args.collect), fork=True), beats))
                c = objgraph_agent._last_child[0]
                c.done.acquire()
                c.done.release()
                if c.private_bytes < 0:
                    raise SystemExit("fork snapshot failed: %r" % (c.outcome,))
                m = objgraph_agent_meta(path)["capture"]["fork"]
                child_s.append(m["child_seconds"])
                child_mb.append(c.private_bytes / 2**20)
                nobj = objgraph_agent_count(path)
            notes["fork"] = "child %.2f s, child %.0f MiB (estimate %.0f MiB)" % (
                statistics.median(child_s), statistics.median(child_mb), m["estimate_bytes"] / 2**20)
        for row, injector in (("attach", "ptrace"), ("attach-gdb", "gdb")):
            if row not in only or not args.objgraph:
                continue
            rows[row] = []
            det = []
            for _ in range(args.repeat):
                os.path.exists(path) and os.unlink(path)
                res, _, call, gap, cpu = measure(lambda: attach(args.objgraph, path, injector), beats)
                rows[row].append((res, gap, call, gap, cpu))
                det.append(res)
                nobj = objgraph_agent_count(path)
            med = lambda k: statistics.median([d[k] for d in det])  # noqa: E731
            notes[row] = "%s stopped %.3f s (attach %.3f), load %.3f s, fork %.3f s, command %.2f s, child %.0f MiB" % (
                "one thread" if injector == "ptrace" else "every thread",
                med("stopped_seconds"), med("attach_seconds"), med("load_seconds"), med("fork_pause_seconds"),
                statistics.median([r[2] for r in rows[row]]), med("child_private_bytes") / 2**20)
        base = statistics.median([r[1] for r in rows["show_growth"]]) if "show_growth" in rows else None
        cbase = statistics.median([r[4] for r in rows["show_growth"]]) if "show_growth" in rows else None
        for name, rs in rows.items():
            p = statistics.median([r[1] for r in rs])
            cp = statistics.median([r[4] for r in rs])
            ratio = "%.2f×" % (p / base) if base else "—"
            cratio = "%.2f×" % (cp / cbase) if cbase else "—"
            print("| %s | %s | %.3f | %s | %s | %.3f | %s | %s |" % (
                "{:,}".format(nobj), name, p, ", ".join("%.3f" % r[1] for r in rs), ratio, cp, cratio,
                notes.get(name, "")))
        sys.stdout.flush()
    for b in beats:
        b.stop = True
    if os.path.exists(path):
        os.unlink(path)
    os.rmdir(tmp)


def attach(objgraph_cmd, path, injector):
    """objgraph snapshot of this process from outside; its --json output."""
    import json
    import subprocess
    p = subprocess.run([objgraph_cmd, "snapshot", str(os.getpid()), "--json", "--fork=always",
                        "--injector", injector, "-o", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if p.returncode != 0:
        raise SystemExit("objgraph snapshot failed: %s" % p.stderr.decode("utf-8", "replace"))
    return json.loads(p.stdout)


def objgraph_agent_meta(path):
    import json
    import struct
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    # file header (16 bytes), then the META record: header (20), one column entry (24), the JSON
    kind, rows, ncols, blen, crc = struct.unpack_from("<IIIII", head, 16)
    raw = head[16 + 20 + 24 * ncols:16 + 20 + blen]
    return json.loads(raw.rstrip(b" \x00").decode())


def objgraph_agent_count(path):
    import struct
    with open(path, "rb") as f:
        f.seek(-(20 + 6 * 24 + 6 * 8), 2)
        rec = f.read()
    kind, rows, ncols = struct.unpack_from("<III", rec)
    assert kind == 7 and ncols == 6, "END record not found"
    return struct.unpack_from("<6Q", rec, 20 + 6 * 24)[0]


if __name__ == "__main__":
    main()
