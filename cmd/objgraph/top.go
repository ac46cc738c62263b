package main

import (
	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/objgraph"
)

type topOptions struct {
	limit     int
	all       bool
	tracked   bool // the old flag, now the default
	qualified bool
	byBytes   bool
	buffers   bool
	garbage   bool
}

func init() {
	register(&command{
		name: "top",
		args: "SNAPSHOT",
		summary: "Show the most common types in a snapshot, with object counts and bytes, as\n" +
			"objgraph.most_common_types: gc-tracked objects only, unless --all.",
		bind: withOptions(func(fs *pflag.FlagSet, o *topOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 20, "show this many types (0 for all)")
			fs.BoolVar(&o.all, "all", false, "count untracked objects (str, int, …) too")
			fs.BoolVar(&o.tracked, "tracked", false, "count only gc-tracked objects (the default)")
			fs.MarkDeprecated("tracked", "gc-tracked objects are the default; --all counts the others too")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.BoolVar(&o.byBytes, "bytes", false, "order by bytes instead of count")
			fs.BoolVar(&o.buffers, "buffers", false, "count in bytes the data buffers objects own (numpy arrays, torch tensors, bytearrays, …), and their owners tracked or not")
			garbageFlags(fs, &o.garbage, true, "objgraph.most_common_types does")
		}, runTop),
	})
}

func runTop(c *cmdEnv, o *topOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	opts := objgraph.StatsOptions{Qualified: o.qualified, All: o.all, Buffers: o.buffers, NoGarbage: !o.garbage}
	stats := objgraph.MostCommonTypes(h, 0, opts)
	if o.byBytes {
		objgraph.SortByBytes(stats)
	}
	rep := report.NewTop(c.summarize(args[0], h), stats, o.limit)
	rep.Garbage = garbageShare(h, opts)
	if f := objgraph.NewFootprint(h); f.Process != nil {
		rep.Memory = report.NewMemory(objgraph.NewMemoryVerdict(f))
	}
	return c.write(rep)
}
