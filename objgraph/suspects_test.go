package objgraph

import (
	"fmt"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// registryHeap is a module m whose dict holds _registry, a dict of
// Record objects keyed by str, each Record holding a bytearray; and _last,
// an object whose attribute is replaced on every request. records entries
// are in the registry; last is the address of _last's current value.
func registryHeap(t *testing.T, records int, last uint64) *heap.Heap {
	t.Helper()
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tRec := b.AddType("Record", "app.Record")
	tBuf := b.AddType("bytearray", "builtins.bytearray")
	tStr := b.AddType("str", "builtins.str")
	tHolder := b.AddType("Holder", "app.Holder")
	tr := heap.FlagTracked
	mod := b.AddObject(heap.Object{Addr: 0x100, Type: tMod, Size: 72, Refcount: 1, Flags: tr})
	md := b.AddObject(heap.Object{Addr: 0x200, Type: tDict, Size: 400, Refcount: 1, Flags: tr})
	reg := b.AddObject(heap.Object{Addr: 0x300, Type: tDict, Size: 1000, Refcount: 1, Flags: tr})
	holder := b.AddObject(heap.Object{Addr: 0x400, Type: tHolder, Size: 56, Refcount: 1, Flags: tr})
	b.AddEdge(mod, md, "__dict__")
	b.AddEdge(md, reg, "_registry")
	b.AddEdge(md, holder, "_last")
	for i := range records {
		base := 0x10000 + uint64(i)*0x100
		rec := b.AddObject(heap.Object{Addr: base, Type: tRec, Size: 100, Refcount: 1, Flags: tr})
		buf := b.AddObject(heap.Object{Addr: base + 0x40, Type: tBuf, Size: 200, Refcount: 1, Flags: tr})
		key := b.AddObject(heap.Object{Addr: base + 0x80, Type: tStr, Size: 50, Refcount: 1})
		b.AddEdge(reg, rec, fmt.Sprintf("'s-%d'", i))
		b.AddEdge(reg, key, keyEdge)
		b.AddEdge(rec, buf, "data")
	}
	v := b.AddObject(heap.Object{Addr: last, Type: tRec, Size: 100, Refcount: 1, Flags: tr})
	b.AddEdge(holder, v, "value")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestFindSuspectsRegistry(t *testing.T) {
	first := NewCensus(registryHeap(t, 2, 0x900000))
	mid := NewCensus(registryHeap(t, 4, 0x910000))
	cur := registryHeap(t, 7, 0x920000)
	got := FindSuspects(first, []*Census{mid}, cur, SuspectOptions{})
	if len(got) != 2 {
		t.Fatalf("%d suspects, want 2 (the registry and the holder): %+v", len(got), got)
	}
	s := got[0]
	if s.Name != "app._registry" || cur.TypeName(s.Container) != "dict" {
		t.Errorf("first suspect %q (%s), want app._registry", s.Name, cur.TypeName(s.Container))
	}
	if s.Entries != 7 || s.New != 5 {
		t.Errorf("entries %d, new %d; want 7, 5", s.Entries, s.New)
	}
	if fmt.Sprint(s.Counts) != "[2 4 7]" {
		t.Errorf("counts %v, want [2 4 7]", s.Counts)
	}
	// Five records, their bytearrays and their keys.
	if s.Objects != 15 || s.Freed != 5*(100+200+50) {
		t.Errorf("frees %d objects, %d bytes; want 15, %d", s.Objects, s.Freed, 5*350)
	}
	if len(s.Types) != 1 || s.Types[0].Type != "Record" || s.Types[0].Delta != 5 {
		t.Errorf("types %+v", s.Types)
	}
	if cur.TypeName(s.Example) != "Record" || s.Key == "" || s.Key == keyEdge {
		t.Errorf("example %s via %q", cur.TypeName(s.Example), s.Key)
	}
	if h := got[1]; h.Name != "app._last" || h.New != 1 || h.Freed != 100 || fmt.Sprint(h.Counts) != "[0 0 1]" {
		t.Errorf("second suspect %+v", h)
	}
}
