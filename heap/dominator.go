package heap

import (
	"cmp"
	"slices"
)

// DominatorOptions choose the roots of a dominator tree. The zero value uses
// every root of the snapshot plus every object held from outside the graph.
type DominatorOptions struct {
	NoExternal bool // ignore references from outside the graph; only the snapshot's roots hold objects
}

// DomTree is the dominator tree of a heap under a virtual root that points
// at every root. Object d dominates object o when every path from a root to
// o passes through d; the retained size of d is the size of everything it
// dominates, itself included: what freeing d would free.
type DomTree struct {
	h        *Heap
	pre      []uint32 // object id -> preorder number + 1; 0 = unreachable
	vertex   []ID     // preorder number -> object id; vertex[0] is the virtual root (NoID)
	idom     []uint32 // preorder number -> preorder number of the immediate dominator
	retained []uint64 // preorder number -> retained size
	roots    []ID     // the roots used, in order
}

// ExternalRefs is the number of references to id from outside the graph:
// its refcount minus its referrers in the graph, or 0 where the runtime has
// no refcount, the object is immortal, or the difference is negative.
func (h *Heap) ExternalRefs(id ID) uint64 {
	rc := h.refcnt[id]
	if rc == 0 || h.flags[id].Immortal() {
		return 0
	}
	if n := uint64(h.NumReferrers(id)); rc > n {
		return rc - n
	}
	return 0
}

// RootIDs are the distinct objects the heap is held from: the targets of its
// roots in order, then, unless noExternal, objects with ExternalRefs > 0 in
// id order.
func (h *Heap) RootIDs(noExternal bool) []ID {
	seen := newBitset(h.Len())
	var out []ID
	for _, r := range h.roots {
		if !seen.has(r.Target) {
			seen.set(r.Target)
			out = append(out, r.Target)
		}
	}
	if !noExternal {
		for id := range h.All() {
			if !seen.has(id) && h.ExternalRefs(id) > 0 {
				seen.set(id)
				out = append(out, id)
			}
		}
	}
	return out
}

// Dominators computes the dominator tree with the Semi-NCA algorithm over
// flat arrays, iteratively.
func Dominators(h *Heap, opts DominatorOptions) *DomTree {
	n := h.Len()
	roots := h.RootIDs(opts.NoExternal)
	t := &DomTree{h: h, roots: roots, pre: make([]uint32, n)}

	// Depth-first search from the virtual root: preorder numbers and parents.
	vertex := make([]ID, 1, n+1)
	vertex[0] = NoID
	parent := make([]uint32, 1, n+1)
	type frame struct {
		p      uint32 // preorder number
		e, end uint32 // next edge, end of edges
	}
	stack := make([]frame, 0, 1024)
	var warm uint32
	visit := func(id ID, from uint32) {
		p := uint32(len(vertex))
		t.pre[id] = p + 1
		vertex = append(vertex, id)
		parent = append(parent, from)
		lo, hi := h.off[id], h.off[id+1]
		stack = append(stack, frame{p, lo, hi})
		// Touch the targets' marks now, while the loads are independent of
		// each other; the search reads them later from the cache.
		for _, to := range h.edgeTo[lo:hi] {
			warm += t.pre[to]
		}
	}
	for _, r := range roots {
		if t.pre[r] != 0 {
			continue
		}
		visit(r, 0)
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.e == f.end {
				stack = stack[:len(stack)-1]
				continue
			}
			to := h.edgeTo[f.e]
			f.e++
			if t.pre[to] == 0 {
				visit(to, f.p)
			}
		}
	}
	_ = warm
	m := len(vertex)

	// Predecessors in preorder numbers, the virtual root (0) included for
	// roots: the semidominator pass then reads them in order.
	predOff := make([]uint32, m+1)
	for _, r := range roots {
		predOff[t.pre[r]]++ // pre is number+1: counts land one slot up
	}
	for s := range n {
		if t.pre[s] == 0 {
			continue
		}
		for _, to := range h.edgeTo[h.off[s]:h.off[s+1]] {
			predOff[t.pre[to]]++
		}
	}
	for p := 1; p <= m; p++ {
		predOff[p] += predOff[p-1]
	}
	pred := make([]uint32, predOff[m])
	fill := slices.Clone(predOff[:m])
	for _, r := range roots {
		p := t.pre[r] - 1
		pred[fill[p]] = 0
		fill[p]++
	}
	for s := range n {
		ps := t.pre[s]
		if ps == 0 {
			continue
		}
		for _, to := range h.edgeTo[h.off[s]:h.off[s+1]] {
			p := t.pre[to] - 1
			pred[fill[p]] = ps - 1
			fill[p]++
		}
	}
	fill = nil

	// Semidominators, in reverse preorder, with path compression over the
	// ancestor links (which start as the DFS parents). The three per-vertex
	// words share one cache line: the pass is bound by memory latency.
	type info struct{ anc, label, semi uint32 }
	in := make([]info, m)
	for p := range m {
		in[p] = info{anc: parent[p], label: uint32(p), semi: uint32(p)}
	}
	idom := parent // parent is not needed apart from here
	var evalStack []uint32
	eval := func(v, lastLinked uint32) uint32 {
		if in[v].anc < lastLinked {
			return in[v].label
		}
		evalStack = evalStack[:0]
		for in[v].anc >= lastLinked {
			evalStack = append(evalStack, v)
			v = in[v].anc
		}
		// v is the first ancestor not yet linked; compress the path below it.
		pv := v
		pLabel := in[pv].label
		for i := len(evalStack) - 1; i >= 0; i-- {
			w := evalStack[i]
			in[w].anc = in[pv].anc
			if wl := in[w].label; in[pLabel].semi < in[wl].semi {
				in[w].label = pLabel
			} else {
				pLabel = wl
			}
			pv = w
		}
		return in[pv].label
	}
	for w := uint32(m - 1); w >= 1; w-- {
		s := idom[w] // the parent
		for _, pv := range pred[predOff[w]:predOff[w+1]] {
			if su := in[eval(pv, w+1)].semi; su < s {
				s = su
			}
		}
		in[w].semi = s
	}
	pred, predOff = nil, nil
	// Immediate dominators: walk up from the parent until below the semidominator.
	for w := 1; w < m; w++ {
		d := idom[w]
		for d > in[w].semi {
			d = idom[d]
		}
		idom[w] = d
	}
	in = nil

	// Retained sizes, children before parents.
	retained := make([]uint64, m)
	for w := m - 1; w >= 1; w-- {
		retained[w] += h.size[vertex[w]]
		retained[idom[w]] += retained[w]
	}
	t.vertex, t.idom, t.retained = vertex, idom, retained
	return t
}

// Reachable reports whether id is reachable from a root.
func (t *DomTree) Reachable(id ID) bool { return t.pre[id] != 0 }

// IDom is id's immediate dominator; NoID when id is held directly by the
// virtual root (it is a root, or reachable from several roots) or is
// unreachable.
func (t *DomTree) IDom(id ID) ID {
	p := t.pre[id]
	if p == 0 {
		return NoID
	}
	return t.vertex[t.idom[p-1]]
}

// Retained is the retained size of id: its own size and the sizes of all
// objects it dominates. It is 0 for unreachable objects.
func (t *DomTree) Retained(id ID) uint64 {
	p := t.pre[id]
	if p == 0 {
		return 0
	}
	return t.retained[p-1]
}

// ReachableSize is the total size of every object reachable from a root.
func (t *DomTree) ReachableSize() uint64 { return t.retained[0] }

// NumReachable is the number of objects reachable from a root.
func (t *DomTree) NumReachable() int { return len(t.vertex) - 1 }

// Roots are the root objects the tree was built from.
func (t *DomTree) Roots() []ID { return t.roots }

// Unreachable yields the objects no root reaches, in id order.
func (t *DomTree) Unreachable() []ID {
	var out []ID
	for id, p := range t.pre {
		if p == 0 {
			out = append(out, ID(id))
		}
	}
	return out
}

// Top returns the k objects with the largest retained size, largest first;
// ties go to the lower id.
func (t *DomTree) Top(k int) []ID {
	ids := make([]ID, 0, len(t.vertex)-1)
	ids = append(ids, t.vertex[1:]...)
	slices.SortFunc(ids, func(a, b ID) int {
		if c := cmp.Compare(t.Retained(b), t.Retained(a)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if k >= 0 && len(ids) > k {
		ids = ids[:k]
	}
	return ids
}

// bitset is a set of object ids.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) has(id ID) bool { return b[id/64]&(1<<(id%64)) != 0 }
func (b bitset) set(id ID)      { b[id/64] |= 1 << (id % 64) }
