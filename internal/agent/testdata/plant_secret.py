"""A program that plants its first argument, a secret, in every place a
string of a program can reach a snapshot, then takes redacted snapshots
into the paths after it: one, then 50 more cache entries, then another.

    python3 plant_secret.py SECRET SNAP1 [SNAP2] [--password=SECRET]

Used by internal/agent/test_agent.py and cmd/objgraph/redact_test.go."""

import sys
import threading

import objgraph_agent

S = sys.argv[1]
paths = [a for a in sys.argv[2:] if not a.startswith("-")]


class User:
    pass


class Tagged(str):
    pass


u = User()
setattr(u, S, 1)                      # an attribute name from data
tokens = {S: u, S + "_2": u}          # identifier-shaped keys: a token cache
other = {S + " with spaces": 1, S.encode(): 2, (S, 1): 3, 5: S}
members = {S + "_set"}
blob = (S * 2).encode()
tagged = Tagged(S + "_sub")
ev = threading.Event()
t = threading.Thread(target=ev.wait, name=S + "_thread")
t.start()


def work(token=S):
    local_secret = token + "_local"  # noqa: F841 (a local variable holding it)
    for i, path in enumerate(paths):
        if i:
            for k in range(50):
                tokens[S + "_%d" % k] = User()
        objgraph_agent.snapshot(path, redact=True)


work()
ev.set()
t.join()
