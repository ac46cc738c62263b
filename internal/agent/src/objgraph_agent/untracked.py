"""Referents of containers the collector reports nothing for.

gc.get_referents lists what an object's tp_traverse visits, and a type
without one reports nothing at all although its objects hold references.
Code objects are such a type on every version: their constants, names,
file name, line and exception tables and local variable names are reached
through them only, and would be missing from the snapshot, with their
bytes, from chains and from retained sizes. Their edges are taken here
from the fields a code object stores, each named by its attribute:

- the fields exposed as members (``co_consts``, ``co_names``,
  ``co_filename``, ``co_name``, and per version ``co_qualname``,
  ``co_linetable``, ``co_exceptiontable``, ``co_lnotab``, ``co_code``,
  ``co_varnames``, ``co_cellvars``, ``co_freevars``), read through the
  member descriptor, which returns the stored object and makes nothing;
- on 3.11+, ``co_localsplusnames`` and ``co_localspluskinds``, which hold
  the local variable names and are not exposed (``co_varnames`` makes a
  new tuple on each access on 3.11 and caches one on 3.12+, which would
  change the heap): read with ctypes, at the place the layout gives them
  (just before ``co_filename``), once that place has been checked on a
  code object of the agent's own. Without ctypes, or when the check
  fails, they are left out.

Untracked tuples and dicts need nothing of this: their types traverse
whether or not the collector tracks the object.
"""

import sys
import types

from .layout import _FREE_THREADED, _MEMBER_DESC, _POINTER_SIZE, _PY, _TDICT, _id

_CODE_MEMBERS = ("co_consts", "co_names", "co_filename", "co_name", "co_qualname", "co_linetable",
                 "co_exceptiontable", "co_lnotab", "co_code", "co_varnames", "co_cellvars", "co_freevars")


def _code_members():
    """(name, getter) for the code fields stored as members on this version."""
    d = _TDICT(types.CodeType)
    out = []
    for name in _CODE_MEMBERS:
        desc = d.get(name)
        if type(desc) is _MEMBER_DESC:
            out.append((name, desc.__get__))
    return tuple(out)


def _locals_reader():
    """A function giving (co_localsplusnames, co_localspluskinds) of a code
    object on 3.11+, or None where they cannot be read safely."""
    if _PY < (3, 11) or sys.implementation.name != "cpython" or _POINTER_SIZE != 8 or _FREE_THREADED:
        return None
    try:
        import array
        import ctypes
        pyobj = ctypes.py_object.from_address

        def probe(alpha_probe, beta_probe):
            gamma_probe = alpha_probe

            def inner():
                return gamma_probe
            return inner
        co = probe.__code__
        n = 40
        w = array.array("Q")
        w.frombytes(ctypes.string_at(_id(co), 8 * n))
        fn = _id(co.co_filename)
        if w.count(fn) != 1:
            return None
        off = 8 * w.index(fn)
        if off < 48:
            return None
        names = pyobj(_id(co) + off - 16).value
        kinds = pyobj(_id(co) + off - 8).value
        if type(names) is not tuple or type(kinds) is not bytes or len(names) != len(kinds):
            return None
        if names[:co.co_nlocals] != co.co_varnames or not set(co.co_cellvars) <= set(names):
            return None

        def read(c):
            a = _id(c) + off
            return pyobj(a - 16).value, pyobj(a - 8).value
        return read
    except Exception:
        return None


_CODE_TID = _id(types.CodeType)
_MEMBERS = _code_members()
_LOCALS = _locals_reader()


def _code_referents(co):
    """(values, attribute names) of the objects code object co holds."""
    vals = []
    names = []
    for name, get in _MEMBERS:
        v = get(co)
        if v is not None:
            vals.append(v)
            names.append(name)
    if _LOCALS is not None:
        lp, lk = _LOCALS(co)
        vals.append(lp)
        names.append("co_localsplusnames")
        vals.append(lk)
        names.append("co_localspluskinds")
    return vals, names
