"""Benchmark: what recognising torch tensors costs a capture.

    /usr/bin/python3 internal/agent/bench_torch.py [--tensors N] [--repeat R] [--torch 0|1]

Imports torch (its modules, functions and types: some 300,000 objects),
makes N float32 tensors of 1,024 elements (1,000 by default) and a view
of each, takes R snapshots and prints the least CPU time one took
(process time: the writer thread's too), the buffer bytes charged, and
what reading one tensor costs (the reader the walk calls for each, timed
apart over all the tensors, best of R).
--torch 0 takes them with the recognition of tensors off (the agent
then charges tensors nothing, as it did before it knew them); --torch 1,
the default, with it on.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import objgraph_agent  # noqa: E402
import torch  # noqa: E402

from test_memory import buffer_rows  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tensors", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--torch", type=int, default=1)
    a = ap.parse_args()
    if not a.torch:
        objgraph_agent._torch_reader = lambda: None
    keep = []
    for _ in range(a.tensors):
        t = torch.ones(1024)
        keep.append(t)
        keep.append(t[::2])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "b.ogs")
        best = None
        for _ in range(a.repeat):
            t0 = time.process_time()
            objgraph_agent.snapshot(path)
            t = time.process_time() - t0
            best = t if best is None else min(best, t)
        charged = sum(o for o, _ in buffer_rows(path).values())
        os.unlink(path)
    per = None
    if a.torch:
        tr = objgraph_agent._torch_reader()
        read = tr.reader(torch.Tensor)
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            list(map(read, keep))
            t = (time.perf_counter() - t0) / len(keep)
            per = t if per is None else min(per, t)
    print("torch=%d tensors=%d cpu=%.3f s buffers=%d bytes%s" % (
        a.torch, a.tensors, best, charged, "" if per is None else " read=%.1f us/tensor" % (per * 1e6)))


main()
