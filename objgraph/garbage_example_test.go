package objgraph_test

import (
	"fmt"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// garbageHeap is a heap taken without a collection: two Node objects in a
// cycle that nothing else refers to, one of them holding a str only it
// refers to and a str the module refers to as well.
//
//	module app 0x1000 -name-> str 0x1500
//	Node 0x2000 -peer-> Node 0x2040 -peer-> Node 0x2000
//	Node 0x2000 -label-> str 0x2100, -name-> str 0x1500
func garbageHeap() *heap.Heap {
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tStr := b.AddType("str", "builtins.str")
	tNode := b.AddType("Node", "app.Node")
	tr := heap.FlagTracked
	mod := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Refcount: 2, Flags: tr.WithKind(heap.KindModule), Label: "app"})
	name := b.AddObject(heap.Object{Addr: 0x1500, Type: tStr, Size: 50, Refcount: 2, Label: "'app'"})
	a := b.AddObject(heap.Object{Addr: 0x2000, Type: tNode, Size: 48, Refcount: 1, Flags: tr})
	c := b.AddObject(heap.Object{Addr: 0x2040, Type: tNode, Size: 48, Refcount: 1, Flags: tr})
	label := b.AddObject(heap.Object{Addr: 0x2100, Type: tStr, Size: 55, Refcount: 1, Label: "'first'"})
	b.AddEdge(mod, name, "name")
	b.AddEdge(a, c, "peer")
	b.AddEdge(c, a, "peer")
	b.AddEdge(a, label, "label")
	b.AddEdge(a, name, "name")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

func ExampleFindGarbage() {
	h := garbageHeap()
	g := objgraph.FindGarbage(h)
	fmt.Println(g.Objects, "objects,", g.Bytes, "bytes")
	for id := range heap.ID(h.Len()) {
		fmt.Printf("%#x %s %v\n", h.Addr(id), h.TypeName(id), g.Contains(id))
	}
	// Output:
	// 3 objects, 151 bytes
	// 0x1000 module false
	// 0x1500 str false
	// 0x2000 Node true
	// 0x2040 Node true
	// 0x2100 str true
}

func ExampleCyclicGarbage_Count() {
	h := garbageHeap()
	g := objgraph.FindGarbage(h)
	n, bytes := g.Count(h, objgraph.StatsOptions{})
	fmt.Println("tracked:", n, bytes)
	n, bytes = g.Count(h, objgraph.StatsOptions{All: true})
	fmt.Println("all:", n, bytes)
	// Output:
	// tracked: 2 96
	// all: 3 151
}

func ExampleStatsOptions_noGarbage() {
	h := garbageHeap()
	fmt.Println(objgraph.Typestats(h, objgraph.StatsOptions{}))
	fmt.Println(objgraph.Typestats(h, objgraph.StatsOptions{NoGarbage: true}))
	fmt.Println(objgraph.Typestats(h, objgraph.StatsOptions{All: true, NoGarbage: true}))
	// Output:
	// map[Node:2 module:1]
	// map[module:1]
	// map[module:1 str:1]
}
