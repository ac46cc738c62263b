"""A program whose memory grows in one of five ways, with a snapshot before
and after: python (200,000 dicts, each with a str), bytearray (50 bytearrays of 1 MiB and a
memoryview of each), numpy (50 arrays of 1 MiB and a view of each), torch
(50 float32 tensors of 1 MiB and a view of each) or native (100 blocks of
1 MiB from the C allocator, touched, with no Python object holding them).

usage: grow.py MODE DIR
"""

import sys

import objgraph_agent

mode, out = sys.argv[1], sys.argv[2]
keep = []


def grow():
    if mode == "python":
        for i in range(200000):
            keep.append({"id": i, "name": "record-%d-" % i + "x" * 100})
    elif mode == "bytearray":
        for _ in range(50):
            b = bytearray(1 << 20)
            keep.append(b)
            keep.append(memoryview(b)[1:])
    elif mode == "numpy":
        import numpy
        for _ in range(50):
            a = numpy.ones(1 << 20, dtype=numpy.uint8)
            keep.append(a)
            keep.append(a[::2])
    elif mode == "torch":
        import torch
        for _ in range(50):
            t = torch.ones(262144, dtype=torch.float32)
            keep.append(t)
            keep.append(t[::2])
    elif mode == "native":
        import ctypes
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        for _ in range(100):  # a request each
            p = libc.malloc(1 << 20)
            libc.memset(p, 1, 1 << 20)  # pages touched, so resident
        del p
    else:
        raise SystemExit("unknown mode %r" % mode)


if mode == "numpy":
    import numpy  # loaded before the first snapshot: its own memory is no growth
if mode == "torch":
    import torch  # likewise
if mode == "native":
    import ctypes  # likewise
objgraph_agent.snapshot(out + "/1.ogs")
grow()
objgraph_agent.snapshot(out + "/2.ogs")
