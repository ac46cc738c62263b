package heap

import (
	"sync"

	"github.com/objgraph-go/objgraph/internal/par"
)

// maxReverseWorkers caps the workers of BuildReverse: each has a count
// array as long as the heap, so the cap bounds the temporary memory at
// 4 bytes an object times the cap, however many CPUs there are. Speed was
// measured on 2 CPUs only; 4 is also the cap of the dominators' parallel
// steps.
const maxReverseWorkers = 4

// reverseIndex holds the referrers of every object, built once on first use.
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

// BuildReverse builds the reverse index now, if it is not built yet. The
// sources are split into ranges of about equal edge counts, one per CPU up
// to maxReverseWorkers; each worker counts its range's edges per target,
// the counts become per-worker start positions, and each worker fills its
// own slots. Lower ranges fill
// lower slots, so referrers come out in id order.
func (h *Heap) BuildReverse() {
	h.rev.once.Do(func() {
		n := len(h.addr)
		off := make([]uint32, n+1)
		src := make([]ID, len(h.edgeTo))
		if n == 0 {
			h.rev.off, h.rev.src = off, src
			return
		}
		workers := par.Workers(len(h.edgeTo), maxReverseWorkers)
		bounds := make([]int, workers+1) // source ranges
		for w := 1; w < workers; w++ {
			target := uint64(len(h.edgeTo)) * uint64(w) / uint64(workers)
			lo, hi := bounds[w-1], n
			for lo < hi { // first source whose edges start at or after target
				m := (lo + hi) / 2
				if uint64(h.off[m]) < target {
					lo = m + 1
				} else {
					hi = m
				}
			}
			bounds[w] = lo
		}
		bounds[workers] = n
		next := make([][]uint32, workers)
		var release []func()
		for w := range next {
			s, free := tempUint32s(n)
			next[w] = s
			release = append(release, free)
		}
		defer func() {
			for _, f := range release {
				f()
			}
		}()
		par.Ranges(bounds, func(w, lo, hi int) {
			cnt := next[w]
			for _, t := range h.edgeTo[h.off[lo]:h.off[hi]] {
				cnt[t]++
			}
		})
		pos := uint32(0)
		for t := range n {
			for w := range next {
				c := next[w][t]
				next[w][t] = pos
				pos += c
			}
			off[t+1] = pos
		}
		par.Ranges(bounds, func(w, lo, hi int) {
			slot := next[w]
			for s := lo; s < hi; s++ {
				for _, t := range h.edgeTo[h.off[s]:h.off[s+1]] {
					src[slot[t]] = ID(s)
					slot[t]++
				}
			}
		})
		h.rev.off, h.rev.src = off, src
	})
}
