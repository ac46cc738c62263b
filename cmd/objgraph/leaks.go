package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type leaksOptions struct {
	limit        int
	groups       int
	qualified    bool
	failOnGrowth int
}

func init() {
	register(&command{
		name: "leaks",
		args: "OLD NEW [NEWER...]",
		summary: "Find what leaks between snapshots of one process, taken in order. The objects of\n" +
			"NEW that OLD did not have (by address and type) are the candidates; with NEWER\n" +
			"snapshots, only those still there in every one of them count, so that objects\n" +
			"the program makes and drops in passing drop out. The candidates are grouped by\n" +
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
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.IntVar(&o.failOnGrowth, "fail-on-growth", -1, "exit with status 1 when a type's count grew by more than this from the first snapshot to the last (-1: never)")
		}, runLeaks),
	})
}

func runLeaks(c *cmdEnv, o *leaksOptions, args []string) error {
	if len(args) < 2 {
		return usagef("give at least two snapshots, OLD and NEW")
	}
	if o.limit < 0 || o.groups < 0 {
		return usagef("--limit and --groups must be 0 or more")
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
	old, err := census(0)
	if err != nil {
		return err
	}
	var later []*objgraph.Census
	for i := 2; i < len(args); i++ {
		cs, err := census(i)
		if err != nil {
			return err
		}
		later = append(later, cs)
	}
	cur, err := c.loadHeap(args[1])
	if err != nil {
		return err
	}
	snaps[1] = c.summarize(args[1], cur)
	checkSeries(c, args, append([]*objgraph.Census{old, {Time: cur.Meta().Time, PID: cur.Meta().PID}}, later...))
	if cur.Len() > 1_000_000 {
		c.progress("computing dominators and retainer chains of %s objects", units.Commas(uint64(cur.Len())))
	}
	rep := objgraph.FindLeaks(old, cur, later, objgraph.LeakOptions{Qualified: o.qualified})

	if err := c.write(report.NewLeaks(snaps, cur, rep, o.qualified, o.limit, o.groups)); err != nil {
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
