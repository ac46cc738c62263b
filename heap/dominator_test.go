package heap_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// naiveIDom computes immediate dominators by definition: d dominates v when
// v is unreachable from the roots once d is removed.
func naiveIDom(h *heap.Heap, roots []heap.ID) (idom []heap.ID, reach []bool) {
	n := h.Len()
	reachWithout := func(skip heap.ID) []bool {
		seen := make([]bool, n)
		var stack []heap.ID
		for _, r := range roots {
			if r != skip && !seen[r] {
				seen[r] = true
				stack = append(stack, r)
			}
		}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, w := range h.Referents(v) {
				if w != skip && !seen[w] {
					seen[w] = true
					stack = append(stack, w)
				}
			}
		}
		return seen
	}
	reach = reachWithout(heap.NoID)
	doms := make([][]bool, n) // doms[v][d]: d dominates v (d != v)
	for v := range doms {
		doms[v] = make([]bool, n)
	}
	for d := range n {
		r := reachWithout(heap.ID(d))
		for v := range n {
			if v != d && reach[v] && !r[v] {
				doms[v][d] = true
			}
		}
	}
	idom = make([]heap.ID, n)
	for v := range n {
		idom[v] = heap.NoID
		if !reach[v] {
			continue
		}
		// the immediate dominator is the dominator dominated by all others
		for d := range n {
			if !doms[v][d] {
				continue
			}
			isIdom := true
			for d2 := range n {
				if d2 != d && doms[v][d2] && !doms[d][d2] {
					isIdom = false
				}
			}
			if isIdom {
				idom[v] = heap.ID(d)
			}
		}
	}
	return idom, reach
}

func randomHeap(r *rand.Rand, n, edges, roots int) *heap.Heap {
	b := heap.NewBuilder()
	ty := b.AddType("x", "")
	for i := range n {
		b.AddObject(heap.Object{Addr: uint64(i+1) * 16, Type: ty, Size: uint64(1 + r.IntN(100))})
	}
	for range edges {
		b.AddEdge(heap.ID(r.IntN(n)), heap.ID(r.IntN(n)), "")
	}
	for i := range roots {
		b.AddRoot(heap.Root{Kind: heap.RootModule, Name: fmt.Sprint(i), Target: heap.ID(r.IntN(n))})
	}
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

func TestDominatorsAgainstDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 300 {
		n := 2 + r.IntN(40)
		h := randomHeap(r, n, r.IntN(3*n), 1+r.IntN(3))
		opts := heap.DominatorOptions{NoExternal: true}
		dt := heap.Dominators(h, opts)
		want, reach := naiveIDom(h, dt.Roots())
		// retained = own size + retained of dominator-tree children
		sum := make([]uint64, n)
		for id := range h.All() {
			if reach[id] {
				for d := id; d != heap.NoID; d = want[d] {
					sum[d] += h.Size(id)
				}
			}
		}
		for _, dt := range []*heap.DomTree{dt, heap.LengauerTarjan(h, opts)} {
			for id := range h.All() {
				if dt.Reachable(id) != reach[id] {
					t.Fatalf("trial %d (fell back %v): Reachable(%d) = %v, want %v", trial, dt.FellBack(), id, dt.Reachable(id), reach[id])
				}
				if got := dt.IDom(id); got != want[id] {
					t.Fatalf("trial %d (n=%d, fell back %v): IDom(%d) = %d, want %d", trial, n, dt.FellBack(), id, got, want[id])
				}
				if got := dt.Retained(id); got != sum[id] {
					t.Fatalf("trial %d (fell back %v): Retained(%d) = %d, want %d", trial, dt.FellBack(), id, got, sum[id])
				}
			}
		}
	}
}

func TestDominatorsExternal(t *testing.T) {
	b := heap.NewBuilder()
	ty := b.AddType("x", "")
	m := b.AddObject(heap.Object{Addr: 1, Type: ty, Size: 10, Refcount: 1})
	a := b.AddObject(heap.Object{Addr: 2, Type: ty, Size: 20, Refcount: 1})
	held := b.AddObject(heap.Object{Addr: 3, Type: ty, Size: 30, Refcount: 2}) // one ref from a C extension
	lost := b.AddObject(heap.Object{Addr: 4, Type: ty, Size: 40, Refcount: 1}) // a cycle with lost2
	lost2 := b.AddObject(heap.Object{Addr: 5, Type: ty, Size: 50, Refcount: 1})
	b.AddEdge(m, a, "a")
	b.AddEdge(lost, held, "x")
	b.AddEdge(lost, lost2, "y")
	b.AddEdge(lost2, lost, "z")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: m})
	h, _ := b.Build()
	dt := heap.Dominators(h, heap.DominatorOptions{})
	if !dt.Reachable(held) || dt.Reachable(lost) || dt.Retained(m) != 30 || dt.ReachableSize() != 60 {
		t.Errorf("held reachable %v, lost reachable %v, retained(m) %d, reachable size %d",
			dt.Reachable(held), dt.Reachable(lost), dt.Retained(m), dt.ReachableSize())
	}
	if u := dt.Unreachable(); len(u) != 2 || u[0] != lost || u[1] != lost2 {
		t.Errorf("Unreachable = %v", u)
	}
	if top := dt.Top(1); top[0] != m {
		t.Errorf("Top(1) = %v", top)
	}
	dt = heap.Dominators(h, heap.DominatorOptions{NoExternal: true})
	if dt.Reachable(held) {
		t.Error("with NoExternal, an object held only from outside is reachable")
	}
}

func TestDominatorsDeepChain(t *testing.T) {
	const n = 300_000
	b := heap.NewBuilder()
	ty := b.AddType("node", "")
	for i := range n {
		b.AddObject(heap.Object{Addr: uint64(i+1) * 16, Type: ty, Size: 10})
		if i > 0 {
			b.AddEdge(heap.ID(i-1), heap.ID(i), "next")
		}
	}
	b.AddEdge(heap.ID(n-1), 0, "first") // a ring, entered at 0
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: 0})
	h, _ := b.Build()
	dt := heap.Dominators(h, heap.DominatorOptions{})
	if dt.Retained(0) != 10*n || dt.IDom(0) != heap.NoID || dt.IDom(n-1) != n-2 || dt.Retained(n-1) != 10 {
		t.Errorf("retained(0) %d, idom(0) %d, idom(last) %d, retained(last) %d", dt.Retained(0), dt.IDom(0), dt.IDom(n-1), dt.Retained(n-1))
	}
}

func TestDominatorsOrderAndTop(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	h := randomHeap(r, 2000, 5000, 3)
	dt := heap.Dominators(h, heap.DominatorOptions{})
	pos := map[heap.ID]int{}
	for i, id := range dt.Order() {
		pos[id] = i
		if d := dt.IDom(id); d != heap.NoID {
			if p, ok := pos[d]; !ok || p >= i {
				t.Fatalf("object %d comes before its dominator %d in Order", id, d)
			}
		}
	}
	if len(pos) != dt.NumReachable() || len(dt.Unreachable())+dt.NumReachable() != h.Len() {
		t.Errorf("Order has %d objects, %d reachable, %d unreachable of %d", len(pos), dt.NumReachable(), len(dt.Unreachable()), h.Len())
	}
	all := dt.Top(-1)
	for _, k := range []int{0, 1, 7, 100, dt.NumReachable(), dt.NumReachable() + 5} {
		top := dt.Top(k)
		if want := min(k, len(all)); len(top) != want {
			t.Fatalf("Top(%d) has %d objects, want %d", k, len(top), want)
		}
		for i, id := range top {
			if id != all[i] {
				t.Fatalf("Top(%d)[%d] = %d, want %d", k, i, id, all[i])
			}
		}
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if dt.Retained(a) < dt.Retained(b) || dt.Retained(a) == dt.Retained(b) && a > b {
			t.Fatalf("Top out of order at %d: %d (%d) before %d (%d)", i, a, dt.Retained(a), b, dt.Retained(b))
		}
	}
}
