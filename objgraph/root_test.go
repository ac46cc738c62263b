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
