package objgraph_test

// Ports of objgraph's doctest files (docs/*.txt) to hand-built heaps shaped
// like the Python objects the doctests make, with golden DOT files in
// testdata (go test -update rewrites them).

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/objgraph-go/objgraph/internal/golden"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// AllTheChars is docs/quoting.txt's dict((chr(i), i) for i in range(256)),
// with each value's edge named by its key, plus a second dict whose 256 keys
// are the single bytes 0 to 255, most of them not UTF-8, as a snapshot could
// name edges after bytes keys.
func AllTheChars(t testing.TB) (*heap.Heap, []heap.ID) {
	f := newFake(t)
	d := f.obj("builtins.dict", "256 items")
	raw := f.obj("builtins.dict", "256 items")
	for i := range 256 {
		v := f.obj("builtins.int", fmt.Sprint(i), untracked)
		f.edge(d, v, string(rune(i)))
		f.edge(raw, v, string([]byte{byte(i)}))
	}
	return f.build(), []heap.ID{d, raw}
}

func TestQuoting(t *testing.T) {
	h, starts := AllTheChars(t)
	got, n := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, starts, objgraph.GraphOptions{TooMany: 600})
	})
	if n != 258 {
		t.Errorf("%d nodes, want 258", n)
	}
	golden.Check(t, "all-the-chars.dot", got)
	if !utf8.ValidString(got) {
		t.Error("DOT output is not UTF-8")
	}
	for i, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		for _, r := range line {
			if r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 {
				t.Errorf("line %d has control character %U: %q", i+1, r, line)
			}
		}
		if strings.HasSuffix(line, `\\"];`) || strings.Contains(line, `\\"]`) || strings.Contains(line, `\\",`) {
			t.Errorf("line %d has a string ending in an escaped backslash: %s", i+1, line)
		}
	}
}

// TestHighlight ports docs/highlighting.txt: a cycle of four Nodes through
// their neighbours lists, drawn from a with the Nodes highlighted and the
// module's globals ignored.
func TestHighlight(t *testing.T) {
	f := newFake(t)
	mod := f.module("__main__")
	globals := f.obj("builtins.dict", "9 items")
	f.edge(mod, globals, "__dict__")
	var nodes, lists []heap.ID
	for _, name := range []string{"a", "b", "c", "d"} {
		n := f.obj("__main__.Node", "<__main__.Node object at 0x...>")
		l := f.obj("builtins.list", "1 items")
		f.edge(n, l, "neighbours")
		f.edge(globals, n, name)
		nodes, lists = append(nodes, n), append(lists, l)
	}
	for i := range nodes {
		f.b.AddIndexEdge(lists[(i+1)%4], nodes[i], 0) // b.neighbours = [a], …, a.neighbours = [d]
	}
	h := f.build()
	isNode := func(id heap.ID) bool { return h.TypeName(id) == "Node" }
	got, n := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowBackrefs(w, h, nodes[:1], objgraph.GraphOptions{MaxDepth: 15, ExtraIgnore: []heap.ID{globals}, Highlight: isNode})
	})
	if n != 8 {
		t.Errorf("%d nodes, want 8", n)
	}
	golden.Check(t, "highlight.dot", got)
}

// TestForwardChain ports docs/chain.txt: the chain from a dict to the
// object that cannot be pickled, drawn forwards.
func TestForwardChain(t *testing.T) {
	f := newFake(t)
	my := f.obj("builtins.dict", "2 items")
	foo := f.obj("builtins.dict", "1 items")
	things := f.obj("builtins.str", "'things'", untracked)
	bar := f.obj("builtins.list", "2 items")
	nesting := f.obj("builtins.dict", "1 items")
	fun := f.obj("builtins.str", "'fun'", untracked)
	trap := f.obj("builtins.dict", "1 items")
	obj := f.obj("__main__.MyUnpicklableObject", "<__main__.MyUnpicklableObject object at 0x...>")
	f.edge(my, foo, "foo")
	f.edge(foo, things, "unrelated")
	f.edge(my, bar, "bar")
	f.b.AddIndexEdge(bar, nesting, 0)
	f.b.AddIndexEdge(bar, trap, 1)
	f.edge(nesting, fun, "nesting")
	f.edge(trap, obj, "boobytrap")
	h := f.build()
	isUnpicklable := func(id heap.ID) bool { return h.TypeName(id) == "MyUnpicklableObject" }
	chain := objgraph.FindRefChain(h, my, isUnpicklable, objgraph.ChainOptions{})
	if !slices.Equal(chain, []heap.ID{my, bar, trap, obj}) {
		t.Fatalf("chain = %v", chain)
	}
	got, n := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowChain(w, h, [][]heap.ID{chain}, objgraph.GraphOptions{Forward: true})
	})
	if n != 4 {
		t.Errorf("%d nodes, want 4", n)
	}
	golden.Check(t, "forward-chain.dot", got)
	if _, err := objgraph.ShowChain(&bytes.Buffer{}, h, [][]heap.ID{nil}, objgraph.GraphOptions{}); err == nil {
		t.Error("no error for no chain")
	}
}

// TestExtraInfo ports docs/extra-info.txt.
func TestExtraInfo(t *testing.T) {
	f := newFake(t)
	x := f.obj("builtins.list", "0 items")
	y := f.obj("builtins.list", "3 items")
	inner := f.obj("builtins.list", "1 items")
	d := f.obj("builtins.dict", "1 items")
	s := f.obj("builtins.str", "'a string'", untracked)
	f.b.AddIndexEdge(y, x, 0)
	f.b.AddIndexEdge(y, inner, 1)
	f.b.AddIndexEdge(y, d, 2)
	f.b.AddIndexEdge(inner, x, 0)
	f.edge(d, x, "x")
	h := f.build()
	info := func(id heap.ID) string { return fmt.Sprintf("%#x", h.Addr(id)) }
	got, _ := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, []heap.ID{y}, objgraph.GraphOptions{ExtraInfo: info})
	})
	golden.Check(t, "extra-info.dot", got)
	if id, ok := objgraph.At(h, h.Addr(x)); !ok || id != x {
		t.Errorf("at(id(x)) = %v, %v", id, ok)
	}
	if _, ok := objgraph.At(h, h.Addr(s)); ok {
		t.Error("at() found an untracked str")
	}
}

// TestTooMany ports docs/references.txt: truncated references and
// back-references, and reference counts.
func TestTooMany(t *testing.T) {
	t.Run("refs", func(t *testing.T) {
		f := newFake(t)
		l := f.obj("builtins.list", "7 items")
		for i := range 7 {
			f.b.AddIndexEdge(l, f.obj("builtins.int", fmt.Sprint(i), untracked), i)
		}
		h := f.build()
		got, n := dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowRefs(w, h, []heap.ID{l}, objgraph.GraphOptions{TooMany: 5})
		})
		if n != 6 || !strings.Contains(got, `label="2 more references"`) {
			t.Errorf("%d nodes:\n%s", n, got)
		}
		golden.Check(t, "too-many.dot", got)
	})
	t.Run("backrefs", func(t *testing.T) {
		f := newFake(t)
		moo := f.obj("builtins.str", "'moo'", untracked)
		for range 42 {
			f.b.AddIndexEdge(f.obj("builtins.list", "1 items"), moo, 0)
		}
		h := f.build()
		got, n := dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowBackrefs(w, h, []heap.ID{moo}, objgraph.GraphOptions{TooMany: 5, MaxDepth: 1})
		})
		if n != 6 || !strings.Contains(got, `label="37 more backreferences"`) {
			t.Errorf("%d nodes:\n%s", n, got)
		}
		golden.Check(t, "42.dot", got)
		_, n = dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowBackrefs(w, h, []heap.ID{moo}, objgraph.GraphOptions{TooMany: -1, MaxDepth: 1})
		})
		if n != 43 {
			t.Errorf("no limit: %d nodes, want 43", n)
		}
	})
	t.Run("refcounts", func(t *testing.T) {
		f := newFake(t)
		mod := f.module("__main__")
		globals := f.obj("builtins.dict", "9 items")
		one := f.obj("builtins.object", "<object object at 0x...>")
		none := f.obj("builtins.NoneType", "None", untracked, func(o *heap.Object) { o.Flags |= heap.FlagImmortal; o.Refcount = 1<<32 - 1 })
		f.edge(mod, globals, "__dict__")
		f.edge(globals, one, "one_reference")
		f.edge(globals, none, "nothing")
		h := f.build()
		got, _ := dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowBackrefs(w, h, []heap.ID{one, none}, objgraph.GraphOptions{Refcounts: true})
		})
		golden.Check(t, "refcounts.dot", got)
	})
}

// canary builds docs/generator-sample.txt's heap: a Canary held only by the
// frame of a suspended generator.
func canary(t *testing.T) (*heap.Heap, heap.ID) {
	f := newFake(t)
	mod := f.module("__main__")
	globals := f.obj("builtins.dict", "12 items")
	class := f.obj("builtins.type", "Canary", kind(heap.KindType))
	gen := f.obj("builtins.generator", "<generator object count_to_three at 0x...>")
	frame := f.obj("builtins.frame", "<doctest generator-sample.txt[1]>:3", kind(heap.KindFrame))
	code := f.obj("builtins.code", "<code object count_to_three at 0x...>", kind(heap.KindCode), untracked)
	bird := f.obj("__main__.Canary", "<__main__.Canary object at 0x...>")
	f.edge(mod, globals, "__dict__")
	f.edge(globals, class, "Canary")
	f.edge(globals, gen, "it")
	f.edge(gen, frame, "gi_frame")
	f.edge(gen, code, "gi_code")
	f.edge(frame, code, "f_code")
	f.edge(frame, globals, "f_globals")
	f.edge(frame, bird, "tweety")
	f.edge(bird, class, "__class__")
	return f.build(), bird
}

func TestGenerator(t *testing.T) {
	h, bird := canary(t)
	if n := objgraph.Count(h, "Canary", objgraph.StatsOptions{}); n != 1 {
		t.Errorf("count('Canary') = %d", n)
	}
	got, _ := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowBackrefs(w, h, objgraph.ByType(h, "Canary", objgraph.StatsOptions{}), objgraph.GraphOptions{MaxDepth: 7})
	})
	golden.Check(t, "canary.dot", got)
	chain := objgraph.FindBackrefChain(h, bird, objgraph.IsProperModule(h), objgraph.ChainOptions{})
	var types []string
	for _, id := range chain {
		types = append(types, h.TypeName(id))
	}
	if strings.Join(types, " ") != "module dict generator frame Canary" {
		t.Errorf("chain = %v", types)
	}
	got, n := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowChain(w, h, [][]heap.ID{chain}, objgraph.GraphOptions{})
	})
	if n != 5 {
		t.Errorf("chain graph has %d nodes, want 5", n)
	}
	golden.Check(t, "canary-chain.dot", got)
}

// TestFinalizers ports docs/uncollectable.txt: objects with __del__ carry a
// marker; a class that defines __del__ does not.
func TestFinalizers(t *testing.T) {
	f := newFake(t)
	gcmod := f.module("gc")
	gcdict := f.obj("builtins.dict", "40 items")
	garbage := f.obj("builtins.list", "1 items")
	class := f.obj("builtins.type", "Nondestructible", kind(heap.KindType))
	x := f.obj("__main__.Nondestructible", "[[[[...]]]]", withDel)
	y := f.obj("builtins.list", "[[[...]]]")
	z := f.obj("builtins.list", "[[[...]]]")
	f.edge(gcmod, gcdict, "__dict__")
	f.edge(gcdict, garbage, "garbage")
	f.b.AddIndexEdge(garbage, x, 0)
	f.b.AddIndexEdge(x, y, 0)
	f.b.AddIndexEdge(y, z, 0)
	f.b.AddIndexEdge(z, x, 0)
	f.edge(x, class, "__class__")
	h := f.build()
	got, _ := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowBackrefs(w, h, objgraph.ByType(h, "Nondestructible", objgraph.StatsOptions{}), objgraph.GraphOptions{})
	})
	golden.Check(t, "finalizers.dot", got)
	got, _ = dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, []heap.ID{class}, objgraph.GraphOptions{MaxDepth: 1})
	})
	if strings.Contains(got, "has_a_del") {
		t.Errorf("the class got a __del__ marker:\n%s", got)
	}
}

// TestDictKeysSharingValue checks that objgraph's bug #49 is not repeated:
// {"a": None, "b": None} has two references to None, labelled a and b.
func TestDictKeysSharingValue(t *testing.T) {
	f := newFake(t)
	d := f.obj("builtins.dict", "2 items")
	none := f.obj("builtins.NoneType", "None", untracked)
	f.edge(d, none, "a")
	f.edge(d, none, "b")
	h := f.build()
	want := `  o4096 -> o4128 [label="a",weight=2];
  o4096 -> o4128 [label="b",weight=2];
`
	got, n := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, []heap.ID{d}, objgraph.GraphOptions{})
	})
	if n != 2 || !strings.Contains(got, want) {
		t.Errorf("show_refs, %d nodes:\n%s", n, got)
	}
	got, n = dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowBackrefs(w, h, []heap.ID{none}, objgraph.GraphOptions{})
	})
	if n != 2 || !strings.Contains(got, want) {
		t.Errorf("show_backrefs, %d nodes:\n%s", n, got)
	}
	// Each reference counts against TooMany.
	got, _ = dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowBackrefs(w, h, []heap.ID{none}, objgraph.GraphOptions{TooMany: 1})
	})
	if !strings.Contains(got, `[label="a",weight=2]`) || !strings.Contains(got, `label="1 more backreferences"`) {
		t.Errorf("show_backrefs with too_many=1:\n%s", got)
	}
}

// TestLabelEndingInBackslash checks that objgraph's bug #30 is not repeated:
// the repr cut at 40 characters in the middle of an escape leaves a label
// that ends in a backslash, and graphviz must still read the file.
func TestLabelEndingInBackslash(t *testing.T) {
	f := newFake(t)
	s := f.obj("builtins.str", `'map(func, *iterables) --> map object\n\`, untracked, refcount(1))
	h := f.build()
	got, _ := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, []heap.ID{s}, objgraph.GraphOptions{Refcounts: true, ExtraNodeAttrs: func(heap.ID) map[string]string {
			return map[string]string{"tooltip": `C:\`}
		}})
	})
	want := `  o4096[label="str [1]\n'map(func, *iterables) --> map object\\n\\\n", tooltip="C:&#92;"];`
	if !strings.Contains(got, want+"\n") {
		t.Errorf("got:\n%s\nwant the line:\n%s", got, want)
	}
}
