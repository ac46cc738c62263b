"""A long-lived worker thread appends every job it handles to a list in a
local variable of its loop: the list lives as long as the thread."""
import queue
import threading

import leakrun


class Job:
    def __init__(self, n):
        self.n = n
        self.payload = bytes(256)


jobs = queue.Queue()
handled = threading.Semaphore(0)


def worker():
    history = []
    while True:
        n = jobs.get()
        history.append(Job(n))
        handled.release()


threading.Thread(target=worker, name="worker", daemon=True).start()


def submit(n):
    jobs.put(n)
    handled.acquire()


leakrun.run(submit)
