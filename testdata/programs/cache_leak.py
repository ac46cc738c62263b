"""A request handler that memoizes responses in a module-level dict and
never evicts: every request leaks one Response and its body.

Writes cache_leak-1.ogs, -2.ogs and -3.ogs into the directory given as the
first argument, after 100, 300 and 600 requests.
"""
import os
import sys

import objgraph_agent

_cache = {}


class Response:
    def __init__(self, path, body):
        self.path = path
        self.body = body
        self.headers = {"content-type": "text/plain", "content-length": str(len(body))}


def handle(path):
    if path not in _cache:
        _cache[path] = Response(path, ("<html>%s</html>" % path).encode() * 4)
    return _cache[path]


def main(out):
    n = 0
    for i, total in enumerate((100, 300, 600), 1):
        while n < total:
            handle("/item/%d" % n)
            n += 1
        objgraph_agent.snapshot(os.path.join(out, "cache_leak-%d.ogs" % i))


if __name__ == "__main__":
    main(sys.argv[1])
