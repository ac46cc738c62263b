"""Every connection subscribes a closure to a long-lived event bus and
never unsubscribes it: the closure keeps the Connection alive."""
import leakrun


class Bus:
    def __init__(self):
        self.listeners = []

    def subscribe(self, fn):
        self.listeners.append(fn)


class Connection:
    def __init__(self, n):
        self.n = n
        self.inbox = bytearray(512)


bus = Bus()


def connect(n):
    conn = Connection(n)

    def on_message(msg):
        conn.inbox[:len(msg)] = msg

    bus.subscribe(on_message)


leakrun.run(connect)
