package main

// The cow command: what a child forked at the time of the snapshot would
// copy, and what gc.freeze() saves.

import (
	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/internal/report"
)

type cowOptions struct {
	pageSize   int
	generation int
	limit      int
	qualified  bool
}

func init() {
	register(&command{
		name: "cow",
		args: "SNAPSHOT",
		summary: "Predict what a child process forked at the time of the snapshot would copy:\n" +
			"the pages a full gc.collect() in the child writes to (the GC headers of the\n" +
			"tracked objects), the same after gc.freeze() in the parent, and the pages\n" +
			"reading every object writes to (reference counts), with the types and the\n" +
			"roots that account for most of them, and advice on whether freezing pays\n" +
			"(docs/cow.md).",
		bind: withOptions(func(fs *pflag.FlagSet, o *cowOptions) {
			fs.IntVar(&o.pageSize, "page-size", 0, "bytes per page (0: the snapshot's, or 4096)")
			fs.IntVar(&o.generation, "generation", 2, "the child collects generations 0 to N, as gc.collect(N)")
			fs.IntVarP(&o.limit, "limit", "n", 10, "show this many types and roots (0 for all)")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
		}, runCOW),
	})
}

func runCOW(c *cmdEnv, o *cowOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	if ps := o.pageSize; ps < 0 || ps&(ps-1) != 0 {
		return usagef("--page-size must be a power of two, or 0 for the snapshot's")
	}
	if o.generation < 0 || o.generation > 2 {
		return usagef("--generation must be 0, 1 or 2")
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	rep, err := gcmod.PredictCOW(h, gcmod.COWOptions{PageSize: o.pageSize, Generations: o.generation + 1})
	if err != nil {
		return err
	}
	return c.write(report.NewCOW(c.summarize(args[0], h), h, rep, o.limit, o.qualified))
}
