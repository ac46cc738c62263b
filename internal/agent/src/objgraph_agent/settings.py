"""Tuning: the sizes of the walk's batches and records and the switches
between its fast and slow paths, in one object, _tuning. The defaults are
what the agent ships with; tests and benchmarks set a field to take the
other path and compare."""


class _Tuning:
    """The agent's tuning switches and sizes, read where they are used (a
    change takes effect from the next capture on)."""
    __slots__ = ("batch", "atom_batch", "part", "edge_bytes_limit", "key_names_base", "max_errors",
                 "meta_slack", "threaded_writer", "hold_with_threads", "quiet_fast_path", "narrow",
                 "quick_switch", "fork_min_bytes", "pause_tracemalloc")

    def __init__(self):
        self.batch = 8192                   # objects per batch of the walk (small batches stay in cache)
        self.atom_batch = 32768             # objects per record of single-reference str, int, float
        self.part = 65536                   # edges examined at once for untracked objects
        self.edge_bytes_limit = 256 << 20   # split a batch whose edges would exceed this
        self.key_names_base = 50000         # str keys whose names are cached: base + tracked/32
        self.max_errors = 20                # errors kept in the metadata, at most
        self.meta_slack = 8192              # room in META for what is known only at the end
        self.threaded_writer = True         # compress and write on a thread of the agent's
        self.hold_with_threads = True       # with other threads, records are written after the walk
        self.quiet_fast_path = True         # when quiet, single-reference objects skip the byte map
        self.narrow = 1                     # columns of known bounds at their narrow widths (0: widest)
        self.quick_switch = 0.0005          # switch interval while held records are written (seconds)
        self.fork_min_bytes = 256 << 20     # fork=None forks from this much anonymous memory on (RssAnon)
        self.pause_tracemalloc = True       # allocation tracebacks read before the walk, tracemalloc stopped during it


_tuning = _Tuning()
