"""Failed requests are kept for a report as exceptions in a global list;
each exception's traceback holds the frame of the handler that failed, and
the frame holds the request."""
import leakrun

errors = []


class Request:
    def __init__(self, n):
        self.n = n
        self.body = bytes(300)


def handle(request):
    raise ValueError("request %d failed" % request.n)


def serve(n):
    request = Request(n)
    try:
        handle(request)
    except ValueError as e:
        errors.append(e)


leakrun.run(serve)
