"""Tests of the torch storages charged to tensors in the BUFFERS record,
with the real library (testdata/torch_heap.py, in an interpreter of its
own so that the other tests' heaps stay without torch).

torch is Debian's python3-torch, for the system interpreter only: the
tests run under the interpreter running the suite when it has torch;
under the system interpreter without torch they fail when CI=true and
are skipped otherwise; under any other interpreter without torch they are
skipped.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from test_agent import AGENT_DIR, decode
from test_memory import buffer_rows

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1 << 20
SYSTEM_PYTHON = "/usr/bin/python3"


def _has_torch():
    r = subprocess.run([sys.executable, "-c", "import torch, numpy"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=False)
    return r.returncode == 0


def _is_system_python():
    try:
        return os.path.realpath(sys.executable) == os.path.realpath(SYSTEM_PYTHON)
    except OSError:
        return False


HAS_TORCH = _has_torch()


def setUpModule():
    if HAS_TORCH:
        return
    if _is_system_python() and os.environ.get("CI") == "true":
        raise AssertionError("torch is not installed for %s: apt-get install python3-torch" % SYSTEM_PYTHON)
    raise unittest.SkipTest("torch is not installed for %s (python3-torch is for %s)" % (sys.executable, SYSTEM_PYTHON))


def run_heap(*args):
    """Run torch_heap.py, returning (its JSON line, the BUFFERS rows, the
    decoded snapshot)."""
    d = tempfile.mkdtemp()
    path = os.path.join(d, "t.ogs")
    env = dict(os.environ, PYTHONPATH=AGENT_DIR)
    try:
        r = subprocess.run([sys.executable, os.path.join(HERE, "testdata", "torch_heap.py"), path] + list(args),
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600, check=False)
        if r.returncode != 0:
            raise AssertionError("torch_heap.py: exit %d\n%s" % (r.returncode, r.stderr.decode("utf-8", "replace")))
        facts = json.loads(r.stdout.decode().splitlines()[-1])
        return facts, buffer_rows(path), decode(path)
    finally:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(d)


class TestTorchStorages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.facts, cls.rows, cls.snap = run_heap()
        cls.capture = cls.snap.meta["capture"]

    def owned(self, role):
        return self.rows.get(self.facts[role], (0, 0))

    def test_owners_and_views(self):
        total = sum(o for o, _ in self.rows.values())
        self.assertLess(abs(total - 50 * MiB), 0.05 * 50 * MiB,
                        "buffer bytes %.2f MiB, want 50 MiB within 5%%" % (total / MiB))
        for a in self.facts["owners"]:
            self.assertEqual(self.rows.get(a), (MiB, 0), "an owner tensor is not charged its 1 MiB storage")
        for a in self.facts["views"]:
            self.assertNotIn(a, self.rows, "a view is charged its base's storage")

    def test_numpy_shares_counted_once(self):
        # torch.from_numpy: the array owns the memory, the tensor nothing
        self.assertEqual(self.owned("arr")[0], self.facts["arr_bytes"])
        self.assertEqual(self.owned("from_arr"), (0, 0))
        # Tensor.numpy(): the tensor owns the storage, the array nothing
        self.assertEqual(self.owned("ten"), (self.facts["ten_bytes"], 0))
        self.assertEqual(self.owned("as_arr"), (0, 0))
        # from_numpy of that array at an offset: a storage inside the first
        self.assertEqual(self.owned("inner"), (0, 0))

    def test_parameter_and_quiet_subclass_charged(self):
        self.assertEqual(self.owned("param"), (self.facts["param_bytes"], 0))
        self.assertEqual(self.owned("quiet"), (self.facts["quiet_bytes"], 0))

    def test_dispatching_classes_uncharged_and_never_run(self):
        self.assertEqual(self.facts["ran"], [], "Python code of a tensor class ran in the capture")
        # torch's own accessor dispatches to them: the hazard is real
        self.assertEqual(sorted(self.facts["dispatched"]), ["Lookup", "Traced", "own_attr"])
        for role in ("traced", "lookup", "dispatching", "own_attr"):
            self.assertEqual(self.owned(role), (0, 0), role)
        t = self.capture["tensors"]
        self.assertEqual(t["unread"], 4)
        self.assertGreaterEqual(t["seen"], 110)

    def test_not_cpu_or_not_strided_uncharged(self):
        self.assertEqual(self.owned("meta"), (0, 0))
        self.assertEqual(self.owned("sparse"), (0, 0))
        self.assertEqual(self.capture["tensors"]["elsewhere"], 2)

    def test_rows_name_objects(self):
        index = self.snap.index()
        for a in self.rows:
            self.assertIn(a, index, "a buffer owner not in the snapshot")
        self.assertEqual(self.capture["errors"], [])


class TestTorchFunctionMode(unittest.TestCase):
    def test_mode_never_runs_and_nothing_is_read(self):
        facts, rows, snap = run_heap("--mode")
        capture = snap.meta["capture"]
        self.assertEqual(facts["ran"], [], "the torch function mode's Python code ran in the capture")
        for a in facts["owners"]:
            self.assertNotIn(a, rows)
        t = capture["tensors"]
        self.assertEqual(t["unread"], t["seen"])
        self.assertEqual(rows.get(facts["arr"], (0, 0))[0], facts["arr_bytes"], "numpy arrays are still charged")


if __name__ == "__main__":
    unittest.main()
