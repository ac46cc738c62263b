package gcmod

import "github.com/objgraph-go/objgraph/heap"

// Generations counts a snapshot's objects as the collector holds them.
type Generations struct {
	Young     [3]int // tracked objects in generations 0, 1 and 2, frozen ones excepted
	Permanent int    // tracked objects in the permanent generation (gc.freeze)
	Untracked int    // objects the collector does not track
}

// CountGenerations counts the objects of h by generation, as gc.get_objects(N)
// and gc.get_freeze_count() would in the process.
func CountGenerations(h *heap.Heap) Generations {
	var g Generations
	for id := range h.All() {
		f := h.Flags(id)
		switch {
		case !f.Tracked():
			g.Untracked++
		case f.Permanent():
			g.Permanent++
		default:
			g.Young[min(f.Generation(), 2)]++
		}
	}
	return g
}
