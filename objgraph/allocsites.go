package objgraph

import (
	"cmp"
	"slices"

	"github.com/objgraph-go/objgraph/heap"
)

// AllocSite is a place objects were allocated, as tracemalloc recorded it:
// the innermost frame of their allocation tracebacks.
type AllocSite struct {
	Frame heap.Frame // the file, line and function that allocated them
	Count int        // objects
	Bytes uint64     // their own sizes
}

// TopAllocSites groups ids by the innermost frame of their allocation
// tracebacks and returns the n sites with most objects (0: all), most
// first, then by file and line. Objects without a traceback are left out;
// the result is nil when none has one.
func TopAllocSites(h *heap.Heap, ids []heap.ID, n int) []AllocSite {
	if h.NumTracebacks() == 0 {
		return nil
	}
	byTB := map[int]int{} // traceback → index in sites
	bySite := map[heap.Frame]int{}
	var sites []AllocSite
	for _, id := range ids {
		t, ok := h.AllocTraceback(id)
		if !ok {
			continue
		}
		i, seen := byTB[t]
		if !seen {
			var f heap.Frame
			if fr := h.Traceback(t); len(fr) > 0 {
				f = fr[0]
			}
			if i, seen = bySite[f]; !seen {
				i = len(sites)
				bySite[f] = i
				sites = append(sites, AllocSite{Frame: f})
			}
			byTB[t] = i
		}
		sites[i].Count++
		sites[i].Bytes += h.Size(id)
	}
	slices.SortFunc(sites, func(a, b AllocSite) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Frame.File, b.Frame.File); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Frame.Line, b.Frame.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Frame.Function, b.Frame.Function)
	})
	if n > 0 && len(sites) > n {
		sites = sites[:n]
	}
	return sites
}
