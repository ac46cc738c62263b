"""A pytest plugin that fails tests which leave objects alive, with objgraph.

Turn it on for every test with ``--objgraph-leaks``, or for one test with
the marker::

    @pytest.mark.objgraph(max_growth=0, allow=["mymodule.Session"], warmup=1)
    def test_handler():
        ...

Load it with ``-p objgraph_pytest`` when ``objgraph agent --dir DIR`` wrote it
(with objgraph_agent.py beside it, and DIR on PYTHONPATH); the objgraph-go
wheel registers it as a pytest11 plugin, so there it is always loaded and
does nothing until asked.

How a test is checked. Its call phase runs ``warmup`` times first (once by
default) with the same fixtures, so that caches which fill on first use
(memoized values, lazily imported modules, interned names) are filled
before anything is measured. Then objgraph_agent takes a snapshot of this
process (collecting garbage first), the call phase runs once more, and a
second snapshot follows. ``objgraph leaks --json`` compares the two: a type
whose object count grew by more than ``max_growth`` (0 by default) fails the
test, and the failure lists for each such type its new objects, the
container that holds them and the chain of references from a root down to
one of them. Types named in ``allow`` (module-qualified, as
``collections.OrderedDict``, or a bare name for builtins, as ``dict``) are
not counted.

What it costs: the test body runs warmup + 1 times (so it must tolerate
running twice with the same fixtures; ``warmup=0`` measures its first run,
and then caches that fill once count as growth), and each checked test takes
two snapshots of the pytest process and one run of objgraph: about a second
for a pytest process of 76,000 objects (0.4 s per snapshot, 0.2 s for
objgraph leaks), plus one snapshot before the first checked test. Setup and
teardown run once, and are not measured.

The objgraph binary is the one the OBJGRAPH environment variable names, or
else the one installed next to this Python's scripts, or else the first on
PATH. ``--objgraph-dir DIR`` keeps the two snapshots of each test that fails
the check in DIR, for ``objgraph leaks``, ``chain`` or ``ui``.

Objects pytest keeps for the test's report (the log records its log
capture holds, through the item's stash) are not counted. The text of its
log capture is: it accumulates in an io.StringIO whose strings only C code
holds, so a test that logs shows str objects "held from outside the graph";
run such tests with ``-p no:logging``, or allow "str". docs/pytest.md in the
objgraph-go repository says more.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import pytest

_MARKER = "objgraph"
_THIS_FILE = os.path.basename(__file__)
_MARKER_HELP = (
    "objgraph(max_growth=0, allow=(), warmup=1): fail the test when, after "
    "warmup runs of its body, one more run leaves more than max_growth new "
    "objects of a type not in allow alive"
)


def pytest_addoption(parser):
    group = parser.getgroup("objgraph", "leak checks with objgraph")
    group.addoption("--objgraph-leaks", action="store_true", default=False,
                    help="check every test for objects it leaves alive")
    group.addoption("--objgraph-max-growth", type=int, default=0, metavar="N",
                    help="the growth of a type's count a checked test may leave, unless its marker says (default 0)")
    group.addoption("--objgraph-dir", default=None, metavar="DIR",
                    help="keep the snapshots of the tests that fail the check in DIR")


def pytest_configure(config):
    config.addinivalue_line("markers", _MARKER + _MARKER_HELP[len(_MARKER):])
    checker = _Checker(config)
    if checker.all_tests:
        # A missing binary is a usage error before any test runs.
        err = checker.binary_error()
        if err:
            raise pytest.UsageError(err)
    config.pluginmanager.register(checker, "objgraph_pytest_checker")


class _Settings:
    __slots__ = ("max_growth", "allow", "warmup")

    def __init__(self, max_growth, allow, warmup):
        self.max_growth = max_growth
        self.allow = allow
        self.warmup = warmup


class _Pending:
    """What a checked test's snapshots need, made before the first one so
    that nothing of it is new in the second."""
    __slots__ = ("settings", "before", "after")

    def __init__(self, settings, before, after):
        self.settings = settings
        self.before = before
        self.after = after


def find_objgraph():
    """The objgraph binary to use, and where it was looked for: (path or
    None, description)."""
    env = os.environ.get("OBJGRAPH")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env, "OBJGRAPH"
        return None, "OBJGRAPH names %s, which is not an executable file" % env
    scripts = sysconfig.get_path("scripts")
    if scripts:
        p = os.path.join(scripts, "objgraph")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p, "scripts"
    p = shutil.which("objgraph")
    if p:
        return p, "PATH"
    return None, ("no objgraph binary next to %s's scripts (%s) nor on PATH, and OBJGRAPH is not set"
                  % (sys.executable, scripts))


_INSTALL_HINT = ("install it with 'pip install objgraph-go' or "
                 "'go install github.com/objgraph-go/objgraph/cmd/...@latest', "
                 "or set OBJGRAPH to its path")


class _Checker:
    def __init__(self, config):
        self.config = config
        self.all_tests = bool(config.getoption("objgraph_leaks"))
        self.max_growth = config.getoption("objgraph_max_growth")
        self.keep = config.getoption("objgraph_dir")
        self.pending = {}
        self.count = 0
        self.tmp = None
        self.agent = None

    def binary_error(self):
        path, where = find_objgraph()
        if path is None:
            return "objgraph_pytest: the leak check needs the objgraph binary: %s; %s" % (where, _INSTALL_HINT)
        return None

    def settings(self, item):
        marker = item.get_closest_marker(_MARKER)
        if marker is None and not self.all_tests:
            return None
        kw = dict(marker.kwargs) if marker is not None else {}
        max_growth = kw.pop("max_growth", self.max_growth)
        allow = kw.pop("allow", ())
        warmup = kw.pop("warmup", 1)
        if marker is not None and marker.args:
            pytest.fail("%s: @pytest.mark.objgraph takes keywords only (max_growth=, allow=, warmup=)" % item.nodeid,
                        pytrace=False)
        if kw:
            pytest.fail("%s: @pytest.mark.objgraph: unknown keyword %s; it takes max_growth, allow and warmup"
                        % (item.nodeid, ", ".join(sorted(kw))), pytrace=False)
        if isinstance(allow, str):
            allow = (allow,)
        if (not isinstance(max_growth, int) or isinstance(max_growth, bool) or max_growth < 0
                or not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0):
            pytest.fail("%s: @pytest.mark.objgraph: max_growth and warmup must be integers of 0 or more" % item.nodeid,
                        pytrace=False)
        return _Settings(max_growth, frozenset(allow), warmup)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        s = self.settings(item)
        if s is None:
            return
        err = self.binary_error()
        if err:
            pytest.fail(err, pytrace=False)
        if self.agent is None:
            try:
                import objgraph_agent
            except ImportError as e:
                pytest.fail("objgraph_pytest: the leak check needs the objgraph_agent module, which "
                            "'objgraph agent --dir DIR' writes beside this plugin: %s" % e, pytrace=False)
            self.agent = objgraph_agent
        if self.tmp is None:
            self.tmp = tempfile.mkdtemp(prefix="objgraph-pytest-")
            # A first snapshot makes what the process makes on the first
            # one only, so that it is not new in the first test's second.
            first = os.path.join(self.tmp, "0.ogs")
            self.agent.snapshot(first, collect=True)
            os.remove(first)
        for _ in range(s.warmup):
            item.runtest()
        self.count += 1
        p = _Pending(s, os.path.join(self.tmp, "%d-before.ogs" % self.count),
                     os.path.join(self.tmp, "%d-after.ogs" % self.count))
        self.pending[item.nodeid] = p
        # The last thing before the measured run: what this hook makes
        # from here on is in the first snapshot too. The second argument
        # is collect: garbage collected first, so that only what is still
        # referred to counts.
        self.agent.snapshot(p.before, collect=True)
        # The measured run is pytest's own call of the test, next.

    @pytest.hookimpl(trylast=True, specname="pytest_runtest_call")
    def pytest_runtest_call_measured(self, item):
        p = self.pending.pop(item.nodeid, None)
        if p is None:
            return
        self.agent.snapshot(p.after, collect=True)
        try:
            report = self.analyse(p)
            failure = self.failure(item, p, report)
            if failure and self.keep:
                failure += "\n" + self.keep_snapshots(item, p)
        finally:
            for f in (p.before, p.after):
                try:
                    os.remove(f)
                except OSError:
                    pass
        if failure:
            pytest.fail(failure, pytrace=False)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item):
        # The measured run failed: pytest reports that, and there is no
        # second snapshot.
        p = self.pending.pop(item.nodeid, None)
        if p is not None:
            try:
                os.remove(p.before)
            except OSError:
                pass

    def analyse(self, p):
        """objgraph leaks --json on the two snapshots, decoded."""
        binary, _ = find_objgraph()
        if binary is None:
            pytest.fail(self.binary_error(), pytrace=False)
        cmd = [binary, "leaks", "--json", "--qualified", "--limit", "0", "--groups", "0", p.before, p.after]
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            pytest.fail("objgraph_pytest: running %s: %s" % (binary, e), pytrace=False)
        if r.returncode != 0:
            pytest.fail("objgraph_pytest: %s exited with status %d:\n%s"
                        % (" ".join(cmd), r.returncode, r.stderr.decode("utf-8", "replace").strip()), pytrace=False)
        try:
            return json.loads(r.stdout.decode("utf-8"))
        except ValueError as e:
            pytest.fail("objgraph_pytest: reading the JSON of %s: %s" % (" ".join(cmd), e), pytrace=False)

    def failure(self, item, p, report):
        """The failure message for the test, or None when it passes."""
        s = p.settings
        found = {}
        for key in ("types", "garbage"):
            for t in report.get(key) or ():
                found.setdefault(t.get("type"), (key, t))
        leaks = []
        for g in report.get("growth") or ():
            name = g.get("type", "")
            delta = g.get("delta", 0)
            if delta <= s.max_growth or _allowed(name, s.allow):
                continue
            key, t = found.get(name, (None, None))
            groups = [grp for grp in (t.get("groups") or ()) if not _held_by_pytest(grp)] if t else []
            # The count grew by delta; without new objects of the type
            # outside pytest's own records it did not leak. (A type can
            # also grow with no new object: every new one then sits where
            # a freed one of its type was, and addresses cannot tell.)
            n = min(delta, sum(grp.get("count", 0) for grp in groups)) if t else delta
            if n > s.max_growth:
                leaks.append((g, key, t, groups))
        if not leaks:
            return None
        # What retains most first.
        leaks.sort(key=lambda x: (-sum(grp.get("retained", 0) for grp in x[3]), x[0].get("type", "")))
        lines = ["%s left objects alive (more than max_growth %d of a type), after %d warm-up run%s:"
                 % (item.nodeid, s.max_growth, s.warmup, "" if s.warmup == 1 else "s")]
        # The container that grew, as leaks names it first: the first
        # suspect holding objects of a leaking type.
        leaking = set(g.get("type") for g, _, _, _ in leaks)
        suspects = [x for x in report.get("suspects") or ()
                    if any(t.get("type") in leaking for t in x.get("types") or ())]
        for sus in suspects[:1]:
            types = ", ".join("%d %s" % (t.get("count", 0), _display(t.get("type"))) for t in sus.get("types") or ())
            lines.append("  suspect: %s grew by %d entr%s (%s); releasing them frees %s" % (
                sus.get("name") or sus.get("path", "?"), sus.get("new_entries", 0),
                "y" if sus.get("new_entries", 0) == 1 else "ies", types, _bytes(sus.get("retained_bytes", 0))))
            lines.append("    held as %s" % sus.get("path", "?"))
        for g, key, t, groups in leaks:
            head = "  %s: %+d (count %s)" % (_display(g.get("type")), g.get("delta", 0),
                                            " -> ".join(str(c) for c in g.get("counts") or ()))
            if t is None:
                lines.append(head + "; its new objects are at addresses freed objects of the type had")
                continue
            lines.append(head + "; %s new, %s, retaining %s%s" % (
                _objects(sum(grp.get("count", 0) for grp in groups)), _bytes(sum(grp.get("bytes", 0) for grp in groups)),
                _bytes(sum(grp.get("retained", 0) for grp in groups)),
                "; unreachable garbage that gc.collect() did not free" if key == "garbage" else ""))
            for grp in groups[:_GROUPS]:
                chain = grp.get("chain") or []
                lines.append("    %s in %s, held as %s" % (_objects(grp.get("count", 0)), _container(chain),
                                                         _shape(grp.get("root", ""), grp.get("shape") or [])))
                lines.extend(_chain_lines(chain, "      "))
            if len(groups) > _GROUPS:
                lines.append("    (%d more groups)" % (len(groups) - _GROUPS))
        lines.append("(allow a type with @pytest.mark.objgraph(allow=[...]), or more with max_growth=N)")
        return "\n".join(lines)

    def keep_snapshots(self, item, p):
        os.makedirs(self.keep, exist_ok=True)
        base = os.path.join(self.keep, re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_"))
        before, after = base + "-before.ogs", base + "-after.ogs"
        shutil.copyfile(p.before, before)
        shutil.copyfile(p.after, after)
        return "snapshots kept: objgraph leaks %s %s" % (before, after)

    def pytest_unconfigure(self, config):
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


# Chains through these types end in what pytest keeps for the test's report
# (the log records its log capture holds, ...) until the test ends.
_PYTEST_HELD = frozenset(("_pytest.stash.Stash", "_pytest.store.Store", "_pytest.logging.LogCaptureHandler"))

# Groups of one type shown in a failure.
_GROUPS = 3


def _held_by_pytest(group):
    """Whether a group of new objects is held for pytest's report, or by the
    frame of this plugin that takes the second snapshot."""
    chain = group.get("chain") or []
    if chain and chain[0].get("type") == "frame" and (chain[0].get("label") or "").startswith(_THIS_FILE + ":"):
        return True
    return any(st.get("type") in _PYTEST_HELD for st in group.get("shape") or ())


def _allowed(name, allow):
    """Whether the type name (module-qualified) is in allow, where a name
    without a dot stands for a builtin or for any module's type of that name."""
    if name in allow:
        return True
    short = name.rpartition(".")[2]
    return short != name and short in allow and "." not in short


def _display(name):
    """A type name as shown: builtins without their module."""
    return name[len("builtins."):] if name and name.startswith("builtins.") else name


def _objects(n):
    return "1 object" if n == 1 else "%d objects" % n


def _bytes(n):
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def _container(chain):
    """The object that holds the chain's last one: "list _registry"."""
    if len(chain) < 2:
        return "a root"
    c = chain[-2]
    via = chain[-2].get("edge")
    name = _display(c.get("type", "?"))
    if via:
        return "%s %s" % (name, via)
    label = c.get("label")
    return "%s %s" % (name, label) if label else name


def _root_text(root):
    """A root of leaks --json ({"kind": "module", "name": "app"}) as the
    report spells it: "module app", "held from outside the graph", "garbage"."""
    if not isinstance(root, dict):
        return str(root)
    kind, name = root.get("kind", ""), root.get("name", "")
    if kind == "garbage":
        return "garbage"
    if kind == "external" and not name:
        return "held from outside the graph"
    return ("%s %s" % (kind, name)).strip()


def _shape(root, steps):
    out = [_root_text(root)]
    for i, st in enumerate(steps):
        if i == 0:
            continue
        edge = st.get("edge")
        t = _display(st.get("type", "?"))
        out.append(("%s %s" % (edge, t)) if edge else t)
    return " -> ".join(out)


def _chain_lines(chain, indent):
    rows = []
    for i, hop in enumerate(chain):
        edge = ""
        if i > 0:
            edge = "-%s->" % hop.get("edge") if hop.get("edge") else "->"
        rows.append((edge, hop.get("address", ""), hop.get("type", ""), hop.get("label", "")))
    w = [max([len(r[k]) for r in rows] + [0]) for k in range(3)]
    return [(indent + "%-*s  %-*s  %-*s  %s" % (w[0], r[0], w[1], r[1], w[2], r[2], r[3])).rstrip() for r in rows]
