package main

// The counting commands: count, growth and newids.

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type countOptions struct{ all, garbage bool }

type growthOptions struct {
	limit     int
	qualified bool
	all       bool
	explain   bool
	garbage   bool
}

type newidsOptions struct {
	limit     int
	sort      string
	qualified bool
	all       bool
	typ       string
	garbage   bool
}

func init() {
	register(&command{
		name: "count",
		args: "SNAPSHOT TYPE",
		summary: "Count the objects of a type, as objgraph.count: gc-tracked objects only, unless\n" +
			"--all. A TYPE with a dot (mymodule.MyClass) is matched against module-qualified\n" +
			"names, any other against short names.",
		bind: withOptions(func(fs *pflag.FlagSet, o *countOptions) {
			fs.BoolVar(&o.all, "all", false, "count untracked objects (str, int, …) too")
			garbageFlags(fs, &o.garbage, true, "objgraph.count does")
		}, runCount),
	})
	register(&command{
		name: "growth",
		args: "SNAPSHOT1 SNAPSHOT2 [SNAPSHOT3...]",
		summary: "Show how the object count of each type grew from snapshot to snapshot of one\n" +
			"process, as objgraph.show_growth called once per snapshot: a type is shown when\n" +
			"its count rises above its peak in the earlier snapshots, by how much it rose\n" +
			"above that peak.",
		bind: withOptions(func(fs *pflag.FlagSet, o *growthOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 10, "show this many types per snapshot (0 for all)")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.BoolVar(&o.all, "all", false, "count untracked objects (str, int, …) too")
			fs.BoolVar(&o.explain, "explain", true, "say which rows of the last snapshot a larger leak holds (computes its dominators)")
			garbageFlags(fs, &o.garbage, false, "if objgraph.show_growth did not collect first")
		}, runGrowth),
	})
	register(&command{
		name: "newids",
		args: "OLD NEW",
		summary: "Show the objects of NEW that OLD did not have, per type, as two calls of\n" +
			"objgraph.get_new_ids: an object is new when no object of its type sat at its\n" +
			"address in OLD. With --type, print the addresses of that type's new objects.",
		bind: withOptions(func(fs *pflag.FlagSet, o *newidsOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 10, "show this many types (0 for all)")
			fs.StringVar(&o.sort, "sort", "deltas", "column to sort by, largest first: deltas, new, current or old")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.BoolVar(&o.all, "all", false, "count untracked objects (str, int, …) too")
			fs.StringVarP(&o.typ, "type", "t", "", "print the addresses of the new objects of this type, one a line")
			garbageFlags(fs, &o.garbage, false, "if objgraph.get_new_ids did not collect first")
		}, runNewIDs),
	})
}

func runCount(c *cmdEnv, o *countOptions, args []string) error {
	if err := snapshotThenType("count", "count", args); err != nil {
		return err
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	typ := args[1]
	opts := objgraph.StatsOptions{All: o.all, NoGarbage: !o.garbage}
	n := objgraph.Count(h, typ, opts)
	if !objgraph.KnownType(h, typ) {
		fmt.Fprintf(c.stderr, "objgraph: no type named %q in %s%s\n", typ, args[0], typeHint(h, typ))
	} else if n == 0 && !o.all {
		all, what := objgraph.Count(h, typ, objgraph.StatsOptions{All: true}), "objects"
		if all == 1 {
			what = "object"
		}
		fmt.Fprintf(c.stderr, "objgraph: no gc-tracked object has type %q (objgraph.count counts only those); --all counts its %s untracked %s\n", typ, units.Commas(uint64(all)), what)
	}
	r := &report.Count{Snapshot: c.summarize(args[0], h), Type: typ, Count: n, All: o.all}
	if n > 0 {
		opts.Filter = objgraph.HasType(h, typ)
		r.Garbage = garbageShare(h, opts)
		if r.Garbage != nil && r.Garbage.Objects > 0 && !c.json {
			fmt.Fprintf(c.stderr, "objgraph: %s\n", r.Garbage.Of(n))
		}
	}
	return c.write(r)
}

func runGrowth(c *cmdEnv, o *growthOptions, args []string) error {
	if len(args) < 2 {
		return usagef("need at least two snapshots")
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	opts := objgraph.StatsOptions{Qualified: o.qualified, All: o.all, NoGarbage: !o.garbage}
	var rep report.Growth
	var t objgraph.GrowthTracker
	var prev *heap.Meta
	var first *objgraph.Census
	var last *heap.Heap
	var firstMem, lastMem objgraph.Footprint
	for i, path := range args {
		h, err := c.loadHeap(path)
		if err != nil {
			return err
		}
		m := h.Meta()
		if i > 0 {
			checkPair(c, args[i-1], path, prev.PID, m.PID, prev.Time, m.Time)
		}
		prev = m
		snap := c.summarize(path, h)
		rep.Snapshots = append(rep.Snapshots, snap)
		if i == 0 || i == len(args)-1 {
			lastMem = objgraph.NewFootprint(h)
			if i == 0 {
				firstMem = lastMem
			}
		}
		if i == 0 {
			t.Growth(h, 0, opts) // the first snapshot sets the peaks
			if o.explain {
				first = objgraph.NewCensus(h)
			}
			continue
		}
		rep.Add(snap, t.Growth(h, o.limit, opts))
		last = h
	}
	if o.explain {
		// Which rows a larger leak carries: the suspects of the whole
		// series, found in the last snapshot.
		if last.Len() > 1_000_000 {
			c.progress("finding what holds the growth among %s objects (--explain=false skips it)", units.Commas(uint64(last.Len())))
		}
		found := objgraph.FindSuspects(first, nil, last, objgraph.SuspectOptions{Qualified: o.qualified})
		rep.ExplainGrowth(report.NewSuspects(last, found, o.qualified))
	}
	if firstMem.Process != nil && lastMem.Process != nil {
		rep.Memory = report.NewMemory(objgraph.NewMemoryGrowthVerdict(firstMem, lastMem))
	}
	return c.write(&rep)
}

func runNewIDs(c *cmdEnv, o *newidsOptions, args []string) error {
	if err := wantArgs(args, "OLD", "NEW"); err != nil {
		return err
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	sorts := map[string]objgraph.SortBy{"deltas": objgraph.SortByDeltas, "new": objgraph.SortByNew, "current": objgraph.SortByCurrent, "old": objgraph.SortByOld}
	sortBy, ok := sorts[o.sort]
	if !ok {
		return usagef("--sort must be deltas, new, current or old, not %q", o.sort)
	}
	old, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	cur, err := c.loadHeap(args[1])
	if err != nil {
		return err
	}
	checkPair(c, args[0], args[1], old.Meta().PID, cur.Meta().PID, old.Meta().Time, cur.Meta().Time)
	snaps := []report.Snapshot{c.summarize(args[0], old), c.summarize(args[1], cur)}
	n := objgraph.GetNewIDs(old, cur, sortBy, objgraph.StatsOptions{Qualified: o.qualified, All: o.all, NoGarbage: !o.garbage})
	if o.typ != "" {
		r := &report.NewAddrs{Snapshots: snaps, Type: o.typ, Addresses: []string{}}
		for _, a := range n.Addrs[o.typ] {
			r.Addresses = append(r.Addresses, report.Addr(a))
		}
		if len(r.Addresses) == 0 && !c.json {
			fmt.Fprintf(c.stderr, "objgraph: no new objects of type %q\n", o.typ)
		}
		return c.write(r)
	}
	if len(n.Rows) == 0 && !c.json {
		fmt.Fprintln(c.stderr, "objgraph: the snapshots have no objects of the kinds counted")
	}
	return c.write(report.NewNewIDs(snaps[0], snaps[1], n, o.limit))
}
