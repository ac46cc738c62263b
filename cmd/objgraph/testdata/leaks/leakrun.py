"""Runs a leaking workload and takes three snapshots of it with the
capture agent: after 20, 50 and 80 steps, as 1.ogs, 2.ogs and 3.ogs in the
directory given as the first argument. Between the first two snapshots 30
steps run, so a leak of one object per step leaves 30 new objects in 2.ogs
that are still there in 3.ogs.
"""
import os
import sys

import objgraph_agent

STEPS = (20, 50, 80)


def run(step, collect=True):
    out = sys.argv[1]
    done = 0
    for i, total in enumerate(STEPS, 1):
        while done < total:
            step(done)
            done += 1
        objgraph_agent.snapshot(os.path.join(out, "%d.ogs" % i), collect=collect)
