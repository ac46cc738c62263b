package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// LeakGroup is the leak candidates of one type held in one place.
type LeakGroup struct {
	Root     objgraph.Root        `json:"root"`     // where their chains start
	Shape    []objgraph.ShapeStep `json:"shape"`    // the chains' shape, root object first
	Count    int                  `json:"count"`    // objects
	Bytes    uint64               `json:"bytes"`    // their own sizes
	Retained uint64               `json:"retained"` // what freeing them would free
	Example  string               `json:"example"`  // address of the object of Chain
	Chain    []Hop                `json:"chain"`    // a chain to it
}

// LeakType is the leak candidates of one type.
type LeakType struct {
	Type     string      `json:"type"`
	Count    int         `json:"count"`
	Bytes    uint64      `json:"bytes"`
	Retained uint64      `json:"retained"`
	Counts   []int       `json:"counts"` // the type's count in each snapshot
	Groups   []LeakGroup `json:"groups"` // largest first
}

// Leaks is what leaks between snapshots of one process.
type Leaks struct {
	Snapshots []Snapshot           `json:"snapshots"` // in the order given: old, new, newer…
	New       int                  `json:"new"`       // objects of the new snapshot the old one did not have
	Surviving int                  `json:"surviving"` // of those, the ones still there in every newer snapshot
	Types     []LeakType           `json:"types"`     // surviving objects a root reaches, by type, most retained first
	Garbage   []LeakType           `json:"garbage"`   // surviving objects no root reaches, by type
	Growth    []objgraph.TypeCount `json:"growth"`    // every type whose count grew from the first snapshot to the last

	limit, groups int // types and groups per type the text shows (0: all)
}

// NewLeaks makes the result of objgraph.FindLeaks over cur, the second of
// snaps. The text shows the first n types and g groups of each (0: all);
// JSON has them all.
func NewLeaks(snaps []Snapshot, cur *heap.Heap, rep *objgraph.LeakReport, qualified bool, n, g int) *Leaks {
	conv := func(types []objgraph.LeakType) []LeakType {
		out := []LeakType{}
		for _, t := range types {
			lt := LeakType{Type: t.Type, Count: t.Count, Bytes: t.Bytes, Retained: t.Retained, Counts: t.Counts, Groups: []LeakGroup{}}
			for _, g := range t.Groups {
				lg := LeakGroup{Root: g.Root, Shape: g.Shape, Count: g.Count, Bytes: g.Bytes, Retained: g.Retained,
					Example: Addr(cur.Addr(g.Example)), Chain: Hops(cur, g.Chain, qualified)}
				if lg.Shape == nil {
					lg.Shape = []objgraph.ShapeStep{}
				}
				lt.Groups = append(lt.Groups, lg)
			}
			out = append(out, lt)
		}
		return out
	}
	r := &Leaks{Snapshots: snaps, New: rep.New, Surviving: rep.Surviving, Types: conv(rep.Types), Garbage: conv(rep.Garbage),
		Growth: rep.Growth, limit: n, groups: g}
	if r.Growth == nil {
		r.Growth = []objgraph.TypeCount{}
	}
	return r
}

// Movement spells counts as "100 → 300 → 600".
func Movement(counts []int) string {
	parts := make([]string, len(counts))
	for i, n := range counts {
		parts[i] = units.Commas(uint64(n))
	}
	return strings.Join(parts, " → ")
}

func (r *Leaks) WriteText(w io.Writer) error {
	files := make([]string, len(r.Snapshots))
	counts := make([]int, len(r.Snapshots))
	for i, s := range r.Snapshots {
		files[i], counts[i] = Escape(s.File), s.Objects
	}
	fmt.Fprintf(w, "snapshots: %s\n", strings.Join(files, " → "))
	fmt.Fprintf(w, "objects:   %s\n", Movement(counts))
	fmt.Fprintf(w, "%s has %s objects that %s did not", files[1], units.Commas(uint64(r.New)), files[0])
	if len(files) > 2 {
		fmt.Fprintf(w, "; %s of them are still there in %s", units.Commas(uint64(r.Surviving)), strings.Join(files[2:], " and "))
	}
	fmt.Fprintln(w, ".")
	if len(r.Types) == 0 && len(r.Garbage) == 0 {
		fmt.Fprintln(w, "\nno leak candidates")
	}
	shown := limit(r.Types, r.limit)
	for i, t := range shown {
		fmt.Fprintf(w, "\n#%d %s: %s, %s, retaining %s; count %s\n", i+1, Escape(t.Type),
			Plural(t.Count, "object"), units.Bytes(t.Bytes), units.Bytes(t.Retained), Movement(t.Counts))
		groups := limit(t.Groups, r.groups)
		for _, g := range groups {
			fmt.Fprintf(w, "  %s retaining %s, held as\n    %s\n", Plural(g.Count, "object"), units.Bytes(g.Retained), ChainLine(g.Root, g.Shape))
			if err := example(w, g.Chain); err != nil {
				return err
			}
		}
		more(w, "  ", len(t.Groups)-len(groups), "group", "--groups")
	}
	if n := len(r.Types) - len(shown); n > 0 {
		fmt.Fprintln(w)
		more(w, "", n, "type", "--limit")
	}
	if len(r.Garbage) > 0 {
		total := 0
		for _, t := range r.Garbage {
			total += t.Count
		}
		fmt.Fprintf(w, "\ngarbage: %s no root reaches, which gc.collect() would examine:\n", Plural(total, "object"))
		garbage := limit(r.Garbage, r.limit)
		for _, t := range garbage {
			fmt.Fprintf(w, "  %s: %s, %s; count %s\n", Escape(t.Type), Plural(t.Count, "object"), units.Bytes(t.Bytes), Movement(t.Counts))
			if err := example(w, t.Groups[0].Chain); err != nil {
				return err
			}
		}
		more(w, "  ", len(r.Garbage)-len(garbage), "type", "--limit")
	}
	return nil
}

// example writes a group's example chain, as the chain command does,
// indented.
func example(w io.Writer, hops []Hop) error {
	fmt.Fprintln(w, "    for example:")
	t := Chain{Hops: hops}.Table()
	t.Indent = "      "
	return t.Write(w)
}
