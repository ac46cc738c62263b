"""functools.lru_cache(maxsize=None) on a function whose argument never
repeats: the cache grows by one Fragment per call."""
import functools

import leakrun


class Fragment:
    def __init__(self, key):
        self.key = key
        self.text = "fragment %d " % key * 10


@functools.lru_cache(maxsize=None)
def render(key):
    return Fragment(key)


leakrun.run(render)
