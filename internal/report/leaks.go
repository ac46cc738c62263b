package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// LeakGroup is the leak candidates of one type held in one place.
type LeakGroup struct {
	Root     objgraph.Root        `json:"root"`         // where their chains start
	Shape    []objgraph.ShapeStep `json:"shape"`        // the chains' shape, root object first
	Count    int                  `json:"count"`        // objects
	Bytes    uint64               `json:"bytes"`        // their own sizes
	Retained uint64               `json:"retained"`     // what freeing them would free
	Buffers  uint64               `json:"buffer_bytes"` // the buffers they own outside themselves (numpy data, bytearray items, …)
	Example  string               `json:"example"`      // address of the object of Chain
	Chain    []Hop                `json:"chain"`        // a chain to it
}

// LeakType is the leak candidates of one type.
type LeakType struct {
	Type     string      `json:"type"`
	Count    int         `json:"count"`
	Bytes    uint64      `json:"bytes"`
	Retained uint64      `json:"retained"`
	Buffers  uint64      `json:"buffer_bytes"`          // the buffers they own outside themselves
	Counts   []int       `json:"counts"`                // the type's count in each snapshot
	Groups   []LeakGroup `json:"groups"`                // largest first
	Sites    []AllocSite `json:"alloc_sites,omitempty"` // where they were allocated, most first, when tracemalloc was tracing
}

// Leaks is what leaks between snapshots of one process.
type Leaks struct {
	Snapshots []Snapshot           `json:"snapshots"`        // in the order taken: the first, those in between, the last
	New       int                  `json:"new"`              // objects of the last snapshot the first one did not have: the candidates
	Suspects  []Suspect            `json:"suspects"`         // the containers that grew, most freed first
	Types     []LeakType           `json:"types"`            // candidates a root reaches, by type, most retained first
	Garbage   []LeakType           `json:"garbage"`          // candidates no root reaches, by type, most bytes first
	Growth    []objgraph.TypeCount `json:"growth"`           // every type whose count grew from the first snapshot to the last
	Memory    *Memory              `json:"memory,omitempty"` // the verdict on the process's growth, first snapshot to last

	limit, groups, suspects int // types, groups per type and suspects the text shows (0: all)
}

// A Suspect is a container that grew: it was in the first snapshot, and
// now holds objects that were not.
type Suspect struct {
	Path            string         `json:"path"`                  // the chain from a root to it, on one line
	Name            string         `json:"name,omitempty"`        // a Python expression for it, when the chain allows one
	Container       Object         `json:"container"`             // the container itself
	Entries         int            `json:"entries"`               // its entries now
	NewEntries      int            `json:"new_entries"`           // entries new since the first snapshot
	EntryCounts     []int          `json:"entry_counts"`          // of its present entries, how many each snapshot had
	Types           []EntryType    `json:"types"`                 // the types of the new entries, most first
	RetainedObjects int            `json:"retained_objects"`      // objects releasing the new entries frees
	RetainedBytes   uint64         `json:"retained_bytes"`        // and their bytes
	RetainedTypes   []EntryType    `json:"retained_types"`        // the objects it frees, by type, most first
	Example         SuspectExample `json:"example"`               // one new entry: the one that retains most
	Root            objgraph.Root  `json:"root"`                  // where Chain starts
	Chain           []Hop          `json:"chain"`                 // from a root to the container
	Sites           []AllocSite    `json:"alloc_sites,omitempty"` // where the new entries were allocated, most first, when tracemalloc was tracing
}

// EntryType is how many of a suspect's new entries have one type.
type EntryType struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// SuspectExample is one new entry of a suspect: the reference to it and
// the object.
type SuspectExample struct {
	Key string `json:"key"` // the name of the reference: a dict key's repr, "[i]", an attribute
	Object
}

// NewSuspects describes the suspects objgraph.FindSuspects found in cur.
func NewSuspects(cur *heap.Heap, found []objgraph.Suspect, qualified bool) []Suspect {
	out := []Suspect{}
	for _, s := range found {
		chain := NewChain(cur, s.Root, s.Chain, qualified)
		describe := func(id heap.ID) Object {
			o := Describe(cur, id)
			if qualified {
				o.Type = o.QualType
			}
			return o
		}
		rs := Suspect{Path: chain.Line(), Name: s.Name, Container: describe(s.Container),
			Entries: s.Entries, NewEntries: s.New, EntryCounts: s.Counts, Types: []EntryType{},
			RetainedObjects: s.Objects, RetainedBytes: s.Freed,
			Example: SuspectExample{Key: s.Key, Object: describe(s.Example)},
			Root:    s.Root, Chain: chain.Hops}
		for _, t := range s.Types {
			rs.Types = append(rs.Types, EntryType{t.Type, t.Delta})
		}
		rs.RetainedTypes = []EntryType{}
		for _, t := range s.FreedTypes {
			rs.RetainedTypes = append(rs.RetainedTypes, EntryType{t.Type, t.Delta})
		}
		rs.Sites = allocSites(s.Sites)
		out = append(out, rs)
	}
	return out
}

// NewLeaks makes the result of objgraph.FindLeaks over cur, the last of
// snaps, with the suspects NewSuspects described. The text shows the first
// n types, g groups of each and k suspects (0: all); JSON has them all.
func NewLeaks(snaps []Snapshot, cur *heap.Heap, rep *objgraph.LeakReport, suspects []Suspect, qualified bool, n, g, k int) *Leaks {
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
				if cur.NumBuffers() > 0 {
					for _, id := range g.Objects {
						if b, ok := cur.BufferOf(id); ok {
							lg.Buffers += b.Owned
						}
					}
				}
				lt.Buffers += lg.Buffers
				lt.Groups = append(lt.Groups, lg)
			}
			if cur.NumTracebacks() > 0 {
				var ids []heap.ID
				for _, g := range t.Groups {
					ids = append(ids, g.Objects...)
				}
				lt.Sites = allocSites(objgraph.TopAllocSites(cur, ids, 5))
			}
			out = append(out, lt)
		}
		return out
	}
	r := &Leaks{Snapshots: snaps, New: rep.New, Suspects: suspects, Types: conv(rep.Types), Garbage: conv(rep.Garbage),
		Growth: rep.Growth, limit: n, groups: g, suspects: k}
	if r.Suspects == nil {
		r.Suspects = []Suspect{}
	}
	slices.SortStableFunc(r.Garbage, func(a, b LeakType) int { return cmp.Compare(b.Bytes, a.Bytes) })
	if r.Growth == nil {
		r.Growth = []objgraph.TypeCount{}
	}
	return r
}

// AllocSite is a place leak candidates were allocated.
type AllocSite struct {
	Site     string `json:"site"`               // file:line, the innermost frame of their allocation tracebacks
	Function string `json:"function,omitempty"` // the function of that line, when the snapshot names it
	Count    int    `json:"count"`              // objects
	Bytes    uint64 `json:"bytes"`              // their own sizes
}

func allocSites(sites []objgraph.AllocSite) []AllocSite {
	var out []AllocSite
	for _, s := range sites {
		out = append(out, AllocSite{Site: s.Frame.File + ":" + strconv.Itoa(s.Frame.Line), Function: s.Frame.Function, Count: s.Count, Bytes: s.Bytes})
	}
	return out
}

// line is "file:line function: N objects, SIZE".
func (s AllocSite) line() string {
	at := Escape(s.Site)
	if s.Function != "" {
		at += " " + Escape(s.Function)
	}
	return fmt.Sprintf("%s: %s, %s", at, Plural(s.Count, "object"), units.Bytes(s.Bytes))
}

// ownedBuffers is ", owning N of buffers", or "" for none.
func ownedBuffers(n uint64) string {
	if n == 0 {
		return ""
	}
	return ", owning " + units.Bytes(n) + " of buffers"
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
	fmt.Fprintf(w, "%s has %s objects that %s did not.\n", files[len(files)-1], units.Commas(uint64(r.New)), files[0])
	if r.Memory != nil {
		if err := r.Memory.WriteText(w); err != nil {
			return err
		}
	}
	if len(r.Types) == 0 && len(r.Garbage) == 0 {
		fmt.Fprintln(w, "\nno leak candidates")
	}
	if err := r.writeSuspects(w); err != nil {
		return err
	}
	shown := limit(r.Types, r.limit)
	for i, t := range shown {
		fmt.Fprintf(w, "\n#%d %s: %s, %s%s, retaining %s; count %s\n", i+1, Escape(t.Type),
			Plural(t.Count, "object"), units.Bytes(t.Bytes), ownedBuffers(t.Buffers), units.Bytes(t.Retained), Movement(t.Counts))
		for _, s := range t.Sites {
			fmt.Fprintf(w, "  allocated at %s\n", s.line())
		}
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

// writeSuspects writes the suspects section: each container that grew,
// what it is, how it grew, what releasing its new entries frees, and an
// example entry.
func (r *Leaks) writeSuspects(w io.Writer) error {
	shown := limit(r.Suspects, r.suspects)
	if len(shown) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nsuspects: the containers that grew, most freed first\n")
	for i, s := range shown {
		name := Escape(s.title())
		if s.Name != "" {
			name += " (" + Escape(s.Container.Type) + ")"
		}
		fmt.Fprintf(w, "\n%d. %s grew by %s: %s; releasing the new ones frees %s (%s)\n", i+1, name,
			Plural(s.NewEntries, "entry"), Movement(s.EntryCounts), units.Bytes(s.RetainedBytes), Plural(s.RetainedObjects, "object"))
		fmt.Fprintf(w, "   held as %s\n", s.Path)
		types := make([]string, 0, len(s.Types))
		for j, t := range s.Types {
			if j == 3 {
				types = append(types, fmt.Sprintf("%s more", Plural(len(s.Types)-3, "type")))
				break
			}
			types = append(types, units.Commas(uint64(t.Count))+" "+Escape(t.Type))
		}
		fmt.Fprintf(w, "   new entries: %s\n", strings.Join(types, ", "))
		for _, a := range s.Sites {
			fmt.Fprintf(w, "   allocated at %s\n", a.line())
		}
		ex := s.Example
		label := ""
		if ex.Label != "" {
			label = " " + Escape(ex.Label)
		}
		fmt.Fprintf(w, "   for example: %s → %s %s%s\n", Escape(ex.Key), Escape(ex.Type), ex.Address, label)
	}
	if n := len(r.Suspects) - len(shown); n > 0 {
		more(w, "", n, "suspect", "--suspects")
	}
	return nil
}

// title names the suspect: its Python name, or its type and address.
func (s Suspect) title() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Container.Type + " at " + s.Container.Address
}

// HolderOf returns the index of the suspect whose release frees the most
// objects of the type, and how many; -1 and 0 when none frees any.
func HolderOf(suspects []Suspect, typ string) (index, count int) {
	index = -1
	for i, s := range suspects {
		for _, t := range s.RetainedTypes {
			if t.Type == typ && t.Count > count {
				index, count = i, t.Count
			}
		}
	}
	return index, count
}
