package objgraph

import (
	"slices"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// ChainOptions limit a chain search. The zero value searches 20 levels deep,
// as objgraph does.
type ChainOptions struct {
	MaxDepth    int       // longest chain searched, in references; 0 means 20
	ExtraIgnore []heap.ID // objects the chain must not pass through
	Weak        bool      // also follow weak references, from a weak reference object to its referent (see WeakHops)
}

// FindBackrefChain finds a shortest chain of references that leads to obj
// from an object that predicate accepts, as objgraph.find_backref_chain: a
// breadth-first search over referrers. The chain starts with the accepted
// object and ends with obj; when obj itself is accepted it is the whole
// chain. When no accepted object refers to obj within opts.MaxDepth
// references, it returns the one-element chain [obj].
//
// The search follows every strong reference in the snapshot, untracked
// referrers included, and weak ones too with opts.Weak; it builds the
// heap's reverse index on first use.
func FindBackrefChain(h *heap.Heap, obj heap.ID, predicate func(heap.ID) bool, opts ChainOptions) []heap.ID {
	next := h.Referrers
	if opts.Weak && h.NumWeakEdges() > 0 {
		next = weakNext(h.Referrers, h.WeakReferrers)
	}
	return findChain(h, obj, predicate, opts, next)
}

// FindRefChain finds a shortest chain of references that leads from obj to
// an object that predicate accepts, as objgraph.find_ref_chain: a
// breadth-first search over referents. The chain starts with obj and ends
// with the accepted object. When no accepted object is reachable within
// opts.MaxDepth references, it returns the one-element chain [obj].
func FindRefChain(h *heap.Heap, obj heap.ID, predicate func(heap.ID) bool, opts ChainOptions) []heap.ID {
	next := h.Referents
	if opts.Weak && h.NumWeakEdges() > 0 {
		next = weakNext(h.Referents, h.WeakReferents)
	}
	chain := findChain(h, obj, predicate, opts, next)
	slices.Reverse(chain)
	return chain
}

// findChain searches breadth first from obj along next and returns the
// chain from the first object predicate accepts back to obj. Like
// objgraph's _find_chain it tests objects as they leave the queue, so obj
// itself may be the answer. The queue records each object's parent by
// queue position, so a search touches memory only for what it visits, plus
// one bit per object.
func findChain(h *heap.Heap, obj heap.ID, predicate func(heap.ID) bool, opts ChainOptions, next func(heap.ID) []heap.ID) []heap.ID {
	maxDepth := opts.MaxDepth
	if maxDepth == 0 {
		maxDepth = 20
	}
	seen := bitset.New[heap.ID](h.Len())
	for _, id := range opts.ExtraIgnore {
		if int(id) < h.Len() {
			seen.Set(id)
		}
	}
	type entry struct {
		id     heap.ID
		parent int32 // queue index of the object it was reached from, -1 for obj
		depth  int32
	}
	queue := []entry{{obj, -1, 0}}
	seen.Set(obj)
	for i := 0; i < len(queue); i++ {
		e := queue[i]
		if predicate(e.id) {
			var chain []heap.ID
			for j := int32(i); j >= 0; j = queue[j].parent {
				chain = append(chain, queue[j].id)
			}
			return chain
		}
		if int(e.depth) >= maxDepth {
			continue
		}
		for _, n := range next(e.id) {
			if !seen.Has(n) {
				seen.Set(n)
				queue = append(queue, entry{n, int32(i), e.depth + 1})
			}
		}
	}
	return []heap.ID{obj}
}

// IsProperModule returns a predicate that accepts the modules held by
// sys.modules (the snapshot's module roots), as objgraph.is_proper_module:
// the objects objgraph treats as garbage collector roots.
func IsProperModule(h *heap.Heap) func(heap.ID) bool {
	mods := bitset.New[heap.ID](h.Len())
	for _, r := range h.Roots() {
		if r.Kind == heap.RootModule && h.Flags(r.Target).Kind() == heap.KindModule {
			mods.Set(r.Target)
		}
	}
	return mods.Has
}

// IsRoot returns a predicate that accepts every root of the snapshot: the
// modules of sys.modules, thread stacks and their frames' locals, and
// objects held from outside the graph.
func IsRoot(h *heap.Heap) func(heap.ID) bool {
	roots := bitset.New[heap.ID](h.Len())
	for _, r := range h.Roots() {
		roots.Set(r.Target)
	}
	return roots.Has
}

// EdgeNames returns the names of the references from one object to
// another, in snapshot order ("" for an unnamed one); nil when there is none.
func EdgeNames(h *heap.Heap, from, to heap.ID) []string {
	var names []string
	lo, hi := h.EdgeRange(from)
	for e := lo; e < hi; e++ {
		if h.EdgeTarget(e) == to {
			names = append(names, h.EdgeName(e))
		}
	}
	return names
}
