package main

// The gc command: the collector's state and what gc.collect() would find.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type gcOptions struct {
	generation int
	limit      int
	version    string
}

func init() {
	register(&command{
		name: "gc",
		args: "SNAPSHOT",
		summary: "Show the cycle collector's state when the snapshot was taken and what\n" +
			"gc.collect(N) would find: the unreachable objects, grouped by reference cycle\n" +
			"with one cycle spelled out for each group, what a legacy finalizer would keep\n" +
			"uncollectable, and the totals. The rules are those of the snapshot's CPython\n" +
			"version (docs/gc.md).",
		bind: withOptions(func(fs *pflag.FlagSet, o *gcOptions) {
			fs.IntVar(&o.generation, "generation", 2, "collect generations 0 to N, as gc.collect(N)")
			fs.IntVarP(&o.limit, "limit", "n", 10, "show this many groups, largest first (0 for all)")
			fs.StringVar(&o.version, "python", "", "apply the rules of this CPython version instead of the snapshot's")
		}, runGC),
	})
}

// gcStateJSON is the collector's state the snapshot records, with the
// tracked objects counted by generation.
type gcStateJSON struct {
	Recorded    bool   `json:"recorded"` // the snapshot has the gc module's state
	Enabled     bool   `json:"enabled"`
	Thresholds  []int  `json:"thresholds"`
	Counts      []int  `json:"counts"`
	FreezeCount int    `json:"freeze_count"`
	Generations [3]int `json:"generations"` // tracked objects in each generation, frozen ones excepted
	Permanent   int    `json:"permanent"`   // frozen objects
	Untracked   int    `json:"untracked"`
}

type stepJSON struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	Edge    string `json:"edge"`
}

type groupJSON struct {
	Objects int        `json:"objects"`
	Bytes   uint64     `json:"bytes"`
	Reason  string     `json:"reason"`
	Members []string   `json:"members"`
	Held    []string   `json:"held"`
	Cycle   []stepJSON `json:"cycle"`
}

type collectionJSON struct {
	Generation         int    `json:"generation"`
	Version            string `json:"version"`
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

func runGC(c *cmdEnv, o *gcOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	if o.generation < 0 || o.generation > 2 {
		return usagef("--generation must be 0, 1 or 2")
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	if o.version != "" {
		if _, err := gcmod.ParseVersion(o.version); err != nil {
			return usagef("--python: %v", err)
		}
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	rep, err := gcmod.Unreachable(h, gcmod.UnreachableOptions{Generations: o.generation + 1, Version: o.version})
	if err != nil {
		return err
	}
	state := gcState(h)
	groups := rep.Groups
	if o.limit > 0 && len(groups) > o.limit {
		groups = groups[:o.limit]
	}
	sum := summarize(args[0], h)
	if c.json {
		coll := collectionJSON{Generation: o.generation, Version: rep.Version.String(), Collector: rep.Collector.String(),
			Candidates: rep.Candidates, Unreachable: rep.Unreachable, Collected: rep.Collected, Uncollectable: rep.Uncollectable,
			Bytes: rep.Bytes, CollectedBytes: rep.CollectedBytes, UncollectableBytes: rep.UncollectableBytes,
			Finalizers: rep.Finalizers, Garbage: len(rep.Garbage), RefcountErrors: rep.RefcountErrors, Groups: len(rep.Groups)}
		gj := make([]groupJSON, len(groups))
		for i, g := range groups {
			gj[i] = groupJSON{Objects: len(g.Members) + len(g.Held), Bytes: g.Bytes, Reason: g.Reason.String(),
				Members: gcAddrs(h, g.Members), Held: gcAddrs(h, g.Held), Cycle: []stepJSON{}}
			for _, s := range g.Cycle {
				gj[i].Cycle = append(gj[i].Cycle, stepJSON{Address: hexAddr(h.Addr(s.Obj)), Type: h.TypeName(s.Obj), Edge: h.EdgeName(s.Edge)})
			}
		}
		return c.writeJSON(struct {
			Snapshot   snapshotSummary `json:"snapshot"`
			GC         gcStateJSON     `json:"gc"`
			Collection collectionJSON  `json:"collection"`
			Groups     []groupJSON     `json:"groups"`
		}{sum, state, coll, gj})
	}

	sum.print(c)
	w := c.stdout
	fmt.Fprintln(w)
	if state.Recorded {
		onOff := "enabled"
		if !state.Enabled {
			onOff = "disabled"
		}
		fmt.Fprintf(w, "gc: %s, thresholds %s, counts %s, freeze count %s\n",
			onOff, gcInts(state.Thresholds), gcInts(state.Counts), units.Commas(uint64(state.FreezeCount)))
	} else {
		fmt.Fprintln(w, "gc: the snapshot does not record the collector's state")
	}
	fmt.Fprintf(w, "tracked objects by generation: %s %s %s, permanent %s; untracked %s\n\n",
		units.Commas(uint64(state.Generations[0])), units.Commas(uint64(state.Generations[1])), units.Commas(uint64(state.Generations[2])),
		units.Commas(uint64(state.Permanent)), units.Commas(uint64(state.Untracked)))

	what := [...]string{"gc.collect(0), generation 0 only", "gc.collect(1), generations 0 and 1", "gc.collect(), a full collection"}[o.generation]
	fmt.Fprintf(w, "%s, by the rules of CPython %s (%s collector): %s\n",
		what, rep.Version, rep.Collector, report.Plural(rep.Candidates, "candidate"))
	fmt.Fprintf(w, "%s unreachable, %s: %s collectable (%s), %s uncollectable (%s)\n",
		report.Plural(rep.Unreachable, "object"), units.Bytes(rep.Bytes),
		units.Commas(uint64(rep.Collected)), units.Bytes(rep.CollectedBytes),
		units.Commas(uint64(rep.Uncollectable)), units.Bytes(rep.UncollectableBytes))
	if rep.Finalizers > 0 {
		fmt.Fprintf(w, "%s with __del__: the finalizers run first and could resurrect objects\n",
			report.Plural(rep.Finalizers, "object"))
	}
	if len(rep.Garbage) > 0 {
		fmt.Fprintf(w, "%s would go to gc.garbage\n", report.Plural(len(rep.Garbage), "object"))
	}
	if rep.RefcountErrors > 0 {
		fmt.Fprintf(c.stderr, "objgraph: %s: %d tracked objects have a refcount of 0 or below the references the snapshot records to them\n",
			args[0], rep.RefcountErrors)
	}
	if len(rep.Groups) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s, largest first:\n", report.Plural(len(rep.Groups), "group"))
	for i, g := range groups {
		first := g.Members[0]
		if len(g.Cycle) > 0 {
			first = g.Cycle[0].Obj
		}
		fmt.Fprintf(w, "%3d. %s, %s, %s; %s at %s\n", i+1, report.Plural(len(g.Members)+len(g.Held), "object"), units.Bytes(g.Bytes),
			gcReasonText(g.Reason), report.Escape(h.TypeName(first)), hexAddr(h.Addr(first)))
		if len(g.Cycle) > 0 {
			steps := make([]objgraph.ShapeStep, len(g.Cycle))
			for i, s := range g.Cycle {
				steps[i].Type = h.TypeName(s.Obj)
				if i > 0 {
					steps[i].Edge = h.EdgeName(g.Cycle[i-1].Edge)
				}
			}
			fmt.Fprintf(w, "     %s\n", report.CycleLine(steps, h.EdgeName(g.Cycle[len(g.Cycle)-1].Edge)))
		} else {
			fmt.Fprintln(w, "     (no cycle: nothing unreachable refers to it)")
		}
		if len(g.Members) > len(g.Cycle) && len(g.Cycle) > 0 {
			fmt.Fprintf(w, "     %d more in the cycle: %s\n", len(g.Members)-len(g.Cycle), gcTypeCounts(h, g.Members, g.Cycle))
		}
		if len(g.Held) > 0 {
			fmt.Fprintf(w, "     held by it: %s\n", gcTypeCounts(h, g.Held, nil))
		}
	}
	if len(groups) < len(rep.Groups) {
		fmt.Fprintf(w, "(%d more groups; --limit 0 shows all)\n", len(rep.Groups)-len(groups))
	}
	return nil
}

// gcState is the collector's state, and the tracked objects by generation.
func gcState(h *heap.Heap) gcStateJSON {
	var s gcStateJSON
	if g := h.Meta().GC; g != nil {
		s.Recorded, s.Enabled, s.FreezeCount = true, g.Enabled, g.FreezeCount
		s.Thresholds, s.Counts = g.Thresholds, g.Counts
	}
	for id := range h.All() {
		f := h.Flags(id)
		switch {
		case !f.Tracked():
			s.Untracked++
		case f.Permanent():
			s.Permanent++
		default:
			s.Generations[min(f.Generation(), 2)]++
		}
	}
	return s
}

func gcReasonText(r gcmod.Reason) string {
	switch r {
	case gcmod.LegacyFinalizer:
		return "uncollectable: a legacy finalizer, so it goes to gc.garbage"
	case gcmod.HeldByLegacy:
		return "uncollectable: an object with a legacy finalizer holds it"
	}
	return "collectable"
}

// gcTypeCounts is "2 dict, 1 list" for the objects of ids not in skip.
func gcTypeCounts(h *heap.Heap, ids []heap.ID, skip []gcmod.Step) string {
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
		parts[i] = fmt.Sprintf("%s %s", units.Commas(uint64(n[k])), report.Escape(k))
	}
	return strings.Join(parts, ", ")
}

func gcAddrs(h *heap.Heap, ids []heap.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = hexAddr(h.Addr(id))
	}
	return out
}

func gcInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}
