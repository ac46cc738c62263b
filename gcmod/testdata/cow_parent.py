"""A parent process for the copy-on-write test (cow_kernel_test.go).

    python3 cow_parent.py SNAPSHOT SHAPE N

builds a heap of about N tracked objects of the given shape in the global
`data`, writes a snapshot of itself with the objgraph agent (PYTHONPATH must
hold it), then forks twice and measures, in each child, how much the child's
Private_Dirty memory (/proc/self/smaps_rollup) grows:

  1. child 1: a full gc.collect();
  2. the parent calls gc.freeze(); child 2: a full gc.collect() ("frozen"),
     then a read of every object reachable from `data` ("read").

It prints one JSON object: the measurements in bytes, the address of `data`
and the number of tracked objects when the first child was forked.

Shapes:
  nodes    N instances of a class with two attributes (an int and a str)
  json     N/3 records decoded by json: a dict with a nested dict and a list
           of strings each, plus ints, floats and strings
  tuples   N/2 pairs (int, [int]): a tuple and a list each
  partial  N/2 instances, gc.freeze(), then N/2 more: the snapshot shows the
           first half (and the interpreter's own objects) frozen
  interned N/2 pairs (str, [int]) whose strings are interned: immortal on
           3.12 and later, so that reading them writes nothing there
"""

import gc
import json
import os
import sys

gc.disable()  # no automatic collection while the heap is built

import objgraph_agent  # noqa: E402


class Node:
    def __init__(self, i):
        self.i = i
        self.name = "n"


def build(shape, n):
    if shape == "nodes":
        return [Node(i) for i in range(n)]
    if shape == "json":
        records = [{"id": i, "name": "user%d" % i, "score": i / 7.0,
                    "tags": ["t%d" % (i % 10), "u%d" % (i % 7)],
                    "address": {"city": "c%d" % (i % 100), "zip": str(10000 + i % 5000)}}
                   for i in range(n // 3)]
        return json.loads(json.dumps(records))
    if shape == "tuples":
        return [(i, [i]) for i in range(n // 2)]
    if shape == "interned":
        # 150-character strings: a size class of their own, so that their
        # pages hold nothing else the walk reads.
        return [(sys.intern("key%08d" % i + "x" * 139), [i]) for i in range(n // 2)]
    if shape == "partial":
        first = [Node(i) for i in range(n // 2)]
        gc.freeze()
        return [first, [Node(i) for i in range(n // 2)]]
    raise SystemExit("unknown shape %r" % shape)


def walk(o):
    """Reads every object reachable from o through lists, tuples, dicts
    (keys and values) and Node attributes, without making objects that
    outlive a step."""
    t = type(o)
    if t is list or t is tuple:
        for x in o:
            walk(x)
    elif t is dict:
        for k, v in o.items():
            walk(k)
            walk(v)
    elif t is Node:
        walk(o.i)
        walk(o.name)


def private_dirty():
    fd = os.open("/proc/self/smaps_rollup", os.O_RDONLY)
    try:
        buf = os.read(fd, 16384)
    finally:
        os.close(fd)
    i = buf.index(b"Private_Dirty:")
    return int(buf[i + 14:buf.index(b"kB", i)]) * 1024


def child(w, read):
    """Runs in a forked child: measures a collection (and a read), writes
    the growths to w and leaves without any clean-up."""
    private_dirty()  # the first call touches what every call touches
    before = private_dirty()
    gc.collect()
    after = private_dirty()
    out = [after - before]
    if read:
        walk(data)
        out.append(private_dirty() - after)
    os.write(w, (" ".join(map(str, out)) + "\n").encode())
    os._exit(0)


def fork(read):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        child(w, read)
    os.close(w)
    with os.fdopen(r) as f:
        got = f.read().split()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not got:
        raise SystemExit("child failed with status %d" % status)
    return [int(x) for x in got]


path, shape, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = build(shape, n)
objgraph_agent.snapshot(path)
# What the agent made while it worked and left behind is not in the
# snapshot: collect it here, or the child's collection would free it and
# write to its pages. A full collection also empties the free lists, which
# the child's collection would otherwise empty too.
gc.collect()
tracked = len(gc.get_objects())
collect, = fork(False)
gc.freeze()
frozen, read = fork(True)
print(json.dumps({"collect": collect, "frozen": frozen, "read": read,
                  "data": id(data), "tracked": tracked, "version": "%d.%d.%d" % sys.version_info[:3]}))
