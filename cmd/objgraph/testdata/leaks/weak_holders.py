"""Each request keeps an Item in a list, and also tracks it in every kind
of weak container: a WeakSet, a WeakValueDictionary, a WeakKeyDictionary,
a WeakMethod, a finalizer and a proxy. Only the list keeps the Items alive:
what releasing them frees, and the chains that hold them, go through the
list alone."""
import weakref

import leakrun


class Item:
    def __init__(self, n):
        self.n = n
        self.payload = bytearray(1000)

    def ping(self):
        return self.n


keep = []
tracked = weakref.WeakSet()
by_id = weakref.WeakValueDictionary()
extra = weakref.WeakKeyDictionary()
methods = []
proxies = []
finalizers = []


def request(n):
    item = Item(n)
    keep.append(item)
    tracked.add(item)
    by_id[n] = item
    extra[item] = n
    methods.append(weakref.WeakMethod(item.ping))
    proxies.append(weakref.proxy(item))
    finalizers.append(weakref.finalize(item, int))


leakrun.run(request)
