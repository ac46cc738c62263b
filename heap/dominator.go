package heap

import (
	"cmp"
	"container/heap"
	"iter"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/objgraph-go/objgraph/internal/bitset"
	"github.com/objgraph-go/objgraph/internal/par"
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
//
// Objects are numbered in breadth-first order from the roots (the roots
// first); every object's dominators come before it in that order.
type DomTree struct {
	h        *Heap
	num      []uint32 // object id -> search number; 0 = unreachable
	vertex   []ID     // search number -> object id; vertex[0] is the virtual root (NoID)
	idom     []uint32 // search number -> search number of the immediate dominator
	retained []uint64 // search number -> retained size
	roots    []ID     // the roots used, in order
	passes   int      // passes over the predecessors after the first sweep; -1 when Lengauer–Tarjan finished the job
	steps    uint64   // steps taken up idom chains and, after a fallback, by Lengauer–Tarjan (see Dominators)
	budget   uint64   // steps up idom chains the iterative algorithm may take before it gives up
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
	seen := bitset.New[ID](h.Len())
	var out []ID
	for _, r := range h.roots {
		if !seen.Has(r.Target) {
			seen.Set(r.Target)
			out = append(out, r.Target)
		}
	}
	if !noExternal && h.Len() > 0 {
		h.BuildReverse()
		off, rc, flags := h.rev.off, h.refcnt, h.flags
		for i := range h.addr {
			// ExternalRefs, inlined: this loop reads three columns in order.
			if c := uint64(off[i+1] - off[i]); rc[i] > c && !flags[i].Immortal() && !seen.Has(ID(i)) {
				seen.Set(ID(i))
				out = append(out, ID(i))
			}
		}
	}
	return out
}

// maxPasses bounds the passes of the iterative algorithm after the first;
// a graph that needs more is finished by Lengauer–Tarjan.
const maxPasses = 8

// The iterative algorithm may take ncaBudget steps up the tree per object
// and edge of the heap, plus minBudget, before it gives up. The synthetic
// 10M-object heaps take under one step per object and edge, random graphs
// of a few thousand objects under seven.
const (
	ncaBudget = 4
	minBudget = 1 << 20
)

// Dominators computes the dominator tree.
//
// The algorithm is the iterative one of Cooper, Harvey and Kennedy over a
// breadth-first numbering, with the first pass fused into the search itself:
// when the search takes object v off its queue, every referrer numbered
// before v has already been taken off and has narrowed v's candidate
// dominator to the nearest common ancestor, in the tree built so far, of
// those referrers. So v's candidate is final for the pass and is recorded,
// and v's own references narrow the candidates of the objects they lead
// to. References that lead back to an object already taken off (to an
// object numbered before the referrer) are noted. When there are none the
// tree is exact. Otherwise a second pass recomputes, from all their
// referrers, the objects they lead to; when that changes nothing the tree
// is exact, and when it does, passes over every object that could still
// move follow until nothing changes. Objects dominated by the virtual root
// alone, and objects with a single referrer, never move.
//
// Every step reads memory in an order the processor can overlap: the queue
// and the edges in about the order they are stored, and independent
// look-ups in per-object arrays, instead of the long chains of dependent
// loads of a depth-first search and path compression, which on a heap of
// millions of objects wait for main memory at every step.
//
// A nearest common ancestor is found by walking up the tree built so far,
// which costs the length of the walk. An object with many referrers, such
// as the class of the instances of a linked list, would take a walk as long
// as the list for each of them; once its walks get long they are marked,
// so that they pass each vertex once (see ncaMarked). Other shapes can still make the walks
// quadratic in the depth of the tree (a linked list whose values a list
// near the root also holds), so the steps up the tree are counted
// and the iterative algorithm gives up after ncaBudget steps per object and
// edge, as it does after maxPasses passes; either way it has done
// O(objects + edges) work. A graph it gives up on, and a heap of 2^30
// objects or more, is handled by the algorithm of Lengauer and Tarjan,
// whose running time is O(edges · log objects) whatever the graph's shape,
// but which on a large heap waits for main memory at most of its steps.
func Dominators(h *Heap, opts DominatorOptions) *DomTree {
	h.BuildReverse()
	t := &DomTree{h: h, roots: h.RootIDs(opts.NoExternal)}
	t.budget = ncaBudget*(uint64(h.Len())+uint64(h.NumEdges())) + minBudget
	return t.compute()
}

// compute computes the tree t.roots and t.budget describe.
func (t *DomTree) compute() *DomTree {
	t.h.BuildReverse()
	if t.h.Len() < maxSearch {
		if late, multi, ok := t.search(); ok && t.settle(late, multi, maxPasses) {
			t.sumRetained()
			return t
		}
	}
	t.number()
	t.lengauerTarjan()
	t.passes = -1
	t.sumRetained()
	return t
}

// number numbers the reachable objects breadth first from the roots,
// without computing anything else, for lengauerTarjan.
func (t *DomTree) number() {
	h := t.h
	num := make([]uint32, h.Len())
	vertex := []ID{NoID}
	for _, r := range t.roots {
		if num[r] == 0 {
			num[r] = uint32(len(vertex))
			vertex = append(vertex, r)
		}
	}
	for k := 1; k < len(vertex); k++ {
		for _, to := range h.Referents(vertex[k]) {
			if num[to] == 0 {
				num[to] = uint32(len(vertex))
				vertex = append(vertex, to)
			}
		}
	}
	t.num, t.vertex, t.idom = num, vertex, make([]uint32, len(vertex))
}

// undefined marks a candidate dominator not computed yet.
const undefined = ^uint32(0)

// nca is the nearest common ancestor of the vertices numbered a and b in the
// tree idom, where every vertex's parent has a smaller number than itself,
// and the number of steps up the tree it took to find it.
func nca(idom []uint32, a, b uint32) (anc uint32, steps uint64) {
	for a != b {
		for a > b {
			a = idom[a]
			steps++
		}
		for b > a {
			b = idom[b]
			steps++
		}
	}
	return a, steps
}

// ncaMarked is nca for narrowing the candidate dominator a of an object
// with one more of its referrers, b, when the vertices marked with stamp
// all descend from a (or are a). Then a walk up from b that reaches a
// marked vertex has found that a is the ancestor, and stops there. The
// vertices it walks past descend from the ancestor it returns, and it
// marks them. So narrowing the candidate of one object with all its
// referrers walks past each vertex once: the candidate of a class from
// the instances of a linked list costs the length of the list, not its
// square.
func ncaMarked(idom, mark []uint32, stamp, a, b uint32) (anc uint32, steps uint64) {
	for a != b {
		for a > b {
			mark[a] = stamp
			a = idom[a]
			steps++
		}
		for b > a {
			if mark[b] == stamp {
				return a, steps
			}
			mark[b] = stamp
			b = idom[b]
			steps++
		}
	}
	return a, steps
}

// foldMarks are the marks of ncaMarked, for the objects of a pass whose
// walks up the tree get long; each such object gets a stamp of its own.
type foldMarks struct {
	mark  []uint32 // search number -> stamp of the object whose walks passed it last
	stamp uint32
}

// An object's walks are marked once they have taken longWalk steps, and
// it has more than wideFold referrers: with fewer, marking saves little.
// (With no vertex marked yet, the marks can start at any referrer.)
const (
	longWalk = 1024
	wideFold = 32
)

// next returns a fresh stamp, allocating the marks on first use and
// clearing them when the stamps wrap around.
func (f *foldMarks) next(n int) uint32 {
	if f.mark == nil {
		f.mark = make([]uint32, n)
	}
	if f.stamp++; f.stamp == 0 {
		clear(f.mark)
		f.stamp = 1
	}
	return f.stamp
}

// searchBlock is how many objects the search prepares at once.
const searchBlock = 64

// State bits of the search, on top of a number below 2^30.
const (
	doneBit   = 1 << 31 // numbered
	lateBit   = 1 << 30 // numbered, and referred to by an object numbered after it
	numMask   = lateBit - 1
	maxSearch = numMask // search numbers heaps of fewer objects
)

// search numbers the reachable objects breadth first from the roots and
// runs the first pass of the iterative algorithm on the way (see
// Dominators). It returns, in increasing order, the numbers of the objects
// with a referrer numbered after them whose candidate is not the virtual
// root, and the set of objects with more than one reference to them. It
// gives up, returning ok false, when its steps up the tree exceed t.budget.
//
// Each level of the search is numbered in about id order, which is, mostly,
// the order of the objects' edges in memory. Objects are taken off the queue in
// blocks: the block's edge ranges and the state of every object its edges
// lead to are loaded first, in loops without branches that depend on the
// data, so that the processor overlaps the cache misses; the block is then
// processed in order, from the cache. (A branch that depends on a load that
// misses the cache stalls everything behind it until main memory answers.)
// All the search's state lives in one word per object for the same reason.
func (t *DomTree) search() (late []uint32, multi bitset.Set[ID], ok bool) {
	h := t.h
	steps, budget := t.steps, t.budget
	n := h.Len()
	// acc[id] is 0 for an object not found yet; for one found, 1 + the
	// number of its candidate dominator until it is numbered; then its own
	// number with doneBit, and lateBit when it has a late referrer. It
	// becomes num at the end.
	acc := make([]uint32, n)
	vertex := make([]ID, 1, n+2) // room for one store past the last object
	vertex[0] = NoID
	idom := make([]uint32, 1, n+1)
	for _, r := range t.roots {
		if acc[r] == 0 {
			acc[r] = 1 // candidate: the virtual root
			vertex = append(vertex, r)
		}
	}
	off, edgeTo := h.off, h.edgeTo
	var lo, hi [searchBlock]uint32
	var sink uint64
	var scratch []ID
	workers := min(runtime.GOMAXPROCS(0), maxWorkers)
	level := 1 // end of the level being numbered
	for k0 := 1; k0 < len(vertex); {
		if k0 == level {
			level = len(vertex)
			roughSort(vertex[k0:level], &scratch)
			if workers > 1 && level-k0 >= parallelBlock {
				// The objects the virtual root holds first: they can be
				// processed all at once (see searchHeld).
				if z := heldFirst(vertex[k0:level], acc, &scratch); z >= parallelBlock {
					vertex, idom = searchHeld(h, acc, vertex, idom, k0, k0+z, workers)
					if k0 += z; k0 == level {
						continue
					}
				}
			}
		}
		blk := vertex[k0:min(k0+searchBlock, level)]
		for i, v := range blk {
			lo[i], hi[i] = off[v], off[v+1]
			sink += uint64(acc[v])
		}
		for i := range blk {
			for _, to := range edgeTo[lo[i]:hi[i]] {
				sink += uint64(acc[to])
			}
		}
		for i, v := range blk {
			k := uint32(k0 + i)
			d := acc[v] - 1
			idom = append(idom, d) // idom[k]
			acc[v] = k | doneBit
			if d == 0 {
				// Held by the virtual root, v narrows every candidate to
				// the virtual root: each edge is one store, chosen
				// without branches, which would be hard to predict here.
				tail := len(vertex)
				vertex = vertex[:cap(vertex)]
				for _, to := range edgeTo[lo[i]:hi[i]] {
					a := acc[to]
					nv := a
					if a > 1 && a != k+1 {
						nv = 1
					}
					if a&doneBit != 0 {
						nv = a | lateBit
					}
					if to == v {
						nv = a
					}
					found := 0
					if a == 0 {
						nv, found = k+1, 1
					}
					acc[to] = nv
					vertex[tail] = to
					tail += found
				}
				vertex = vertex[:tail]
				continue
			}
			for _, to := range edgeTo[lo[i]:hi[i]] {
				a := acc[to]
				switch {
				case a == 0:
					acc[to] = k + 1
					vertex = append(vertex, to)
				case a&doneBit != 0:
					if to != v {
						acc[to] = a | lateBit
					}
				case a > 1 && a != k+1:
					// Narrow the candidate to the nearest common
					// ancestor of it and v. v's chain is v, d, ...; when d
					// is the virtual root, so is the ancestor.
					if d == 0 {
						acc[to] = 1
					} else {
						c, n := nca(idom, a-1, d)
						acc[to] = c + 1
						if steps += n; steps > budget {
							t.steps = steps
							return nil, nil, false
						}
					}
				}
			}
		}
		k0 += len(blk)
	}
	keep(sink)
	lateSet := bitset.New[ID](len(vertex))
	multi = bitset.New[ID](n)
	roff := h.rev.off
	for i, a := range acc {
		k := a & numMask
		if a&lateBit != 0 && idom[k] != 0 {
			lateSet[k/64] |= 1 << (k % 64)
		}
		if roff[i+1]-roff[i] > 1 {
			multi[i/64] |= 1 << (i % 64)
		}
		acc[i] = k // 0 for objects not found
	}
	for w, word := range lateSet {
		for word != 0 {
			late = append(late, uint32(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	t.num, t.vertex, t.idom, t.steps = acc, vertex, idom, steps
	return late, multi, true
}

const (
	maxWorkers    = 4       // goroutines of searchHeld
	parallelBlock = 1 << 16 // objects held by the virtual root worth splitting between them
)

// heldFirst moves the objects of a level whose candidate is the virtual
// root before the others, keeping their order, and returns how many there
// are.
func heldFirst(level []ID, acc []uint32, scratch *[]ID) int {
	if cap(*scratch) < len(level) {
		*scratch = make([]ID, len(level))
	}
	rest := (*scratch)[:0]
	z := 0
	for _, v := range level {
		if acc[v] == 1 {
			level[z] = v
			z++
		} else {
			rest = append(rest, v)
		}
	}
	copy(level[z:], rest)
	return z
}

// searchHeld numbers the objects vertex[lo:hi], all of whose candidates are
// the virtual root, and follows their edges, with several goroutines. It
// does what search's loop does for them, with the same result: an object
// the virtual root holds narrows every candidate it reaches to the virtual
// root whatever the order, and the objects of the block reach one another
// only as objects already numbered, whose candidates are the virtual root
// already. The goroutines share the work by target, in stripes of ids, so
// that each object's state has one writer; each reads every edge of the
// block and takes the ones it owns, without a branch per edge. Objects
// found are appended in the order of the goroutines, each in the order of
// its sources, which is the order one goroutine would find them in, stripe
// by stripe.
func searchHeld(h *Heap, acc []uint32, vertex []ID, idom []uint32, lo, hi, workers int) ([]ID, []uint32) {
	idom = idom[:hi]
	off, edgeTo := h.off, h.edgeTo
	per := (hi - lo + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := lo + w*per; k < min(lo+(w+1)*per, hi); k++ {
				idom[k] = 0
				acc[vertex[k]] = uint32(k) | doneBit
			}
		})
	}
	wg.Wait()
	found := make([][]ID, workers)
	sinks := make([]uint32, workers)
	for w := range workers {
		wg.Go(func() {
			type ref struct {
				k  uint32 // the source's number
				to ID
			}
			var buf []ref
			var sink uint32
			for k0 := lo; k0 < hi; k0 += searchBlock {
				blk := vertex[k0:min(k0+searchBlock, hi)]
				buf = buf[:0]
				for i, v := range blk {
					tos := edgeTo[off[v]:off[v+1]]
					buf = slices.Grow(buf, len(tos))
					b := buf[:cap(buf)]
					j := len(buf)
					for _, to := range tos {
						b[j] = ref{uint32(k0 + i), to}
						if int(to>>stripeShift)%workers == w {
							j++
						}
					}
					buf = b[:j]
				}
				for _, r := range buf {
					sink += acc[r.to]
				}
				for _, r := range buf {
					a := acc[r.to]
					nv := a
					if a > 1 && a != r.k+1 {
						nv = 1
					}
					if a&doneBit != 0 && vertex[r.k] != r.to {
						nv = a | lateBit
					}
					if a&doneBit != 0 && vertex[r.k] == r.to {
						nv = a
					}
					if a == 0 {
						nv = r.k + 1
						found[w] = append(found[w], r.to)
					}
					acc[r.to] = nv
				}
			}
			sinks[w] = sink
		})
	}
	wg.Wait()
	for w := range workers {
		vertex = append(vertex, found[w]...)
		keep(uint64(sinks[w]))
	}
	return vertex, idom
}

// stripeShift sets the stripes of ids searchHeld's goroutines own: 4096
// ids, 16 KB of search state.
const stripeShift = 12

// roughSort orders ids by id / 4096 (fully, when there are few): close
// enough to id order for the cache, in one pass. scratch is a buffer it may
// reuse.
func roughSort(ids []ID, scratch *[]ID) {
	if len(ids) < 1<<12 {
		slices.Sort(ids)
		return
	}
	var hi ID
	for _, id := range ids {
		hi = max(hi, id)
	}
	shift := 12
	for hi>>shift >= 1<<13 {
		shift++
	}
	count := make([]int, hi>>shift+2)
	for _, id := range ids {
		count[id>>shift+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	if cap(*scratch) < len(ids) {
		*scratch = make([]ID, len(ids))
	}
	out := (*scratch)[:len(ids)]
	for _, id := range ids {
		b := id >> shift
		out[count[b]] = id
		count[b]++
	}
	copy(ids, out)
}

// keep makes the compiler keep the loads that add up to x.
//
//go:noinline
func keep(x uint64) { _ = x }

// pass recomputes the candidates of the objects numbered in work, in that
// order, as the nearest common ancestor of their referrers in the current
// tree. It reports whether any changed, and adds to single the objects
// with one referrer (not counting unreachable ones and themselves), whose
// candidate is final. Work is taken in blocks, as in search. It gives up,
// returning ok false, when the steps up the tree exceed t.budget. The
// long walks of objects with many referrers are marked in marks (see
// ncaMarked).
func (t *DomTree) pass(work []uint32, single bitset.Set[ID], marks *foldMarks) (changed, ok bool) {
	steps, budget := t.steps, t.budget
	roff, rsrc := t.h.rev.off, t.h.rev.src
	num, idom, vertex := t.num, t.idom, t.vertex
	var lo, hi [searchBlock]uint32
	var sink uint64
	for i0 := 0; i0 < len(work); i0 += searchBlock {
		blk := work[i0:min(i0+searchBlock, len(work))]
		for i, k := range blk {
			v := vertex[k]
			lo[i], hi[i] = roff[v], roff[v+1]
		}
		// Objects referred to from everywhere (types, None) settle early
		// at the virtual root: touch a few referrers of each only.
		for i := range blk {
			for _, p := range rsrc[lo[i]:min(hi[i], lo[i]+8)] {
				sink += uint64(num[p])
			}
		}
		for i := range blk {
			for _, p := range rsrc[lo[i]:min(hi[i], lo[i]+8)] {
				sink += uint64(idom[num[p]])
			}
		}
		for i, k := range blk {
			nd, first, one := undefined, undefined, true
			var mark []uint32
			var stamp uint32
			wide, walked := hi[i]-lo[i] > wideFold, uint64(0)
			for _, p := range rsrc[lo[i]:hi[i]] {
				q := num[p]
				if q == 0 || q == k { // unreachable referrer, or a reference to itself
					continue
				}
				if nd == undefined {
					nd, first = q, q
					continue
				}
				one = one && q == first
				var c uint32
				var n uint64
				if mark != nil {
					c, n = ncaMarked(idom, mark, stamp, nd, q)
				} else {
					c, n = nca(idom, nd, q)
					if walked += n; wide && walked > longWalk {
						stamp = marks.next(len(vertex))
						mark = marks.mark
					}
				}
				if steps += n; steps > budget {
					t.steps = steps
					return false, false
				}
				if nd = c; nd == 0 {
					break
				}
			}
			if one {
				single.Set(ID(k))
			}
			if nd != idom[k] {
				idom[k] = nd
				changed = true
			}
		}
	}
	keep(sink)
	t.steps = steps
	return changed, true
}

// settle runs the passes that follow the search, the first over work, until
// the tree no longer changes, at most limit passes; it reports whether the
// tree settled, which it has not when the passes ran out or their steps
// up the tree exceeded t.budget. Only objects in multi, with more than one
// reference to them, can change.
func (t *DomTree) settle(work []uint32, multi bitset.Set[ID], limit int) bool {
	if len(work) > 0 {
		t.h.BuildReverse()
	}
	single := bitset.New[ID](len(t.vertex))
	var marks foldMarks
	for pass := 0; len(work) > 0; pass++ {
		if pass > limit {
			return false
		}
		t.passes = pass + 1
		changed, ok := t.pass(work, single, &marks)
		if !ok {
			return false
		}
		if !changed {
			return true
		}
		// Something moved: every object may now have another nearest
		// common ancestor. Revisit all but those the virtual root holds
		// directly and those with a single referrer.
		work = work[:0]
		for k := 1; k < len(t.idom); k++ {
			if t.idom[k] != 0 && multi.Has(t.vertex[k]) && !single.Has(ID(k)) {
				work = append(work, uint32(k))
			}
		}
	}
	return true
}

// lengauerTarjan recomputes the immediate dominators with the algorithm of
// Lengauer and Tarjan over a depth-first numbering, and stores them in the
// breadth-first numbering of t. It is the version with path compression
// and simple linking: O(edges · log objects) whatever the graph's shape.
// (Semi-NCA, which finds each immediate dominator by walking up the tree
// from the object's parent, takes quadratic time on a linked list whose
// values a list near the root also holds, when the search goes down the
// list first.) The search, the evaluations and their path compression all
// run on explicit stacks.
func (t *DomTree) lengauerTarjan() {
	h := t.h
	pre := make([]uint32, h.Len()) // object id -> preorder number; 0 = not visited
	vertex := make([]ID, 1, len(t.vertex))
	vertex[0] = NoID
	parent := make([]uint32, 1, len(t.vertex))
	type frame struct {
		p      uint32 // preorder number
		e, end uint32 // next edge, end of edges
	}
	var stack []frame
	visit := func(id ID, from uint32) {
		p := uint32(len(vertex))
		pre[id] = p
		vertex = append(vertex, id)
		parent = append(parent, from)
		stack = append(stack, frame{p, h.off[id], h.off[id+1]})
	}
	isRoot := bitset.New[ID](h.Len())
	for _, r := range t.roots {
		isRoot.Set(r)
		if pre[r] != 0 {
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
			if pre[to] == 0 {
				visit(to, f.p)
			}
		}
	}
	stack = nil
	m := uint32(len(vertex))
	steps := uint64(m)

	// The forest of vertices linked so far: those numbered from linked up,
	// since vertices are linked in decreasing preorder, each to its
	// parent. anc is a vertex's ancestor in the forest, which path
	// compression moves up; label, the vertex of smallest semidominator on
	// the path from the vertex up to anc, anc excluded.
	type info struct{ anc, label, semi uint32 }
	in := make([]info, m)
	for p := range m {
		in[p] = info{anc: parent[p], label: p, semi: p}
	}
	var path []uint32
	// eval is the vertex of smallest semidominator on the path from v up
	// to the root of its tree in the forest, the root excluded; v itself
	// when v is a root (not linked yet).
	eval := func(v, linked uint32) uint32 {
		if in[v].anc < linked {
			return in[v].label
		}
		path = path[:0]
		for in[v].anc >= linked {
			path = append(path, v)
			v = in[v].anc
		}
		steps += uint64(len(path))
		// v is the last vertex before the root: its label is final. Going
		// back down, point each vertex at the root and fold in the labels
		// above it.
		root, label := in[v].anc, in[v].label
		for i := len(path) - 1; i >= 0; i-- {
			w := path[i]
			in[w].anc = root
			if wl := in[w].label; in[label].semi < in[wl].semi {
				in[w].label = label
			} else {
				label = wl
			}
		}
		return in[path[0]].label
	}
	// bucket[s] lists the vertices whose semidominator is s, through next;
	// 0 ends a list (vertex 0, the virtual root, is in none).
	bucket := make([]uint32, m)
	next := make([]uint32, m)
	// The immediate dominators overwrite the parents: idom[v] is written at
	// step w <= v, and parent[v] is read at step v only.
	idom := parent
	for w := m - 1; w >= 1; w-- {
		p := parent[w]
		s := p
		if isRoot.Has(vertex[w]) {
			s = 0 // the virtual root refers to it
		} else {
			for _, q := range h.Referrers(vertex[w]) {
				if v := pre[q]; v != 0 {
					steps++
					if su := in[eval(v, w+1)].semi; su < s {
						s = su
					}
				}
			}
		}
		in[w].semi = s
		if s == 0 {
			idom[w] = 0 // the virtual root is its only dominator
		} else {
			next[w], bucket[s] = bucket[s], w
		}
		// Link w to its parent, then settle the vertices whose
		// semidominator is the parent: their immediate dominator is the
		// parent, or the same as that of the vertex of smallest
		// semidominator between them and w.
		for v := bucket[p]; v != 0; v = next[v] {
			steps++
			if u := eval(v, w); in[u].semi < in[v].semi {
				idom[v] = u
			} else {
				idom[v] = p
			}
		}
		bucket[p] = 0
	}
	for w := uint32(1); w < m; w++ {
		if idom[w] != in[w].semi {
			idom[w] = idom[idom[w]]
		}
	}
	// Back to breadth-first numbers.
	for w := uint32(1); w < m; w++ {
		d := uint32(0)
		if idom[w] != 0 {
			d = t.num[vertex[idom[w]]]
		}
		t.idom[t.num[vertex[w]]] = d
	}
	t.steps += steps
}

// sumRetained adds up retained sizes, every object before its dominator.
// Gathering the sizes in search order is a run of independent random loads,
// split between the processors.
func (t *DomTree) sumRetained() {
	m := len(t.vertex)
	retained := make([]uint64, m)
	size, vertex := t.h.size, t.vertex
	workers := par.Workers(m, 4)
	bounds := make([]int, workers+1)
	for w := range bounds {
		bounds[w] = 1 + (m-1)*w/workers
	}
	par.Ranges(bounds, func(_, lo, hi int) {
		for k := lo; k < hi; k++ {
			retained[k] = size[vertex[k]]
		}
	})
	for k := m - 1; k >= 1; k-- {
		retained[t.idom[k]] += retained[k]
	}
	t.retained = retained
}

// Reachable reports whether id is reachable from a root.
func (t *DomTree) Reachable(id ID) bool { return t.num[id] != 0 }

// IDom is id's immediate dominator; NoID when id is held directly by the
// virtual root (it is a root, or reachable from several roots) or is
// unreachable.
func (t *DomTree) IDom(id ID) ID {
	k := t.num[id]
	if k == 0 {
		return NoID
	}
	return t.vertex[t.idom[k]]
}

// Retained is the retained size of id: its own size and the sizes of all
// objects it dominates. It is 0 for unreachable objects.
func (t *DomTree) Retained(id ID) uint64 {
	k := t.num[id]
	if k == 0 {
		return 0
	}
	return t.retained[k]
}

// ReachableSize is the total size of every object reachable from a root.
func (t *DomTree) ReachableSize() uint64 { return t.retained[0] }

// NumReachable is the number of objects reachable from a root.
func (t *DomTree) NumReachable() int { return len(t.vertex) - 1 }

// Roots are the root objects the tree was built from.
func (t *DomTree) Roots() []ID { return t.roots }

// Order is every reachable object, each after its immediate dominator: the
// breadth-first order from the roots. The slice is shared: do not modify
// it.
func (t *DomTree) Order() []ID { return t.vertex[1:len(t.vertex):len(t.vertex)] }

// Tree yields every reachable object with its immediate dominator (NoID
// for objects the virtual root holds directly), each object after its
// dominator, in the order of Order.
func (t *DomTree) Tree() iter.Seq2[ID, ID] {
	return func(yield func(ID, ID) bool) {
		for k := 1; k < len(t.vertex); k++ {
			d := NoID
			if i := t.idom[k]; i != 0 {
				d = t.vertex[i]
			}
			if !yield(t.vertex[k], d) {
				return
			}
		}
	}
}

// Unreachable returns the objects no root reaches, in id order.
func (t *DomTree) Unreachable() []ID {
	var out []ID
	for id, k := range t.num {
		if k == 0 {
			out = append(out, ID(id))
		}
	}
	return out
}

// Top returns the k objects with the largest retained size, largest first;
// ties go to the lower id. A negative k returns every reachable object.
func (t *DomTree) Top(k int) []ID {
	less := func(a, b ID) int { // a before b
		if c := cmp.Compare(t.Retained(b), t.Retained(a)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	}
	if k < 0 || k >= t.NumReachable() {
		ids := slices.Clone(t.Order())
		slices.SortFunc(ids, less)
		return ids
	}
	// Keep the best k in a heap whose top is the worst of them.
	top := &idHeap{less: less}
	for _, id := range t.Order() {
		if top.Len() < k {
			heap.Push(top, id)
		} else if k > 0 && less(id, top.ids[0]) < 0 {
			top.ids[0] = id
			heap.Fix(top, 0)
		}
	}
	slices.SortFunc(top.ids, less)
	return top.ids
}

// idHeap is a heap of ids whose top is the last in less's order.
type idHeap struct {
	ids  []ID
	less func(a, b ID) int
}

func (q *idHeap) Len() int           { return len(q.ids) }
func (q *idHeap) Less(i, j int) bool { return q.less(q.ids[i], q.ids[j]) > 0 }
func (q *idHeap) Swap(i, j int)      { q.ids[i], q.ids[j] = q.ids[j], q.ids[i] }
func (q *idHeap) Push(x any)         { q.ids = append(q.ids, x.(ID)) }
func (q *idHeap) Pop() any {
	x := q.ids[len(q.ids)-1]
	q.ids = q.ids[:len(q.ids)-1]
	return x
}
