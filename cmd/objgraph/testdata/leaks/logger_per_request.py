"""Each request asks logging for a logger of its own, named after the
request, which the logging manager keeps for ever. Libraries imported
first made loggers of their own at import time: the first Logger in a
snapshot is one of theirs, not one of the leak's."""
import asyncio  # noqa: F401 (its logger is made at import)
import concurrent.futures  # noqa: F401
import logging

import leakrun

logging.getLogger("app").setLevel(logging.INFO)


def request(n):
    logging.getLogger("app.request-%d" % n).debug("handled")


leakrun.run(request)
