"""A leak planted at a known line, run with tracemalloc tracing
(PYTHONTRACEMALLOC=1): each request leaves a dict in a module-level list.

usage: alloc.py DIR
"""

import sys

import objgraph_agent

sessions = []


def handle(i):
    session = {"user": i, "items": []}  # the allocating line: 15
    sessions.append(session)


objgraph_agent.snapshot(sys.argv[1] + "/1.ogs")
for i in range(500):
    handle(i)
objgraph_agent.snapshot(sys.argv[1] + "/2.ogs")
