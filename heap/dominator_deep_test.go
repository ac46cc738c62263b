package heap_test

import (
	"fmt"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/synth"
)

// referent is the object id refers to through the reference named name.
func referent(t *testing.T, h *heap.Heap, id heap.ID, name string) heap.ID {
	t.Helper()
	for to, n := range h.Edges(id) {
		if n == name {
			return to
		}
	}
	t.Fatalf("object %d has no reference %q", id, name)
	return heap.NoID
}

// deepShapes are the shapes of TestDominatorsDeepShapes: each builds a heap
// of depth n and checks its dominator tree.
var deepShapes = []struct {
	name  string
	build func(n int) (*synth.Deep, error)
	check func(t *testing.T, d *synth.Deep, dt *heap.DomTree)
}{
	{"linked list", synth.LinkedList, func(t *testing.T, d *synth.Deep, dt *heap.DomTree) {
		h, n := d.Heap, len(d.Nodes)
		if got := dt.IDom(d.Class); got != d.Dict {
			t.Errorf("IDom(class) = %d, want the module's dict %d", got, d.Dict)
		}
		holder := d.Dict
		for i, node := range d.Nodes {
			dict := referent(t, h, node, "__dict__")
			val := referent(t, h, dict, "value")
			if dt.IDom(node) != holder || dt.IDom(dict) != node || dt.IDom(val) != dict {
				t.Fatalf("node %d: IDom %d, %d, %d; want %d, %d, %d", i, dt.IDom(node), dt.IDom(dict), dt.IDom(val), holder, node, dict)
			}
			per := h.Size(node) + h.Size(dict) + h.Size(val)
			if got, want := dt.Retained(node), uint64(n-i)*per; got != want {
				t.Fatalf("node %d: Retained %d, want %d", i, got, want)
			}
			holder = dict
		}
	}},
	{"deep tree", synth.DeepTree, func(t *testing.T, d *synth.Deep, dt *heap.DomTree) {
		h, n := d.Heap, len(d.Nodes)
		cdict := referent(t, h, d.Class, "__dict__")
		if leafName := referent(t, h, cdict, "kind"); dt.IDom(d.Class) != d.Dict || dt.IDom(leafName) != d.Dict {
			t.Errorf("IDom(class) = %d, IDom('leaf') = %d; want the module's dict %d", dt.IDom(d.Class), dt.IDom(leafName), d.Dict)
		}
		holder := d.Dict
		for i, node := range d.Nodes {
			name := referent(t, h, node, "name")
			children := referent(t, h, node, "children")
			leaf := h.Referents(children)[0]
			if dt.IDom(node) != holder || dt.IDom(name) != node || dt.IDom(children) != node || dt.IDom(leaf) != children {
				t.Fatalf("level %d: IDom %d, %d, %d, %d; want %d, %d, %d, %d", i,
					dt.IDom(node), dt.IDom(name), dt.IDom(children), dt.IDom(leaf), holder, node, node, children)
			}
			per := h.Size(node) + h.Size(name) + h.Size(children) + h.Size(leaf)
			if got, want := dt.Retained(node), uint64(n-i)*per; got != want {
				t.Fatalf("level %d: Retained %d, want %d", i, got, want)
			}
			holder = children
		}
	}},
}

// TestDominatorsDeepShapes checks the dominator tree of a linked list of
// 200,000 instances that all refer to their class, and of a tree 200,000
// levels deep, and that computing it takes work linear in the heap: at
// most two steps up the tree per object and edge, and about twice the steps
// for twice the depth. (Walking up the tree from every instance to the
// nearest common ancestor of the class's referrers, as the iterative
// algorithm did before its walks were marked, takes some 10^11 steps on
// the list at this size.)
func TestDominatorsDeepShapes(t *testing.T) {
	for _, shape := range deepShapes {
		t.Run(shape.name, func(t *testing.T) {
			var steps [2]uint64
			for i, n := range []int{100_000, 200_000} {
				d, err := shape.build(n)
				if err != nil {
					t.Fatal(err)
				}
				h := d.Heap
				dt := heap.Dominators(h, heap.DominatorOptions{})
				what := fmt.Sprintf("depth %d, %d objects and %d edges", n, h.Len(), h.NumEdges())
				if dt.NumReachable() != h.Len() {
					t.Fatalf("%s: %d reachable", what, dt.NumReachable())
				}
				shape.check(t, d, dt)
				steps[i] = dt.Steps()
				if limit := 2 * uint64(h.Len()+h.NumEdges()); steps[i] > limit {
					t.Errorf("%s: %d steps, more than %d", what, steps[i], limit)
				}
				t.Logf("%s: %d steps, fell back to Lengauer–Tarjan: %v", what, steps[i], dt.FellBack())
			}
			if steps[1] > steps[0]*21/10 {
				t.Errorf("twice the depth takes %d steps instead of %d", steps[1], steps[0])
			}
		})
	}
}
