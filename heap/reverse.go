package heap

import "sync"

// reverseIndex holds the referrers of every object, built once on first use
// by a count pass and a fill pass over the forward edges.
type reverseIndex struct {
	once sync.Once
	off  []uint32 // len n+1
	src  []ID     // referrer of each reverse edge
}

// Referrers are the objects with an edge to id, in id order, once per edge
// (an object referring twice appears twice). The slice is shared: do not
// modify it. The first call builds the reverse index for the whole heap.
func (h *Heap) Referrers(id ID) []ID {
	h.BuildReverse()
	return h.rev.src[h.rev.off[id]:h.rev.off[id+1]:h.rev.off[id+1]]
}

// NumReferrers is len(h.Referrers(id)).
func (h *Heap) NumReferrers(id ID) int {
	h.BuildReverse()
	return int(h.rev.off[id+1] - h.rev.off[id])
}

// BuildReverse builds the reverse index now, if it is not built yet.
func (h *Heap) BuildReverse() {
	h.rev.once.Do(func() {
		n := len(h.addr)
		off := make([]uint32, n+1)
		for _, t := range h.edgeTo {
			off[t+1]++
		}
		for i := 1; i <= n; i++ {
			off[i] += off[i-1]
		}
		src := make([]ID, len(h.edgeTo))
		next := make([]uint32, n)
		copy(next, off[:n])
		for s := 0; s < n; s++ {
			for _, t := range h.edgeTo[h.off[s]:h.off[s+1]] {
				src[next[t]] = ID(s)
				next[t]++
			}
		}
		h.rev.off, h.rev.src = off, src
	})
}
