"""An event bus whose subscribers register closures and never unsubscribe:
each closure keeps its Session, and the Session's buffer, alive.

Writes closure_callbacks-1.ogs and -2.ogs after 50 and 150 sessions.
"""
import os
import sys

import objgraph_agent


class EventBus:
    def __init__(self):
        self.callbacks = []

    def subscribe(self, fn):
        self.callbacks.append(fn)


class Session:
    def __init__(self, sid):
        self.sid = sid
        self.buffer = bytearray(256)


bus = EventBus()


def open_session(sid):
    session = Session(sid)

    def on_event(event):
        session.buffer[:len(event)] = event

    bus.subscribe(on_event)


def main(out):
    n = 0
    for i, total in enumerate((50, 150), 1):
        while n < total:
            open_session(n)
            n += 1
        objgraph_agent.snapshot(os.path.join(out, "closure_callbacks-%d.ogs" % i))


if __name__ == "__main__":
    main(sys.argv[1])
