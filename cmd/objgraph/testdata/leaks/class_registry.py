"""A class keeps every instance it ever made in a class attribute."""
import leakrun


class Plugin:
    registry = []

    def __init__(self, name):
        self.name = name
        self.config = {"name": name, "enabled": True}
        Plugin.registry.append(self)


leakrun.run(lambda i: Plugin("plugin-%d" % i))
