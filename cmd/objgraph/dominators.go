package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
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
			fs.IntVarP(&o.top, "limit", "n", 20, "show this many objects")
			fs.IntVar(&o.top, "top", 20, "show this many objects")
			fs.MarkDeprecated("top", "use --limit (-n), as every listing command does")
			fs.BoolVar(&o.noExternal, "no-external", false, "only the snapshot's roots hold objects, not references from outside the graph")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
		}, runDominators),
	})
}

type retainerJSON struct {
	objectJSON
	Retained uint64        `json:"retained"`
	Share    float64       `json:"share"` // of the reachable total
	Root     string        `json:"root"`  // where the chain starts
	Chain    []leakHopJSON `json:"chain"` // from a root to the object
}

func runDominators(c *cmdEnv, o *dominatorsOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	if o.top < 1 {
		return usagef("--limit must be 1 or more")
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
		edges := chainEdgeNames(h, chain)
		row.Root = rootDescription(h, r, chain)
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
		tw := newTable(c.stdout, tabwriter.AlignRight)
		typeW := len("type")
		for _, row := range rows {
			typeW = max(typeW, utf8.RuneCountInString(printable(row.Type)))
		}
		fmt.Fprintf(tw, "#\tretained\tshare\town\t  %-*s  label\n", typeW, "type")
		for i, row := range rows {
			fmt.Fprintf(tw, "%d\t%s\t%.1f%%\t%s\t  %-*s  %s\n", i+1, units.Bytes(row.Retained), 100*row.Share, units.Bytes(row.Size), typeW, printable(row.Type), printable(row.Label))
		}
		tw.Flush()
		fmt.Fprintln(c.stdout, "\nheld by:")
		for i, row := range rows {
			fmt.Fprintf(c.stdout, "%d  %s\n", i+1, chainLine(row))
		}
	}
	if len(unreachable) > 0 {
		fmt.Fprintf(c.stdout, "\nunreachable from every root (%s objects, %s), by bytes:\n", units.Commas(uint64(len(unreachable))), units.Bytes(garbageBytes))
		shown := garbage
		if len(shown) > 10 {
			shown = shown[:10]
		}
		tw := newTable(c.stdout, tabwriter.AlignRight)
		fmt.Fprintln(tw, "count\tbytes\t  type")
		for _, t := range shown {
			fmt.Fprintf(tw, "%s\t%s\t  %s\n", units.Commas(uint64(t.Count)), units.Commas(t.Bytes), printable(t.Type))
		}
		tw.Flush()
		if n := len(garbage) - len(shown); n > 0 {
			fmt.Fprintf(c.stdout, "(%s more)\n", plural(n, "type"))
		}
	}
	return nil
}

// chainLine spells a chain on one line: where it starts, then each
// reference and the type it leads to.
func chainLine(row retainerJSON) string {
	var b strings.Builder
	b.WriteString(row.Root)
	for i, hop := range row.Chain {
		if i == 0 {
			if strings.HasPrefix(row.Root, "held from outside") {
				b.WriteString(": " + hop.Type)
			}
			continue
		}
		edge := *hop.Edge
		if edge == "" {
			edge = "?"
		}
		fmt.Fprintf(&b, " -%s-> %s", edge, hop.Type)
	}
	return printable(b.String())
}

// chainEdgeNames names the references along a chain.
func chainEdgeNames(h *heap.Heap, chain []heap.ID) []string {
	out := make([]string, 0, len(chain))
	for i := 1; i < len(chain); i++ {
		name := ""
		if names := objgraph.EdgeNames(h, chain[i-1], chain[i]); len(names) > 0 {
			name = names[0]
		}
		out = append(out, name)
	}
	return out
}

// rootDescription says where a chain starts.
func rootDescription(h *heap.Heap, r *objgraph.Retainers, chain []heap.ID) string {
	if len(chain) == 0 {
		return "no root"
	}
	if r.External(chain[0]) {
		return "held from outside the graph"
	}
	for _, root := range h.Roots() {
		if root.Target == chain[0] {
			return root.Kind.String() + " " + root.Name
		}
	}
	return "root"
}
