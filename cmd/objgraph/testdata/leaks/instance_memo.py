"""A long-lived service memoizes results in a dict on the instance, with no
bound: every distinct query stays forever."""
import leakrun


class Result:
    def __init__(self, query):
        self.query = query
        self.rows = [query] * 16


class Service:
    def __init__(self):
        self._memo = {}

    def lookup(self, query):
        if query not in self._memo:
            self._memo[query] = Result(query)
        return self._memo[query]


service = Service()
leakrun.run(lambda i: service.lookup(("user", i)))
