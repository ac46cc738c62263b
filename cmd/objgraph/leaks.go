package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type leaksOptions struct {
	limit        int
	groups       int
	suspects     int
	qualified    bool
	failOnGrowth int
}

func init() {
	register(&command{
		name: "leaks",
		args: "FIRST [BETWEEN...] LAST",
		summary: "Find what leaks between snapshots of one process, taken in order. The objects of\n" +
			"LAST that FIRST did not have (by address and type) are the candidates; the\n" +
			"snapshots in between give each type's count at each step, so that a type that\n" +
			"only grows stands apart from one that grew and came back down.\n\n" +
			"First come the suspects: the containers (dicts, lists, sets, instances, modules,\n" +
			"frames) that were in FIRST and now hold candidates, ranked by what releasing\n" +
			"their new entries would free, each with its path from a root, how its entries\n" +
			"grew, the types of the new ones and an example. Then the candidates are grouped by\n" +
			"type, and within a type by the shape of their shortest chains of references\n" +
			"from a root (types and reference names, with list indexes and dict keys\n" +
			"collapsed to [*]). For each group: its size, what it retains (what freeing it\n" +
			"would free), an example chain, and how the type's count moved across all the\n" +
			"snapshots. Types that retain most come first. Candidates that no root reaches\n" +
			"are listed apart, as garbage the cycle collector has not freed.\n\n" +
			"With --fail-on-growth N the exit status is 1 when the count of any type grew by\n" +
			"more than N from the first snapshot to the last, so that a CI job can gate on\n" +
			"leaks.",
		bind: withOptions(func(fs *pflag.FlagSet, o *leaksOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 10, "show this many types (0 for all)")
			fs.IntVar(&o.groups, "groups", 3, "show this many groups per type (0 for all)")
			fs.IntVar(&o.suspects, "suspects", 3, "show this many suspect containers (0 for all that were measured)")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.IntVar(&o.failOnGrowth, "fail-on-growth", -1, "exit with status 1 when a type's count grew by more than this from the first snapshot to the last (-1: never)")
		}, runLeaks),
	})
}

func runLeaks(c *cmdEnv, o *leaksOptions, args []string) error {
	if len(args) < 2 {
		return usagef("give at least two snapshots, OLD and NEW")
	}
	if o.limit < 0 || o.groups < 0 || o.suspects < 0 {
		return usagef("--limit, --groups and --suspects must be 0 or more")
	}
	// Only NEW stays in memory: of the others, a census (addresses and
	// types) is enough.
	snaps := make([]report.Snapshot, len(args))
	census := func(i int) (*objgraph.Census, error) {
		h, err := c.loadHeap(args[i])
		if err != nil {
			return nil, err
		}
		snaps[i] = c.summarize(args[i], h)
		cs := objgraph.NewCensus(h)
		h = nil
		runtime.GC()
		return cs, nil
	}
	last := len(args) - 1
	first, err := census(0)
	if err != nil {
		return err
	}
	var between []*objgraph.Census
	for i := 1; i < last; i++ {
		cs, err := census(i)
		if err != nil {
			return err
		}
		between = append(between, cs)
	}
	cur, err := c.loadHeap(args[last])
	if err != nil {
		return err
	}
	snaps[last] = c.summarize(args[last], cur)
	series := append(append([]*objgraph.Census{first}, between...), &objgraph.Census{Time: cur.Meta().Time, PID: cur.Meta().PID})
	checkSeries(c, args, series)
	if cur.Len() > 1_000_000 {
		c.progress("computing dominators and retainer chains of %s objects", units.Commas(uint64(cur.Len())))
	}
	dt := heap.Dominators(cur, heap.DominatorOptions{})
	r := objgraph.FindRetainers(cur)
	rep := objgraph.FindLeaks(first, cur, between, objgraph.LeakOptions{Qualified: o.qualified, Dominators: dt, Retainers: r})
	found := objgraph.FindSuspects(first, between, cur, objgraph.SuspectOptions{Qualified: o.qualified, Dominators: dt, Retainers: r, Limit: max(o.suspects, 10)})
	suspects := report.NewSuspects(cur, found, o.qualified)

	if err := c.write(report.NewLeaks(snaps, cur, rep, suspects, o.qualified, o.limit, o.groups, o.suspects)); err != nil {
		return err
	}
	if n := o.failOnGrowth; n >= 0 && len(rep.Growth) > 0 && rep.Growth[0].Delta > n {
		g := rep.Growth[0]
		more := ""
		if k := countOver(rep.Growth, n); k > 1 {
			more = fmt.Sprintf(" (and %s)", report.Plural(k-1, "other type"))
		}
		return fmt.Errorf("%s grew by %s objects (%s)%s, more than --fail-on-growth %d", report.Escape(g.Type), units.Commas(uint64(g.Delta)), report.Movement(g.Counts), more, n)
	}
	return nil
}

// checkSeries warns when the snapshots cannot be of one process in order:
// addresses only identify objects within one process, and over time.
func checkSeries(c *cmdEnv, paths []string, cs []*objgraph.Census) {
	for i := 1; i < len(cs); i++ {
		checkPair(c, paths[i-1], paths[i], cs[i-1].PID, cs[i].PID, cs[i-1].Time, cs[i].Time)
	}
}

// checkPair warns when snapshot b, given after a, is of another process or
// was taken before it.
func checkPair(c *cmdEnv, pathA, pathB string, pidA, pidB int, timeA, timeB time.Time) {
	if pidA != 0 && pidB != 0 && pidA != pidB {
		fmt.Fprintf(c.stderr, "objgraph: warning: %s is of process %d and %s of process %d: addresses of different processes do not identify the same objects\n", pathA, pidA, pathB, pidB)
	}
	if !timeA.IsZero() && !timeB.IsZero() && timeB.Before(timeA) {
		fmt.Fprintf(c.stderr, "objgraph: warning: %s was taken before %s; give the snapshots in the order they were taken\n", pathB, pathA)
	}
}

func countOver(g []objgraph.TypeCount, n int) int {
	k := 0
	for _, t := range g {
		if t.Delta > n {
			k++
		}
	}
	return k
}
