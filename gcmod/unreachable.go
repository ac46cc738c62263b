package gcmod

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
	"github.com/objgraph-go/objgraph/internal/par"
)

// UnreachableOptions configure Unreachable. The zero value asks what a
// full collection (gc.collect()) would find, by the rules of the snapshot's
// CPython version.
type UnreachableOptions struct {
	Generations int    // collect the youngest 1, 2 or 3 generations, as gc.collect(Generations-1); 0 means 3
	Version     string // CPython version whose rules apply, e.g. "3.3"; "" means the snapshot's, or 3.11.7 when it names none
	SaveAll     bool   // as with gc.DEBUG_SAVEALL: what would be freed is saved in gc.garbage instead
}

// Reason says what a collection does with an unreachable object.
type Reason uint8

const (
	// Freed: the object is freed (with DEBUG_SAVEALL, saved in gc.garbage).
	Freed Reason = iota
	// LegacyFinalizer: the object has a legacy tp_del finalizer (before
	// 3.4, any __del__), which a collection cannot run; it goes to
	// gc.garbage and stays alive.
	LegacyFinalizer
	// HeldByLegacy: an object with a legacy finalizer reaches the object,
	// so it stays alive too (in gc.garbage with DEBUG_SAVEALL).
	HeldByLegacy
)

func (r Reason) String() string {
	switch r {
	case Freed:
		return "freed"
	case LegacyFinalizer:
		return "legacy finalizer"
	case HeldByLegacy:
		return "held by a legacy finalizer"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Report is what a collection would find in a snapshot.
type Report struct {
	Version     Version   // the rules applied
	Collector   Collector // the collector of that version
	Generations int       // generations collected, youngest first

	Candidates     int // objects examined: tracked, not frozen nor immortal, in the collected generations
	Unreachable    int // what gc.collect() would return: Collected + Uncollectable
	Collected      int // unreachable objects freed (or saved, with SaveAll)
	Uncollectable  int // unreachable objects a legacy finalizer keeps alive
	Finalizers     int // collected objects whose __del__ would run first, and could resurrect them
	RefcountErrors int // candidates whose refcount is 0 or below the number of edges to them from candidates

	Bytes              uint64 // size of the unreachable objects
	CollectedBytes     uint64
	UncollectableBytes uint64

	Objects []heap.ID // the unreachable objects, in id order
	Groups  []Group   // the unreachable objects by cycle, largest first
	Garbage []heap.ID // the objects gc.garbage would receive, in id order

	reasons []Reason // parallel to Objects
}

// Group is a strongly connected component of the unreachable objects
// (objects that all reach each other: a cycle, or several sharing members),
// with the unreachable objects outside any cycle that it reaches first. An
// unreachable object that is in no cycle and that no other unreachable
// object refers to (a count the snapshot got wrong, say) forms a group of
// its own with an empty Cycle.
type Group struct {
	Members []heap.ID // the component, in id order
	Held    []heap.ID // acyclic unreachable objects it reaches that no earlier group (by lowest member id) reaches, in id order
	Bytes   uint64    // size of Members and Held
	Cycle   []Step    // a shortest cycle from a representative member back to it: the first member whose type is not a builtin, else the first
	Reason  Reason    // Freed, or why the first uncollectable member is kept
}

// Step is one reference of a cycle: from object Obj along edge Edge (an
// edge index for heap.Heap.EdgeName and EdgeTarget).
type Step struct {
	Obj  heap.ID
	Edge int
}

// Reason is what the collection does with object id: Freed when id is not
// unreachable at all.
func (rep *Report) Reason(id heap.ID) Reason {
	i, ok := slices.BinarySearch(rep.Objects, id)
	if !ok {
		return Freed
	}
	return rep.reasons[i]
}

// IsUnreachable reports whether the collection finds id unreachable.
func (rep *Report) IsUnreachable(id heap.ID) bool {
	_, ok := slices.BinarySearch(rep.Objects, id)
	return ok
}

// Unreachable runs the cycle collector's analysis over a snapshot without
// changing it, and reports what gc.collect(generation) would find. It does
// what CPython does, with the snapshot's reference counts and edges:
//
//   - the candidates are the tracked objects of the collected generations;
//     frozen (gc.freeze) and immortal objects take no part;
//   - each candidate's references from outside the candidates are its
//     refcount minus the edges from candidates to it (subtract_refs). Edges
//     from untracked objects and from older generations are not subtracted:
//     like CPython, which never visits those objects, Unreachable counts
//     what they refer to as referenced from outside;
//   - candidates with references from outside are reachable, and so is
//     every candidate they reach through candidates (move_unreachable); the
//     others are unreachable. A candidate with a refcount of 0 (the snapshot
//     does not know it, or cannot see what holds the object) counts as
//     held from outside;
//   - an unreachable object with a legacy finalizer (tp_del; before 3.4, any
//     __del__) and every unreachable object it reaches are uncollectable;
//     the rest are collected.
//
// Limits: the finalizers (__del__) of collected objects run first and may
// resurrect objects, and weakref callbacks run and may free the weak
// references; neither can be known from a snapshot, so Unreachable counts
// as if nothing were resurrected and no weak reference freed. On the
// incremental collector (3.14.0 to 3.14.4) only full and young collections
// are exact: an increment depends on the collector's progress.
func Unreachable(h *heap.Heap, opts UnreachableOptions) (*Report, error) {
	gens := opts.Generations
	if gens == 0 {
		gens = 3
	}
	if gens < 1 || gens > 3 {
		return nil, fmt.Errorf("offline collection: %d generations; want 1 to 3", gens)
	}
	v := defaultVersion
	switch {
	case opts.Version != "":
		var err error
		if v, err = ParseVersion(opts.Version); err != nil {
			return nil, fmt.Errorf("offline collection: %w", err)
		}
	case h.Meta().Version != "":
		if sv, err := ParseVersion(h.Meta().Version); err == nil {
			v = sv
		}
	}
	rules := rulesFor(v)
	rep := &Report{Version: v, Collector: rules.collector, Generations: gens}
	n := h.Len()

	cand, refs, reached, errs := deduceUnreachable(h, gens)
	rep.RefcountErrors = errs
	for id := range n {
		if cand.Has(heap.ID(id)) {
			rep.Candidates++
		}
	}
	var stack []heap.ID
	for id := range n {
		if cand.Has(heap.ID(id)) && !reached.Has(heap.ID(id)) {
			rep.Objects = append(rep.Objects, heap.ID(id))
		}
	}
	rep.reasons = make([]Reason, len(rep.Objects))

	// From here on refs maps an object to its index in rep.Objects, -1
	// when it is not unreachable.
	pos := refs
	for i := range pos {
		pos[i] = -1
	}
	for i, id := range rep.Objects {
		pos[id] = int32(i)
	}

	// Legacy finalizers and what they reach.
	for i, id := range rep.Objects {
		f := h.Flags(id)
		if f&heap.FlagLegacyDel != 0 || (!rules.hasFinal && f.HasDel()) {
			rep.reasons[i] = LegacyFinalizer
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range h.Referents(o) {
			if j := pos[t]; j >= 0 && rep.reasons[j] == Freed {
				rep.reasons[j] = HeldByLegacy
				stack = append(stack, t)
			}
		}
	}
	for i, id := range rep.Objects {
		size := h.Size(id)
		rep.Bytes += size
		f := h.Flags(id)
		switch rep.reasons[i] {
		case Freed:
			rep.Collected++
			rep.CollectedBytes += size
			if rules.hasFinal && f.HasDel() && f&heap.FlagFinalized == 0 {
				rep.Finalizers++
			}
			if opts.SaveAll {
				rep.Garbage = append(rep.Garbage, id)
			}
		default:
			rep.Uncollectable++
			rep.UncollectableBytes += size
			if opts.SaveAll || rep.reasons[i] == LegacyFinalizer {
				rep.Garbage = append(rep.Garbage, id)
			}
		}
	}
	rep.Unreachable = len(rep.Objects)
	rep.Groups = groupCycles(h, rep, pos)
	return rep, nil
}

// deduceUnreachable is update_refs, subtract_refs and move_unreachable
// over a snapshot. It returns the candidates, their references from
// outside the candidates (refs, indexed by id), the candidates reachable
// from outside, and the number of candidates with fewer references than
// edges to them. The work is split over the CPUs: each takes a range of
// ids, and subtract_refs and the reachability marks write the shared
// arrays with atomic operations.
func deduceUnreachable(h *heap.Heap, gens int) (cand bitset.Set[heap.ID], refs []int32, reached bitset.Set[heap.ID], errs int) {
	n := h.Len()
	cand = bitset.New[heap.ID](n)
	refs = make([]int32, n)
	reached = bitset.New[heap.ID](n)
	// update_refs.
	par.For(n, 0, func(_, lo, hi int) {
		for id := lo; id < hi; id++ {
			f := h.Flags(heap.ID(id))
			if !f.Tracked() || f.Permanent() || f.Immortal() || f.Generation() >= gens {
				continue
			}
			cand.Set(heap.ID(id))
			refs[id] = int32(min(h.Refcount(heap.ID(id)), 1<<30))
		}
	})
	// subtract_refs: with one worker, plain decrements; with several, the
	// workers decrement the one array atomically, so that the temporary
	// memory does not grow with the number of CPUs.
	workers := par.Workers(n, 0)
	par.For(n, 0, func(w, lo, hi int) {
		for id := lo; id < hi; id++ {
			if !cand.Has(heap.ID(id)) {
				continue
			}
			for _, t := range h.Referents(heap.ID(id)) {
				if !cand.Has(t) {
					continue
				}
				if workers == 1 {
					refs[t]--
				} else {
					atomic.AddInt32(&refs[t], -1)
				}
			}
		}
	})
	// Roots are reached; the other candidates are marked in unheld, so
	// that the search below tests two bitsets that fit in the cache
	// instead of the counts.
	unheld := bitset.New[heap.ID](n)
	errCount := make([]int, workers)
	par.For(n, 0, func(w, lo, hi int) {
		for id := lo; id < hi; id++ {
			if !cand.Has(heap.ID(id)) {
				continue
			}
			rc := h.Refcount(heap.ID(id))
			switch {
			case rc == 0:
				// A live object with no references cannot exist: the
				// snapshot does not know the count, or something it does
				// not show holds the object. Either way it is held.
				errCount[w]++
				reached.Set(heap.ID(id))
			case refs[id] > 0:
				reached.Set(heap.ID(id))
			default:
				if refs[id] < 0 {
					errCount[w]++
				}
				unheld.Set(heap.ID(id))
			}
		}
	})
	for _, e := range errCount {
		errs += e
	}
	// move_unreachable: every candidate with references from outside is
	// reached already; what they reach through candidates without is
	// found level by level. Each level is sorted, so that its objects'
	// edges are read in address order rather than at random, and split
	// between the workers; an object joins the next level when its worker
	// is the one that marks it.
	var level []heap.ID
	parts := make([][]heap.ID, workers)
	par.For(n, 0, func(w, lo, hi int) {
		var next []heap.ID
		for id := lo; id < hi; id++ {
			if !cand.Has(heap.ID(id)) || unheld.Has(heap.ID(id)) {
				continue
			}
			for _, t := range h.Referents(heap.ID(id)) {
				if unheld.Has(t) && reached.TrySet(t) {
					next = append(next, t)
				}
			}
		}
		parts[w] = next
	})
	for {
		level = level[:0]
		for w, p := range parts {
			level = append(level, p...)
			parts[w] = p[:0]
		}
		if len(level) == 0 {
			break
		}
		slices.Sort(level)
		par.For(len(level), 0, func(w, lo, hi int) {
			next := parts[w]
			for _, o := range level[lo:hi] {
				for _, t := range h.Referents(o) {
					if unheld.Has(t) && reached.TrySet(t) {
						next = append(next, t)
					}
				}
			}
			parts[w] = next
		})
	}
	return cand, refs, reached, errs
}

// subgraph is the graph of the unreachable objects, by index in
// Report.Objects: the edges of node i are to[off[i]:off[i+1]], and edge[k]
// is the heap edge index of to[k].
type subgraph struct {
	off, to []int32
	edge    []uint32
}

func buildSubgraph(h *heap.Heap, objs []heap.ID, pos []int32) *subgraph {
	g := &subgraph{off: make([]int32, len(objs)+1)}
	for i, id := range objs {
		lo, hi := h.EdgeRange(id)
		for e := lo; e < hi; e++ {
			if j := pos[h.EdgeTarget(e)]; j >= 0 {
				g.to = append(g.to, j)
				g.edge = append(g.edge, uint32(e))
			}
		}
		g.off[i+1] = int32(len(g.to))
	}
	return g
}

func (g *subgraph) succ(i int32) []int32 { return g.to[g.off[i]:g.off[i+1]] }

// groupCycles groups the unreachable objects by strongly connected
// component.
func groupCycles(h *heap.Heap, rep *Report, pos []int32) []Group {
	objs := rep.Objects
	sub := buildSubgraph(h, objs, pos)
	comp, ncomp := sccs(sub)
	size := make([]int32, ncomp)
	for _, c := range comp {
		size[c]++
	}
	cyclic := make([]bool, ncomp)
	hasIn := make([]bool, len(objs)) // referred to by another unreachable object
	for i := range objs {
		for _, j := range sub.succ(int32(i)) {
			if comp[j] == comp[i] && (size[comp[i]] > 1 || j == int32(i)) {
				cyclic[comp[i]] = true
			}
			if j != int32(i) {
				hasIn[j] = true
			}
		}
	}
	// A group for each cyclic component and for each acyclic object
	// nothing unreachable refers to, in order of lowest member id.
	groupOf := make([]int32, ncomp)
	for i := range groupOf {
		groupOf[i] = -1
	}
	var groups []Group
	for i, id := range objs {
		c := comp[i]
		if !cyclic[c] && hasIn[i] {
			continue
		}
		if groupOf[c] < 0 {
			groupOf[c] = int32(len(groups))
			groups = append(groups, Group{})
		}
		g := &groups[groupOf[c]]
		g.Members = append(g.Members, id)
	}
	// Each acyclic object belongs to the first group that reaches it.
	owner := make([]int32, len(objs))
	for i := range owner {
		owner[i] = groupOf[comp[i]]
	}
	var stack []int32
	for gi := range groups {
		for _, id := range groups[gi].Members {
			stack = append(stack, pos[id])
		}
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, j := range sub.succ(i) {
				if owner[j] < 0 {
					owner[j] = int32(gi)
					groups[gi].Held = append(groups[gi].Held, objs[j])
					stack = append(stack, j)
				}
			}
		}
	}
	mark := make([]int32, len(objs)) // group index + 1 of the last cycle search that saw the object
	for gi := range groups {
		g := &groups[gi]
		slices.Sort(g.Held)
		g.Reason = Freed
		for _, list := range [][]heap.ID{g.Members, g.Held} {
			for _, id := range list {
				g.Bytes += h.Size(id)
				if r := rep.reasons[pos[id]]; r != Freed && (g.Reason == Freed || r < g.Reason) {
					g.Reason = r
				}
			}
		}
		if first := pos[g.Members[0]]; cyclic[comp[first]] {
			start := first
			for _, id := range g.Members {
				if !strings.HasPrefix(h.TypeQualName(h.Type(id)), "builtins.") {
					start = pos[id]
					break
				}
			}
			g.Cycle = shortestCycle(sub, start, comp, mark, int32(gi+1), objs)
		}
	}
	sort.SliceStable(groups, func(a, b int) bool {
		return cmp.Or(cmp.Compare(groups[b].Bytes, groups[a].Bytes),
			cmp.Compare(groups[a].Members[0], groups[b].Members[0])) < 0
	})
	return groups
}

// shortestCycle finds a shortest cycle from start back to start inside
// start's component, breadth first. mark[i] == stamp marks nodes seen.
func shortestCycle(sub *subgraph, start int32, comp, mark []int32, stamp int32, objs []heap.ID) []Step {
	type visit struct {
		node, parent int32 // parent is an index in queue, -1 for start
		edge         int32 // index in sub.to of the edge from the parent
	}
	queue := []visit{{node: start, parent: -1, edge: -1}}
	mark[start] = stamp
	for qi := 0; qi < len(queue); qi++ {
		v := queue[qi].node
		for k := sub.off[v]; k < sub.off[v+1]; k++ {
			w := sub.to[k]
			if w == start {
				steps := []Step{{Obj: objs[v], Edge: int(sub.edge[k])}}
				for q := qi; queue[q].parent >= 0; q = int(queue[q].parent) {
					p := queue[queue[q].parent].node
					steps = append(steps, Step{Obj: objs[p], Edge: int(sub.edge[queue[q].edge])})
				}
				slices.Reverse(steps)
				return steps
			}
			if mark[w] != stamp && comp[w] == comp[start] {
				mark[w] = stamp
				queue = append(queue, visit{node: w, parent: int32(qi), edge: k})
			}
		}
	}
	return nil
}
