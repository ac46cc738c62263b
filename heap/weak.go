package heap

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"slices"
	"sync"
)

// The WEAKREFS record (kind 68, skipped by readers that do not know it):
// the weak references of the snapshot, each from a weak reference object
// (weakref.ref, a subclass of it such as KeyedRef or WeakMethod, or a
// proxy) to the object it refers to while that object lives. A weak
// reference keeps nothing alive, so these are not edges: Referents,
// Referrers and every analysis over them leave them out.
const (
	recWeakrefs = 68

	colWeakFrom = 1 // the weak reference object's address; required
	colWeakTo   = 2 // its referent's address; required
)

// weakEdges holds the weak references sorted by (from, to), and the
// reverse order built once on first use.
type weakEdges struct {
	from, to []ID

	once   sync.Once
	byTo   []ID // weak reference objects, sorted by their referent (to), then by id
	byToTo []ID // the referent of each entry of byTo
}

// NumWeakEdges is the number of weak references.
func (h *Heap) NumWeakEdges() int { return len(h.weak.from) }

// WeakEdges yields every weak reference as (weak reference object,
// referent), in id order of the weak reference objects.
func (h *Heap) WeakEdges() iter.Seq2[ID, ID] {
	return func(yield func(ID, ID) bool) {
		for i, f := range h.weak.from {
			if !yield(f, h.weak.to[i]) {
				return
			}
		}
	}
}

// WeakReferents are the objects id refers to weakly: the referent of a
// weak reference object, nil for any other object or a dead reference. The
// slice is shared: do not modify it.
func (h *Heap) WeakReferents(id ID) []ID {
	f := h.weak.from
	lo, _ := slices.BinarySearch(f, id)
	hi := lo
	for hi < len(f) && f[hi] == id {
		hi++
	}
	if lo == hi {
		return nil
	}
	return h.weak.to[lo:hi:hi]
}

// WeakReferrers are the weak reference objects that refer to id, in id
// order. The slice is shared: do not modify it. The first call builds the
// index for the whole heap.
func (h *Heap) WeakReferrers(id ID) []ID {
	w := &h.weak
	w.once.Do(func() {
		order := make([]int, len(w.from))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			return cmp.Or(cmp.Compare(w.to[a], w.to[b]), cmp.Compare(w.from[a], w.from[b]))
		})
		w.byTo = make([]ID, len(order))
		w.byToTo = make([]ID, len(order))
		for k, i := range order {
			w.byTo[k], w.byToTo[k] = w.from[i], w.to[i]
		}
	})
	lo, _ := slices.BinarySearch(w.byToTo, id)
	hi := lo
	for hi < len(w.byToTo) && w.byToTo[hi] == id {
		hi++
	}
	if lo == hi {
		return nil
	}
	return w.byTo[lo:hi:hi]
}

// AddWeakEdge records that from (a weak reference object) refers weakly
// to to. Weak references are kept apart from the edges AddEdge adds.
func (b *Builder) AddWeakEdge(from, to ID) {
	if b.err != nil {
		return
	}
	if n := len(b.h.addr); int(from) >= n || int(to) >= n {
		b.err = fmt.Errorf("weak reference %d -> %d: object id out of range (%d objects)", from, to, n)
		return
	}
	b.h.weak.from = append(b.h.weak.from, from)
	b.h.weak.to = append(b.h.weak.to, to)
}

// sortWeak puts the weak references in (from, to) order.
func (w *weakEdges) sort() {
	if slices.IsSorted(w.from) {
		return
	}
	order := make([]int, len(w.from))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(w.from[a], w.from[b]), cmp.Compare(w.to[a], w.to[b]))
	})
	from, to := make([]ID, len(order)), make([]ID, len(order))
	for k, i := range order {
		from[k], to[k] = w.from[i], w.to[i]
	}
	w.from, w.to = from, to
}

// readWeakrefs decodes WEAKREFS records. A row whose weak reference object
// matches no object is dropped and counted as dangling; one whose referent
// matches none is dropped only, since a producer that walks strong
// references reaches no object held weakly alone that the collector does
// not track (a type object, an untracked instance). A weak reference
// object in two rows is an error.
func (r *reader) readWeakrefs() error {
	var d colDecoder
	h := r.h
	recOf := map[ID]int{}
	err := r.optionalRecords(map[uint32][]uint16{recWeakrefs: {colWeakFrom, colWeakTo}}, func(i int, rh recHeader, p []byte, cols []column) error {
		rows := int(rh.rows)
		from := make([]uint64, rows)
		to := make([]uint64, rows)
		err := firstErr(
			ints(&d, p, cols, colWeakFrom, from, math.MaxUint64),
			ints(&d, p, cols, colWeakTo, to, math.MaxUint64))
		if err != nil {
			return err
		}
		for k := range rows {
			f, ok := r.hash.find(from[k])
			if !ok {
				h.dangling++
				continue
			}
			t, ok := r.hash.find(to[k])
			if !ok {
				continue
			}
			if _, dup := recOf[f]; dup {
				return fmt.Errorf("row %d: weak reference %#x has a referent in another row already", k, from[k])
			}
			recOf[f] = i
			h.weak.from = append(h.weak.from, f)
			h.weak.to = append(h.weak.to, t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.weak.sort()
	return nil
}

// WeakRefs writes a WEAKREFS record: refs[i], a weak reference object,
// refers weakly to referents[i]. Both must be objects of the snapshot,
// given before or after; each weak reference object may appear once in a
// snapshot.
func (e *Encoder) WeakRefs(refs, referents []uint64) error {
	if len(refs) != len(referents) {
		return fmt.Errorf("writing weak references: %d references for %d referents", len(refs), len(referents))
	}
	if len(refs) == 0 {
		return nil
	}
	e.flushObjects() // an OBJECTS record is followed by its EDGES
	e.record(recWeakrefs, len(refs), []colData{
		{id: colWeakFrom, vals: refs},
		{id: colWeakTo, vals: referents},
	})
	if e.err != nil {
		return fmt.Errorf("writing snapshot: %w", e.err)
	}
	return nil
}

// writeWeakrefs writes h's weak references with e.
func writeWeakrefs(e *Encoder, h *Heap) error {
	if len(h.weak.from) == 0 {
		return nil
	}
	refs := make([]uint64, len(h.weak.from))
	to := make([]uint64, len(h.weak.from))
	for i, f := range h.weak.from {
		refs[i], to[i] = h.addr[f], h.addr[h.weak.to[i]]
	}
	return e.WeakRefs(refs, to)
}
