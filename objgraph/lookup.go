package objgraph

import (
	"slices"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// ByType returns the objects of the type typename among those opts selects
// (gc-tracked objects by default), in heap order, as objgraph.by_type. A
// typename with a dot is compared with module-qualified names, any other
// with short names.
func ByType(h *heap.Heap, typename string, opts StatsOptions) []heap.ID {
	match := typesMatching(h, typename)
	var out []heap.ID
	opts.each(h, func(id heap.ID) {
		if match[h.Type(id)] {
			out = append(out, id)
		}
	})
	return out
}

// At returns the gc-tracked object at address addr, as objgraph.at. Like
// objgraph.at it finds neither untracked objects (str, int, …) nor frozen
// ones (gc.freeze()); use heap.Heap.Lookup for those.
func At(h *heap.Heap, addr uint64) (heap.ID, bool) {
	id, ok := h.Lookup(addr)
	if !ok || !h.Flags(id).Listed() {
		return heap.NoID, false
	}
	return id, true
}

// AtAddrs returns the gc-tracked objects at the given addresses, in heap
// order, as objgraph.at_addrs; addresses that hold no tracked object are
// skipped, and an address given twice yields its object once.
func AtAddrs(h *heap.Heap, addrs []uint64) []heap.ID {
	var out []heap.ID
	for _, a := range addrs {
		if id, ok := At(h, a); ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// GetLeakingObjects returns the gc-tracked objects that no gc-tracked object
// refers to, in heap order, as objgraph.get_leaking_objects (which, working
// on gc.get_objects(), leaves frozen objects out on both sides): objects held
// only from outside the tracked graph, which may point to a reference
// counting bug in C code, or may be legitimate (objects held only by C code,
// or by the locals of a frame that is running and so untracked).
func GetLeakingObjects(h *heap.Heap) []heap.ID {
	referred := bitset.New[heap.ID](h.Len())
	for id := range h.All() {
		if !h.Flags(id).Listed() {
			continue
		}
		for _, to := range h.Referents(id) {
			referred.Set(to)
		}
	}
	var out []heap.ID
	for id := range h.All() {
		if h.Flags(id).Listed() && !referred.Has(id) {
			out = append(out, id)
		}
	}
	return out
}
