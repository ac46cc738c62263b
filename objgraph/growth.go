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

// GrowthTracker remembers the peak object count of every type it has seen,
// as the peak_stats dictionary of objgraph.growth. Feed it snapshots of one
// process in order; the zero value has seen nothing.
type GrowthTracker struct {
	peak map[string]int
}

// GrowthStat is the growth of one type.
type GrowthStat struct {
	Type  string // type name
	Count int    // objects in the heap just seen
	Delta int    // increase over the previous peak
}

// Growth counts the objects in h per type, as Typestats does, and reports
// the types whose count exceeds their peak so far, by how much, largest
// increase first (equal ones in name order); it raises those peaks. At most
// limit types are reported; 0 means all. A type whose count falls is not
// reported, and only growth past the old peak counts when it rises again:
// objgraph.growth's semantics.
func (t *GrowthTracker) Growth(h *heap.Heap, limit int, opts StatsOptions) []GrowthStat {
	if t.peak == nil {
		t.peak = make(map[string]int)
	}
	var out []GrowthStat
	for _, s := range typeStats(h, opts) {
		if old := t.peak[s.Type]; s.Count > old {
			out = append(out, GrowthStat{Type: s.Type, Count: s.Count, Delta: s.Count - old})
			t.peak[s.Type] = s.Count
		}
	}
	slices.SortFunc(out, func(a, b GrowthStat) int {
		if c := cmp.Compare(b.Delta, a.Delta); c != 0 {
			return c
		}
		return cmp.Compare(a.Type, b.Type)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// ShowGrowth calls Growth and writes its result to w as objgraph.show_growth
// does: name, count and signed increase, one type a line. It writes nothing
// when nothing grew.
func (t *GrowthTracker) ShowGrowth(w io.Writer, h *heap.Heap, limit int, opts StatsOptions) error {
	return writeGrowth(w, t.Growth(h, limit, opts))
}

// writeGrowth writes growth rows in objgraph.show_growth's layout.
func writeGrowth(w io.Writer, rows []GrowthStat) error {
	width := 0
	for _, r := range rows {
		width = max(width, utf8.RuneCountInString(r.Type))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s%9d %+9d\n", width, r.Type, r.Count, r.Delta)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// NewIDsRow is one type's line of GetNewIDs.
type NewIDsRow struct {
	Type    string // type name
	Old     int    // objects in the old heap
	Current int    // objects in the new heap
	New     int    // objects in the new heap at an address that held no object of this type before
	Delta   int    // Current - Old
}

// NewIDs is what changed between two heaps of one process.
type NewIDs struct {
	Rows  []NewIDsRow         // every type present in either heap, sorted as asked
	Addrs map[string][]uint64 // addresses of the new objects per type, ascending; types without new objects are absent
}

// SortBy names the column that GetNewIDs sorts by.
type SortBy int

// Columns to sort by, largest first, as objgraph.get_new_ids' sortby.
const (
	SortByDeltas  SortBy = iota // Count_Deltas (the default)
	SortByOld                   // Old_ids
	SortByCurrent               // Current_ids
	SortByNew                   // New_ids
)

// GetNewIDs compares the objects opts selects in two heaps of one process,
// taken one after the other, as two calls of objgraph.get_new_ids do: an
// object of the new heap is new when no object of its type name sat at its
// address in the old heap, so an address that now holds another type counts
// as new. opts.Objects, when set, selects objects of cur.
func GetNewIDs(old, cur *heap.Heap, sortBy SortBy, opts StatsOptions) *NewIDs {
	oldOpts := opts
	oldOpts.Objects = nil
	oldOpts = oldOpts.forHeap(old)
	opts = opts.forHeap(cur)
	type counts struct{ old, cur, new int }
	byType := make(map[string]*counts)
	get := func(name string) *counts {
		c := byType[name]
		if c == nil {
			c = &counts{}
			byType[name] = c
		}
		return c
	}
	oldOpts.each(old, func(id heap.ID) { get(TypeName(old, id, opts.Qualified)).old++ })
	res := &NewIDs{Addrs: make(map[string][]uint64)}
	opts.each(cur, func(id heap.ID) {
		name := TypeName(cur, id, opts.Qualified)
		c := get(name)
		c.cur++
		addr := cur.Addr(id)
		if o, ok := old.Lookup(addr); ok && selected(old, o, &oldOpts) && TypeName(old, o, opts.Qualified) == name {
			return
		}
		c.new++
		res.Addrs[name] = append(res.Addrs[name], addr)
	})
	for name, c := range byType {
		res.Rows = append(res.Rows, NewIDsRow{Type: name, Old: c.old, Current: c.cur, New: c.new, Delta: c.cur - c.old})
	}
	for _, a := range res.Addrs {
		slices.Sort(a)
	}
	key := func(r NewIDsRow) int {
		switch sortBy {
		case SortByOld:
			return r.Old
		case SortByCurrent:
			return r.Current
		case SortByNew:
			return r.New
		}
		return r.Delta
	}
	// objgraph sorts on (column, name) in reverse: ties by name, descending.
	slices.SortFunc(res.Rows, func(a, b NewIDsRow) int {
		if c := cmp.Compare(key(b), key(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.Type, a.Type)
	})
	return res
}

// selected reports whether opts (without Objects) selects id.
func selected(h *heap.Heap, id heap.ID, opts *StatsOptions) bool {
	return (opts.All || h.Flags(id).Listed()) && (opts.Filter == nil || opts.Filter(id))
}

// Show writes the first limit rows (all when limit is 0) as the table
// objgraph.get_new_ids prints. It writes nothing when there are no rows.
func (n *NewIDs) Show(w io.Writer, limit int) error {
	rows := n.Rows
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	if len(rows) == 0 {
		return nil
	}
	width := 0
	for _, r := range rows {
		width = max(width, utf8.RuneCountInString(r.Type))
	}
	rule := strings.Repeat("=", width+13*4) + "\n"
	var b strings.Builder
	b.WriteString(rule)
	fmt.Fprintf(&b, "%-*s%13s%13s%13s%13s\n", width, "Type", "Old_ids", "Current_ids", "New_ids", "Count_Deltas")
	b.WriteString(rule)
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s%13d%13d%+13d%+13d\n", width, r.Type, r.Old, r.Current, r.New, r.Delta)
	}
	b.WriteString(rule)
	_, err := io.WriteString(w, b.String())
	return err
}
