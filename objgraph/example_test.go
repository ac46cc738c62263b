package objgraph_test

import (
	"fmt"
	"os"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// exampleHeap is a small program's heap: module app holds a cache dict with
// two Foo objects; a list that only C code holds refers to the second Foo.
//
//	module app 0x1000 -__dict__-> dict 0x1100 -cache-> dict 0x1200 -a-> Foo 0x1300
//	                                        -name-> str 0x1500      -b-> Foo 0x1340
//	list 0x1400 -[0]-> Foo 0x1340
func exampleHeap() *heap.Heap {
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	tStr := b.AddType("str", "builtins.str")
	tFoo := b.AddType("Foo", "app.Foo")
	tr := heap.FlagTracked
	mod := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Refcount: 2, Flags: tr.WithKind(heap.KindModule), Label: "app"})
	globals := b.AddObject(heap.Object{Addr: 0x1100, Type: tDict, Size: 232, Refcount: 1, Flags: tr, Label: "2 items"})
	cache := b.AddObject(heap.Object{Addr: 0x1200, Type: tDict, Size: 232, Refcount: 1, Flags: tr, Label: "2 items"})
	foo1 := b.AddObject(heap.Object{Addr: 0x1300, Type: tFoo, Size: 48, Refcount: 1, Flags: tr, Label: "Foo(1)"})
	foo2 := b.AddObject(heap.Object{Addr: 0x1340, Type: tFoo, Size: 48, Refcount: 2, Flags: tr, Label: "Foo(2)"})
	list := b.AddObject(heap.Object{Addr: 0x1400, Type: tList, Size: 64, Refcount: 1, Flags: tr, Label: "1 items"})
	name := b.AddObject(heap.Object{Addr: 0x1500, Type: tStr, Size: 50, Refcount: 1, Label: "'app'"})
	b.AddEdge(mod, globals, "__dict__")
	b.AddEdge(globals, cache, "cache")
	b.AddEdge(globals, name, "name")
	b.AddEdge(cache, foo1, "a")
	b.AddEdge(cache, foo2, "b")
	b.AddIndexEdge(list, foo2, 0)
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

func ExampleCount() {
	h := exampleHeap()
	fmt.Println(objgraph.Count(h, "Foo", objgraph.StatsOptions{}))
	fmt.Println(objgraph.Count(h, "app.Foo", objgraph.StatsOptions{}))
	fmt.Println(objgraph.Count(h, "str", objgraph.StatsOptions{}))          // untracked: objgraph does not see it
	fmt.Println(objgraph.Count(h, "str", objgraph.StatsOptions{All: true})) // the snapshot does
	// Output:
	// 2
	// 2
	// 0
	// 1
}

func ExampleTypestats() {
	h := exampleHeap()
	fmt.Println(objgraph.Typestats(h, objgraph.StatsOptions{}))
	fmt.Println(objgraph.Typestats(h, objgraph.StatsOptions{Qualified: true, Objects: objgraph.GetLeakingObjects(h)}))
	// Output:
	// map[Foo:2 dict:2 list:1 module:1]
	// map[builtins.list:1 builtins.module:1]
}

func ExampleMostCommonTypes() {
	h := exampleHeap()
	for _, s := range objgraph.MostCommonTypes(h, 2, objgraph.StatsOptions{}) {
		fmt.Println(s.Type, s.Count, s.Bytes)
	}
	// Output:
	// Foo 2 96
	// dict 2 464
}

func ExampleShowMostCommonTypes() {
	h := exampleHeap()
	objgraph.ShowMostCommonTypes(os.Stdout, h, 3, objgraph.StatsOptions{Qualified: true})
	// Output:
	// app.Foo       2
	// builtins.dict 2
	// builtins.list 1
}

func ExampleSortByBytes() {
	stats := objgraph.MostCommonTypes(exampleHeap(), 0, objgraph.StatsOptions{})
	objgraph.SortByBytes(stats)
	fmt.Println(stats[0].Type, stats[0].Bytes)
	// Output: dict 464
}

func ExampleTypeName() {
	h := exampleHeap()
	fmt.Println(objgraph.TypeName(h, 3, false), objgraph.TypeName(h, 3, true))
	// Output: Foo app.Foo
}

func ExampleGrowthTracker_Growth() {
	before, after := exampleHeap(), growHeap()
	var t objgraph.GrowthTracker
	t.Growth(before, 0, objgraph.StatsOptions{}) // the first call sees everything grow from 0
	for _, g := range t.Growth(after, 0, objgraph.StatsOptions{}) {
		fmt.Println(g.Type, g.Count, g.Delta)
	}
	fmt.Println(len(t.Growth(before, 0, objgraph.StatsOptions{}))) // shrinking is not growth
	// Output:
	// Foo 5 3
	// 0
}

func ExampleGrowthTracker_ShowGrowth() {
	var t objgraph.GrowthTracker
	t.ShowGrowth(os.Stdout, exampleHeap(), 3, objgraph.StatsOptions{})
	fmt.Println("--")
	t.ShowGrowth(os.Stdout, growHeap(), 3, objgraph.StatsOptions{})
	// Output:
	// Foo         2        +2
	// dict        2        +2
	// list        1        +1
	// --
	// Foo        5        +3
}

// growHeap is exampleHeap with three more Foo objects in the cache.
func growHeap() *heap.Heap {
	h := exampleHeap()
	b := heap.NewBuilder()
	types := map[heap.TypeID]heap.TypeID{}
	for id := range h.All() {
		t := h.Type(id)
		if _, ok := types[t]; !ok {
			types[t] = b.AddType(h.TypeShortName(t), h.TypeQualName(t))
		}
		b.AddObject(heap.Object{Addr: h.Addr(id), Type: types[t], Size: h.Size(id), Refcount: h.Refcount(id), Flags: h.Flags(id), Label: h.Label(id)})
		for to, name := range h.Edges(id) {
			b.AddEdge(id, to, name)
		}
	}
	for _, r := range h.Roots() {
		b.AddRoot(r)
	}
	for i := range 3 {
		foo := b.AddObject(heap.Object{Addr: 0x2000 + uint64(i)*0x40, Type: types[h.Type(3)], Size: 48, Refcount: 1, Flags: heap.FlagTracked, Label: fmt.Sprintf("Foo(%d)", i+3)})
		b.AddEdge(2, foo, fmt.Sprintf("k%d", i))
	}
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	return g
}

func ExampleGetNewIDs() {
	old, cur := exampleHeap(), growHeap()
	n := objgraph.GetNewIDs(old, cur, objgraph.SortByDeltas, objgraph.StatsOptions{})
	for _, addr := range n.Addrs["Foo"] {
		fmt.Printf("%#x\n", addr)
	}
	// Output:
	// 0x2000
	// 0x2040
	// 0x2080
}

func ExampleNewIDs_Show() {
	n := objgraph.GetNewIDs(exampleHeap(), growHeap(), objgraph.SortByDeltas, objgraph.StatsOptions{})
	n.Show(os.Stdout, 2)
	// Output:
	// ==========================================================
	// Type        Old_ids  Current_ids      New_ids Count_Deltas
	// ==========================================================
	// Foo               2            5           +3           +3
	// module            1            1           +0           +0
	// ==========================================================
}

func ExampleByType() {
	h := exampleHeap()
	for _, id := range objgraph.ByType(h, "app.Foo", objgraph.StatsOptions{}) {
		fmt.Printf("%#x %s\n", h.Addr(id), h.Label(id))
	}
	// Output:
	// 0x1300 Foo(1)
	// 0x1340 Foo(2)
}

func ExampleAt() {
	h := exampleHeap()
	id, ok := objgraph.At(h, 0x1340)
	fmt.Println(h.Label(id), ok)
	_, ok = objgraph.At(h, 0x1500) // a str: not tracked by gc
	fmt.Println(ok)
	// Output:
	// Foo(2) true
	// false
}

func ExampleAtAddrs() {
	h := exampleHeap()
	n := objgraph.GetNewIDs(exampleHeap(), growHeap(), objgraph.SortByDeltas, objgraph.StatsOptions{})
	fmt.Println(len(objgraph.AtAddrs(h, n.Addrs["Foo"]))) // the old heap has none of them
	fmt.Println(objgraph.AtAddrs(h, []uint64{0x1340, 0x1300, 0x9999}))
	// Output:
	// 0
	// [3 4]
}

func ExampleGetLeakingObjects() {
	h := exampleHeap()
	for _, id := range objgraph.GetLeakingObjects(h) {
		fmt.Println(h.TypeName(id), h.Label(id))
	}
	// Output:
	// module app
	// list 1 items
}

func ExampleFindBackrefChain() {
	h := exampleHeap()
	foo2, _ := h.Lookup(0x1340)
	chain := objgraph.FindBackrefChain(h, foo2, objgraph.IsProperModule(h), objgraph.ChainOptions{})
	for i, id := range chain {
		fmt.Printf("%s %s", h.TypeName(id), h.Label(id))
		if i+1 < len(chain) {
			fmt.Printf(" -%s->", objgraph.EdgeNames(h, id, chain[i+1])[0])
		}
		fmt.Println()
	}
	// Not found within one reference: the one-element chain.
	fmt.Println(objgraph.FindBackrefChain(h, foo2, objgraph.IsRoot(h), objgraph.ChainOptions{MaxDepth: 1}))
	// Output:
	// module app -__dict__->
	// dict 2 items -cache->
	// dict 2 items -b->
	// Foo Foo(2)
	// [4]
}

func ExampleFindRefChain() {
	h := exampleHeap()
	isFoo := func(id heap.ID) bool { return h.TypeName(id) == "Foo" }
	fmt.Println(objgraph.FindRefChain(h, 0, isFoo, objgraph.ChainOptions{}))
	fmt.Println(objgraph.FindRefChain(h, 0, isFoo, objgraph.ChainOptions{ExtraIgnore: []heap.ID{2}}))
	// Output:
	// [0 1 2 3]
	// [0]
}

func ExampleIsProperModule() {
	h := exampleHeap()
	isMod := objgraph.IsProperModule(h)
	fmt.Println(isMod(0), isMod(1))
	// Output: true false
}

func ExampleIsRoot() {
	h := exampleHeap()
	isRoot := objgraph.IsRoot(h)
	fmt.Println(isRoot(0), isRoot(5))
	// Output: true false
}

func ExampleEdgeNames() {
	h := exampleHeap()
	fmt.Printf("%q %q\n", objgraph.EdgeNames(h, 1, 2), objgraph.EdgeNames(h, 5, 4))
	// Output: ["cache"] ["[0]"]
}

func ExampleShowRefs() {
	h := exampleHeap()
	n, err := objgraph.ShowRefs(os.Stdout, h, []heap.ID{2}, objgraph.GraphOptions{MaxDepth: 1})
	fmt.Println(n, err)
	// Output:
	// digraph ObjectGraph {
	//   node[shape=box, style=filled, fillcolor=white];
	//   o4608[fontcolor=red];
	//   o4608[label="dict\n2 items"];
	//   o4608[fillcolor="0,0,1"];
	//   o4608 -> o4864 [label="a",weight=2];
	//   o4608 -> o4928 [label="b",weight=2];
	//   o4864[label="Foo\nFoo(1)"];
	//   o4864[fillcolor="0,0,0.3"];
	//   o4864[fontcolor=white];
	//   o4928[label="Foo\nFoo(2)"];
	//   o4928[fillcolor="0,0,0.3"];
	//   o4928[fontcolor=white];
	// }
	// 3 <nil>
}

func ExampleShowBackrefs() {
	h := exampleHeap()
	foo2, _ := h.Lookup(0x1340)
	isDict := func(id heap.ID) bool { return h.TypeName(id) == "dict" }
	objgraph.ShowBackrefs(os.Stdout, h, []heap.ID{foo2}, objgraph.GraphOptions{MaxDepth: 2, TooMany: 1, Highlight: isDict})
	// Output:
	// digraph ObjectGraph {
	//   node[shape=box, style=filled, fillcolor=white];
	//   o4928[fontcolor=red];
	//   o4928[label="Foo\nFoo(2)"];
	//   o4928[fillcolor="0,0,1"];
	//   o4608 -> o4928 [label="b",weight=2];
	//   too_many_o4928->o4928[color=red,style=dotted,len=0.25,weight=10];
	//   too_many_o4928[label="1 more backreferences",shape=box,height=0.25,color=red,fillcolor="0,1,0.65",fontsize=6];
	//   too_many_o4928[fontcolor=white];
	//   o4608[label="dict\n2 items"];
	//   o4608[fillcolor="0.6,0.6,0.825"];
	//   o4352 -> o4608 [label="cache",weight=2];
	//   o4352[label="dict\n2 items"];
	//   o4352[fillcolor="0.6,0.6,0.65"];
	// }
}

func ExampleShowChain() {
	h := exampleHeap()
	foo1, _ := h.Lookup(0x1300)
	chain := objgraph.FindBackrefChain(h, foo1, objgraph.IsProperModule(h), objgraph.ChainOptions{})
	n, _ := objgraph.ShowChain(os.Stdout, h, [][]heap.ID{chain}, objgraph.GraphOptions{Refcounts: true})
	fmt.Println(n, "nodes")
	// Output:
	// digraph ObjectGraph {
	//   node[shape=box, style=filled, fillcolor=white];
	//   o4864[fontcolor=red];
	//   o4864[label="Foo [1]\nFoo(1)"];
	//   o4864[fillcolor="0,0,1"];
	//   o4608 -> o4864 [label="a",weight=2];
	//   o4608[label="dict [1]\n2 items"];
	//   o4608[fillcolor="0,0,0.766667"];
	//   o4352 -> o4608 [label="cache",weight=2];
	//   o4352[label="dict [1]\n2 items"];
	//   o4352[fillcolor="0,0,0.533333"];
	//   o4096 -> o4352 [label="__dict__",weight=10];
	//   o4096[label="module [2]\napp"];
	//   o4096[fillcolor="0.3,1,0.3"];
	//   o4096[fontcolor=white];
	// }
	// 4 nodes
}
