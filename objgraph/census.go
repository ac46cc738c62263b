package objgraph

import (
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/radix"
)

// A Census is what leak detection needs to know about a snapshot it does
// not analyse in full: the address and the type of every object, and how
// many objects of each type there are. It takes 12 bytes per object, a
// twentieth of a loaded heap, so that the other snapshots of a leak hunt
// need not stay in memory.
type Census struct {
	Time    time.Time // capture time, from the snapshot's metadata
	PID     int       // process id, from the snapshot's metadata; 0 if unknown
	Objects int       // number of objects
	addr    []uint64  // ascending
	typ     []uint32  // type of each object of addr, an index into names
	qual    []string  // module-qualified type names
	short   []string  // short type names, in the order of qual
	count   []int     // objects per type, in the order of qual
}

// NewCensus takes the census of a heap.
func NewCensus(h *heap.Heap) *Census {
	c := &Census{Time: h.Meta().Time, PID: h.Meta().PID, Objects: h.Len()}
	index := map[string]uint32{}
	of := make([]uint32, h.NumTypes())
	for t := range of {
		q := h.TypeQualName(heap.TypeID(t))
		i, ok := index[q]
		if !ok {
			i = uint32(len(c.qual))
			index[q] = i
			c.qual = append(c.qual, q)
			c.short = append(c.short, h.TypeShortName(heap.TypeID(t)))
		}
		of[t] = i
	}
	c.count = make([]int, len(c.qual))
	n := h.Len()
	c.addr, c.typ = make([]uint64, n), make([]uint32, n)
	for id := range h.All() {
		t := of[h.Type(id)]
		c.addr[id], c.typ[id] = h.Addr(id), t
		c.count[t]++
	}
	radix.SortByKey(c.addr, c.typ)
	return c
}

// Counts returns the number of objects per type name, short or
// module-qualified.
func (c *Census) Counts(qualified bool) map[string]int {
	m := make(map[string]int, len(c.qual))
	for i, n := range c.count {
		name := c.short[i]
		if qualified {
			name = c.qual[i]
		}
		m[name] += n
	}
	return m
}

// idsByAddr returns the ids of h's objects sorted by address, and their
// addresses in that order.
func idsByAddr(h *heap.Heap) ([]heap.ID, []uint64) {
	n := h.Len()
	addr, ids := make([]uint64, n), make([]heap.ID, n)
	for id := range h.All() {
		addr[id], ids[id] = h.Addr(id), id
	}
	radix.SortByKey(addr, ids)
	return ids, addr
}
