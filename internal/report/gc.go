package report

// The gc result: the collector's state and what gc.collect() would find.

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// GCState is the collector's state the snapshot records, with the tracked
// objects counted by generation.
type GCState struct {
	Recorded    bool   `json:"recorded"` // the snapshot has the gc module's state
	Enabled     bool   `json:"enabled"`
	Thresholds  []int  `json:"thresholds"`
	Counts      []int  `json:"counts"`
	FreezeCount int    `json:"freeze_count"`
	Generations [3]int `json:"generations"` // tracked objects in each generation, frozen ones excepted
	Permanent   int    `json:"permanent"`   // frozen objects
	Untracked   int    `json:"untracked"`
}

// NewGCState reads the collector's state of h and counts its objects by
// generation.
func NewGCState(h *heap.Heap) GCState {
	var s GCState
	if g := h.Meta().GC; g != nil {
		s.Recorded, s.Enabled, s.FreezeCount = true, g.Enabled, g.FreezeCount
		s.Thresholds, s.Counts = g.Thresholds, g.Counts
	}
	g := gcmod.CountGenerations(h)
	s.Generations, s.Permanent, s.Untracked = g.Young, g.Permanent, g.Untracked
	return s
}

// CycleStep is one reference of a cycle.
type CycleStep struct {
	Address string `json:"address"` // the object's
	Type    string `json:"type"`    // its type
	Edge    string `json:"edge"`    // the reference from it to the next object
}

// GCGroup is one strongly connected component of the unreachable objects
// and what only it holds.
type GCGroup struct {
	Objects int         `json:"objects"` // members and held
	Bytes   uint64      `json:"bytes"`
	Reason  string      `json:"reason"`  // what the collection does with it
	Members []string    `json:"members"` // addresses of the component
	Held    []string    `json:"held"`    // addresses of the acyclic objects it holds
	Cycle   []CycleStep `json:"cycle"`   // a shortest cycle from a member back to it

	first   string // type and address of the object the text names
	reason  gcmod.Reason
	inCycle string // the types of the members beyond the cycle, "2 dict, 1 list"
	held    string // the types of Held
}

// Collection is what gc.collect(N) would find.
type Collection struct {
	Generation         int    `json:"generation"` // N
	Version            string `json:"version"`    // the CPython version whose rules apply
	Collector          string `json:"collector"`
	Candidates         int    `json:"candidates"`
	Unreachable        int    `json:"unreachable"`
	Collected          int    `json:"collected"`
	Uncollectable      int    `json:"uncollectable"`
	Bytes              uint64 `json:"bytes"`
	CollectedBytes     uint64 `json:"collected_bytes"`
	UncollectableBytes uint64 `json:"uncollectable_bytes"`
	Finalizers         int    `json:"finalizers"`
	Garbage            int    `json:"garbage"`
	RefcountErrors     int    `json:"refcount_errors"`
	Groups             int    `json:"groups"`
}

// GC is the collector's state and what a collection would find.
type GC struct {
	Snapshot   Snapshot   `json:"snapshot"`
	GC         GCState    `json:"gc"`
	Collection Collection `json:"collection"`
	Shapes     []GCShape  `json:"shapes"` // the groups by the shape of their cycles, most bytes first, as many as asked
	Groups     []GCGroup  `json:"groups"` // largest first, as many as asked

	shapes int // shapes in all
}

// GCShape is the groups whose cycles have one shape: the same types and
// references, container indexes and keys collapsed.
type GCShape struct {
	Cycles  int               `json:"cycles"`  // groups of the shape
	Objects int               `json:"objects"` // their objects, members and held
	Bytes   uint64            `json:"bytes"`
	Reasons []string          `json:"reasons"` // what the collection does with them
	Shape   []gcmod.ShapeStep `json:"shape"`   // the cycle's steps, module-qualified types; empty for groups without a cycle
	Example GCGroup           `json:"example"` // the first group of the shape

	reasons []gcmod.Reason
}

// NewGC makes the result of a collection of generations 0 to generation,
// with the first n groups (0: all).
func NewGC(snap Snapshot, h *heap.Heap, generation int, rep *gcmod.Report, n int) *GC {
	r := &GC{Snapshot: snap, GC: NewGCState(h), Groups: []GCGroup{},
		Collection: Collection{Generation: generation, Version: rep.Version.String(), Collector: rep.Collector.String(),
			Candidates: rep.Candidates, Unreachable: rep.Unreachable, Collected: rep.Collected, Uncollectable: rep.Uncollectable,
			Bytes: rep.Bytes, CollectedBytes: rep.CollectedBytes, UncollectableBytes: rep.UncollectableBytes,
			Finalizers: rep.Finalizers, Garbage: len(rep.Garbage), RefcountErrors: rep.RefcountErrors, Groups: len(rep.Groups)}}
	addrs := func(ids []heap.ID) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = Addr(h.Addr(id))
		}
		return out
	}
	group := func(g gcmod.Group) GCGroup {
		first := g.Members[0]
		if len(g.Cycle) > 0 {
			first = g.Cycle[0].Obj
		}
		gg := GCGroup{Objects: len(g.Members) + len(g.Held), Bytes: g.Bytes, Reason: g.Reason.String(),
			Members: addrs(g.Members), Held: addrs(g.Held), Cycle: []CycleStep{}, reason: g.Reason,
			first: h.TypeName(first) + " at " + Addr(h.Addr(first)), held: typeCounts(h, g.Held, nil)}
		for _, s := range g.Cycle {
			gg.Cycle = append(gg.Cycle, CycleStep{Address: Addr(h.Addr(s.Obj)), Type: h.TypeName(s.Obj), Edge: h.EdgeName(s.Edge)})
		}
		if len(g.Members) > len(g.Cycle) && len(g.Cycle) > 0 {
			gg.inCycle = fmt.Sprintf("%d more in the cycle: %s", len(g.Members)-len(g.Cycle), typeCounts(h, g.Members, g.Cycle))
		}
		return gg
	}
	for _, g := range limit(rep.Groups, n) {
		r.Groups = append(r.Groups, group(g))
	}
	shapes := rep.Shapes(h)
	r.shapes = len(shapes)
	r.Shapes = []GCShape{}
	for _, sh := range limit(shapes, n) {
		gs := GCShape{Cycles: len(sh.Groups), Objects: sh.Objects, Bytes: sh.Bytes, Shape: sh.Steps,
			Example: group(rep.Groups[sh.Groups[0]])}
		if gs.Shape == nil {
			gs.Shape = []gcmod.ShapeStep{}
		}
		gs.reasons = sh.Reasons
		for _, reason := range sh.Reasons {
			gs.Reasons = append(gs.Reasons, reason.String())
		}
		r.Shapes = append(r.Shapes, gs)
	}
	return r
}

func (r *GC) WriteText(w io.Writer) error {
	r.Snapshot.WriteText(w)
	fmt.Fprintln(w)
	st, rep := r.GC, r.Collection
	if st.Recorded {
		onOff := "enabled"
		if !st.Enabled {
			onOff = "disabled"
		}
		fmt.Fprintf(w, "gc: %s, thresholds %s, counts %s, freeze count %s\n",
			onOff, ints(st.Thresholds), ints(st.Counts), units.Commas(uint64(st.FreezeCount)))
	} else {
		fmt.Fprintln(w, "gc: the snapshot does not record the collector's state")
	}
	fmt.Fprintf(w, "tracked objects by generation: %s %s %s, permanent %s; untracked %s\n\n",
		units.Commas(uint64(st.Generations[0])), units.Commas(uint64(st.Generations[1])), units.Commas(uint64(st.Generations[2])),
		units.Commas(uint64(st.Permanent)), units.Commas(uint64(st.Untracked)))

	what := [...]string{"gc.collect(0), generation 0 only", "gc.collect(1), generations 0 and 1", "gc.collect(), a full collection"}[rep.Generation]
	fmt.Fprintf(w, "%s, by the rules of CPython %s (%s collector): %s\n",
		what, rep.Version, rep.Collector, Plural(rep.Candidates, "candidate"))
	fmt.Fprintf(w, "%s unreachable, %s: %s collectable (%s), %s uncollectable (%s)\n",
		Plural(rep.Unreachable, "object"), units.Bytes(rep.Bytes),
		units.Commas(uint64(rep.Collected)), units.Bytes(rep.CollectedBytes),
		units.Commas(uint64(rep.Uncollectable)), units.Bytes(rep.UncollectableBytes))
	if rep.Finalizers > 0 {
		fmt.Fprintf(w, "%s with __del__: the finalizers run first and could resurrect objects\n", Plural(rep.Finalizers, "object"))
	}
	if rep.Garbage > 0 {
		fmt.Fprintf(w, "%s would go to gc.garbage\n", Plural(rep.Garbage, "object"))
	}
	if rep.Groups == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s in %s of cycle, most bytes first:\n", Plural(rep.Groups, "group"), Plural(r.shapes, "shape"))
	for i, sh := range r.Shapes {
		g := sh.Example
		what := Plural(sh.Cycles, "group")
		reasons := make([]string, 0, len(sh.Reasons))
		for _, reason := range sh.reasons {
			reasons = append(reasons, reasonText(reason))
		}
		fmt.Fprintf(w, "%3d. %s, %s, %s, %s; %s\n", i+1, what, Plural(sh.Objects, "object"), units.Bytes(sh.Bytes), strings.Join(reasons, "; "), exampleText(sh.Cycles, g))
		if len(g.Cycle) > 0 {
			steps := make([]objgraph.ShapeStep, len(g.Cycle))
			for i, s := range g.Cycle {
				steps[i].Type = s.Type
				if i > 0 {
					steps[i].Edge = g.Cycle[i-1].Edge
				}
			}
			fmt.Fprintf(w, "     %s\n", CycleLine(steps, g.Cycle[len(g.Cycle)-1].Edge))
		} else {
			fmt.Fprintln(w, "     (no cycle: nothing unreachable refers to it)")
		}
		if g.inCycle != "" {
			fmt.Fprintf(w, "     %s\n", Escape(g.inCycle))
		}
		if g.held != "" {
			fmt.Fprintf(w, "     held by it: %s\n", Escape(g.held))
		}
	}
	more(w, "", r.shapes-len(r.Shapes), "shape", "--limit")
	return nil
}

// exampleText names the example group's first object: "Node at 0x…", or
// "for example Node at 0x…" when the shape has several groups.
func exampleText(cycles int, g GCGroup) string {
	if cycles == 1 {
		return Escape(g.first)
	}
	return "for example " + Escape(g.first)
}

func reasonText(r gcmod.Reason) string {
	switch r {
	case gcmod.LegacyFinalizer:
		return "uncollectable: a legacy finalizer, so it goes to gc.garbage"
	case gcmod.HeldByLegacy:
		return "uncollectable: an object with a legacy finalizer holds it"
	}
	return "collectable"
}

// typeCounts is "2 dict, 1 list" for the objects of ids not in skip, most
// first.
func typeCounts(h *heap.Heap, ids []heap.ID, skip []gcmod.Step) string {
	in := map[heap.ID]bool{}
	for _, s := range skip {
		in[s.Obj] = true
	}
	n := map[string]int{}
	for _, id := range ids {
		if !in[id] {
			n[h.TypeName(id)]++
		}
	}
	names := make([]string, 0, len(n))
	for k := range n {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if n[names[i]] != n[names[j]] {
			return n[names[i]] > n[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = units.Commas(uint64(n[k])) + " " + k
	}
	return strings.Join(parts, ", ")
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}
