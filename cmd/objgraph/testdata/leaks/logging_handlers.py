"""Each request adds a logging handler to a long-lived logger and never
removes it."""
import logging

import leakrun

log = logging.getLogger("app.requests")
log.propagate = False


class RequestHandler(logging.Handler):
    def __init__(self, n):
        super().__init__()
        self.n = n
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def request(n):
    log.addHandler(RequestHandler(n))


leakrun.run(request)
