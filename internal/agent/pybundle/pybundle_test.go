package pybundle

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func pkg(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	if _, ok := files["__init__.py"]; !ok {
		fsys["__init__.py"] = &fstest.MapFile{Data: []byte("\"\"\"The package.\"\"\"\nfrom . import base  # glue, not bundled\n")}
	}
	return fsys
}

var opts = Options{Package: "mypkg", Header: []string{"Code generated; DO NOT EDIT.", "", "second line"}}

const want = `# Code generated; DO NOT EDIT.
#
# second line
"""The package."""

import os
import queue as _queue
from itertools import chain, repeat


# --- mypkg/base.py -----------------------------------------------------------

"""Base: no imports of the package's."""


_N = 3
(_A, _B) = range(2)
for _t in (1, 2):
    pass
del _t


def helper(x):
    """from . import nothing: a docstring, not an import"""
    import json
    return os.path.join(x, json.dumps(_N))


# --- mypkg/a_user.py ---------------------------------------------------------

"""Comes after base, which it imports from, though its name sorts first."""


s = """
from .base import _N


"""


def use():
    return helper(str(_A)), list(chain(repeat(_B, 2))), _queue


if __name__ == "__main__":
    use()
`

func TestBundle(t *testing.T) {
	fsys := pkg(map[string]string{
		"base.py": `"""Base: no imports of the package's."""

import os
from itertools import repeat

_N = 3
(_A, _B) = range(2)
for _t in (1, 2):
    pass
del _t


def helper(x):
    """from . import nothing: a docstring, not an import"""
    import json
    return os.path.join(x, json.dumps(_N))
`,
		"a_user.py": `"""Comes after base, which it imports from, though its name sorts first."""

import os
import queue as _queue
from itertools import chain, repeat

from .base import (
    _A, _B,
    helper)

s = """
from .base import _N


"""


def use():
    return helper(str(_A)), list(chain(repeat(_B, 2))), _queue


if __name__ == "__main__":
    use()
`,
		"notes.txt": "not a module",
	})
	got, err := Bundle(fsys, opts)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("bundle:\n%s\nwant:\n%s", got, want)
	}
	again, err := Bundle(fsys, opts)
	if err != nil || string(again) != string(got) {
		t.Errorf("a second bundle differs (err %v)", err)
	}
}

func TestBundleErrors(t *testing.T) {
	base := "\"\"\"Base.\"\"\"\nX = 1\n\n\ndef f():\n    return X\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // in the error
	}{
		{"same name in two modules", map[string]string{"base.py": base, "other.py": "\"\"\"O.\"\"\"\n\n\ndef X():\n    pass\n"},
			"other.py:4: X is bound by a definition here and by a definition at base.py:2"},
		{"a tuple target", map[string]string{"base.py": base, "other.py": "(A, X) = 1, 2\n"},
			"other.py:1: X is bound by a definition here"},
		{"an import binds a defined name", map[string]string{"base.py": base, "other.py": "import sys as X\n"},
			"other.py:1: X is bound by import sys as X here and by a definition at base.py:2"},
		{"two imports bind one name", map[string]string{"base.py": base + "import queue as q\n", "other.py": "import multiprocessing.queues as q\n"},
			"other.py:1: q is bound by import multiprocessing.queues as q here and by import queue as q at base.py:7"},
		{"module imported whole", map[string]string{"base.py": base, "other.py": "from . import base\n"},
			"other.py:1: from . import base: a module imported whole cannot be bundled"},
		{"star import", map[string]string{"base.py": base, "other.py": "from .base import *\n"},
			"other.py:1: from .base import *: a star import cannot be bundled"},
		{"renaming import", map[string]string{"base.py": base, "other.py": "from .base import X as Y\n"},
			"other.py:1: from .base import X as Y: a renaming import cannot be bundled"},
		{"import in a function", map[string]string{"base.py": base, "other.py": "def g():\n    from .base import X\n    return X\n"},
			"other.py:2: an intra-package import must be at the module's top level"},
		{"import in a block", map[string]string{"base.py": base, "other.py": "try:\n    from .base import X\nexcept ImportError:\n    pass\n"},
			"other.py:2: an intra-package import must be at the module's top level"},
		{"package by its own name", map[string]string{"base.py": base, "other.py": "import mypkg.base\n"},
			"other.py:1: import mypkg.base: the package imported by its own name"},
		{"from the package by its own name", map[string]string{"base.py": base, "other.py": "\n\nfrom mypkg.base import X\n"},
			"other.py:3: from mypkg.base import X: the package imported by its own name"},
		{"a subpackage", map[string]string{"base.py": base, "other.py": "from .sub.mod import X\n"},
			"other.py:1: from .sub.mod import X: only modules at the package's top level can be bundled"},
		{"a parent package", map[string]string{"base.py": base, "other.py": "from ..up import X\n"},
			"other.py:1: from ..up import X: an import from outside the package cannot be bundled"},
		{"no such module", map[string]string{"base.py": base, "other.py": "from .nothere import X\n"},
			"other.py:1: from .nothere import: the package has no module nothere"},
		{"no such name", map[string]string{"base.py": base, "other.py": "from .base import f, g\n"},
			"other.py:1: from .base import g: base.py binds no top-level g"},
		{"a cycle", map[string]string{"base.py": base + "from .other import Y\n", "other.py": "from .base import X\nY = X\n"},
			"base.py:7: import cycle: base -> other -> base"},
		{"__main__ not last", map[string]string{"base.py": base + "if __name__ == \"__main__\":\n    f()\n", "other.py": "from .base import X\n"},
			"base.py:7: the __main__ block must come last, but other.py comes after this module"},
		{"string not terminated", map[string]string{"base.py": base + "s = \"\"\"open\n"},
			"base.py:7: string literal not terminated"},
		{"future import", map[string]string{"base.py": "from __future__ import annotations\n" + base},
			"base.py:1: from __future__ imports cannot be bundled"},
		{"no package docstring", map[string]string{"base.py": base, "__init__.py": "from . import base\n"},
			"__init__.py: no docstring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Bundle(pkg(tc.files), opts)
			if err == nil {
				t.Fatalf("no error; want one containing %q", tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %v is not an *Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

// FuzzBundle: whatever a module holds, Bundle returns a bundle or an
// *Error, and never panics.
func FuzzBundle(f *testing.F) {
	f.Add("\"\"\"D.\"\"\"\nimport os\nfrom .base import X\n\n\ndef f():\n    return X\n")
	f.Add("x = r'\\'' + b\"\\\\\"\ny = (1,\n 2) + \\\n 3\nif x:\n    from . import base\n")
	f.Add("s = '''open\n")
	f.Add("class C:\n    from .base import X\n(a, [b, *c]) = d = e\n")
	f.Fuzz(func(t *testing.T, src string) {
		fsys := pkg(map[string]string{"base.py": "\"\"\"Base.\"\"\"\nX = 1\n", "mod.py": src})
		_, err := Bundle(fsys, opts)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not an *Error", err)
			}
		}
	})
}
