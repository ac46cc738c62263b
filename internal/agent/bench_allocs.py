"""Benchmark: what tracemalloc tracing costs a capture.

    PYTHONTRACEMALLOC=1 python3 -S internal/agent/bench_allocs.py [--dicts N] [--repeat R] [--pause 0|1]

Builds N small dicts (50,000 by default: with their keys' ints, about
100,000 objects more than the interpreter's own), takes R snapshots and
prints the least CPU time one took (process time: the writer thread's
too), whether tracemalloc was tracing after them and its frame limit.
--pause 0 reads
the tracebacks during the walk with tracing on (_tuning.pause_tracemalloc
off); --pause 1, the default, reads them first and stops tracemalloc for
the walk. Run it without PYTHONTRACEMALLOC for the cost without tracing.
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import objgraph_agent  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dicts", type=int, default=50000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pause", type=int, default=1)
    a = ap.parse_args()
    objgraph_agent._tuning.pause_tracemalloc = bool(a.pause)
    keep = [{"k": i} for i in range(a.dicts)]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "b.ogs")
        best = None
        for _ in range(a.repeat):
            t0 = time.process_time()
            objgraph_agent.snapshot(path)
            t = time.process_time() - t0
            best = t if best is None else min(best, t)
            os.unlink(path)
    print("tracing=%s frames=%d pause=%d dicts=%d cpu=%.3f s" % (
        tracemalloc.is_tracing(), tracemalloc.get_traceback_limit(), a.pause, len(keep), best))


main()
