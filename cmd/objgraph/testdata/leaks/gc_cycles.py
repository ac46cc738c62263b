"""The program turns the cycle collector off; each step leaves a pair of
Nodes that refer to each other, which reference counting never frees.
Snapshots are taken without collecting first, as in a process whose
collector is disabled."""
import gc

import leakrun


class Node:
    def __init__(self, n):
        self.n = n
        self.peer = None
        self.data = list(range(8))


def step(n):
    a, b = Node(n), Node(n)
    a.peer, b.peer = b, a


gc.collect()
gc.disable()
leakrun.run(step, collect=False)
