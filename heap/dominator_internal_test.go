package heap

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
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
	case "hub": // a few objects everything refers to, as types and None
		for i := roots; i < n; i++ {
			edge(r.IntN(i), i)
			edge(i, r.IntN(min(n, 8)))
		}
	}
	for i := range roots {
		b.AddRoot(Root{Kind: RootModule, Name: fmt.Sprint(i), Target: ID(r.IntN(n))})
	}
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

// semiNCATree computes the tree with Semi-NCA alone.
func semiNCATree(h *Heap, noExternal bool) *DomTree {
	h.BuildReverse()
	t := &DomTree{h: h, roots: h.RootIDs(noExternal)}
	t.number()
	t.semiNCA()
	t.sumRetained()
	return t
}

func sameTree(t *testing.T, what string, h *Heap, got, want *DomTree) {
	t.Helper()
	for id := range h.All() {
		if got.Reachable(id) != want.Reachable(id) || got.IDom(id) != want.IDom(id) || got.Retained(id) != want.Retained(id) {
			t.Fatalf("%s: object %d: reachable %v idom %d retained %d; Semi-NCA says %v %d %d", what, id,
				got.Reachable(id), got.IDom(id), got.Retained(id), want.Reachable(id), want.IDom(id), want.Retained(id))
		}
	}
}

// TestIterativeAgainstSemiNCA checks the iterative algorithm against
// Semi-NCA on graphs large enough to need several passes.
func TestIterativeAgainstSemiNCA(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	passes := map[string]int{}
	for _, shape := range []string{"uniform", "tree", "ladder", "cycles", "hub"} {
		for trial := range 20 {
			n := 50 + r.IntN(3000)
			h := shapedHeap(r, shape, n)
			for _, noExt := range []bool{false, true} {
				got := Dominators(h, DominatorOptions{NoExternal: noExt})
				want := semiNCATree(h, noExt)
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

// TestSemiNCAFallback checks the tree a graph gets when the passes give up.
func TestSemiNCAFallback(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 20 {
		h := shapedHeap(r, "ladder", 200+r.IntN(500))
		want := semiNCATree(h, false)
		dt := &DomTree{h: h, roots: h.RootIDs(false)}
		late, multi := dt.search()
		if dt.settle(late, multi, 0) {
			continue // settled in one pass
		}
		dt.semiNCA()
		dt.sumRetained()
		sameTree(t, fmt.Sprintf("trial %d", trial), h, dt, want)
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
	sameTree(t, "parallel", h, got, semiNCATree(h, false))
}
