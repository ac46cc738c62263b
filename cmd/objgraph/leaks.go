package main

import (
	"fmt"
	"runtime"
	"strings"
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
	failOnGrowth []string
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
			"With --fail-on-growth RULE the exit status is 1 when the growth from the first\n" +
			"snapshot to the last breaks the rule: a count (100), a size of all new objects\n" +
			"(10MiB), a share of the first count (5%), or TYPE=LIMIT for one type\n" +
			"(Session=0). A type that did not grow at the last step is a warm-up, not gated.",
		bind: withOptions(func(fs *pflag.FlagSet, o *leaksOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 10, "show this many types (0 for all)")
			fs.IntVar(&o.groups, "groups", 3, "show this many groups per type (0 for all)")
			fs.IntVar(&o.suspects, "suspects", 3, "show this many suspect containers (0 for all that were measured)")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.StringArrayVar(&o.failOnGrowth, "fail-on-growth", nil, "exit with status 1 when growth from the first snapshot to the last breaks this rule: N objects of any type, a size of all new objects (10MiB), a share (5%), or TYPE=LIMIT for one type (Session=0, dict=5%); repeatable, or comma-separated")
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
	var limits []objgraph.GrowthLimit
	for _, arg := range o.failOnGrowth {
		for _, spec := range strings.Split(arg, ",") {
			l, err := objgraph.ParseGrowthLimit(spec)
			if err != nil {
				return usagef("--fail-on-growth: %v", err)
			}
			limits = append(limits, l)
		}
	}
	// Only NEW stays in memory: of the others, a census (addresses and
	// types) is enough.
	snaps := make([]report.Snapshot, len(args))
	var firstMem objgraph.Footprint
	census := func(i int) (*objgraph.Census, error) {
		h, err := c.loadHeap(args[i])
		if err != nil {
			return nil, err
		}
		snaps[i] = c.summarize(args[i], h)
		if i == 0 {
			firstMem = objgraph.NewFootprint(h)
		}
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

	leaks := report.NewLeaks(snaps, cur, rep, suspects, o.qualified, o.limit, o.groups, o.suspects)
	if lastMem := objgraph.NewFootprint(cur); firstMem.Process != nil && lastMem.Process != nil {
		leaks.Memory = report.NewMemory(objgraph.NewMemoryGrowthVerdict(firstMem, lastMem))
	}
	if err := c.write(leaks); err != nil {
		return err
	}
	if len(limits) == 0 {
		return nil
	}
	violations, warmups := rep.CheckGrowth(limits)
	if len(violations) == 0 {
		// (every warm-up is a type that grew from the first snapshot to
		// the last: rep.Growth's types)
		for _, w := range warmups {
			fmt.Fprintf(c.stderr, "objgraph: %s grew (%s) but not at the last snapshot: a warm-up, not gated\n", report.Escape(w.Type), report.Movement(w.Counts))
		}
		return nil
	}
	return fmt.Errorf("%s%s", gateFailure(violations[0], suspects), moreViolations(len(violations)-1))
}

// gateFailure says which rule of --fail-on-growth failed, by how much, and
// the suspect container that holds the type, if one does.
func gateFailure(v objgraph.GrowthViolation, suspects []report.Suspect) string {
	if v.Type == "" {
		return fmt.Sprintf("the new objects take %s, more than --fail-on-growth %s", units.Bytes(v.Bytes), v.Limit.Spec)
	}
	what := fmt.Sprintf("%s grew by %s objects (%s)", report.Escape(v.Type), units.Commas(uint64(max(v.Delta, 0))), report.Movement(v.Counts))
	if v.Limit.Count < 0 && v.Limit.Percent < 0 {
		what = fmt.Sprintf("%s new %s objects take %s", units.Commas(uint64(max(v.Delta, 0))), report.Escape(v.Type), units.Bytes(v.Bytes))
	}
	msg := fmt.Sprintf("%s, more than --fail-on-growth %s", what, v.Limit.Spec)
	// The suspect whose release frees the most objects of the type.
	best, most := report.HolderOf(suspects, v.Type)
	if best < 0 {
		return msg
	}
	s := suspects[best]
	name := s.Name
	if name == "" {
		name = s.Path
	}
	return fmt.Sprintf("%s; %s of them are held in %s (%s), which grew by %s", msg, units.Commas(uint64(most)), report.Escape(name), report.Escape(s.Container.Type), report.Plural(s.NewEntries, "entry"))
}

func moreViolations(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (and %d more)", n)
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
