package main

import (
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
			fs.IntVarP(&o.top, "limit", "n", 20, "show this many objects")
			fs.IntVar(&o.top, "top", 20, "show this many objects")
			fs.MarkDeprecated("top", "use --limit (-n), as every listing command does")
			fs.BoolVar(&o.noExternal, "no-external", false, "only the snapshot's roots hold objects, not references from outside the graph")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
		}, runDominators),
	})
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
	return c.write(report.NewDominators(c.summarize(args[0], h), h, dt, r, o.top, o.qualified))
}
