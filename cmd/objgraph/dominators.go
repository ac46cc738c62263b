package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type dominatorsOptions struct {
	top        int
	noExternal bool
	qualified  bool
}

func init() {
	register(&command{
		name: "dominators",
		args: "SNAPSHOT",
		summary: "List the objects that retain the most memory: for each, its retained size (what\n" +
			"freeing it would free: its own size and the sizes of all the objects that only\n" +
			"it keeps reachable, from the dominator tree), its own size, type and label, and\n" +
			"the shortest chain of references that holds it, from a root. Roots are the\n" +
			"snapshot's modules, threads, stack frames and local variables, and objects held\n" +
			"from outside the graph (their refcount exceeds their referrers in the snapshot).\n" +
			"Objects no root reaches are reported apart, by type.",
		bind: withOptions(func(fs *pflag.FlagSet, o *dominatorsOptions) {
			fs.IntVarP(&o.top, "top", "n", 20, "show this many objects")
			fs.BoolVar(&o.noExternal, "no-external", false, "only the snapshot's roots hold objects, not references from outside the graph")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
		}, runDominators),
	})
}

type retainerJSON struct {
	objectJSON
	Retained uint64        `json:"retained"`
	Share    float64       `json:"share"` // of the reachable total
	Root     objgraph.Root `json:"root"`  // where the chain starts
	Chain    []leakHopJSON `json:"chain"` // from a root to the object
}

func runDominators(c *cmdEnv, o *dominatorsOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	if o.top < 1 {
		return usagef("--top must be 1 or more")
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	if h.Len() > 1_000_000 {
		c.progress("computing the dominator tree of %s objects", units.Commas(uint64(h.Len())))
	}
	dt := heap.Dominators(h, heap.DominatorOptions{NoExternal: o.noExternal})
	r := objgraph.FindRetainers(h)
	top := dt.Top(o.top)
	unreachable := dt.Unreachable()
	var garbageBytes uint64
	for _, id := range unreachable {
		garbageBytes += h.Size(id)
	}
	garbage := objgraph.MostCommonTypes(h, 0, objgraph.StatsOptions{Objects: unreachable, Qualified: o.qualified})
	objgraph.SortByBytes(garbage)
	total := dt.ReachableSize()
	share := func(n uint64) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) / float64(total)
	}
	rows := make([]retainerJSON, len(top))
	for i, id := range top {
		row := retainerJSON{objectJSON: describe(h, id), Retained: dt.Retained(id), Share: share(dt.Retained(id))}
		if o.qualified {
			row.Type = row.QualType
		}
		chain := r.Chain(id)
		edges := objgraph.ChainEdges(h, chain)
		row.Root = r.Root(id)
		row.Chain = chainJSON(h, chain, edges, o.qualified)
		rows[i] = row
	}
	sum := summarize(args[0], h)
	if c.json {
		type typeJSON struct {
			Type  string `json:"type"`
			Count int    `json:"count"`
			Bytes uint64 `json:"bytes"`
		}
		ur := []typeJSON{}
		for _, t := range garbage {
			ur = append(ur, typeJSON{t.Type, t.Count, t.Bytes})
		}
		return c.writeJSON(struct {
			Snapshot           snapshotSummary `json:"snapshot"`
			Reachable          int             `json:"reachable"`
			ReachableBytes     uint64          `json:"reachable_bytes"`
			Unreachable        int             `json:"unreachable"`
			UnreachableBytes   uint64          `json:"unreachable_bytes"`
			Top                []retainerJSON  `json:"top"`
			UnreachableByTypes []typeJSON      `json:"unreachable_types"`
		}{sum, dt.NumReachable(), total, len(unreachable), garbageBytes, rows, ur})
	}
	sum.print(c)
	fmt.Fprintf(c.stdout, "reachable from a root: %s objects, %s; unreachable: %s objects, %s\n\n",
		units.Commas(uint64(dt.NumReachable())), units.Bytes(total), units.Commas(uint64(len(unreachable))), units.Bytes(garbageBytes))
	if len(rows) == 0 {
		fmt.Fprintln(c.stdout, "no object is reachable from a root")
	} else {
		t := report.NewTable(report.Right("#"), report.Right("retained"), report.Right("share"), report.Right("own"), report.Left("type"), report.Left("label"))
		t.Indent = "  "
		for i, row := range rows {
			t.Row(fmt.Sprint(i+1), units.Bytes(row.Retained), fmt.Sprintf("%.1f%%", 100*row.Share), units.Bytes(row.Size), row.Type, row.Label)
		}
		t.Write(c.stdout)
		fmt.Fprintln(c.stdout, "\nheld by:")
		for i, row := range rows {
			steps := make([]objgraph.ShapeStep, len(row.Chain))
			for i, hop := range row.Chain {
				steps[i].Type = hop.Type
				if hop.Edge != nil {
					steps[i].Edge = *hop.Edge
				}
			}
			fmt.Fprintf(c.stdout, "%d  %s\n", i+1, report.ChainLine(row.Root, steps))
		}
	}
	if len(unreachable) > 0 {
		fmt.Fprintf(c.stdout, "\nunreachable from every root (%s objects, %s), by bytes:\n", units.Commas(uint64(len(unreachable))), units.Bytes(garbageBytes))
		shown := garbage
		if len(shown) > 10 {
			shown = shown[:10]
		}
		t := typeTable(shown)
		t.Indent = "  "
		t.Write(c.stdout)
		if n := len(garbage) - len(shown); n > 0 {
			fmt.Fprintf(c.stdout, "(%s more)\n", report.Plural(n, "type"))
		}
	}
	return nil
}
