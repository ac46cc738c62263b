"""Benchmark for objgraph_agent: capture speed, pause and memory.

    python3 internal/agent/bench_agent.py [--scale N] [--out FILE] [--repeat R]

Builds a heap of about 3.3 million objects per unit of scale (instances
with inline attributes, JSON-like dicts, lists, tuples, strings, ints and
floats, about half of them not tracked by the collector), then takes
snapshots and prints, per snapshot:

  objects     objects written (tracked + untracked), from the END record
  seconds     wall time of snapshot(), which is the program's pause: the
              capture holds the GIL except while it writes
  objects/s   objects / seconds
  rss+        peak RSS during the capture minus RSS before it, in bytes per
              object written.
  --busy N    starts N threads that run Python code all the time: the
              capture shares the GIL with them (the pause under load).
  --threads N starts N idle threads: with other threads the capture cannot
              assume the heap stands still and deduplicates every untracked
              object through its byte map (slower). Peak RSS is VmHWM from /proc/self/status,
              reset before the capture by writing 5 to /proc/self/clear_refs;
              where that is not allowed, RSS is sampled every millisecond by
              a thread instead.

--peer also runs a naive stdlib dumper on the same heap in the same process,
for comparison: it walks gc.get_objects() and everything they refer to one
object at a time, keeps a set of the ids it has seen, and writes one record
per object (id, type name, size, refcount, referent ids) with marshal; no
labels, no edge names, no roots.

The heap is built before measuring; the snapshot's file goes to --out (a
file in a temporary directory by default) and is removed afterwards unless
--keep is given.
"""

import argparse
import gc
import marshal
import os
import random
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import objgraph_agent  # noqa: E402


class Node:
    def __init__(self, i, parent):
        self.ident = i
        self.name = "node-%d" % i
        self.children = []
        self.parent = parent


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def build(scale):
    rnd = random.Random(42)
    heap = {}
    n = int(200000 * scale)
    nodes = []
    parent = None
    for i in range(n):
        node = Node(i + 1000, parent)
        if parent is not None and i % 4:
            parent.children.append(node)
        else:
            parent = node
        nodes.append(node)
    heap["nodes"] = nodes
    heap["records"] = [{"id": i + 1000, "name": "user%d" % i, "tags": ["t%d" % (i % 7), "x%d" % i],
                        "score": rnd.random()} for i in range(n)]
    heap["pairs"] = [(i + 1000, "p%d" % i) for i in range(n)]
    heap["points"] = [Point(rnd.random(), rnd.random()) for i in range(n // 2)]
    heap["floats"] = [rnd.random() for i in range(n * 2)]
    heap["blobs"] = {("key", i): b"%d" % i * 3 for i in range(n // 4)}
    return heap


def read_status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, read_status("VmRSS"))
            time.sleep(0.001)


def naive_dump(path):
    """The peer: a straightforward dumper, as one would write it first."""
    was = gc.isenabled()
    gc.disable()
    try:
        objs = gc.get_objects()
        seen = set(map(id, objs))
        out = []
        i = 0
        while i < len(objs):
            o = objs[i]
            i += 1
            refs = gc.get_referents(o)
            rids = [id(r) for r in refs]
            for r, k in zip(refs, rids):
                if k not in seen:
                    seen.add(k)
                    objs.append(r)
            out.append((id(o), type(o).__name__, sys.getsizeof(o), sys.getrefcount(o), rids))
        del objs, seen
        with open(path, "wb") as f:
            marshal.dump(out, f)
        return len(out)
    finally:
        if was:
            gc.enable()


def measure(fn):
    """Run fn(); return (its result, seconds, peak RSS growth in bytes, how)."""
    gc.collect()
    base = read_status("VmRSS")
    sampler = None
    if not reset_hwm():
        sampler = Sampler()
        sampler.start()
    t = time.perf_counter()
    res = fn()
    secs = time.perf_counter() - t
    if sampler:
        sampler.stop = True
        sampler.join()
        return res, secs, sampler.peak - base, "sampled"
    return res, secs, read_status("VmHWM") - base, "VmHWM"


def end_totals(path):
    with open(path, "rb") as f:
        f.seek(-(20 + 6 * 24 + 6 * 8), 2)
        rec = f.read()
    kind, rows, ncols = struct.unpack_from("<III", rec)
    assert kind == 7 and ncols == 6, "END record not found"
    vals = struct.unpack_from("<6Q", rec, 20 + 6 * 24)
    return {"objects": vals[0], "edges": vals[1], "strings": vals[2], "types": vals[3], "roots": vals[4]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1,
                    help="heap size in units of about 3.3 million objects (0.1: about 330,000)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--redact", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--peer", action="store_true", help="also run the naive dumper on the same heap")
    ap.add_argument("--busy", type=int, default=0,
                    help="start this many busy threads first (pure-Python loops that contend for the GIL): "
                         "the capture's pause with a loaded program")
    ap.add_argument("--stream", action="store_true",
                    help="write records during the walk even with other threads (the agent holds them "
                         "until the walk ends): for comparison")
    ap.add_argument("--threads", type=int, default=0,
                    help="start this many idle threads first (the capture then cannot assume that "
                         "nothing else runs, and deduplicates every untracked object)")
    args = ap.parse_args()

    if args.stream:
        objgraph_agent._tuning.hold_with_threads = False
    stop = threading.Event()
    for _ in range(args.threads):
        threading.Thread(target=stop.wait, daemon=True).start()

    def busy():
        while not stop.is_set():
            sum(range(200))
    for _ in range(args.busy):
        threading.Thread(target=busy, daemon=True).start()
    t = time.perf_counter()
    heap = build(args.scale)
    gc.collect()
    print("python %s; heap built in %.1f s; %d tracked objects; %d idle and %d busy threads" % (
        sys.version.split()[0], time.perf_counter() - t, len(gc.get_objects()), args.threads, args.busy))
    tmpdir = tempfile.mkdtemp(prefix="objgraph-bench-")
    out = args.out or os.path.join(tmpdir, "bench.ogs")
    for rep in range(args.repeat):
        if args.profile:
            import cProfile
            import pstats
            pr = cProfile.Profile()
            pr.enable()
        _, secs, grew, how = measure(lambda: objgraph_agent.snapshot(out, redact=args.redact))
        if args.profile:
            pr.disable()
        tot = end_totals(out)
        n = tot["objects"]
        print("snapshot %d: %d objects, %d edges, %.2f s, %.0f objects/s, rss+ %.1f MB = %.1f bytes/object (%s), "
              "file %.1f MB" % (rep + 1, n, tot["edges"], secs, n / secs, grew / 1e6, grew / n,
                                how, os.path.getsize(out) / 1e6))
        if args.profile:
            pstats.Stats(pr).sort_stats("tottime").print_stats(25)
    if args.peer:
        peer_out = out + ".naive"
        n, secs, grew, how = measure(lambda: naive_dump(peer_out))
        print("naive dumper: %d objects, %.2f s, %.0f objects/s, rss+ %.1f MB = %.1f bytes/object (%s), file %.1f MB" % (
            n, secs, n / secs, grew / 1e6, grew / n, how, os.path.getsize(peer_out) / 1e6))
        os.unlink(peer_out)
    if not args.keep:
        os.unlink(out)
        os.rmdir(tmpdir)
    del heap


if __name__ == "__main__":
    main()
