package objgraph

import (
	"slices"

	"github.com/objgraph-go/objgraph/heap"
)

// Weak references keep nothing alive, so every analysis of this package
// goes through strong references only: chains, dominators, retained sizes,
// suspects, growth and garbage. A snapshot lists its weak references apart
// from its edges ([heap.Heap.WeakEdges]); the options named Weak follow
// them too, each from a weak reference object to its referent.

// weakNext returns a function giving the neighbours of an object over
// strong references (next) and weak ones (weak), in that order. The slice
// it returns is reused by the next call.
func weakNext(next, weak func(heap.ID) []heap.ID) func(heap.ID) []heap.ID {
	var buf []heap.ID
	return func(id heap.ID) []heap.ID {
		s, w := next(id), weak(id)
		if len(w) == 0 {
			return s
		}
		buf = append(append(buf[:0], s...), w...)
		return buf
	}
}

// WeakHops reports, for each reference of a chain (chain[i] to
// chain[i+1]), whether it is a weak one: no strong reference leads from
// chain[i] to chain[i+1], and a weak one does. It returns nil for a chain
// of fewer than two objects.
func WeakHops(h *heap.Heap, chain []heap.ID) []bool {
	if len(chain) < 2 {
		return nil
	}
	out := make([]bool, len(chain)-1)
	for i := range out {
		from, to := chain[i], chain[i+1]
		if !slices.Contains(h.Referents(from), to) && slices.Contains(h.WeakReferents(from), to) {
			out[i] = true
		}
	}
	return out
}
