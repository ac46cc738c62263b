package objgraph

import (
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// Retainers holds, for every object a root reaches, one shortest chain of
// references from a root to it: the retainer path leak reports and profiles
// show. Chains start at the snapshot's roots (modules, threads, their stack
// frames and local variables) wherever one reaches the object; objects no
// such root reaches get a chain from an object held from outside the graph
// (heap.Heap.ExternalRefs), if one does.
//
// Of the shortest chains, the one found first breadth first is kept: roots
// of modules first, then the other roots, each in snapshot order, and
// references in snapshot order. So a chain from a module wins over one as
// short from a thread's frame, and the result does not change from one run
// to the next.
type Retainers struct {
	h      *heap.Heap
	parent []heap.ID           // the object before id on its chain; id itself for a root, NoID when no root reaches id
	edge   []uint32            // index of the edge from parent[id] to id
	order  []heap.ID           // reached objects, breadth first
	ext    bitset.Set[heap.ID] // objects whose chain starts outside the graph
	start  int                 // order[start:] is what the objects held from outside reach
	rootOf map[heap.ID]int     // a root object -> the index of its first root in h.Roots()
}

// retainerBlock is how many queued objects FindRetainers prepares at once.
const retainerBlock = 64

// FindRetainers computes the shortest chains from roots to every object.
// It builds the heap's reverse index, to find objects held from outside
// the graph.
func FindRetainers(h *heap.Heap) *Retainers {
	n := h.Len()
	r := &Retainers{h: h, parent: make([]heap.ID, n), edge: make([]uint32, n), order: make([]heap.ID, 0, n)}
	for i := range r.parent {
		r.parent[i] = heap.NoID
	}
	r.rootOf = map[heap.ID]int{}
	for i, root := range h.Roots() {
		if _, ok := r.rootOf[root.Target]; !ok {
			r.rootOf[root.Target] = i
		}
	}
	for _, modules := range []bool{true, false} {
		for _, root := range h.Roots() {
			if (root.Kind == heap.RootModule) == modules && r.parent[root.Target] == heap.NoID {
				r.parent[root.Target] = root.Target
				r.order = append(r.order, root.Target)
			}
		}
	}
	r.search(0)
	start := len(r.order)
	for id := range h.All() {
		if r.parent[id] == heap.NoID && h.ExternalRefs(id) > 0 {
			r.parent[id] = id
			r.order = append(r.order, id)
		}
	}
	r.search(start)
	r.start = start
	r.ext = bitset.New[heap.ID](n)
	for _, id := range r.order[start:] {
		r.ext.Set(id)
	}
	return r
}

// search runs the breadth-first search from the objects queued at
// order[start:]. As in heap.Dominators, the queue is taken in blocks whose
// edge targets are loaded in a loop without branches before they are
// looked at, so that the cache misses overlap.
func (r *Retainers) search(start int) {
	h := r.h
	var lo, hi [retainerBlock]int
	var sink heap.ID
	for k0 := start; k0 < len(r.order); {
		blk := r.order[k0:min(k0+retainerBlock, len(r.order))]
		k0 += len(blk)
		for i, v := range blk {
			lo[i], hi[i] = h.EdgeRange(v)
		}
		for i := range blk {
			for e := lo[i]; e < hi[i]; e++ {
				sink += r.parent[h.EdgeTarget(e)]
			}
		}
		for i, v := range blk {
			for e := lo[i]; e < hi[i]; e++ {
				if to := h.EdgeTarget(e); r.parent[to] == heap.NoID {
					r.parent[to] = v
					r.edge[to] = uint32(e)
					r.order = append(r.order, to)
				}
			}
		}
	}
	keepID(sink)
}

// keepID makes the compiler keep the loads that add up to x.
//
//go:noinline
func keepID(x heap.ID) { _ = x }

// Reached reports whether a root reaches id.
func (r *Retainers) Reached(id heap.ID) bool { return r.parent[id] != heap.NoID }

// IsRoot reports whether id starts its own chain: a root of the snapshot,
// or, when no such root reaches it, an object held from outside the graph.
func (r *Retainers) IsRoot(id heap.ID) bool { return r.parent[id] == id }

// External reports whether id's chain starts at an object held from outside
// the graph rather than at a root of the snapshot.
func (r *Retainers) External(id heap.ID) bool { return r.ext.Has(id) }

// Root is where id's chain starts: the first root of the snapshot (in
// snapshot order) that holds the chain's first object, External when the
// chain starts at an object held from outside the graph, Garbage when no
// root reaches id.
func (r *Retainers) Root(id heap.ID) Root {
	if !r.Reached(id) {
		return Garbage
	}
	if r.External(id) {
		return External
	}
	for r.parent[id] != id {
		id = r.parent[id]
	}
	return RootOf(r.h.Roots()[r.rootOf[id]])
}

// Parent is the object before id on its chain, and the index of the edge
// from it to id (for heap.Heap.EdgeName); NoID and -1 for an object that
// starts its chain or that no root reaches.
func (r *Retainers) Parent(id heap.ID) (heap.ID, int) {
	p := r.parent[id]
	if p == id || p == heap.NoID {
		return heap.NoID, -1
	}
	return p, int(r.edge[id])
}

// Chain is the chain from a root to id, root first; nil when no root
// reaches id.
func (r *Retainers) Chain(id heap.ID) []heap.ID {
	if !r.Reached(id) {
		return nil
	}
	var chain []heap.ID
	for {
		chain = append(chain, id)
		p := r.parent[id]
		if p == id {
			break
		}
		id = p
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// maxDepth is the length of the longest chain, in references: the last
// object of each of the two breadth-first searches is the furthest from
// its roots.
func (r *Retainers) maxDepth() uint32 {
	d := uint32(0)
	for _, end := range []int{r.start, len(r.order)} {
		if end > 0 {
			n := uint32(0)
			for id := r.order[end-1]; r.parent[id] != id; id = r.parent[id] {
				n++
			}
			d = max(d, n)
		}
	}
	return d
}

// Order is every reached object, each after the object before it on its
// chain: breadth first from the snapshot's roots, then from objects held
// from outside the graph. The slice is shared: do not modify it.
func (r *Retainers) Order() []heap.ID { return r.order }
