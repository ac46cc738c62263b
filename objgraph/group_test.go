package objgraph

import (
	"math/rand/v2"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// TestGroupFreedPair is the ORM case: an object and its state object refer
// to each other and each is held from outside, so neither dominates the
// other; releasing both frees both and what only they hold.
func TestGroupFreedPair(t *testing.T) {
	b := heap.NewBuilder()
	ty := b.AddType("x", "")
	obj := func(addr, size uint64) heap.ID {
		return b.AddObject(heap.Object{Addr: addr, Type: ty, Size: size, Refcount: 1, Flags: heap.FlagTracked})
	}
	identity, states := obj(0x10, 100), obj(0x20, 100)
	a, st := obj(0x30, 1000), obj(0x40, 2000)
	only := obj(0x50, 500)   // held by the state alone
	shared := obj(0x60, 700) // held by a and by the identity map too
	b.AddEdge(identity, a, "'k'")
	b.AddEdge(states, st, "")
	b.AddEdge(a, st, "_state")
	b.AddEdge(st, a, "obj")
	b.AddEdge(st, only, "committed")
	b.AddEdge(a, shared, "cfg")
	b.AddEdge(identity, shared, "'cfg'")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: identity})
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "n", Target: states})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	dt := heap.Dominators(h, heap.DominatorOptions{})
	if got := dt.Retained(a) + dt.Retained(st); got != 1000+2000+500 {
		t.Fatalf("dominator sizes: %d", got)
	}
	s := NewGroupSizer(h, dt)
	n, bytes := s.Freed([]heap.ID{a, st})
	if n != 3 || bytes != 1000+2000+500 {
		t.Errorf("Freed(pair) = %d objects, %d bytes; want 3, 3500", n, bytes)
	}
	// Released alone, a frees only itself: what it holds is held
	// elsewhere too.
	if n, bytes := s.Freed([]heap.ID{a}); n != 1 || bytes != 1000 {
		t.Errorf("Freed(a) = %d, %d; want 1, 1000", n, bytes)
	}
	if n, bytes := s.Freed([]heap.ID{identity, states}); n != 6 || bytes != 100+100+1000+2000+500+700 {
		t.Errorf("Freed(both holders) = %d, %d", n, bytes)
	}
}

// TestGroupFreedRandom compares Freed with its definition, computed the
// slow way: reach everything from the roots without entering the group,
// and count what was reachable before and is not now.
func TestGroupFreedRandom(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 7))
		n := 20 + r.IntN(200)
		b := heap.NewBuilder()
		ty := b.AddType("x", "")
		for i := range n {
			// Refcounts above the referrers make some objects held from outside.
			b.AddObject(heap.Object{Addr: uint64(i+1) * 16, Type: ty, Size: uint64(1 + r.IntN(100)), Refcount: uint64(1 + r.IntN(3)), Flags: heap.FlagTracked})
		}
		for s := range n {
			for range r.IntN(4) {
				b.AddEdge(heap.ID(s), heap.ID(r.IntN(n)), "")
			}
		}
		for range 1 + r.IntN(3) {
			b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: heap.ID(r.IntN(n))})
		}
		h, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		dt := heap.Dominators(h, heap.DominatorOptions{})
		s := NewGroupSizer(h, dt)
		for range 20 {
			var group []heap.ID
			for range 1 + r.IntN(6) {
				group = append(group, heap.ID(r.IntN(n)))
			}
			gotN, gotB := s.Freed(group)
			wantN, wantB := freedSlowly(h, dt, group)
			if gotN != wantN || gotB != wantB {
				t.Fatalf("seed %d, group %v: Freed = %d objects %d bytes, want %d %d", seed, group, gotN, gotB, wantN, wantB)
			}
		}
	}
}

func freedSlowly(h *heap.Heap, dt *heap.DomTree, group []heap.ID) (int, uint64) {
	in := map[heap.ID]bool{}
	for _, id := range group {
		in[id] = true
	}
	seen := map[heap.ID]bool{}
	var q []heap.ID
	for _, id := range dt.Roots() {
		if !in[id] && !seen[id] {
			seen[id] = true
			q = append(q, id)
		}
	}
	for i := 0; i < len(q); i++ {
		for _, to := range h.Referents(q[i]) {
			if !in[to] && !seen[to] {
				seen[to] = true
				q = append(q, to)
			}
		}
	}
	n, bytes := 0, uint64(0)
	for id := range h.All() {
		if dt.Reachable(id) && !seen[id] {
			n++
			bytes += h.Size(id)
		}
	}
	return n, bytes
}
