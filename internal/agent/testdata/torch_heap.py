"""A heap of torch tensors for the agent's tests of the storages charged to
them: owners with views, storages shared with numpy arrays, a Parameter,
and tensors of classes whose Python code must never run in a capture.
Takes a snapshot into SNAP, then prints one JSON line: the addresses of
the objects by role, and what ran.

    python3 torch_heap.py SNAP [--mode]

With --mode the snapshot is taken inside a torch function mode, whose
__torch_function__ must never run either.

Used by internal/agent/test_torch.py."""

import json
import sys
import warnings

import numpy
import torch

import objgraph_agent

path = sys.argv[1]
in_mode = "--mode" in sys.argv[2:]
ran = []

MiB_FLOATS = 262144  # float32 elements in 1 MiB


class Traced(torch.Tensor):
    """A subclass whose __torch_function__ records that it ran."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        ran.append("Traced")
        raise RuntimeError("Traced.__torch_function__ ran")


class Quiet(torch.Tensor):
    """A subclass that turns __torch_function__ off, as Parameter does."""
    __torch_function__ = torch._C._disabled_torch_function_impl


class Lookup(Quiet):
    """torch's dispatch check looks __torch_function__ up on the instance,
    which runs this class's __getattribute__."""

    def __getattribute__(self, name):
        ran.append("Lookup")
        return object.__getattribute__(self, name)


class Dispatching(torch.Tensor):
    """__torch_function__ off, but a Python __torch_dispatch__."""
    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        ran.append("Dispatching")
        raise RuntimeError("Dispatching.__torch_dispatch__ ran")


class Mode(torch.overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        ran.append("Mode")
        return func(*args, **(kwargs or {}))


def nbytes(t):
    return t.element_size() * t.nelement()


def sub(cls, n):
    return torch.Tensor._make_subclass(cls, torch.empty(n))


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # .T of a 1-d tensor is deprecated
    owners = [torch.ones(MiB_FLOATS, dtype=torch.float32) for _ in range(50)]
    views = []
    for i, t in enumerate(owners):
        views.append((t[::2], t.view(-1), t.T, t[1:], t.view(512, 512))[i % 5])
keep = owners + views

arr = numpy.ones(1000)              # owns its data
from_arr = torch.from_numpy(arr)    # a storage over the array's data
ten = torch.ones(500)
as_arr = ten.numpy()                # an array over the tensor's storage, owning nothing
inner = torch.from_numpy(as_arr[100:])  # a second storage, inside ten's
param = torch.nn.Parameter(torch.empty(3000))
quiet = sub(Quiet, 700)
traced = sub(Traced, 800)
lookup = sub(Lookup, 900)
dispatching = sub(Dispatching, 1100)
own_attr = sub(Quiet, 1200)
own_attr.__dict__["__torch_function__"] = Traced.__torch_function__  # dispatches, per instance
meta = torch.empty(2000, device="meta")
sparse = torch.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (4000,))
del ran[:]

if in_mode:
    with Mode():
        objgraph_agent.snapshot(path)
else:
    objgraph_agent.snapshot(path)
ran_in_capture = list(ran)

# the hazard is real: torch's own C accessor dispatches to these
dispatched = []
for name, t in (("Traced", traced), ("own_attr", own_attr), ("Lookup", lookup)):
    del ran[:]
    try:
        torch._C._TensorBase.data_ptr(t) if hasattr(torch._C, "_TensorBase") else torch._C.TensorBase.data_ptr(t)
    except RuntimeError:
        pass
    if ran:
        dispatched.append(name)

print(json.dumps({
    "owners": [id(t) for t in owners], "views": [id(v) for v in views],
    "arr": id(arr), "from_arr": id(from_arr), "arr_bytes": arr.nbytes,
    "ten": id(ten), "as_arr": id(as_arr), "inner": id(inner), "ten_bytes": nbytes(ten),
    "param": id(param), "param_bytes": nbytes(param), "quiet": id(quiet), "quiet_bytes": nbytes(quiet),
    "traced": id(traced), "lookup": id(lookup), "dispatching": id(dispatching), "own_attr": id(own_attr),
    "meta": id(meta), "sparse": id(sparse),
    "ran": ran_in_capture, "dispatched": dispatched,
}))
