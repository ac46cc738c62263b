package objgraph_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// rootsHeap has an object under a module, one under a local variable of a
// frame, one held from outside the graph (refcount above its referrers)
// with an object under it, and a cycle no root reaches.
func rootsHeap(t testing.TB) (*heap.Heap, map[string]heap.ID) {
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tr := heap.FlagTracked
	ids := map[string]heap.ID{}
	add := func(name string, t heap.TypeID, refs uint64) heap.ID {
		ids[name] = b.AddObject(heap.Object{Addr: 0x1000 + uint64(len(ids))*0x40, Type: t, Size: 64, Refcount: refs, Flags: tr})
		return ids[name]
	}
	mod := add("mod", tMod, 1)
	b.AddEdge(mod, add("global", tDict, 1), "g")
	local := add("local", tDict, 1)
	ext := add("ext", tDict, 1)
	b.AddEdge(ext, add("under-ext", tDict, 1), "x")
	a, c := add("cycle-a", tDict, 1), add("cycle-b", tDict, 1)
	b.AddEdge(a, c, "next")
	b.AddEdge(c, a, "next")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	b.AddRoot(heap.Root{Kind: heap.RootLocal, Name: "MainThread: run (app.py:3) seen", Target: local, Thread: 77, Depth: 1})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h, ids
}

func TestRetainersRoot(t *testing.T) {
	h, ids := rootsHeap(t)
	r := objgraph.FindRetainers(h)
	for _, tc := range []struct {
		obj, str, json string
	}{
		{"global", "module app", `{"kind":"module","name":"app"}`},
		{"mod", "module app", `{"kind":"module","name":"app"}`},
		{"local", "local MainThread: run (app.py:3) seen", `{"kind":"local","name":"MainThread: run (app.py:3) seen","thread":77,"depth":1}`},
		{"under-ext", "held from outside the graph", `{"kind":"external"}`},
		{"cycle-a", "garbage", `{"kind":"garbage"}`},
	} {
		root := r.Root(ids[tc.obj])
		if root.String() != tc.str {
			t.Errorf("%s: root %q, want %q", tc.obj, root, tc.str)
		}
		js, err := json.Marshal(root)
		if err != nil || string(js) != tc.json {
			t.Errorf("%s: JSON %s (%v), want %s", tc.obj, js, err, tc.json)
		}
		var back objgraph.Root
		if err := json.Unmarshal(js, &back); err != nil || back != root {
			t.Errorf("%s: JSON read back as %#v (%v), want %#v", tc.obj, back, err, root)
		}
	}
	if r.Root(ids["under-ext"]) != objgraph.External || !r.Root(ids["under-ext"]).IsExternal() {
		t.Error("the object under one held from outside is not External")
	}
	if !r.Root(ids["cycle-b"]).IsGarbage() {
		t.Error("the cycle no root reaches is not garbage")
	}
	var bad objgraph.Root
	if err := json.Unmarshal([]byte(`{"kind":"nowhere"}`), &bad); err == nil {
		t.Error("an unknown root kind was read without an error")
	}
}

func ExampleRetainers_Root() {
	h, ids := rootsHeap(nil)
	r := objgraph.FindRetainers(h)
	for _, name := range []string{"global", "local", "under-ext", "cycle-a"} {
		fmt.Println(r.Root(ids[name]))
	}
	// Output:
	// module app
	// local MainThread: run (app.py:3) seen
	// held from outside the graph
	// garbage
}

func ExampleRootsOf() {
	h, ids := rootsHeap(nil)
	fmt.Println(objgraph.RootsOf(h, ids["mod"]), objgraph.RootsOf(h, ids["global"]) == nil)
	// Output:
	// [module app] true
}

func ExampleRoot_MarshalJSON() {
	js, _ := json.Marshal([]objgraph.Root{{Kind: heap.RootModule, Name: "app"}, objgraph.External, objgraph.Garbage})
	fmt.Println(string(js))
	// Output:
	// [{"kind":"module","name":"app"},{"kind":"external"},{"kind":"garbage"}]
}

func ExampleChainEdges() {
	h, ids := rootsHeap(nil)
	fmt.Printf("%q\n", objgraph.ChainEdges(h, []heap.ID{ids["mod"], ids["global"]}))
	// Output:
	// ["g"]
}

func ExampleRoot_String() {
	local := objgraph.Root{Kind: heap.RootLocal, Name: "MainThread: run (app.py:3) seen", Thread: 77}
	fmt.Println(local)
	fmt.Println(objgraph.External, objgraph.External.IsExternal())
	fmt.Println(objgraph.Garbage, objgraph.Garbage.IsGarbage())
	// Output:
	// local MainThread: run (app.py:3) seen
	// held from outside the graph true
	// garbage true
}

func ExampleRoot_UnmarshalJSON() {
	var r objgraph.Root
	err := json.Unmarshal([]byte(`{"kind": "frame", "name": "MainThread: main (app.py:9)", "thread": 5}`), &r)
	fmt.Println(r, r.Thread, err)
	// Output:
	// frame MainThread: main (app.py:9) 5 <nil>
}

// typesHeap has a dict, an app.Foo and an other.Foo.
func typesHeap() *heap.Heap {
	b := heap.NewBuilder()
	for i, names := range [][2]string{{"dict", "builtins.dict"}, {"Foo", "app.Foo"}, {"Foo", "other.Foo"}} {
		t := b.AddType(names[0], names[1])
		b.AddObject(heap.Object{Addr: 0x1000 + uint64(i)*0x40, Type: t, Size: 64, Refcount: 1, Flags: heap.FlagTracked})
	}
	h, _ := b.Build()
	return h
}

func ExampleHasType() {
	h := typesHeap()
	short, qualified := objgraph.HasType(h, "Foo"), objgraph.HasType(h, "app.Foo")
	for id := range h.All() {
		fmt.Println(h.TypeQualName(h.Type(id)), short(id), qualified(id))
	}
	// Output:
	// builtins.dict false false
	// app.Foo true true
	// other.Foo true false
}

func ExampleKnownType() {
	h := typesHeap()
	fmt.Println(objgraph.KnownType(h, "Foo"), objgraph.KnownType(h, "other.Foo"), objgraph.KnownType(h, "foo"), objgraph.KnownType(h, "app.Bar"))
	// Output:
	// true true false false
}

func ExampleSimilarTypes() {
	h := typesHeap()
	fmt.Println(objgraph.SimilarTypes(h, "foo", 5), objgraph.SimilarTypes(h, "DICT", 5), objgraph.SimilarTypes(h, "o", 1))
	// Output:
	// [app.Foo other.Foo] [builtins.dict] []
}
