package report

// The counting results: top, count, bytype, leaking, growth and newids.

import (
	"fmt"
	"io"
	"strconv"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// TypeRow is the objects of one type.
type TypeRow struct {
	Type  string `json:"type"`  // type name
	Count int    `json:"count"` // objects
	Bytes uint64 `json:"bytes"` // their own sizes (with --buffers, and their buffers')

	BufferBytes uint64 `json:"buffer_bytes"` // the buffers they own outside themselves
}

// TypeRows converts type statistics; never nil.
func TypeRows(stats []objgraph.TypeStat) []TypeRow {
	out := make([]TypeRow, len(stats))
	for i, s := range stats {
		out[i] = TypeRow(s)
	}
	return out
}

// TypeTable is the table of rows: count, bytes, type.
func TypeTable(rows []TypeRow) *Table {
	t := NewTable(Right("count"), Right("bytes"), Left("type"))
	for _, r := range rows {
		t.Row(units.Commas(uint64(r.Count)), units.Commas(r.Bytes), r.Type)
	}
	return t
}

// ObjectTable is the table of objects: address, type, size, refcount,
// label.
func ObjectTable(objs []Object) *Table {
	t := NewTable(Left("address"), Left("type"), Left("size"), Left("refcount"), Left("label"))
	for _, o := range objs {
		rc := strconv.FormatUint(o.Refcount, 10)
		if o.Immortal {
			rc = "immortal"
		}
		t.Row(o.Address, o.Type, strconv.FormatUint(o.Size, 10), rc, o.Label)
	}
	return t
}

// limit returns the first n of s, all of s when n is 0.
func limit[T any](s []T, n int) []T {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}

// GarbageShare is how much of what a command counted is cyclic garbage:
// objects gc.collect() would free, there because the snapshot was taken
// without a collection.
type GarbageShare struct {
	Objects int    `json:"objects"` // objects counted that are garbage
	Bytes   uint64 `json:"bytes"`   // their sizes
}

// Of says what share of n objects counted is garbage.
func (g *GarbageShare) Of(n int) string {
	return fmt.Sprintf("%s of the %s counted (%s bytes) %s cyclic garbage, which gc.collect() would free; --no-garbage leaves it out",
		units.Commas(uint64(g.Objects)), Plural(n, "object"), units.Commas(g.Bytes), isAre(g.Objects))
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// Top is the most common types of a snapshot.
type Top struct {
	Snapshot Snapshot      `json:"snapshot"`
	Types    int           `json:"types"`             // types in the snapshot (among the objects counted)
	Top      []TypeRow     `json:"top"`               // the most common, as many as asked
	Garbage  *GarbageShare `json:"garbage,omitempty"` // of all the objects counted (not only those shown), the garbage; absent with --no-garbage
	Memory   *Memory       `json:"memory,omitempty"`  // the verdict on the process's memory

	all []int // the count of every type
}

// NewTop makes a Top from the type statistics of the snapshot, in the
// order shown, of which the first n are kept (0: all).
func NewTop(snap Snapshot, stats []objgraph.TypeStat, n int) *Top {
	r := &Top{Snapshot: snap, Types: len(stats), Top: TypeRows(limit(stats, n))}
	for _, s := range stats {
		r.all = append(r.all, s.Count)
	}
	return r
}

func (r *Top) WriteText(w io.Writer) error {
	r.Snapshot.WriteText(w)
	fmt.Fprintln(w)
	if err := TypeTable(r.Top).Write(w); err != nil {
		return err
	}
	more(w, "", r.Types-len(r.Top), "type", "--limit")
	if r.Garbage != nil && r.Garbage.Objects > 0 {
		n := 0
		for _, t := range r.all {
			n += t
		}
		fmt.Fprintf(w, "%s\n", r.Garbage.Of(n))
	}
	if r.Memory != nil {
		fmt.Fprintln(w)
		return r.Memory.WriteText(w)
	}
	return nil
}

// Count is the number of objects of one type, as objgraph.count.
type Count struct {
	Snapshot Snapshot      `json:"snapshot"`
	Type     string        `json:"type"`              // the name asked for
	Count    int           `json:"count"`             // objects of that type
	All      bool          `json:"all"`               // untracked objects counted too
	Garbage  *GarbageShare `json:"garbage,omitempty"` // of those, the garbage; absent with --no-garbage or no object
}

func (r *Count) WriteText(w io.Writer) error {
	_, err := fmt.Fprintln(w, r.Count)
	return err
}

// ByType is the objects of one type, as objgraph.by_type.
type ByType struct {
	Snapshot Snapshot      `json:"snapshot"`
	Type     string        `json:"type"`              // the name asked for
	Count    int           `json:"count"`             // objects of that type
	Objects  []Object      `json:"objects"`           // the first of them, as many as asked, in snapshot order
	Garbage  *GarbageShare `json:"garbage,omitempty"` // of all of them, the garbage; absent with --no-garbage or no object
}

// NewByType makes a ByType of the objects ids of h, of which the first n
// are listed (0: all).
func NewByType(snap Snapshot, h *heap.Heap, typ string, ids []heap.ID, n int) *ByType {
	return &ByType{Snapshot: snap, Type: typ, Count: len(ids), Objects: DescribeAll(h, limit(ids, n))}
}

func (r *ByType) WriteText(w io.Writer) error {
	if r.Count == 0 {
		return nil
	}
	if err := ObjectTable(r.Objects).Write(w); err != nil {
		return err
	}
	if n := r.Count - len(r.Objects); n > 0 {
		fmt.Fprintf(w, "(%s more; --limit 0 lists all)\n", units.Commas(uint64(n)))
	}
	if r.Garbage != nil && r.Garbage.Objects > 0 {
		fmt.Fprintf(w, "%s\n", r.Garbage.Of(r.Count))
	}
	return nil
}

// Leaking is the gc-tracked objects no gc-tracked object refers to, as
// objgraph.get_leaking_objects.
type Leaking struct {
	Snapshot Snapshot  `json:"snapshot"`
	Count    int       `json:"count"`             // such objects
	Types    []TypeRow `json:"types"`             // by type, most common first, as many as asked
	Objects  []Object  `json:"objects,omitempty"` // with --list, the objects, as many as asked

	types int // types in all
}

// NewLeaking makes a Leaking of the objects ids of h and their type
// statistics, keeping n of each (0: all); with list, the objects too.
func NewLeaking(snap Snapshot, h *heap.Heap, ids []heap.ID, stats []objgraph.TypeStat, n int, list bool) *Leaking {
	r := &Leaking{Snapshot: snap, Count: len(ids), Types: TypeRows(limit(stats, n)), types: len(stats)}
	if list {
		r.Objects = DescribeAll(h, limit(ids, n))
	}
	return r
}

func (r *Leaking) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s gc-tracked objects have no referrer among gc-tracked objects\n", units.Commas(uint64(r.Count)))
	if r.Count == 0 {
		return nil
	}
	fmt.Fprintln(w)
	if r.Objects != nil {
		if err := ObjectTable(r.Objects).Write(w); err != nil {
			return err
		}
		if n := r.Count - len(r.Objects); n > 0 {
			fmt.Fprintf(w, "(%s more; --limit 0 lists all)\n", units.Commas(uint64(n)))
		}
		return nil
	}
	if err := TypeTable(r.Types).Write(w); err != nil {
		return err
	}
	more(w, "", r.types-len(r.Types), "type", "--limit")
	return nil
}

// GrowthRow is one type that grew past its peak.
type GrowthRow struct {
	Type  string `json:"type"`  // type name
	Count int    `json:"count"` // its count in the snapshot
	Delta int    `json:"delta"` // how far above its earlier peak
	// HeldThrough names the larger leak that holds most of the type's new
	// objects, when one does: "the Response leak (__main__._cache)". Only
	// the last step says it.
	HeldThrough string `json:"held_through,omitempty"`
}

// GrowthStep is what grew in one snapshot.
type GrowthStep struct {
	Snapshot Snapshot    `json:"snapshot"`
	Growth   []GrowthRow `json:"growth"` // most growth first
}

// Growth is objgraph.show_growth called once per snapshot: Steps[i] is
// what grew in Snapshots[i+1].
type Growth struct {
	Snapshots []Snapshot   `json:"snapshots"` // every snapshot, the first (which sets the peaks) included
	Steps     []GrowthStep `json:"steps"`
	Memory    *Memory      `json:"memory,omitempty"` // the verdict on the process's growth, first snapshot to last
}

// Add adds the step of a snapshot after the first.
func (r *Growth) Add(snap Snapshot, rows []objgraph.GrowthStat) {
	s := GrowthStep{Snapshot: snap, Growth: make([]GrowthRow, len(rows))}
	for i, g := range rows {
		s.Growth[i] = GrowthRow{Type: g.Type, Count: g.Count, Delta: g.Delta}
	}
	r.Steps = append(r.Steps, s)
}

func (r *Growth) WriteText(w io.Writer) error {
	for i, s := range r.Steps {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", Escape(s.Snapshot.File))
		if len(s.Growth) == 0 {
			fmt.Fprintln(w, "(no type grew past its peak)")
		}
		// objgraph.show_growth's layout.
		t := NewTable(Left(""), Column{Right: true, Min: 9, Gap: NoGap}, Column{Right: true, Min: 9, Gap: 1}, Column{Gap: 2})
		for _, g := range s.Growth {
			held := ""
			if g.HeldThrough != "" {
				held = "held through " + g.HeldThrough
			}
			t.Row(g.Type, strconv.Itoa(g.Count), fmt.Sprintf("%+d", g.Delta), held)
		}
		if err := t.Write(w); err != nil {
			return err
		}
	}
	if r.Memory != nil {
		fmt.Fprintln(w)
		return r.Memory.WriteText(w)
	}
	return nil
}

// NewIDsRow is one type's line of objgraph.get_new_ids.
type NewIDsRow struct {
	Type    string `json:"type"`    // type name
	Old     int    `json:"old"`     // objects in the old snapshot
	Current int    `json:"current"` // objects in the new one
	New     int    `json:"new"`     // of which new: at an address that held no object of the type
	Delta   int    `json:"delta"`   // Current - Old
}

// NewIDs is what changed between two snapshots of one process, per type.
type NewIDs struct {
	Snapshots []Snapshot          `json:"snapshots"`     // the old one and the new one
	Rows      []NewIDsRow         `json:"rows"`          // the types, sorted as asked, as many as asked
	Addrs     map[string][]string `json:"new_addresses"` // the addresses of the new objects of the types in Rows

	types int // types in all
}

// NewNewIDs makes a NewIDs of the first n rows (0: all).
func NewNewIDs(old, cur Snapshot, n *objgraph.NewIDs, limitRows int) *NewIDs {
	r := &NewIDs{Snapshots: []Snapshot{old, cur}, Rows: []NewIDsRow{}, Addrs: map[string][]string{}, types: len(n.Rows)}
	for _, row := range limit(n.Rows, limitRows) {
		r.Rows = append(r.Rows, NewIDsRow(row))
		for _, a := range n.Addrs[row.Type] {
			r.Addrs[row.Type] = append(r.Addrs[row.Type], Addr(a))
		}
	}
	return r
}

func (r *NewIDs) WriteText(w io.Writer) error {
	if len(r.Rows) == 0 {
		return nil
	}
	// objgraph.get_new_ids' layout.
	num := Column{Right: true, Min: 13, Gap: NoGap}
	t := NewTable(Left(""), num, num, num, num)
	t.Rule('=')
	t.Row("Type", "Old_ids", "Current_ids", "New_ids", "Count_Deltas")
	t.Rule('=')
	for _, row := range r.Rows {
		t.Row(row.Type, strconv.Itoa(row.Old), strconv.Itoa(row.Current), fmt.Sprintf("%+d", row.New), fmt.Sprintf("%+d", row.Delta))
	}
	t.Rule('=')
	if err := t.Write(w); err != nil {
		return err
	}
	more(w, "", r.types-len(r.Rows), "type", "--limit")
	return nil
}

// NewAddrs is the addresses of the new objects of one type.
type NewAddrs struct {
	Snapshots []Snapshot `json:"snapshots"` // the old one and the new one
	Type      string     `json:"type"`      // the type asked for
	Addresses []string   `json:"addresses"` // ascending
}

func (r *NewAddrs) WriteText(w io.Writer) error {
	for _, a := range r.Addresses {
		if _, err := fmt.Fprintln(w, a); err != nil {
			return err
		}
	}
	return nil
}

// ExplainGrowth marks the rows of the last step whose new objects a larger
// leak holds: for each row, the suspect whose release frees the most
// objects of the row's type, when those are at least half the row's growth
// and the suspect's own entries are of another type.
func (r *Growth) ExplainGrowth(suspects []Suspect) {
	if len(r.Steps) == 0 {
		return
	}
	rows := r.Steps[len(r.Steps)-1].Growth
	for i := range rows {
		best, most := HolderOf(suspects, rows[i].Type)
		if best < 0 || 2*most < rows[i].Delta {
			continue
		}
		s := suspects[best]
		if len(s.Types) == 0 || s.Types[0].Type == rows[i].Type {
			continue
		}
		name := s.title()
		rows[i].HeldThrough = fmt.Sprintf("the %s leak (%s)", s.Types[0].Type, name)
	}
}
