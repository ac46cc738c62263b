package objgraph

import (
	"cmp"
	"slices"

	"github.com/objgraph-go/objgraph/heap"
)

// NewSince returns the objects of cur that the census of an earlier
// snapshot of the same process did not have (by address and type), in id
// order: what FindLeaks calls the candidates.
func NewSince(first *Census, cur *heap.Heap) []heap.ID {
	byAddr, addrs := idsByAddr(cur)
	ids := absentFrom(first, cur, byAddr, addrs)
	slices.Sort(ids)
	return ids
}

// A Pick is the object Representative chose among several, and why.
type Pick struct {
	ID     heap.ID     // the object chosen; heap.NoID when there was none
	Group  int         // objects of ids held in the same place (same retainer shape) as ID
	Groups int         // distinct retainer shapes among ids (no root reaching an object is a shape of its own)
	Root   Root        // where ID's chain starts
	Shape  []ShapeStep // the shape of ID's chain
}

// Representative picks, among ids, one object that stands for the most of
// them: the objects are grouped by the shape of their shortest retainer
// chain (as FindLeaks groups them), and the first object, in id order, of
// the largest group is chosen. Picking the first object of a type instead
// finds a long-lived instance a library made at import time far more often
// than one of the many a leak holds.
func Representative(h *heap.Heap, ids []heap.ID, r *Retainers) Pick {
	if len(ids) == 0 {
		return Pick{ID: heap.NoID}
	}
	if r == nil {
		r = FindRetainers(h)
	}
	sh := newShapes(h, r)
	type group struct {
		first heap.ID
		n     int
		shape uint32
	}
	index := map[uint32]int{}
	var groups []group
	for _, id := range ids {
		s, _ := sh.shape(id, 64)
		k, ok := index[s]
		if !ok {
			k = len(groups)
			index[s] = k
			groups = append(groups, group{first: id, shape: s})
		}
		groups[k].n++
		if id < groups[k].first {
			groups[k].first = id
		}
	}
	best := slices.MaxFunc(groups, func(a, b group) int {
		if c := cmp.Compare(a.n, b.n); c != 0 {
			return c
		}
		return cmp.Compare(b.first, a.first) // the earlier first object wins a tie
	})
	p := Pick{ID: best.first, Group: best.n, Groups: len(groups), Root: Garbage}
	if best.shape != noShape {
		p.Root, p.Shape = sh.steps(best.shape, false)
	}
	return p
}
