package objgraph_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// weakHeap is a registry, a WeakValueDictionary in module app, whose data
// dict holds a KeyedRef to a Session that only a cycle keeps alive.
//
//	module app 0x1000 -__dict__-> dict 0x1100 -registry-> WeakValueDictionary 0x1200
//	  -data-> dict 0x1300 -s1-> KeyedRef 0x1400 ~weak~> Session 0x1500 -me-> itself
func weakHeap() (*heap.Heap, heap.ID) {
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tWVD := b.AddType("WeakValueDictionary", "weakref.WeakValueDictionary")
	tRef := b.AddType("KeyedRef", "weakref.KeyedRef")
	tSess := b.AddType("Session", "app.Session")
	tr := heap.FlagTracked
	mod := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Flags: tr.WithKind(heap.KindModule), Label: "app"})
	globals := b.AddObject(heap.Object{Addr: 0x1100, Type: tDict, Size: 232, Flags: tr})
	reg := b.AddObject(heap.Object{Addr: 0x1200, Type: tWVD, Size: 56, Flags: tr})
	data := b.AddObject(heap.Object{Addr: 0x1300, Type: tDict, Size: 232, Flags: tr})
	ref := b.AddObject(heap.Object{Addr: 0x1400, Type: tRef, Size: 80, Flags: tr.WithKind(heap.KindWeakref)})
	sess := b.AddObject(heap.Object{Addr: 0x1500, Type: tSess, Size: 48, Flags: tr})
	b.AddEdge(mod, globals, "__dict__")
	b.AddEdge(globals, reg, "registry")
	b.AddEdge(reg, data, "data")
	b.AddEdge(data, ref, "s1")
	b.AddEdge(sess, sess, "me")
	b.AddWeakEdge(ref, sess)
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h, sess
}

func ExampleWeakHops() {
	h, sess := weakHeap()
	strong := objgraph.FindBackrefChain(h, sess, objgraph.IsRoot(h), objgraph.ChainOptions{})
	fmt.Println("strong references only, reached from a root:", objgraph.IsRoot(h)(strong[0]))
	chain := objgraph.FindBackrefChain(h, sess, objgraph.IsRoot(h), objgraph.ChainOptions{Weak: true})
	weak := objgraph.WeakHops(h, chain)
	for i := 1; i < len(chain); i++ {
		edge := objgraph.ChainEdges(h, chain[i-1:i+1])[0]
		if weak[i-1] {
			edge = "(weak)"
		}
		fmt.Printf("%-8s %s\n", edge, h.TypeName(chain[i]))
	}
	// Output:
	// strong references only, reached from a root: false
	// __dict__ dict
	// registry WeakValueDictionary
	// data     dict
	// s1       KeyedRef
	// (weak)   Session
}

func ExampleGraphOptions_weak() {
	h, sess := weakHeap()
	var dot bytes.Buffer
	if _, err := objgraph.ShowBackrefs(&dot, h, []heap.ID{sess}, objgraph.GraphOptions{MaxDepth: 1, Weak: true}); err != nil {
		panic(err)
	}
	for _, line := range strings.Split(dot.String(), "\n") {
		if strings.Contains(line, "->") && !strings.Contains(line, "has_a_del") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// o5376 -> o5376 [label="me",weight=2];
	// o5120 -> o5376 [label="(weak)",style=dashed];
}
