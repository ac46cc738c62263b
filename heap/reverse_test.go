package heap_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// TestReverseLarge checks the parallel reverse index against a direct
// computation on a heap big enough to be split between workers.
func TestReverseLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := heap.NewBuilder()
	ty := b.AddType("x", "")
	const n = 20000
	for i := range n {
		b.AddObject(heap.Object{Addr: uint64(i+1) * 16, Type: ty})
	}
	want := make([][]heap.ID, n)
	for s := range n {
		for range r.IntN(10) {
			t := heap.ID(r.IntN(n))
			if r.IntN(4) == 0 {
				t = heap.ID(r.IntN(50)) // popular targets
			}
			b.AddEdge(heap.ID(s), t, "")
			want[t] = append(want[t], heap.ID(s))
		}
	}
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if h.NumEdges() < 1<<16 {
		t.Fatalf("only %d edges: the parallel path is not exercised", h.NumEdges())
	}
	for id := range h.All() {
		if got := h.Referrers(id); !slices.Equal(got, want[id]) {
			t.Fatalf("Referrers(%d) = %v, want %v", id, got, want[id])
		}
	}
}
