package gcmod_test

import (
	"fmt"
	"strings"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
)

// preloaded is the heap of a server that loaded its data before forking
// workers: module app holds a list of 6,400 records of 48 bytes, each with
// its 16-byte GC header, packed 64 to a 4 KiB page (100 pages), and each
// record holds an int of its own (32 bytes, 128 to a page: 50 pages).
func preloaded() *heap.Heap {
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.11.7", PointerSize: 8, GCHeaderSize: 16, PageSize: 4096})
	tList := b.AddType("list", "builtins.list")
	tRec := b.AddType("Record", "app.Record")
	tInt := b.AddType("int", "builtins.int")
	tMod := b.AddType("module", "builtins.module")
	g2 := heap.FlagTracked.WithGeneration(2)
	mod := b.AddObject(heap.Object{Addr: 0x7f0000000010, Type: tMod, Size: 72, Refcount: 1, Flags: g2.WithKind(heap.KindModule)})
	list := b.AddObject(heap.Object{Addr: 0x7f0000000060, Type: tList, Size: 56, Refcount: 1, Flags: g2})
	b.AddEdge(mod, list, "records")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	const n = 6400
	for i := range n {
		rec := b.AddObject(heap.Object{Addr: 0x7f0000100010 + uint64(i)*64, Type: tRec, Size: 48, Refcount: 1, Flags: g2})
		num := b.AddObject(heap.Object{Addr: 0x7f0000200000 + uint64(i)*32, Type: tInt, Size: 32, Refcount: 1})
		b.AddIndexEdge(list, rec, i)
		b.AddEdge(rec, num, "id")
	}
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

func ExamplePredictCOW() {
	h := preloaded()
	rep, err := gcmod.PredictCOW(h, gcmod.COWOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("gc.collect() in a child: %d pages (%d KiB)\n", rep.Collect.Pages, rep.Collect.Bytes>>10)
	fmt.Printf("after gc.freeze() in the parent: %d pages\n", rep.CollectFrozen.Pages)
	fmt.Printf("reading every object: %d pages\n", rep.Read.Pages)
	for _, t := range rep.Types {
		fmt.Printf("%-16s %4d objects, %5.1f pages collecting, %5.1f reading\n", t.Name, t.Objects, t.CollectPages, t.ReadPages)
	}
	// Output:
	// gc.collect() in a child: 101 pages (404 KiB)
	// after gc.freeze() in the parent: 0 pages
	// reading every object: 151 pages
	// app.Record       6400 objects, 100.0 pages collecting, 100.0 reading
	// builtins.int     6400 objects,   0.0 pages collecting,  50.0 reading
	// builtins.list       1 objects,   0.5 pages collecting,   0.5 reading
	// builtins.module     1 objects,   0.5 pages collecting,   0.5 reading
}

// The child reads only some objects: count only those.
func ExamplePredictCOW_objects() {
	h := preloaded()
	ints, err := gcmod.PredictCOW(h, gcmod.COWOptions{Objects: func(id heap.ID) bool { return h.TypeName(id) == "int" }})
	if err != nil {
		panic(err)
	}
	fmt.Println(ints.Read.Objects, "ints on", ints.Read.Pages, "pages")
	// Output: 6400 ints on 50 pages
}

func ExampleCOWReport_Advice() {
	rep, err := gcmod.PredictCOW(preloaded(), gcmod.COWOptions{})
	if err != nil {
		panic(err)
	}
	for _, sentence := range strings.SplitAfter(rep.Advice(), ". ") {
		fmt.Println(strings.TrimSpace(sentence))
	}
	// Output:
	// Freezing pays: a full collection in a child copies 404.0 KiB (101 pages, 67% of the 604.0 KiB of pages the objects are on), and none of it once the parent calls gc.freeze() right before fork: 404.0 KiB saved in every child that collects.
	// Call gc.disable() early in the parent, gc.freeze() right before fork, and gc.enable() in the child.
	// The GC headers written are mostly those of app.Record (99%), held by module app (100%).
	// Freezing does not stop reference counting: a child that reads every object copies 604.0 KiB (100% of the objects' pages) whether or not the parent froze them (the same if it collects as well).
	// The counts written are mostly those of app.Record (66%), int (33%), held by module app (100%).
	// Data the children only read is shared for good when it is not held in many objects: in multiprocessing.shared_memory or multiprocessing.Array, or in one flat buffer (array.array, bytes, a NumPy array) instead of many small objects.
}

func ExampleRootCost_Label() {
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{GCHeaderSize: 16, PageSize: 4096})
	tDict := b.AddType("dict", "builtins.dict")
	g2 := heap.FlagTracked.WithGeneration(2)
	cache := b.AddObject(heap.Object{Addr: 0x10010, Type: tDict, Size: 232, Refcount: 1, Flags: g2})
	req := b.AddObject(heap.Object{Addr: 0x20010, Type: tDict, Size: 232, Refcount: 1, Flags: g2})
	b.AddObject(heap.Object{Addr: 0x30010, Type: tDict, Size: 232, Refcount: 1, Flags: g2}) // garbage
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app.cache", Target: cache})
	b.AddRoot(heap.Root{Kind: heap.RootLocal, Name: "MainThread: handle: request", Target: req})
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	rep, err := gcmod.PredictCOW(h, gcmod.COWOptions{})
	if err != nil {
		panic(err)
	}
	for _, r := range rep.Roots {
		fmt.Printf("%s: %d object, %.0f page\n", r.Label(), r.Objects, r.CollectPages)
	}
	// Output:
	// local MainThread: handle: request: 1 object, 1 page
	// module app.cache: 1 object, 1 page
	// objects no root reaches: 1 object, 1 page
}
