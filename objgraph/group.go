package objgraph

import (
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// A GroupSizer tells what releasing a group of objects would free: the
// objects that no root reaches any more once every reference into the
// group from outside it is dropped, the group's own objects included. It
// is the retained size of the group as one object, which the sum of its
// members' dominator sizes understates whenever members refer to each
// other: an ORM object and its state object hold each other, so neither
// dominates the other, and each dominates only itself, yet releasing the
// pair frees both and all they alone hold.
//
// One GroupSizer answers for many groups of one heap; its scratch memory
// (4 bytes an object) is reused from group to group. It is not safe for
// concurrent use.
type GroupSizer struct {
	h     *heap.Heap
	dt    *heap.DomTree
	roots bitset.Set[heap.ID] // the dominator tree's roots
	mark  []uint32            // per object: stamp<<3 | state bits, valid when the stamp is the current one
	stamp uint32
	queue []heap.ID
}

// Per-object state bits of a GroupSizer's pass.
const (
	inGroup  = 1 << iota // a member of the group
	inRegion             // reachable from the group
	alive                // still reachable from a root without passing through the group
)

// NewGroupSizer prepares to size groups of h, whose dominator tree dt
// tells which objects are reachable and from which roots. It builds the
// heap's reverse index.
func NewGroupSizer(h *heap.Heap, dt *heap.DomTree) *GroupSizer {
	s := &GroupSizer{h: h, dt: dt, roots: bitset.New[heap.ID](h.Len()), mark: make([]uint32, h.Len())}
	for _, id := range dt.Roots() {
		s.roots.Set(id)
	}
	h.BuildReverse()
	return s
}

func (s *GroupSizer) has(id heap.ID, bit uint32) bool {
	m := s.mark[id]
	return m>>3 == s.stamp && m&bit != 0
}

func (s *GroupSizer) set(id heap.ID, bit uint32) {
	if s.mark[id]>>3 != s.stamp {
		s.mark[id] = s.stamp << 3
	}
	s.mark[id] |= bit
}

// Freed returns the number and total size of the objects that releasing
// group would free: the reachable members of the group, and every object
// that all paths from the roots reach only through the group. Objects no
// root reaches (cyclic garbage) are left out: they are freed whatever the
// group. The cost is proportional to what the group reaches and the
// references into that, not to the heap.
//
// The objects the group reaches form its region. An object of the region
// outside the group stays alive when a root holds it, or when an object
// outside the region refers to it (such an object is reachable without
// the group, or it would be in the region), or when another object of the
// region that stays alive refers to it. Everything else of the region is
// freed.
func (s *GroupSizer) Freed(group []heap.ID) (objects int, bytes uint64) {
	return s.FreedEach(group, nil)
}

// FreedEach is Freed, calling each, when not nil, with every object the
// release frees.
func (s *GroupSizer) FreedEach(group []heap.ID, each func(heap.ID)) (objects int, bytes uint64) {
	s.stamp++
	if s.stamp >= 1<<29 {
		clear(s.mark)
		s.stamp = 1
	}
	h, dt := s.h, s.dt
	region := s.queue[:0]
	for _, id := range group {
		if dt.Reachable(id) && !s.has(id, inGroup) {
			s.set(id, inGroup|inRegion)
			region = append(region, id)
		}
	}
	for i := 0; i < len(region); i++ {
		for _, to := range h.Referents(region[i]) {
			if !s.has(to, inRegion) && dt.Reachable(to) {
				s.set(to, inRegion)
				region = append(region, to)
			}
		}
	}
	// Seeds: objects of the region outside the group that a root holds or
	// that something outside the region refers to.
	live := region[len(region):]
	for _, id := range region {
		if s.has(id, inGroup) {
			continue
		}
		seed := s.roots.Has(id)
		for _, from := range h.Referrers(id) {
			if seed {
				break
			}
			seed = !s.has(from, inRegion) && dt.Reachable(from)
		}
		if seed {
			s.set(id, alive)
			live = append(live, id)
		}
	}
	for i := 0; i < len(live); i++ {
		for _, to := range h.Referents(live[i]) {
			if s.has(to, inRegion) && !s.has(to, inGroup|alive) {
				s.set(to, alive)
				live = append(live, to)
			}
		}
	}
	for _, id := range region {
		if !s.has(id, alive) {
			objects++
			bytes += h.Size(id)
			if each != nil {
				each(id)
			}
		}
	}
	s.queue = region[:0]
	return objects, bytes
}

// treesOf returns the dominator tree and the retainer chains of h: dt and
// r when given, else computed.
func treesOf(h *heap.Heap, dt *heap.DomTree, r *Retainers) (*heap.DomTree, *Retainers) {
	if dt == nil {
		dt = heap.Dominators(h, heap.DominatorOptions{})
	}
	if r == nil {
		r = FindRetainers(h)
	}
	return dt, r
}
