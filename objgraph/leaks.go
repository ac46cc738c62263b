package objgraph

import (
	"cmp"
	"slices"

	"github.com/objgraph-go/objgraph/heap"
)

// LeakOptions tune FindLeaks. The zero value names types by their short
// names, groups chains by their first 64 hops and computes what it needs.
type LeakOptions struct {
	Qualified  bool          // module-qualified type names ("app.Session" rather than "Session")
	MaxDepth   int           // group chains longer than this many hops by their first MaxDepth hops and the object's type (see LeakGroup.Shape); 0 means 64
	Dominators *heap.DomTree // the dominator tree of the heap analysed, if already computed
	Retainers  *Retainers    // its shortest retainer chains, if already computed
}

// A LeakReport says what a heap holds that an earlier snapshot of the same
// process did not, and what holds it.
type LeakReport struct {
	Snapshots []int       // object counts of the snapshots: the old one, the one analysed, the later ones
	New       int         // objects absent from the old snapshot (by address and type)
	Types     []LeakType  // surviving objects a root reaches, by type; most retained first
	Garbage   []LeakType  // surviving objects no root reaches (cyclic garbage the collector has not freed), by type
	Growth    []TypeCount // every type whose count grew from the first snapshot to the last, most first
}

// A LeakType is the leak candidates of one type.
type LeakType struct {
	Type     string      // type name
	Count    int         // objects
	Bytes    uint64      // their own sizes
	Retained uint64      // what freeing all of them would free, as far as the dominator tree tells (see LeakGroup.Retained)
	Counts   []int       // the type's object count in each snapshot, in order
	Groups   []LeakGroup // the objects grouped by the shape of their retainer chains, largest group first
}

// A LeakGroup is the leak candidates of one type whose shortest retainer
// chains have the same shape: the same root, and hop by hop the same types
// and reference names, with the names of container elements collapsed to
// "[*]" (see ShapeStep). Chains longer than LeakOptions.MaxDepth hops, as
// those of the nodes of a long linked list, are grouped by their first
// MaxDepth hops: their shape ends in a step {Edge: "…", Type: the type}.
type LeakGroup struct {
	Root  Root        // where the chains start: a root of the snapshot, External, or for garbage Garbage
	Shape []ShapeStep // the chains' shape, root object first; at most MaxDepth+2 steps
	Count int         // objects
	Bytes uint64      // their own sizes
	// Retained is the size of the objects that one of the group's objects
	// dominates (itself included), each counted once: what freeing the
	// group would free, not counting objects that two of its members hold
	// jointly and nothing else does.
	Retained uint64
	Objects  []heap.ID // the group's objects, in id order
	Example  heap.ID   // the object of the chain shown, the one that retains most
	Chain    []heap.ID // a chain to Example: from a root for reachable objects; for garbage, from an object nothing refers to, or around a cycle back to Example
	Edges    []string  // names of the references along Chain: Edges[i] leads from Chain[i] to Chain[i+1]
}

// TypeCount is how a type's object count moved across snapshots.
type TypeCount struct {
	Type   string `json:"type"`   // type name
	Counts []int  `json:"counts"` // object count in each snapshot, in order
	Delta  int    `json:"delta"`  // last count minus first
}

// FindLeaks finds the objects of cur, the last snapshot of a series of
// one process, that the first snapshot did not have (an object at an
// address that held an object of another type, or none, is new): the leak
// candidates. It groups them by type and, within a type, by the shape of
// their shortest retainer chains, and tells for each group its size, what
// releasing it would free, and a representative chain. The snapshots in
// between, given as censuses in the order taken, give every type's count
// in each snapshot, so that a type that only grows stands apart from one
// that grew and came back down (a warm-up).
//
// It computes cur's dominator tree and retainer chains unless opts has
// them.
func FindLeaks(first *Census, cur *heap.Heap, between []*Census, opts LeakOptions) *LeakReport {
	rep := &LeakReport{Snapshots: []int{first.Objects}}
	for _, c := range between {
		rep.Snapshots = append(rep.Snapshots, c.Objects)
	}
	rep.Snapshots = append(rep.Snapshots, cur.Len())
	byAddr, addrs := idsByAddr(cur)
	candidates := absentFrom(first, cur, byAddr, addrs) // in address order
	byAddr, addrs = nil, nil
	rep.New = len(candidates)
	slices.Sort(candidates)

	dt, r := treesOf(cur, opts.Dominators, opts.Retainers)

	// Counts per type name in every snapshot.
	counts := []map[string]int{first.Counts(opts.Qualified)}
	for _, c := range between {
		counts = append(counts, c.Counts(opts.Qualified))
	}
	counts = append(counts, typeCounts(cur, opts.Qualified))
	countsOf := func(name string) []int {
		out := make([]int, len(counts))
		for i, m := range counts {
			out[i] = m[name]
		}
		return out
	}
	rep.Growth = growth(counts)

	maxDepth := uint32(64)
	if opts.MaxDepth > 0 {
		maxDepth = uint32(opts.MaxDepth)
	}
	sh := newShapes(cur, r)
	type key struct {
		typ   string
		shape uint32 // noShape for garbage
		cut   bool   // the chains are longer than maxDepth, and shape is that of their first maxDepth hops
	}
	groupOf := map[key]int{}
	var groups []*LeakGroup
	var groupKeys []key
	for _, id := range candidates {
		k := key{TypeName(cur, id, opts.Qualified), noShape, false}
		if r.Reached(id) {
			k.shape, k.cut = sh.shape(id, maxDepth)
		}
		gi, ok := groupOf[k]
		if !ok {
			gi = len(groups)
			groupOf[k] = gi
			groups = append(groups, &LeakGroup{})
			groupKeys = append(groupKeys, k)
		}
		g := groups[gi]
		g.Count++
		g.Bytes += cur.Size(id)
		g.Objects = append(g.Objects, id)
	}

	// What releasing each group frees, as one: members that refer to each
	// other (an object and its state) dominate none of each other.
	gs := NewGroupSizer(cur, dt)
	for gi, g := range groups {
		if groupKeys[gi].shape == noShape {
			continue
		}
		best := uint64(0)
		for i, id := range g.Objects {
			if ret := dt.Retained(id); i == 0 || ret > best {
				g.Example, best = id, ret
			}
		}
		if len(g.Objects) == 1 {
			g.Retained = best
		} else {
			_, g.Retained = gs.Freed(g.Objects)
		}
	}
	type typeKey struct {
		name    string
		garbage bool
	}
	byType := map[typeKey]*LeakType{}
	var types, garbage []*LeakType
	for gi, g := range groups {
		k := groupKeys[gi]
		tk := typeKey{k.typ, k.shape == noShape}
		t := byType[tk]
		if t == nil {
			t = &LeakType{Type: k.typ, Counts: countsOf(k.typ)}
			byType[tk] = t
			if tk.garbage {
				garbage = append(garbage, t)
			} else {
				types = append(types, t)
			}
		}
		t.Count += g.Count
		t.Bytes += g.Bytes
		if k.shape == noShape {
			g.Root = Garbage
			g.Example = g.Objects[0]
			g.Chain = garbageChain(cur, g.Example)
		} else {
			g.Root, g.Shape = sh.steps(k.shape, opts.Qualified)
			if k.cut {
				g.Shape = append(g.Shape, ShapeStep{Edge: "…", Type: k.typ})
			}
			g.Chain = r.Chain(g.Example)
		}
		g.Edges = ChainEdges(cur, g.Chain)
		t.Groups = append(t.Groups, *g)
	}
	// A type's retained size is what releasing all its candidates frees:
	// groups of one type may nest, and hold each other.
	var all []heap.ID
	for _, t := range types {
		all = all[:0]
		for _, g := range t.Groups {
			all = append(all, g.Objects...)
		}
		if len(t.Groups) == 1 {
			t.Retained = t.Groups[0].Retained
		} else {
			_, t.Retained = gs.Freed(all)
		}
	}
	for _, list := range [][]*LeakType{types, garbage} {
		for _, t := range list {
			slices.SortFunc(t.Groups, func(a, b LeakGroup) int {
				if c := cmp.Compare(b.Count, a.Count); c != 0 {
					return c
				}
				if c := cmp.Compare(b.Retained, a.Retained); c != 0 {
					return c
				}
				return cmp.Compare(a.Objects[0], b.Objects[0])
			})
		}
		slices.SortFunc(list, func(a, b *LeakType) int {
			if c := cmp.Compare(b.Retained, a.Retained); c != 0 {
				return c
			}
			if c := cmp.Compare(b.Count, a.Count); c != 0 {
				return c
			}
			if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
				return c
			}
			return cmp.Compare(a.Type, b.Type)
		})
	}
	for _, t := range types {
		rep.Types = append(rep.Types, *t)
	}
	for _, t := range garbage {
		rep.Garbage = append(rep.Garbage, *t)
	}
	return rep
}

// absentFrom returns the objects of cur, given in address order with their
// addresses, whose address holds no object of the same module-qualified
// type in c, in address order.
func absentFrom(c *Census, cur *heap.Heap, byAddr []heap.ID, addrs []uint64) []heap.ID {
	same := typeMap(c, cur)
	var out []heap.ID
	j := 0
	for i, id := range byAddr {
		a := addrs[i]
		for j < len(c.addr) && c.addr[j] < a {
			j++
		}
		if j < len(c.addr) && c.addr[j] == a && c.typ[j] == same[cur.Type(id)] {
			continue
		}
		out = append(out, id)
	}
	return out
}

// typeMap maps h's types to the census's type indexes, ^0 for types the
// census does not have.
func typeMap(c *Census, h *heap.Heap) []uint32 {
	index := make(map[string]uint32, len(c.qual))
	for i, q := range c.qual {
		index[q] = uint32(i)
	}
	m := make([]uint32, h.NumTypes())
	for t := range m {
		i, ok := index[h.TypeQualName(heap.TypeID(t))]
		if !ok {
			i = ^uint32(0)
		}
		m[t] = i
	}
	return m
}

// typeCounts counts every object of h by type name.
func typeCounts(h *heap.Heap, qualified bool) map[string]int {
	m := map[string]int{}
	for _, s := range typeStats(h, StatsOptions{All: true, Qualified: qualified}) {
		m[s.Type] = s.Count
	}
	return m
}

// growth lists the types whose count is higher in the last snapshot than
// in the first.
func growth(counts []map[string]int) []TypeCount {
	first, last := counts[0], counts[len(counts)-1]
	var out []TypeCount
	for name, n := range last {
		if d := n - first[name]; d > 0 {
			tc := TypeCount{Type: name, Delta: d}
			for _, m := range counts {
				tc.Counts = append(tc.Counts, m[name])
			}
			out = append(out, tc)
		}
	}
	slices.SortFunc(out, func(a, b TypeCount) int {
		if c := cmp.Compare(b.Delta, a.Delta); c != 0 {
			return c
		}
		return cmp.Compare(a.Type, b.Type)
	})
	return out
}

// ChainEdges names the references along a chain: for each hop, the name of
// the first reference from one object to the next ("" when unnamed), so
// that the result has one name fewer than chain has objects; nil for a
// chain of one object.
func ChainEdges(h *heap.Heap, chain []heap.ID) []string {
	if len(chain) < 2 {
		return nil
	}
	out := make([]string, len(chain)-1)
	for i := range out {
		if names := EdgeNames(h, chain[i], chain[i+1]); len(names) > 0 {
			out[i] = names[0]
		}
	}
	return out
}

// garbageChain explains an object no root reaches (all of whose
// referrers are unreachable too): the shortest chain to it from an object
// nothing refers to; or, when there is none, the shortest cycle through the
// nearest of its referrers (itself first) that lies on one, followed by
// the chain from there to it.
func garbageChain(h *heap.Heap, id heap.ID) []heap.ID {
	head := func(x heap.ID) bool { return h.NumReferrers(x) == 0 }
	if c := FindBackrefChain(h, id, head, ChainOptions{}); head(c[0]) {
		return c
	}
	// Referrers breadth first, each with the way back to id.
	type entry struct {
		id   heap.ID
		next int // index of the entry it refers to on the way to id; -1 for id
	}
	queue := []entry{{id, -1}}
	seen := map[heap.ID]bool{id: true}
	for i := 0; i < len(queue) && i < 64; i++ {
		if cycle := shortestCycle(h, queue[i].id); cycle != nil {
			for j := queue[i].next; j >= 0; j = queue[j].next {
				cycle = append(cycle, queue[j].id)
			}
			return cycle
		}
		for _, p := range h.Referrers(queue[i].id) {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, entry{p, i})
			}
		}
	}
	return []heap.ID{id}
}

// shortestCycle returns the shortest cycle of references through id, id
// first and last, or nil; it gives up after visiting 65536 objects.
func shortestCycle(h *heap.Heap, id heap.ID) []heap.ID {
	parent := map[heap.ID]heap.ID{id: heap.NoID}
	queue := []heap.ID{id}
	for len(queue) > 0 && len(parent) < 1<<16 {
		v := queue[0]
		queue = queue[1:]
		for _, to := range h.Referents(v) {
			if to == id {
				chain := []heap.ID{id}
				for x := v; x != heap.NoID; x = parent[x] {
					chain = append(chain, x)
				}
				slices.Reverse(chain)
				return chain
			}
			if _, seen := parent[to]; !seen {
				parent[to] = v
				queue = append(queue, to)
			}
		}
	}
	return nil
}
