package report

import (
	"fmt"
	"io"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// Retainer is an object that retains much memory.
type Retainer struct {
	Object
	Retained uint64        `json:"retained"` // its retained size: what freeing it would free
	Share    float64       `json:"share"`    // of what the roots reach
	Root     objgraph.Root `json:"root"`     // where its shortest chain starts
	Chain    []Hop         `json:"chain"`    // that chain, from the root's object to it
}

// Dominators is the objects that retain the most memory, from the
// dominator tree.
type Dominators struct {
	Snapshot         Snapshot   `json:"snapshot"`
	Reachable        int        `json:"reachable"`         // objects a root reaches
	ReachableBytes   uint64     `json:"reachable_bytes"`   // their size
	Unreachable      int        `json:"unreachable"`       // objects no root reaches
	UnreachableBytes uint64     `json:"unreachable_bytes"` // their size
	Top              []Retainer `json:"top"`               // most retained first
	UnreachableTypes []TypeRow  `json:"unreachable_types"` // the unreachable objects by type, most bytes first
}

// NewDominators makes the result for the n objects of h that retain most,
// with qualified type names when asked.
func NewDominators(snap Snapshot, h *heap.Heap, dt *heap.DomTree, r *objgraph.Retainers, n int, qualified bool) *Dominators {
	unreachable := dt.Unreachable()
	rep := &Dominators{Snapshot: snap, Reachable: dt.NumReachable(), ReachableBytes: dt.ReachableSize(), Unreachable: len(unreachable), Top: []Retainer{}}
	for _, id := range unreachable {
		rep.UnreachableBytes += h.Size(id)
	}
	garbage := objgraph.MostCommonTypes(h, 0, objgraph.StatsOptions{Objects: unreachable, Qualified: qualified})
	objgraph.SortByBytes(garbage)
	rep.UnreachableTypes = TypeRows(garbage)
	for _, id := range dt.Top(n) {
		ret := Retainer{Object: Describe(h, id), Retained: dt.Retained(id), Root: r.Root(id)}
		if rep.ReachableBytes > 0 {
			ret.Share = float64(ret.Retained) / float64(rep.ReachableBytes)
		}
		if qualified {
			ret.Type = ret.QualType
		}
		ret.Chain = Hops(h, r.Chain(id), qualified)
		rep.Top = append(rep.Top, ret)
	}
	return rep
}

func (r *Dominators) WriteText(w io.Writer) error {
	r.Snapshot.WriteText(w)
	fmt.Fprintf(w, "reachable from a root: %s objects, %s; unreachable: %s objects, %s\n\n",
		units.Commas(uint64(r.Reachable)), units.Bytes(r.ReachableBytes), units.Commas(uint64(r.Unreachable)), units.Bytes(r.UnreachableBytes))
	if len(r.Top) == 0 {
		fmt.Fprintln(w, "no object is reachable from a root")
	} else {
		t := NewTable(Right("#"), Right("retained"), Right("share"), Right("own"), Left("type"), Left("label"))
		t.Indent = "  "
		for i, row := range r.Top {
			t.Row(fmt.Sprint(i+1), units.Bytes(row.Retained), fmt.Sprintf("%.1f%%", 100*row.Share), units.Bytes(row.Size), row.Type, row.Label)
		}
		if err := t.Write(w); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nheld by:")
		for i, row := range r.Top {
			fmt.Fprintf(w, "%d  %s\n", i+1, Chain{Root: row.Root, Hops: row.Chain}.Line())
		}
	}
	if r.Unreachable > 0 {
		fmt.Fprintf(w, "\nunreachable from every root (%s objects, %s), by bytes:\n", units.Commas(uint64(r.Unreachable)), units.Bytes(r.UnreachableBytes))
		t := TypeTable(limit(r.UnreachableTypes, 10))
		t.Indent = "  "
		if err := t.Write(w); err != nil {
			return err
		}
		if n := len(r.UnreachableTypes) - 10; n > 0 {
			fmt.Fprintf(w, "(%s more)\n", Plural(n, "type"))
		}
	}
	return nil
}
