package objgraph_test

// Ports of objgraph's own tests (tests.py) to small hand-built heaps. The
// doctest files (docs/*.txt) are ported in docs_test.go.

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// fake builds a small heap the way tests.py fakes object graphs. Objects
// get addresses 0x1000, 0x1020, … (DOT nodes o4096, o4128, …) and are
// gc-tracked unless said otherwise.
type fake struct {
	t     testing.TB
	b     *heap.Builder
	types map[string]heap.TypeID
	next  uint64
}

func newFake(t testing.TB) *fake {
	return &fake{t: t, b: heap.NewBuilder(), types: map[string]heap.TypeID{}, next: 0x1000}
}

// typ interns a type by its qualified name; the short name is the part after
// the last dot. A name without a dot is a type without a module.
func (f *fake) typ(qual string) heap.TypeID {
	if t, ok := f.types[qual]; ok {
		return t
	}
	short, full := qual[strings.LastIndex(qual, ".")+1:], qual
	if short == qual {
		full = ""
	}
	t := f.b.AddType(short, full)
	f.types[qual] = t
	return t
}

// obj adds a tracked object of type qual with a label; edit, if given,
// changes the rest.
func (f *fake) obj(qual, label string, edit ...func(*heap.Object)) heap.ID {
	o := heap.Object{Addr: f.next, Type: f.typ(qual), Size: 56, Refcount: 1, Flags: heap.FlagTracked, Label: label}
	f.next += 0x20
	for _, e := range edit {
		e(&o)
	}
	return f.b.AddObject(o)
}

func untracked(o *heap.Object) { o.Flags &^= heap.FlagTracked }
func withDel(o *heap.Object)   { o.Flags |= heap.FlagHasDel }
func kind(k heap.Kind) func(*heap.Object) {
	return func(o *heap.Object) { o.Flags = o.Flags.WithKind(k) }
}
func refcount(n uint64) func(*heap.Object) { return func(o *heap.Object) { o.Refcount = n } }

// module adds a module object held by sys.modules.
func (f *fake) module(name string) heap.ID {
	m := f.obj("builtins.module", name, kind(heap.KindModule))
	f.b.AddRoot(heap.Root{Kind: heap.RootModule, Name: name, Target: m})
	return m
}

func (f *fake) edge(from, to heap.ID, name string) { f.b.AddEdge(from, to, name) }

func (f *fake) build() *heap.Heap {
	f.t.Helper()
	h, err := f.b.Build()
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func dot(t *testing.T, show func(w *bytes.Buffer) (int, error)) (string, int) {
	t.Helper()
	var buf bytes.Buffer
	n, err := show(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), n
}

const singleElementOutput = `digraph ObjectGraph {
  node[shape=box, style=filled, fillcolor=white];
  o4096[fontcolor=red];
  o4096[label="TestObject\nTestObject(A)"];
  o4096[fillcolor="0,0,1"];
}
`

const singleElementOutputWithAttr = `digraph ObjectGraph {
  node[shape=box, style=filled, fillcolor=white];
  o4096[fontcolor=red];
  o4096[label="TestObject\nTestObject(A)", x="y"];
  o4096[fillcolor="0,0,1"];
}
`

const twoElementOutput = `digraph ObjectGraph {
  node[shape=box, style=filled, fillcolor=white];
  o4096[fontcolor=red];
  o4096[label="TestObject\nTestObject(A)"];
  o4096[fillcolor="0,0,1"];
  o4128 -> o4096;
  o4128[label="TestObject\nTestObject(B)"];
  o4128[fillcolor="0,0,0.766667"];
}
`

func TestShowGraph(t *testing.T) {
	t.Run("basic", func(t *testing.T) {
		f := newFake(t)
		a := f.obj("tests.TestObject", "TestObject(A)")
		h := f.build()
		got, n := dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowBackrefs(w, h, []heap.ID{a}, objgraph.GraphOptions{})
		})
		if got != singleElementOutput || n != 1 {
			t.Errorf("got %d nodes:\n%s", n, got)
		}
	})
	t.Run("extra node attrs", func(t *testing.T) {
		f := newFake(t)
		a := f.obj("tests.TestObject", "TestObject(A)")
		h := f.build()
		opts := objgraph.GraphOptions{ExtraNodeAttrs: func(heap.ID) map[string]string { return map[string]string{"x": "y"} }}
		got, _ := dot(t, func(w *bytes.Buffer) (int, error) { return objgraph.ShowBackrefs(w, h, []heap.ID{a}, opts) })
		if got != singleElementOutputWithAttr {
			t.Errorf("got:\n%s", got)
		}
	})
	t.Run("simple chain", func(t *testing.T) {
		f := newFake(t)
		a := f.obj("tests.TestObject", "TestObject(A)")
		b := f.obj("tests.TestObject", "TestObject(B)")
		f.edge(b, a, "")
		h := f.build()
		got, n := dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowBackrefs(w, h, []heap.ID{a}, objgraph.GraphOptions{})
		})
		if got != twoElementOutput || n != 2 {
			t.Errorf("got %d nodes:\n%s", n, got)
		}
	})
	t.Run("stops at modules", func(t *testing.T) {
		// tests.py's test_cull_func: show_backrefs culls proper modules.
		f := newFake(t)
		a := f.obj("tests.TestObject", "TestObject(A)")
		b := f.module("B")
		c := f.obj("tests.TestObject", "TestObject(C)")
		f.edge(b, a, "")
		f.edge(c, b, "")
		h := f.build()
		got, _ := dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowBackrefs(w, h, []heap.ID{a}, objgraph.GraphOptions{})
		})
		want := strings.NewReplacer(
			`o4128[label="TestObject\nTestObject(B)"]`, `o4128[label="module\nB"]`,
			`o4128[fillcolor="0,0,0.766667"]`, `o4128[fillcolor="0.3,1,0.766667"]`,
		).Replace(twoElementOutput)
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
		// show_refs does not stop at modules.
		got, n := dot(t, func(w *bytes.Buffer) (int, error) {
			return objgraph.ShowRefs(w, h, []heap.ID{c}, objgraph.GraphOptions{})
		})
		if n != 3 || !strings.Contains(got, "o4128 -> o4096;") {
			t.Errorf("ShowRefs drew %d nodes:\n%s", n, got)
		}
	})
	t.Run("bad id", func(t *testing.T) {
		h := newFake(t).build()
		if _, err := objgraph.ShowRefs(&bytes.Buffer{}, h, []heap.ID{3}, objgraph.GraphOptions{}); err == nil {
			t.Error("no error for an id out of range")
		}
	})
}

func TestFindChain(t *testing.T) {
	f := newFake(t)
	m := f.module("mod")
	d := f.obj("builtins.dict", "2 items")
	l := f.obj("builtins.list", "1 items")
	x := f.obj("tests.X", "X()")
	other := f.obj("builtins.list", "1 items")
	f.edge(m, d, "__dict__")
	f.edge(d, l, "items")
	f.edge(l, x, "[0]")
	f.edge(d, other, "other")
	f.edge(other, l, "[0]")
	h := f.build()
	never := func(heap.ID) bool { return false }
	for _, tc := range []struct {
		name string
		got  []heap.ID
		want []heap.ID
	}{
		{"no chain", objgraph.FindBackrefChain(h, x, never, objgraph.ChainOptions{}), []heap.ID{x}},
		{"no ref chain", objgraph.FindRefChain(h, m, never, objgraph.ChainOptions{}), []heap.ID{m}},
		{"to module", objgraph.FindBackrefChain(h, x, objgraph.IsProperModule(h), objgraph.ChainOptions{}), []heap.ID{m, d, l, x}},
		{"to root", objgraph.FindBackrefChain(h, x, objgraph.IsRoot(h), objgraph.ChainOptions{}), []heap.ID{m, d, l, x}},
		{"start matches", objgraph.FindBackrefChain(h, m, objgraph.IsRoot(h), objgraph.ChainOptions{}), []heap.ID{m}},
		{"max depth too short", objgraph.FindBackrefChain(h, x, objgraph.IsRoot(h), objgraph.ChainOptions{MaxDepth: 2}), []heap.ID{x}},
		{"max depth just enough", objgraph.FindBackrefChain(h, x, objgraph.IsRoot(h), objgraph.ChainOptions{MaxDepth: 3}), []heap.ID{m, d, l, x}},
		{"ignore forces a detour", objgraph.FindBackrefChain(h, x, objgraph.IsRoot(h), objgraph.ChainOptions{ExtraIgnore: []heap.ID{d}}), []heap.ID{x}},
		{"ignore shortest", objgraph.FindRefChain(h, m, func(id heap.ID) bool { return id == x }, objgraph.ChainOptions{ExtraIgnore: []heap.ID{l}}), []heap.ID{m}},
		{"forward", objgraph.FindRefChain(h, m, func(id heap.ID) bool { return id == x }, objgraph.ChainOptions{}), []heap.ID{m, d, l, x}},
		{"forward ignore other", objgraph.FindRefChain(h, d, func(id heap.ID) bool { return id == l }, objgraph.ChainOptions{}), []heap.ID{d, l}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// myClasses builds tests.py's type('MyClass', (), {'__module__': ...})
// objects: one of mymodule.MyClass and one of other.MyClass.
func myClasses(t *testing.T) (*heap.Heap, heap.ID, heap.ID) {
	f := newFake(t)
	f.obj("builtins.dict", "0 items")
	x := f.obj("mymodule.MyClass", "<mymodule.MyClass object at 0x1020>")
	y := f.obj("other.MyClass", "<other.MyClass object at 0x1040>")
	f.obj("builtins.str", "'MyClass'", untracked)
	return f.build(), x, y
}

func TestCount(t *testing.T) {
	h, _, _ := myClasses(t)
	if n := objgraph.Count(h, "MyClass", objgraph.StatsOptions{}); n != 2 {
		t.Errorf("count('MyClass') = %d, want 2", n)
	}
	if n := objgraph.Count(h, "mymodule.MyClass", objgraph.StatsOptions{}); n != 1 {
		t.Errorf("count('mymodule.MyClass') = %d, want 1", n)
	}
	if n := objgraph.Count(h, "str", objgraph.StatsOptions{}); n != 0 {
		t.Errorf("count('str') = %d, want 0: str is not tracked", n)
	}
	if n := objgraph.Count(h, "MyClass", objgraph.StatsOptions{Objects: []heap.ID{1}}); n != 1 {
		t.Errorf("count('MyClass', objects) = %d, want 1", n)
	}
}

func TestTypestats(t *testing.T) {
	h, x, _ := myClasses(t)
	stats := objgraph.Typestats(h, objgraph.StatsOptions{Qualified: true})
	if stats["mymodule.MyClass"] != 1 || stats["other.MyClass"] != 1 || stats["builtins.dict"] != 1 || len(stats) != 3 {
		t.Errorf("typestats(shortnames=False) = %v", stats)
	}
	stats = objgraph.Typestats(h, objgraph.StatsOptions{})
	if stats["MyClass"] != 2 || len(stats) != 2 {
		t.Errorf("typestats() = %v", stats)
	}
	// tests.py's TypestatsFilterArguTest: a filter keeps one of two.
	stats = objgraph.Typestats(h, objgraph.StatsOptions{Qualified: true, Filter: func(id heap.ID) bool { return id == x }})
	if len(stats) != 1 || stats["mymodule.MyClass"] != 1 {
		t.Errorf("typestats(filter) = %v", stats)
	}
	var out bytes.Buffer
	objgraph.ShowMostCommonTypes(&out, h, 1, objgraph.StatsOptions{})
	if out.String() != "MyClass 2\n" {
		t.Errorf("show_most_common_types(limit=1) = %q", out.String())
	}
	out.Reset()
	objgraph.ShowMostCommonTypes(&out, h, 0, objgraph.StatsOptions{Objects: []heap.ID{}})
	if out.Len() != 0 {
		t.Errorf("show_most_common_types of nothing = %q", out.String())
	}
}

func TestGrowth(t *testing.T) {
	f := newFake(t)
	f.obj("builtins.dict", "")
	before := f.build()
	f = newFake(t)
	f.obj("builtins.dict", "")
	f.obj("mymodule.MyClass", "")
	after := f.build()

	var tr objgraph.GrowthTracker
	tr.Growth(before, 0, objgraph.StatsOptions{})
	got := tr.Growth(after, 0, objgraph.StatsOptions{})
	if len(got) != 1 || got[0] != (objgraph.GrowthStat{Type: "MyClass", Count: 1, Delta: 1}) {
		t.Errorf("growth = %v", got)
	}
	// Peaks are kept: falling back and rising to the old peak is no growth.
	tr.Growth(before, 0, objgraph.StatsOptions{})
	if got := tr.Growth(after, 0, objgraph.StatsOptions{}); len(got) != 0 {
		t.Errorf("growth back to the peak = %v", got)
	}
	// show_growth with its own peak stats fills them: a second call on the
	// same heap shows nothing.
	var tr2 objgraph.GrowthTracker
	var out bytes.Buffer
	tr2.ShowGrowth(&out, after, 0, objgraph.StatsOptions{Qualified: true})
	if out.String() != "builtins.dict           1        +1\nmymodule.MyClass        1        +1\n" {
		t.Errorf("show_growth = %q", out.String())
	}
	out.Reset()
	tr2.ShowGrowth(&out, after, 0, objgraph.StatsOptions{Qualified: true})
	if out.Len() != 0 {
		t.Errorf("second show_growth = %q", out.String())
	}
}

func TestGetNewIDs(t *testing.T) {
	f := newFake(t)
	f.obj("builtins.list", "")
	f.obj("builtins.dict", "")
	old := f.build()
	f = newFake(t)
	f.obj("builtins.list", "")
	f.obj("builtins.tuple", "") // the dict's address now holds a tuple
	x := f.obj("mymodule.MyClass", "")
	cur := f.build()

	n := objgraph.GetNewIDs(old, cur, objgraph.SortByDeltas, objgraph.StatsOptions{})
	if !slices.Equal(n.Addrs["MyClass"], []uint64{cur.Addr(x)}) {
		t.Errorf("new MyClass = %#x", n.Addrs["MyClass"])
	}
	if !slices.Equal(n.Addrs["tuple"], []uint64{0x1020}) {
		t.Errorf("a reused address does not count as new: %#x", n.Addrs["tuple"])
	}
	if _, ok := n.Addrs["list"]; ok {
		t.Errorf("the list is not new: %v", n.Addrs)
	}
	// The same heap twice: nothing is new.
	if n := objgraph.GetNewIDs(cur, cur, objgraph.SortByDeltas, objgraph.StatsOptions{}); len(n.Addrs) != 0 {
		t.Errorf("new ids between a heap and itself: %v", n.Addrs)
	}
	n = objgraph.GetNewIDs(old, cur, objgraph.SortByDeltas, objgraph.StatsOptions{Qualified: true})
	if len(n.Addrs["mymodule.MyClass"]) != 1 {
		t.Errorf("long type names: %v", n.Addrs)
	}
	// Rows sort by the column, then by name in reverse, as objgraph does.
	var names []string
	for _, r := range objgraph.GetNewIDs(old, cur, objgraph.SortByCurrent, objgraph.StatsOptions{}).Rows {
		names = append(names, r.Type)
	}
	if !slices.Equal(names, []string{"tuple", "list", "MyClass", "dict"}) {
		t.Errorf("rows by current: %v", names)
	}
}

// TestGetNewIDsPrints ports doctest_get_new_ids_prints: ten new lists (and
// the list holding them) show as +11.
func TestGetNewIDsPrints(t *testing.T) {
	f := newFake(t)
	for range 5 {
		f.obj("builtins.list", "")
	}
	f.obj("builtins.dict", "")
	old := f.build()
	f = newFake(t)
	for range 5 {
		f.obj("builtins.list", "")
	}
	f.obj("builtins.dict", "")
	outer := f.obj("builtins.list", "10 items")
	for i := range 10 {
		f.b.AddIndexEdge(outer, f.obj("builtins.list", "0 items"), i)
	}
	cur := f.build()
	var out bytes.Buffer
	objgraph.GetNewIDs(old, cur, objgraph.SortByDeltas, objgraph.StatsOptions{}).Show(&out, 1)
	want := "" +
		"========================================================\n" +
		"Type      Old_ids  Current_ids      New_ids Count_Deltas\n" +
		"========================================================\n" +
		"list            5           16          +11          +11\n" +
		"========================================================\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestByType(t *testing.T) {
	h, x, _ := myClasses(t)
	if got := objgraph.ByType(h, "mymodule.MyClass", objgraph.StatsOptions{}); !slices.Equal(got, []heap.ID{x}) {
		t.Errorf("by_type('mymodule.MyClass') = %v", got)
	}
	if got := objgraph.ByType(h, "str", objgraph.StatsOptions{}); got != nil {
		t.Errorf("by_type('str') = %v, want none: untracked", got)
	}
	if got := objgraph.ByType(h, "str", objgraph.StatsOptions{All: true}); len(got) != 1 {
		t.Errorf("by_type('str', all) = %v", got)
	}
}

func TestAtAddrs(t *testing.T) {
	h, x, y := myClasses(t)
	got := objgraph.AtAddrs(h, []uint64{h.Addr(y), h.Addr(x), h.Addr(x), 0x1060, 0xdead})
	if !slices.Equal(got, []heap.ID{x, y}) {
		t.Errorf("at_addrs = %v", got)
	}
}

func TestGetLeakingObjects(t *testing.T) {
	f := newFake(t)
	a := f.obj("builtins.list", "1 items")
	b := f.obj("builtins.list", "0 items")
	s := f.obj("builtins.str", "'x'", untracked)
	c := f.obj("builtins.dict", "0 items") // referred to only by an untracked object
	f.edge(a, b, "[0]")
	f.edge(a, s, "[1]")
	f.edge(s, c, "") // not possible in CPython, but the rule is about tracked referrers
	h := f.build()
	if got := objgraph.GetLeakingObjects(h); !slices.Equal(got, []heap.ID{a, c}) {
		t.Errorf("get_leaking_objects = %v", got)
	}
}

// TestLabels ports tests.py's StringRepresentationTest where it applies to
// snapshots: labels, extra node attributes and edge labels.
func TestLabels(t *testing.T) {
	f := newFake(t)
	x := f.obj("mymodule.MyClass", "<mymodule.MyClass object at 0x1000>")
	o := f.obj("object", "<object object at 0x1020>")
	frame := f.obj("builtins.frame", "tests.py:42", kind(heap.KindFrame))
	globals := f.obj("builtins.dict", "12 items")
	method := f.obj("builtins.method", "a_method (bound)")
	fn := f.obj("builtins.function", "a_method", kind(heap.KindFunction))
	d := f.obj("builtins.dict", "1 items")
	one := f.obj("builtins.int", "1", untracked)
	f.edge(frame, globals, "f_globals")
	f.edge(method, fn, "__func__")
	f.edge(method, x, "__self__")
	f.edge(fn, globals, "__globals__")
	f.edge(d, one, "<mymodule.MyClass object at 0x1000>")
	f.edge(x, d, "__dict__")
	f.edge(globals, x, "x")
	h := f.build()

	// _obj_label with shortnames=False.
	got, _ := dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, []heap.ID{x}, objgraph.GraphOptions{Qualified: true, MaxDepth: -1})
	})
	if !strings.Contains(got, `o4096[label="mymodule.MyClass\n<mymodule.MyClass object at 0x1000>"];`) {
		t.Errorf("qualified label:\n%s", got)
	}
	// A type without a module has only its name.
	if n := objgraph.TypeName(h, o, true); n != "object" {
		t.Errorf("long type name without module = %q", n)
	}
	// _obj_attrs: attributes in name order.
	attrs := func(id heap.ID) map[string]string {
		return map[string]string{"url": "http://e.com/" + h.TypeName(id), "shape": "diamond"}
	}
	got, _ = dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, []heap.ID{o}, objgraph.GraphOptions{ExtraNodeAttrs: attrs})
	})
	if !strings.Contains(got, `o4128[label="object\n<object object at 0x1020>", shape="diamond", url="http://e.com/object"];`) {
		t.Errorf("extra node attrs:\n%s", got)
	}
	// _edge_label.
	got, _ = dot(t, func(w *bytes.Buffer) (int, error) {
		return objgraph.ShowRefs(w, h, []heap.ID{frame, method, d, globals, fn, x}, objgraph.GraphOptions{MaxDepth: 1})
	})
	for _, want := range []string{
		`o4160 -> o4192 [label="f_globals",weight=10];`,
		`o4224 -> o4256 [label="__func__",weight=10];`,
		`o4224 -> o4096 [label="__self__",weight=10];`,
		`o4256 -> o4192 [label="__globals__",weight=10];`,
		`o4288 -> o4320 [label="<mymodule.MyClass object at 0x1000>"];`,
		`o4096 -> o4288 [label="__dict__",weight=10];`,
		`o4192 -> o4096 [label="x",weight=2];`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, got)
		}
	}
}

// TestFrozenNotListed: objects in the permanent generation are tracked but
// not listed by gc.get_objects(), so objgraph's functions do not see them.
func TestFrozenNotListed(t *testing.T) {
	f := newFake(t)
	frozen := func(o *heap.Object) { o.Flags |= heap.FlagPermanent }
	a := f.obj("builtins.list", "1 items")
	fz := f.obj("builtins.tuple", "(<class 'object'>,)", frozen)
	b := f.obj("builtins.dict", "0 items")
	f.edge(fz, b, "[0]") // b is referred to by a frozen object only
	f.edge(a, fz, "[0]")
	h := f.build()
	stats := objgraph.Typestats(h, objgraph.StatsOptions{})
	if stats["tuple"] != 0 || stats["list"] != 1 || stats["dict"] != 1 {
		t.Errorf("typestats() = %v, want the frozen tuple left out", stats)
	}
	if n := objgraph.Count(h, "tuple", objgraph.StatsOptions{All: true}); n != 1 {
		t.Errorf("count('tuple', all) = %d, want 1", n)
	}
	if _, ok := objgraph.At(h, h.Addr(fz)); ok {
		t.Error("at() found a frozen object")
	}
	if got := objgraph.GetLeakingObjects(h); !slices.Equal(got, []heap.ID{a, b}) {
		t.Errorf("get_leaking_objects = %v, want [%d %d]", got, a, b)
	}
}
