package gcmod

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// TestUnreachableMatchesCollect builds random heaps in a Runtime, takes a
// snapshot, and checks that offline collection finds exactly what
// Collect then frees, for each generation.
func TestUnreachableMatchesCollect(t *testing.T) {
	for seed := range uint64(200) {
		for gen := range 3 {
			rng := rand.New(rand.NewPCG(seed, uint64(gen)))
			r, _ := NewRuntime(Options{})
			r.Disable()
			legacy := r.NewType(Type{Name: "Legacy", LegacyDel: func(*Runtime, Obj) {}})
			node := r.NewType(Type{Name: "Node"})
			var held []Obj
			var all []Obj
			n := 5 + rng.IntN(40)
			for i := range n {
				var o Obj
				switch rng.IntN(10) {
				case 0:
					o = r.New(TypeDict)
				case 1:
					o = r.New(TypeList)
				case 2:
					if i%7 == 0 {
						o = r.New(legacy)
					} else {
						o = r.New(TypeObject)
					}
				default:
					o = r.New(node)
				}
				all = append(all, o)
				held = append(held, o)
				for range rng.IntN(3) {
					if len(all) > 0 {
						to := all[rng.IntN(len(all))]
						r.AddRef(o, to, "")
						if rng.IntN(3) == 0 {
							r.AddRef(to, o, "back")
						}
					}
				}
				if rng.IntN(4) == 0 {
					r.Collect(rng.IntN(3))
				}
				if rng.IntN(13) == 0 {
					r.Freeze()
				}
			}
			for _, o := range held {
				if rng.IntN(3) != 0 {
					r.Decref(o)
				}
			}
			h, err := r.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Unreachable(h, UnreachableOptions{Generations: gen + 1})
			if err != nil {
				t.Fatal(err)
			}
			c, u, _ := r.Collect(gen)
			if rep.Collected != c || rep.Uncollectable != u {
				t.Fatalf("seed %d gen %d: offline %d+%d, collect %d+%d", seed, gen, rep.Collected, rep.Uncollectable, c, u)
			}
			if rep.RefcountErrors != 0 {
				t.Fatalf("seed %d: %d refcount errors", seed, rep.RefcountErrors)
			}
			// The groups partition the unreachable objects.
			var ids []heap.ID
			for _, g := range rep.Groups {
				ids = append(ids, g.Members...)
				ids = append(ids, g.Held...)
				for _, s := range g.Cycle {
					if !rep.IsUnreachable(s.Obj) || !rep.IsUnreachable(h.EdgeTarget(s.Edge)) {
						t.Fatalf("seed %d: cycle step %v leaves the unreachable set", seed, s)
					}
				}
				if len(g.Cycle) > 0 && h.EdgeTarget(g.Cycle[len(g.Cycle)-1].Edge) != g.Cycle[0].Obj {
					t.Fatalf("seed %d: cycle does not close", seed)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, rep.Objects) {
				t.Fatalf("seed %d: groups hold %v, unreachable are %v", seed, ids, rep.Objects)
			}
		}
	}
}

// TestUnreachableLarge checks the parallel analysis on a heap large enough
// to be split between workers against a plain sequential one.
func TestUnreachableLarge(t *testing.T) {
	const n = 150_000
	rng := rand.New(rand.NewPCG(7, 7))
	b := heap.NewBuilder()
	ty := b.AddType("Node", "app.Node")
	indeg := make([]uint64, n)
	held := make([]bool, n)
	type edge struct{ from, to heap.ID }
	var edges []edge
	add := func(from, to int) {
		edges = append(edges, edge{heap.ID(from), heap.ID(to)})
		indeg[to]++
	}
	// Rings of 1 to 10 objects, with chords, references to later rings,
	// and a third of the rings held from outside.
	for lo := 0; lo < n; {
		hi := min(n, lo+1+rng.IntN(10))
		for i := lo; i < hi; i++ {
			next := i + 1
			if next == hi {
				next = lo
			}
			add(i, next)
			if rng.IntN(4) == 0 {
				add(i, lo+rng.IntN(hi-lo))
			}
			if rng.IntN(8) == 0 && hi < n {
				add(i, hi+rng.IntN(min(n-hi, 50)))
			}
		}
		if rng.IntN(3) == 0 {
			held[lo+rng.IntN(hi-lo)] = true
		}
		lo = hi
	}
	for i := range n {
		rc := indeg[i]
		if held[i] {
			rc++
		}
		if rng.IntN(1000) == 0 {
			rc = 0 // a count the snapshot does not know
		}
		f := heap.FlagTracked.WithGeneration(rng.IntN(3))
		if rng.IntN(97) == 0 {
			f = 0 // untracked
		}
		b.AddObject(heap.Object{Addr: uint64(i+1) * 16, Type: ty, Size: 32, Refcount: rc, Flags: f})
	}
	for _, e := range edges {
		b.AddEdge(e.from, e.to, "x")
	}
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for gens := 1; gens <= 3; gens++ {
		rep, err := Unreachable(h, UnreachableOptions{Generations: gens})
		if err != nil {
			t.Fatal(err)
		}
		want := naiveUnreachable(h, gens)
		if !slices.Equal(rep.Objects, want) {
			t.Errorf("generations %d: %d unreachable, want %d", gens, len(rep.Objects), len(want))
		}
	}
}

// naiveUnreachable is the analysis written plainly.
func naiveUnreachable(h *heap.Heap, gens int) []heap.ID {
	n := h.Len()
	in := func(id heap.ID) bool {
		f := h.Flags(id)
		return f.Tracked() && !f.Permanent() && !f.Immortal() && f.Generation() < gens
	}
	refs := make([]int64, n)
	for id := range h.All() {
		if in(id) {
			refs[id] += int64(h.Refcount(id))
			for _, t := range h.Referents(id) {
				if in(t) {
					refs[t]--
				}
			}
		}
	}
	reached := make([]bool, n)
	var stack []heap.ID
	for id := range h.All() {
		if in(id) && (refs[id] > 0 || h.Refcount(id) == 0) && !reached[id] {
			reached[id] = true
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range h.Referents(o) {
			if in(t) && !reached[t] {
				reached[t] = true
				stack = append(stack, t)
			}
		}
	}
	var out []heap.ID
	for id := range h.All() {
		if in(id) && !reached[id] {
			out = append(out, id)
		}
	}
	return out
}

// TestShapes makes 30 cycles of one shape, with different keys, and 5 of
// another, and checks that Shapes finds the two shapes with their totals.
func TestShapes(t *testing.T) {
	r, _ := NewRuntime(Options{})
	r.Disable()
	node := r.NewType(Type{Name: "Node"})
	for i := range 30 {
		a, b, d := r.New(node), r.New(node), r.New(TypeDict)
		r.AddRef(a, d, "children")
		r.AddRef(d, b, "'k-"+string(rune('a'+i%26))+"'")
		r.AddRef(b, a, "parent")
		for _, o := range []Obj{a, b, d} {
			r.Decref(o)
		}
	}
	for range 5 {
		l := r.New(TypeList)
		r.AddRef(l, l, "[0]")
		r.Decref(l)
	}
	h, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Unreachable(h, UnreachableOptions{Generations: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 35 {
		t.Fatalf("%d groups, want 35", len(rep.Groups))
	}
	shapes := rep.Shapes(h)
	if len(shapes) != 2 {
		t.Fatalf("%d shapes, want 2: %+v", len(shapes), shapes)
	}
	s := shapes[0]
	if len(s.Groups) != 30 || s.Objects != 90 || len(s.Steps) != 3 {
		t.Errorf("first shape: %d groups, %d objects, %d steps; want 30, 90, 3", len(s.Groups), s.Objects, len(s.Steps))
	}
	var edges []string
	for _, st := range s.Steps {
		edges = append(edges, st.Edge)
	}
	slices.Sort(edges)
	if !slices.Equal(edges, []string{"[*]", "children", "parent"}) {
		t.Errorf("first shape's edges %v", edges)
	}
	if l := shapes[1]; len(l.Groups) != 5 || l.Objects != 5 || len(l.Steps) != 1 || l.Steps[0].Edge != "[*]" {
		t.Errorf("second shape %+v", l)
	}
}
