package objgraph

import (
	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// CyclicGarbage is what a full collection (gc.collect()) would free in a
// snapshot taken without one: the unreachable objects gcmod.Unreachable
// finds and frees (not those a legacy finalizer keeps), and the untracked
// objects (str, int, …) that only they refer to, which reference counting
// then frees. objgraph's show_growth and get_new_ids collect before they
// count, so they never see it; typestats, count and by_type count what is
// there, garbage included.
type CyclicGarbage struct {
	Objects int    // objects freed, tracked and untracked
	Bytes   uint64 // their sizes

	bits bitset.Set[heap.ID]
}

// FindGarbage finds what gc.collect() would free in h, by the rules of the
// snapshot's CPython version.
func FindGarbage(h *heap.Heap) *CyclicGarbage {
	rep, err := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
	if err != nil {
		// the zero options are valid for every snapshot
		panic("objgraph: offline collection with default options: " + err.Error())
	}
	g := &CyclicGarbage{bits: bitset.New[heap.ID](h.Len())}
	var work []heap.ID
	for _, id := range rep.Objects {
		if rep.Reason(id) == gcmod.Freed {
			g.add(h, id)
			work = append(work, id)
		}
	}
	// Untracked objects whose every reference comes from freed objects are
	// freed with them, and so on down (a tuple of str under a freed dict).
	held := map[heap.ID]uint64{}
	for len(work) > 0 {
		id := work[len(work)-1]
		work = work[:len(work)-1]
		lo, hi := h.EdgeRange(id)
		for e := lo; e < hi; e++ {
			to := h.EdgeTarget(e)
			if g.Contains(to) || h.Flags(to).Tracked() {
				continue
			}
			held[to]++
			if rc := h.Refcount(to); rc != 0 && held[to] == rc {
				g.add(h, to)
				delete(held, to)
				work = append(work, to)
			}
		}
	}
	return g
}

func (g *CyclicGarbage) add(h *heap.Heap, id heap.ID) {
	g.bits.Set(id)
	g.Objects++
	g.Bytes += h.Size(id)
}

// Contains reports whether gc.collect() would free id.
func (g *CyclicGarbage) Contains(id heap.ID) bool {
	return int(id/64) < len(g.bits) && g.bits.Has(id)
}

// Count is how many of the objects opts selects in h are garbage, and
// their bytes.
func (g *CyclicGarbage) Count(h *heap.Heap, opts StatsOptions) (n int, bytes uint64) {
	opts.NoGarbage = false
	opts.each(h, func(id heap.ID) {
		if g.Contains(id) {
			n++
			bytes += h.Size(id)
		}
	})
	return n, bytes
}

// forHeap returns opts for counting in h: with NoGarbage, its Filter also
// leaves out what gc.collect() would free in h.
func (opts StatsOptions) forHeap(h *heap.Heap) StatsOptions {
	if !opts.NoGarbage {
		return opts
	}
	g := FindGarbage(h)
	keep := opts.Filter
	opts.NoGarbage = false
	opts.Filter = func(id heap.ID) bool { return !g.Contains(id) && (keep == nil || keep(id)) }
	return opts
}
