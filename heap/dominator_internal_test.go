package heap

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/objgraph-go/objgraph/internal/bitset"
)

// shapedHeap builds a heap of n objects whose edges follow shape, with
// refcounts that make some objects look held from outside the graph.
func shapedHeap(r *rand.Rand, shape string, n int) *Heap {
	b := NewBuilder()
	ty := b.AddType("x", "")
	for i := range n {
		rc := uint64(0)
		if r.IntN(8) == 0 {
			rc = uint64(1 + r.IntN(3))
		}
		b.AddObject(Object{Addr: uint64(i+1) * 16, Type: ty, Size: uint64(1 + r.IntN(100)), Refcount: rc})
	}
	edge := func(from, to int) { b.AddEdge(ID(from), ID(to), "") }
	roots := 1 + r.IntN(4)
	switch shape {
	case "uniform": // random edges anywhere
		for range 3 * n {
			edge(r.IntN(n), r.IntN(n))
		}
	case "tree": // ownership trees with back and cross edges
		for i := roots; i < n; i++ {
			edge(r.IntN(i), i)
			if r.IntN(8) == 0 {
				edge(i, r.IntN(i)) // back
			}
			if r.IntN(8) == 0 {
				edge(r.IntN(n), i) // cross, either way
			}
		}
	case "ladder": // two chains with rungs both ways: many passes for iterative algorithms
		for i := 2; i < n; i++ {
			edge(i-2, i)
			if r.IntN(3) == 0 {
				edge(i, i-1)
			}
			if r.IntN(5) == 0 {
				edge(i-1, i)
			}
		}
		edge(n-1, 0)
	case "cycles": // rings hanging off each other, entered at several points
		for i := 0; i < n; i++ {
			edge(i, (i+1)%n)
			if r.IntN(16) == 0 {
				edge(i, r.IntN(n))
			}
		}
	case "classlist": // a linked list whose nodes all refer to their class, held by the module
		roots = 1
		edge(0, 1) // the module's dict holds the class
		edge(0, 2) // and the list's head
		for i := 2; i < n; i++ {
			edge(i, 1)
			if i+1 < n {
				edge(i, i+1)
			}
		}
	case "deepclasses": // a deep tree with back and cross edges, whose nodes all refer to one of three classes
		for i := 1; i < min(n, 5); i++ {
			edge(0, i) // the classes 1, 2, 3 and the tree's top, 4
		}
		for i := 5; i < n; i++ {
			edge(max(4, i-1-r.IntN(4)), i)
			edge(i, 1+r.IntN(3))
			if r.IntN(16) == 0 {
				edge(i, 4+r.IntN(i-4)) // back
			}
			if r.IntN(16) == 0 {
				edge(4+r.IntN(n-4), i) // cross, either way
			}
		}
	case "heldlist": // a linked list of nodes 2, 4, …, whose values 3, 5, … a list near the root also holds
		roots = 1
		edge(0, 1) // the list
		edge(0, 2) // the head
		for i := 2; i < n; i += 2 {
			if i+1 < n {
				edge(i, i+1)
				edge(1, i+1)
			}
			if i+2 < n {
				edge(i, i+2)
			}
		}
	case "hub": // a few objects everything refers to, as types and None
		for i := roots; i < n; i++ {
			edge(r.IntN(i), i)
			edge(i, r.IntN(min(n, 8)))
		}
	}
	for i := range roots {
		target := ID(r.IntN(n))
		if shape == "classlist" || shape == "heldlist" || shape == "deepclasses" {
			target = 0
		}
		b.AddRoot(Root{Kind: RootModule, Name: fmt.Sprint(i), Target: target})
	}
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

// ltTree computes the tree with Lengauer–Tarjan alone.
func ltTree(h *Heap, noExternal bool) *DomTree {
	h.BuildReverse()
	t := &DomTree{h: h, roots: h.RootIDs(noExternal)}
	t.number()
	t.lengauerTarjan()
	t.sumRetained()
	return t
}

func sameTree(t *testing.T, what string, h *Heap, got, want *DomTree) {
	t.Helper()
	for id := range h.All() {
		if got.Reachable(id) != want.Reachable(id) || got.IDom(id) != want.IDom(id) || got.Retained(id) != want.Retained(id) {
			t.Fatalf("%s: object %d: reachable %v idom %d retained %d; want %v %d %d", what, id,
				got.Reachable(id), got.IDom(id), got.Retained(id), want.Reachable(id), want.IDom(id), want.Retained(id))
		}
	}
}

// TestIterativeAgainstLengauerTarjan checks the iterative algorithm against
// Lengauer–Tarjan on graphs large enough to need several passes.
func TestIterativeAgainstLengauerTarjan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	passes := map[string]int{}
	for _, shape := range []string{"uniform", "tree", "ladder", "cycles", "hub", "classlist", "deepclasses"} {
		for trial := range 20 {
			n := 50 + r.IntN(3000)
			h := shapedHeap(r, shape, n)
			for _, noExt := range []bool{false, true} {
				got := Dominators(h, DominatorOptions{NoExternal: noExt})
				want := ltTree(h, noExt)
				sameTree(t, fmt.Sprintf("%s trial %d (n=%d, noExternal %v)", shape, trial, n, noExt), h, got, want)
				passes[shape] = max(passes[shape], got.passes)
				if got.passes < 0 {
					t.Logf("%s: fallback", shape)
				}
			}
		}
	}
	t.Logf("most passes after the search: %v", passes)
	if passes["ladder"] < 2 {
		t.Errorf("the ladders never needed a second pass: they do not test the passes")
	}
}

// TestFallback checks the tree a graph gets when the iterative algorithm
// gives up: after too many passes, or when its steps up the tree exceed
// the budget, in the search or in a later pass. Each way of giving up must
// happen in some trial.
func TestFallback(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	seen := map[string]int{}
	for trial := range 60 {
		shape := []string{"ladder", "tree", "hub"}[trial%3]
		h := shapedHeap(r, shape, 200+r.IntN(500))
		want := ltTree(h, false)

		// Out of passes.
		dt := &DomTree{h: h, roots: h.RootIDs(false), budget: ^uint64(0)}
		late, multi, ok := dt.search()
		if !ok {
			t.Fatalf("trial %d: the search gave up with an unlimited budget", trial)
		}
		if !dt.settle(late, multi, 0) {
			seen["passes"]++
			dt.number()
			dt.lengauerTarjan()
			dt.sumRetained()
			sameTree(t, fmt.Sprintf("%s trial %d, out of passes", shape, trial), h, dt, want)
		}

		// Out of steps: every budget up to what the whole computation
		// takes gives up somewhere.
		full := &DomTree{h: h, roots: h.RootIDs(false), budget: ^uint64(0)}
		full.compute()
		for _, budget := range []uint64{0, full.steps / 3, full.steps * 2 / 3} {
			if full.steps == 0 || full.passes < 0 {
				break
			}
			dt := &DomTree{h: h, roots: h.RootIDs(false), budget: budget}
			_, _, ok := dt.search()
			where := "search"
			if ok {
				where = "pass"
			}
			dt = &DomTree{h: h, roots: h.RootIDs(false), budget: budget}
			dt.compute()
			if dt.passes != -1 {
				t.Fatalf("%s trial %d: budget %d of %d steps: no fallback", shape, trial, budget, full.steps)
			}
			seen[where]++
			sameTree(t, fmt.Sprintf("%s trial %d, budget %d of %d steps (gave up in the %s)", shape, trial, budget, full.steps, where), h, dt, want)
		}
	}
	t.Logf("gave up: %v", seen)
	for _, where := range []string{"passes", "search", "pass"} {
		if seen[where] == 0 {
			t.Errorf("no trial gave up in the %s", where)
		}
	}
}

// referenceIDom computes immediate dominators the simplest way: the
// dominators of an object are itself and the objects that dominate all of
// its referrers (the virtual root refers to every root), iterated from
// "everything" until nothing changes; the immediate dominator is the
// strict dominator with the most dominators of its own.
func referenceIDom(h *Heap, roots []ID) []ID {
	n := h.Len()
	isRoot := make([]bool, n)
	for _, r := range roots {
		isRoot[r] = true
	}
	reach := make([]bool, n)
	stack := slices.Clone(roots)
	for _, r := range roots {
		reach[r] = true
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range h.Referents(v) {
			if !reach[w] {
				reach[w] = true
				stack = append(stack, w)
			}
		}
	}
	dom := make([]bitset.Set[ID], n)
	for v := range dom {
		dom[v] = bitset.New[ID](n)
		if !reach[v] {
			continue
		}
		if isRoot[v] {
			dom[v].Set(ID(v))
			continue
		}
		for i := range dom[v] {
			dom[v][i] = ^uint64(0)
		}
	}
	for changed := true; changed; {
		changed = false
		for v := range n {
			if !reach[v] || isRoot[v] {
				continue
			}
			next := make(bitset.Set[ID], len(dom[v]))
			for i := range next {
				next[i] = ^uint64(0)
			}
			for _, p := range h.Referrers(ID(v)) {
				if reach[p] {
					for i := range next {
						next[i] &= dom[p][i]
					}
				}
			}
			next.Set(ID(v))
			if !slices.Equal(next, dom[v]) {
				dom[v], changed = next, true
			}
		}
	}
	count := func(b bitset.Set[ID]) (c int) {
		for i := range n {
			if b.Has(ID(i)) {
				c++
			}
		}
		return c
	}
	idom := make([]ID, n)
	for v := range n {
		idom[v] = NoID
		best := 0
		for d := range n {
			if d != v && reach[v] && dom[v].Has(ID(d)) {
				if c := count(dom[d]); c > best {
					idom[v], best = ID(d), c
				}
			}
		}
	}
	return idom
}

// TestLengauerTarjanAgainstReference checks Lengauer–Tarjan, the iterative
// algorithm, and the iterative algorithm made to give up at once, against
// the reference on random graphs of every shape.
func TestLengauerTarjanAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, shape := range []string{"uniform", "tree", "ladder", "cycles", "hub", "classlist", "deepclasses", "heldlist"} {
		for trial := range 40 {
			n := 3 + r.IntN(120)
			h := shapedHeap(r, shape, n)
			for _, noExt := range []bool{false, true} {
				roots := h.RootIDs(noExt)
				want := referenceIDom(h, roots)
				starved := &DomTree{h: h, roots: roots}
				for _, got := range []*DomTree{ltTree(h, noExt), Dominators(h, DominatorOptions{NoExternal: noExt}), starved.compute()} {
					for id := range h.All() {
						if got.IDom(id) != want[id] {
							t.Fatalf("%s trial %d (n=%d, noExternal %v, passes %d): IDom(%d) = %d, want %d",
								shape, trial, n, noExt, got.passes, id, got.IDom(id), want[id])
						}
					}
				}
			}
		}
	}
}

func TestRoughSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var scratch []ID
	for _, n := range []int{0, 1, 100, 5000, 100000} {
		ids := make([]ID, n)
		count := map[ID]int{}
		for i := range ids {
			ids[i] = ID(r.IntN(1 << 26))
			count[ids[i]]++
		}
		roughSort(ids, &scratch)
		for i, id := range ids {
			count[id]--
			if i > 0 && ids[i-1]>>20 > id>>20 {
				t.Fatalf("n=%d: %d before %d", n, ids[i-1], id)
			}
		}
		for id, c := range count {
			if c != 0 {
				t.Fatalf("n=%d: id %d count off by %d", n, id, c)
			}
		}
	}
}

// TestSearchHeldInParallel checks the parallel processing of objects the
// virtual root holds (searchHeld) against Semi-NCA, on a heap with enough
// roots to use it.
func TestSearchHeldInParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	r := rand.New(rand.NewPCG(11, 12))
	n := 300_000
	b := NewBuilder()
	ty := b.AddType("x", "")
	for i := range n {
		rc := uint64(0)
		if r.IntN(3) == 0 {
			rc = 9 // more than its referrers: held from outside
		}
		b.AddObject(Object{Addr: uint64(i+1) * 16, Type: ty, Size: uint64(1 + r.IntN(100)), Refcount: rc})
	}
	for i := range n {
		for range r.IntN(5) {
			to := i + 1 + r.IntN(64)
			if r.IntN(2) == 0 {
				to = r.IntN(n)
			}
			b.AddEdge(ID(i), ID(to%n), "")
		}
	}
	b.AddRoot(Root{Kind: RootModule, Name: "m", Target: 0})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got := Dominators(h, DominatorOptions{})
	if held := len(got.roots); held < parallelBlock {
		t.Fatalf("only %d roots: the test does not reach searchHeld", held)
	}
	sameTree(t, "parallel", h, got, ltTree(h, false))
}

// TestDominatorsHeldList checks that a graph on which the iterative
// algorithm's walks up the tree are quadratic, a linked list whose values a
// list near the root also holds, costs linear work all the same: the
// iterative algorithm gives up within its budget, and Lengauer–Tarjan takes
// a few steps per object and edge.
func TestDominatorsHeldList(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Unbounded, the walks take about (n/2)²/2 steps. (shapedHeap's
	// refcounts hold some objects from outside, which would cut the list
	// into short ones: only the root holds the graph here.)
	small := shapedHeap(r, "heldlist", 4000)
	unbounded := &DomTree{h: small, roots: small.RootIDs(true), budget: ^uint64(0)}
	if unbounded.compute(); unbounded.steps < 2000*2000/4 {
		t.Fatalf("the iterative algorithm took %d steps on 4000 objects: the shape does not test the budget", unbounded.steps)
	}
	const n = 200_000
	h := shapedHeap(r, "heldlist", n)
	dt := Dominators(h, DominatorOptions{NoExternal: true})
	if dt.passes != -1 {
		t.Errorf("no fallback")
	}
	size := uint64(h.Len() + h.NumEdges())
	if limit := ncaBudget*size + minBudget + 4*size; dt.steps > limit {
		t.Errorf("%d steps, more than %d", dt.steps, limit)
	}
	t.Logf("%d steps for %d objects and edges", dt.steps, size)
	// The list, the head and every value are held by the root alone (the
	// values by the list and their nodes); every other node by the node
	// before it.
	for id := range h.All() {
		want := ID(0)
		switch {
		case id == 0:
			want = NoID
		case id > 2 && id%2 == 0:
			want = id - 2
		}
		if got := dt.IDom(id); got != want {
			t.Fatalf("IDom(%d) = %d, want %d", id, got, want)
		}
	}
	if dt.Retained(0) != h.TotalSize() {
		t.Errorf("the root retains %d, want all %d", dt.Retained(0), h.TotalSize())
	}
}
