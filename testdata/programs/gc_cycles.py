"""Reference cycles built while the cycle collector is disabled.

Builds pairs of lists referencing each other, Node objects in rings, an
instance cycle whose class has __del__, and a Connection whose handler dict
holds bound methods of itself (all from the seed articles), drops every
outside reference, takes a snapshot without collecting first, then runs
gc.collect() and records what it returned in gc_cycles.expected.json.
"""
import gc
import json
import os
import sys

import objgraph_agent


class Node:
    def __init__(self, name):
        self.name = name
        self.next = None


class Finalized:
    def __init__(self):
        self.me = self

    def __del__(self):
        pass


class Connection:
    def __init__(self):
        self.handlers = {"read": self.on_read, "close": self.on_close}

    def on_read(self):
        pass

    def on_close(self):
        pass


def build():
    for _ in range(10):
        a, b = [], []
        a.append(b)
        b.append(a)
    for r in range(5):
        ring = [Node("ring%d-%d" % (r, i)) for i in range(4)]
        for i, node in enumerate(ring):
            node.next = ring[(i + 1) % len(ring)]
    for _ in range(3):
        Finalized()
    for _ in range(4):
        Connection()


def main(out):
    gc.collect()
    gc.disable()
    try:
        build()
        path = objgraph_agent.snapshot(os.path.join(out, "gc_cycles.ogs"), collect=False)
        collected = gc.collect()
    finally:
        gc.enable()
    with open(os.path.join(out, "gc_cycles.expected.json"), "w") as f:
        json.dump({"snapshot": os.path.basename(path), "collected": collected}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
