"""An asyncio program that takes a snapshot from inside a coroutine.

Usage: asyncio_tasks.py SNAPSHOT

Fifty tasks wait in asyncio.sleep; the coroutine main() takes the snapshot
and prints, as one JSON line, the ids of the objects the tests look for:
the running coroutine and its frame, and the waiting tasks' coroutines and
the frames of every other one of them (made objects by reading cr_frame, as
a debugger or a traceback would). It then cancels the tasks, collects, and
exits with status 3.

Before the snapshot one sleep has ended, so _asyncio's FutureIter free list
is not empty: on 3.12 a walk that took the module's freed FutureIter objects
as referents made that list a cycle, and the collection after the snapshot,
or the one at exit, never ended.
"""

import asyncio
import gc
import json
import sys

import objgraph_agent


async def work(i):
    await asyncio.sleep(1000)


async def main(path):
    tasks = [asyncio.ensure_future(work(i)) for i in range(50)]
    await asyncio.sleep(0.01)
    coros = [t.get_coro() for t in tasks]
    # ids only: nothing here holds the frames, which their coroutines alone
    # refer to, as they would without the test
    frames = [id(c.cr_frame) for c in coros[::2]]
    me = asyncio.current_task().get_coro()
    info = {
        "running_coro": id(me),
        "running_frame": id(sys._getframe()),
        "coros": list(map(id, coros[::2])),
        "frames": frames,
    }
    del me, coros
    objgraph_agent.snapshot(path)
    print(json.dumps(info), flush=True)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    gc.collect()


asyncio.run(main(sys.argv[1]))
sys.exit(3)
