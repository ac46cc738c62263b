"""A leak planted at a known line, over three snapshots, run with
tracemalloc tracing: each request leaves a dict in a module-level list.
Prints whether tracemalloc traces at the end, and its frame limit.

usage: alloc3.py DIR
"""

import sys
import tracemalloc

import objgraph_agent

sessions = []


def handle(i):
    session = {"user": i, "items": []}  # the allocating line: 17
    sessions.append(session)


objgraph_agent.snapshot(sys.argv[1] + "/1.ogs")
for i in range(300):
    handle(i)
objgraph_agent.snapshot(sys.argv[1] + "/2.ogs")
for i in range(300, 600):
    handle(i)
objgraph_agent.snapshot(sys.argv[1] + "/3.ogs")
print(tracemalloc.is_tracing(), tracemalloc.get_traceback_limit())
