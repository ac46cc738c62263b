package objgraph

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/objgraph-go/objgraph/heap"
)

// StatsOptions select the objects that the counting functions (Count,
// Typestats, MostCommonTypes, Growth, GetNewIDs) look at and how they name
// types. The zero value looks at gc-tracked objects and names types by their
// short names, as objgraph does by default.
type StatsOptions struct {
	Qualified bool               // module-qualified names ("collections.OrderedDict"), objgraph's shortnames=False
	All       bool               // untracked objects (str, int, …) too; objgraph sees only tracked ones
	Objects   []heap.ID          // only these objects, tracked or not (objgraph's objects argument); nil means the whole heap
	Filter    func(heap.ID) bool // when set, only objects it accepts
	Buffers   bool               // Bytes includes the buffers objects own outside themselves, and owners are counted tracked or not
	NoGarbage bool               // leave out what gc.collect() would free (FindGarbage), as show_growth and get_new_ids do by collecting first
}

// each calls fn for every object opts select.
func (opts *StatsOptions) each(h *heap.Heap, fn func(heap.ID)) {
	if opts.NoGarbage {
		o := opts.forHeap(h)
		o.each(h, fn)
		return
	}
	if opts.Objects != nil {
		for _, id := range opts.Objects {
			if opts.Filter == nil || opts.Filter(id) {
				fn(id)
			}
		}
		return
	}
	for id := range h.All() {
		if !opts.All && !h.Flags(id).Listed() && !(opts.Buffers && ownsBuffer(h, id)) {
			continue
		}
		if opts.Filter != nil && !opts.Filter(id) {
			continue
		}
		fn(id)
	}
}

// TypeName is the name objgraph gives the type of object id: the short name
// ("OrderedDict"), or with qualified the module-qualified one
// ("collections.OrderedDict"; just the name for a type without a module).
func TypeName(h *heap.Heap, id heap.ID, qualified bool) string {
	return typeName(h, h.Type(id), qualified)
}

func typeName(h *heap.Heap, t heap.TypeID, qualified bool) string {
	if qualified {
		return h.TypeQualName(t)
	}
	return h.TypeShortName(t)
}

// typesMatching marks the types that typename names, as objgraph matches
// them: a name with a dot is compared with module-qualified names, any other
// with short names. It is the one rule for type names given by people, in
// every function that takes one.
func typesMatching(h *heap.Heap, typename string) []bool {
	qualified := strings.Contains(typename, ".")
	match := make([]bool, h.NumTypes())
	for t := range match {
		match[t] = typeName(h, heap.TypeID(t), qualified) == typename
	}
	return match
}

// HasType returns a predicate for the objects whose type typename names,
// matched as Count and ByType match it: a name with a dot
// ("mymodule.MyClass") against module-qualified names, any other against
// short names.
func HasType(h *heap.Heap, typename string) func(heap.ID) bool {
	match := typesMatching(h, typename)
	return func(id heap.ID) bool { return match[h.Type(id)] }
}

// KnownType reports whether any type of h, with objects or not, has the
// name typename, matched as HasType matches it.
func KnownType(h *heap.Heap, typename string) bool {
	return slices.Contains(typesMatching(h, typename), true)
}

// SimilarTypes returns the module-qualified names of the types of h a
// person may have meant by typename, when it names none: those whose short
// name is typename but for case, and those whose qualified name contains
// it, but for case; in type order, each once. It returns nil when there are
// more than limit of them (limit 0: no limit).
func SimilarTypes(h *heap.Heap, typename string, limit int) []string {
	lower := strings.ToLower(typename)
	seen := map[string]bool{}
	var out []string
	for t := range h.NumTypes() {
		q := h.TypeQualName(heap.TypeID(t))
		s := h.TypeShortName(heap.TypeID(t))
		if !seen[q] && (strings.EqualFold(s, typename) || strings.Contains(strings.ToLower(q), lower)) {
			seen[q] = true
			out = append(out, q)
		}
	}
	if limit > 0 && len(out) > limit {
		return nil
	}
	return out
}

// Count is the number of objects of the type typename among those opts
// select (gc-tracked objects by default), as objgraph.count. A typename with
// a dot ("mymodule.MyClass") is compared with module-qualified names, any
// other with short names; opts.Qualified plays no part.
func Count(h *heap.Heap, typename string, opts StatsOptions) int {
	match := typesMatching(h, typename)
	n := 0
	opts.each(h, func(id heap.ID) {
		if match[h.Type(id)] {
			n++
		}
	})
	return n
}

// TypeStat is the number and total size of one type's objects.
type TypeStat struct {
	Type  string // short or module-qualified type name
	Count int    // number of objects
	Bytes uint64 // sum of their own sizes (with StatsOptions.Buffers, and of the buffers they own)

	BufferBytes uint64 // sum of the buffers they own outside themselves (numpy data, bytearray items, …)
}

// typeStats counts per type name, in no particular order. Types that share a
// name (two modules' Foo under short names) are lumped together, as objgraph
// does.
func typeStats(h *heap.Heap, opts StatsOptions) []TypeStat {
	counts := make([]int, h.NumTypes())
	bytes := make([]uint64, h.NumTypes())
	var bufs []uint64
	if h.NumBuffers() > 0 {
		bufs = make([]uint64, h.NumTypes())
	}
	opts.each(h, func(id heap.ID) {
		t := h.Type(id)
		counts[t]++
		bytes[t] += h.Size(id)
		if bufs != nil {
			if b, ok := h.BufferOf(id); ok {
				bufs[t] += b.Owned
				if opts.Buffers {
					bytes[t] += b.Owned - b.InSize
				}
			}
		}
	})
	byName := make(map[string]int)
	var out []TypeStat
	for t, c := range counts {
		if c == 0 {
			continue
		}
		name := typeName(h, heap.TypeID(t), opts.Qualified)
		if i, ok := byName[name]; ok {
			out[i].Count += c
			out[i].Bytes += bytes[t]
			if bufs != nil {
				out[i].BufferBytes += bufs[t]
			}
			continue
		}
		byName[name] = len(out)
		out = append(out, TypeStat{Type: name, Count: c, Bytes: bytes[t]})
		if bufs != nil {
			out[len(out)-1].BufferBytes = bufs[t]
		}
	}
	return out
}

// Typestats maps type names to the number of objects of each type, as
// objgraph.typestats. Types with one name in two modules are lumped together
// unless opts.Qualified is set.
func Typestats(h *heap.Heap, opts StatsOptions) map[string]int {
	stats := typeStats(h, opts)
	m := make(map[string]int, len(stats))
	for _, s := range stats {
		m[s.Type] = s.Count
	}
	return m
}

// MostCommonTypes are the types with the most objects, most common first
// (types with equal counts in name order), at most limit of them; limit 0
// means all, as objgraph.most_common_types with limit=None.
func MostCommonTypes(h *heap.Heap, limit int, opts StatsOptions) []TypeStat {
	stats := typeStats(h, opts)
	slices.SortFunc(stats, func(a, b TypeStat) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Type, b.Type)
	})
	if limit > 0 && len(stats) > limit {
		stats = stats[:limit]
	}
	return stats
}

// ShowMostCommonTypes writes the table of MostCommonTypes to w, one type a
// line with the names padded to one width, as
// objgraph.show_most_common_types. It writes nothing when no object is
// selected.
func ShowMostCommonTypes(w io.Writer, h *heap.Heap, limit int, opts StatsOptions) error {
	stats := MostCommonTypes(h, limit, opts)
	width := 0
	for _, s := range stats {
		width = max(width, utf8.RuneCountInString(s.Type))
	}
	var b strings.Builder
	for _, s := range stats {
		fmt.Fprintf(&b, "%-*s %d\n", width, s.Type, s.Count)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SortByBytes orders stats by bytes, largest first, then by name.
func SortByBytes(stats []TypeStat) {
	slices.SortFunc(stats, func(a, b TypeStat) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(a.Type, b.Type)
	})
}
