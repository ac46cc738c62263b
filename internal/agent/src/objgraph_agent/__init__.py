"""Heap snapshots of a running CPython process, for objgraph.

This module is self-contained and uses only the standard library (CPython
3.8 to 3.14). Copy it next to the program under investigation, or let
``objgraph run`` put it on the path, and call::

    import objgraph_agent
    objgraph_agent.snapshot("heap.ogs")            # one snapshot, now
    objgraph_agent.install(signal.SIGUSR2, "/tmp")  # one snapshot per signal

It writes the ``.ogs`` format (docs/format.md in the objgraph repository):
every object the cycle collector tracks, every untracked object reachable
from them (str, int, float, bytes, untracked tuples and dicts, ...), their
types, sizes, reference counts, flags and short labels, every reference
between them with a name where Python can tell one, and the roots the graph
is held from (modules, thread stacks, stack frames' local variables,
threads).

Command line::

    python3 objgraph_agent.py --help
    python3 objgraph_agent.py run [--dir D] [--signal SIG] [--every S]
                                  [--at-exit] [--redact] script.py [args...]
    python3 objgraph_agent.py run [options] -m module [args...]

Design decisions
----------------

Each module of the agent's source holds the decisions about its part, in
its docstring: layout (interpreter facts, and how list item ids are read),
settings (tuning), output (the format's records and the writer thread),
guard (hygiene: the process state a capture changes and restores), names
(labels, edge names by key and index, redaction), typeinfo (what is known
per type), sizes, identity (edge names by identity: instance attributes),
handlers (the category handlers), walk (speed and memory, atoms, untracked
objects, reference counts), roots (external roots, stack frames), capture
(the order of a capture, the permanent generation) and api (signals,
install, the command line).
"""

# This file is the package's only glue: the bundled objgraph_agent.py is
# the other modules in one file (go generate ./internal/agent), with this
# docstring; the code below is not part of it.

from . import api, capture, finish, guard, handlers, identity, layout, names, output, roots, settings, sizes, typeinfo, walk
from .api import __all__, install, main, snapshot, uninstall, wait  # noqa: F401
from .output import PRODUCER, __version__  # noqa: F401

_MODULES = (api, capture, finish, guard, handlers, identity, layout, names, output, roots, settings, sizes, typeinfo, walk)

# frames running the code of any of the modules are the agent's
for _m in _MODULES:
    layout._AGENT_GLOBALS.add(id(vars(_m)))
del _m


def __getattr__(name):
    """A module attribute of the agent's, read from the module that holds
    it as it is now (_installed, _walkn, ...), as the one file has them."""
    for m in _MODULES:
        d = vars(m)
        if name in d:
            return d[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
