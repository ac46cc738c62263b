package synth

import (
	"math/rand/v2"

	"github.com/objgraph-go/objgraph/heap"
)

// RandomGraph is n tracked objects of one type, each with three edges to
// objects picked at random, and refcounts from 1 to maxRefcount (1 when
// maxRefcount is below 2). The same seed gives the same heap. For tests of
// memory and work that must not depend on a heap's shape.
func RandomGraph(n int, seed uint64, maxRefcount int) (*heap.Heap, error) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := heap.NewBuilder()
	ty := b.AddType("x", "")
	for i := range n {
		rc := uint64(1)
		if maxRefcount > 1 {
			rc += uint64(r.IntN(maxRefcount))
		}
		b.AddObject(heap.Object{Addr: uint64(i+1) * 16, Type: ty, Refcount: rc, Flags: heap.FlagTracked})
	}
	for s := range n {
		for range 3 {
			b.AddEdge(heap.ID(s), heap.ID(r.IntN(n)), "")
		}
	}
	return b.Build()
}
