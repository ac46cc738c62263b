package main

// The gc command: the collector's state and what gc.collect() would find.

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/internal/report"
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
	if rep.RefcountErrors > 0 && !c.json {
		fmt.Fprintf(c.stderr, "objgraph: %s: %d tracked objects have a refcount of 0 or below the references the snapshot records to them\n",
			args[0], rep.RefcountErrors)
	}
	return c.write(report.NewGC(c.summarize(args[0], h), h, o.generation, rep, o.limit))
}
