package objgraph_test

import (
	"fmt"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// sessionHeap is a server's heap after n requests: module app keeps every
// Session in a cache dict, keyed by session id, and each Session has a
// bytes buffer; a request in flight, held by a local variable of the
// running frame, has made a temporary list.
//
//	module app -__dict__-> dict -sessions-> dict -'s0'-> Session -buf-> bytes
//	                                             -'s1'-> Session -buf-> bytes …
//	local "MainThread: handle tmp" -> list
func sessionHeap(n int, temp uint64) *heap.Heap {
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	tBytes := b.AddType("bytes", "builtins.bytes")
	tSession := b.AddType("Session", "app.Session")
	tr := heap.FlagTracked
	mod := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Refcount: 1, Flags: tr.WithKind(heap.KindModule), Label: "app"})
	globals := b.AddObject(heap.Object{Addr: 0x1100, Type: tDict, Size: 232, Refcount: 1, Flags: tr})
	cache := b.AddObject(heap.Object{Addr: 0x1200, Type: tDict, Size: 640, Refcount: 1, Flags: tr, Label: fmt.Sprintf("%d items", n)})
	b.AddEdge(mod, globals, "__dict__")
	b.AddEdge(globals, cache, "sessions")
	for i := range n {
		s := b.AddObject(heap.Object{Addr: 0x2000 + uint64(i)*0x100, Type: tSession, Size: 56, Refcount: 1, Flags: tr})
		buf := b.AddObject(heap.Object{Addr: 0x2040 + uint64(i)*0x100, Type: tBytes, Size: 1000, Refcount: 1})
		b.AddEdge(cache, s, fmt.Sprintf("'s%d'", i))
		b.AddEdge(s, buf, "buf")
	}
	tmp := b.AddObject(heap.Object{Addr: temp, Type: tList, Size: 88, Refcount: 1, Flags: tr, Label: "0 items"})
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	b.AddRoot(heap.Root{Kind: heap.RootLocal, Name: "MainThread: handle tmp", Target: tmp})
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

func ExampleFindLeaks() {
	first := objgraph.NewCensus(sessionHeap(1, 0x9000))
	between := objgraph.NewCensus(sessionHeap(3, 0x9100))
	last := sessionHeap(4, 0x9200)
	rep := objgraph.FindLeaks(first, last, []*objgraph.Census{between}, objgraph.LeakOptions{})
	fmt.Printf("%d new\n", rep.New)
	for _, t := range rep.Types {
		fmt.Printf("%s: %d objects, %d bytes, retaining %d; counts %v\n", t.Type, t.Count, t.Bytes, t.Retained, t.Counts)
		g := t.Groups[0]
		fmt.Printf("  %s %v\n", g.Root, g.Shape)
		fmt.Printf("  for example %#x, through %q\n", last.Addr(g.Example), g.Edges)
	}
	// Output:
	// 7 new
	// Session: 3 objects, 168 bytes, retaining 3168; counts [1 3 4]
	//   module app [{ module} {__dict__ dict} {sessions dict} {[*] Session}]
	//   for example 0x2100, through ["__dict__" "sessions" "'s1'"]
	// bytes: 3 objects, 3000 bytes, retaining 3000; counts [1 3 4]
	//   module app [{ module} {__dict__ dict} {sessions dict} {[*] Session} {buf bytes}]
	//   for example 0x2140, through ["__dict__" "sessions" "'s1'" "buf"]
	// list: 1 objects, 88 bytes, retaining 88; counts [1 1 1]
	//   local MainThread: handle tmp [{ list}]
	//   for example 0x9200, through []
}

func ExampleNewCensus() {
	c := objgraph.NewCensus(sessionHeap(2, 0x9000))
	fmt.Println(c.Objects, c.Counts(false)["Session"], c.Counts(true)["app.Session"])
	// Output:
	// 8 2 2
}

func ExampleCensus_Counts() {
	c := objgraph.NewCensus(sessionHeap(2, 0x9000))
	fmt.Println(c.Counts(false))
	// Output:
	// map[Session:2 bytes:2 dict:2 list:1 module:1]
}

func ExampleFindRetainers() {
	h := sessionHeap(2, 0x9000)
	r := objgraph.FindRetainers(h)
	s, _ := h.Lookup(0x2100) // the second Session
	for _, id := range r.Chain(s) {
		fmt.Printf("%#x %s\n", h.Addr(id), h.TypeName(id))
	}
	// Output:
	// 0x1000 module
	// 0x1100 dict
	// 0x1200 dict
	// 0x2100 Session
}

func ExampleRetainers_Parent() {
	h := sessionHeap(2, 0x9000)
	r := objgraph.FindRetainers(h)
	buf, _ := h.Lookup(0x2140)
	p, e := r.Parent(buf)
	fmt.Printf("%#x %s\n", h.Addr(p), h.EdgeName(e))
	mod, _ := h.Lookup(0x1000)
	p, e = r.Parent(mod)
	fmt.Println(p == heap.NoID, e)
	// Output:
	// 0x2100 buf
	// true -1
}

func ExampleRetainers_Chain() {
	h := sessionHeap(1, 0x9000)
	r := objgraph.FindRetainers(h)
	tmp, _ := h.Lookup(0x9000)
	fmt.Println(len(r.Chain(tmp)), r.IsRoot(tmp))
	// Output:
	// 1 true
}

func ExampleRetainers_Reached() {
	h := sessionHeap(1, 0x9000)
	r := objgraph.FindRetainers(h)
	s, _ := h.Lookup(0x2000)
	fmt.Println(r.Reached(s), len(r.Order()))
	// Output:
	// true 6
}

func ExampleRetainers_IsRoot() {
	h := sessionHeap(1, 0x9000)
	r := objgraph.FindRetainers(h)
	mod, _ := h.Lookup(0x1000)
	s, _ := h.Lookup(0x2000)
	fmt.Println(r.IsRoot(mod), r.IsRoot(s))
	// Output:
	// true false
}

func ExampleRetainers_External() {
	// A list that C code holds: its refcount (2) exceeds its referrers in
	// the snapshot (1, the module's dict), but a root reaches it all the
	// same, so its chain starts at the module.
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tList := b.AddType("list", "builtins.list")
	mod := b.AddObject(heap.Object{Addr: 0x10, Type: tMod, Refcount: 1, Flags: heap.FlagTracked.WithKind(heap.KindModule)})
	held := b.AddObject(heap.Object{Addr: 0x20, Type: tList, Refcount: 2, Flags: heap.FlagTracked})
	alone := b.AddObject(heap.Object{Addr: 0x30, Type: tList, Refcount: 1, Flags: heap.FlagTracked})
	b.AddEdge(mod, held, "held")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: mod})
	h, _ := b.Build()
	r := objgraph.FindRetainers(h)
	fmt.Println(r.External(held), r.External(alone), r.Reached(alone))
	// Output:
	// false true true
}

func ExampleRetainers_Order() {
	h := sessionHeap(1, 0x9000)
	r := objgraph.FindRetainers(h)
	var addrs []string
	for _, id := range r.Order() {
		addrs = append(addrs, fmt.Sprintf("%#x", h.Addr(id)))
	}
	fmt.Println(addrs)
	// Output:
	// [0x1000 0x9000 0x1100 0x1200 0x2000 0x2040]
}

func ExampleProfile() {
	h := sessionHeap(2, 0x9000)
	p := objgraph.Profile(h, objgraph.ProfileOptions{})
	var types []string
	for _, st := range p.SampleType {
		types = append(types, st.Type+"/"+st.Unit)
	}
	fmt.Println(types)
	for _, s := range p.Sample {
		var stack []string
		for i := len(s.Location) - 1; i >= 0; i-- { // root first
			stack = append(stack, s.Location[i].Line[0].Function.Name)
		}
		fmt.Printf("%q %v %v\n", stack, s.Value, s.Label["type"])
	}
	// Output:
	// [objects/count space/bytes retained/bytes]
	// ["module app"] [1 72 3056] [module]
	// ["local MainThread: handle tmp"] [1 88 88] [list]
	// ["module app" "__dict__: dict"] [1 232 2984] [dict]
	// ["module app" "__dict__: dict" "sessions: dict"] [1 640 2752] [dict]
	// ["module app" "__dict__: dict" "sessions: dict" "[*]: Session"] [2 112 2112] [Session]
	// ["module app" "__dict__: dict" "sessions: dict" "[*]: Session" "buf: bytes"] [2 2000 2000] [bytes]
}

func ExampleDiffProfile() {
	old := objgraph.Profile(sessionHeap(1, 0x9000), objgraph.ProfileOptions{})
	cur := objgraph.Profile(sessionHeap(3, 0x9000), objgraph.ProfileOptions{})
	d, err := objgraph.DiffProfile(cur, old)
	if err != nil {
		panic(err)
	}
	for _, s := range d.Sample {
		if s.Value[0] != 0 {
			fmt.Println(s.Label["type"], s.Value)
		}
	}
	// Output:
	// [Session] [2 112 2112]
	// [bytes] [2 2000 2000]
}
