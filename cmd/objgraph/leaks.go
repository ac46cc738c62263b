package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
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

// leakHopJSON is one hop of a chain in JSON.
type leakHopJSON struct {
	Edge    *string `json:"edge"` // null for the first
	Address string  `json:"address"`
	Type    string  `json:"type"`
	Label   string  `json:"label,omitempty"`
}

// chainJSON spells a chain of references as JSON hops; edges[i] names the
// reference from chain[i] to chain[i+1].
func chainJSON(h *heap.Heap, chain []heap.ID, edges []string, qualified bool) []leakHopJSON {
	var hops []leakHopJSON
	for i, id := range chain {
		hop := leakHopJSON{Address: hexAddr(h.Addr(id)), Type: objgraph.TypeName(h, id, qualified), Label: h.Label(id)}
		if i > 0 {
			hop.Edge = &edges[i-1]
		}
		hops = append(hops, hop)
	}
	return hops
}

type leakGroupJSON struct {
	Root     string               `json:"root"`
	Shape    []objgraph.ShapeStep `json:"shape"`
	Count    int                  `json:"count"`
	Bytes    uint64               `json:"bytes"`
	Retained uint64               `json:"retained"`
	Example  string               `json:"example"`
	Chain    []leakHopJSON        `json:"chain"`
}

type leakTypeJSON struct {
	Type     string          `json:"type"`
	Count    int             `json:"count"`
	Bytes    uint64          `json:"bytes"`
	Retained uint64          `json:"retained"`
	Counts   []int           `json:"counts"`
	Groups   []leakGroupJSON `json:"groups"`
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
	census := func(path string) (*objgraph.Census, error) {
		h, err := c.loadHeap(path)
		if err != nil {
			return nil, err
		}
		cs := objgraph.NewCensus(h)
		h = nil
		runtime.GC()
		return cs, nil
	}
	old, err := census(args[0])
	if err != nil {
		return err
	}
	var later []*objgraph.Census
	for _, p := range args[2:] {
		cs, err := census(p)
		if err != nil {
			return err
		}
		later = append(later, cs)
	}
	cur, err := c.loadHeap(args[1])
	if err != nil {
		return err
	}
	checkSeries(c, args, append([]*objgraph.Census{old, {Time: cur.Meta().Time, PID: cur.Meta().PID}}, later...))
	if cur.Len() > 1_000_000 {
		c.progress("computing dominators and retainer chains of %s objects", units.Commas(uint64(cur.Len())))
	}
	rep := objgraph.FindLeaks(old, cur, later, objgraph.LeakOptions{Qualified: o.qualified})

	if c.json {
		err = c.writeJSON(leaksJSON(cur, args, rep))
	} else {
		printLeaks(c, o, cur, args, rep)
	}
	if err != nil {
		return err
	}
	if n := o.failOnGrowth; n >= 0 && len(rep.Growth) > 0 && rep.Growth[0].Delta > n {
		g := rep.Growth[0]
		more := ""
		if k := countOver(rep.Growth, n); k > 1 {
			more = fmt.Sprintf(" (and %s)", plural(k-1, "other type"))
		}
		return fmt.Errorf("%s grew by %s objects (%s)%s, more than --fail-on-growth %d", printable(g.Type), units.Commas(uint64(g.Delta)), movement(g.Counts), more, n)
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

// movement spells counts as "100 → 300 → 600".
func movement(counts []int) string {
	parts := make([]string, len(counts))
	for i, n := range counts {
		parts[i] = units.Commas(uint64(n))
	}
	return strings.Join(parts, " → ")
}

// shapeString spells a chain shape on one line.
func shapeString(root string, steps []objgraph.ShapeStep) string {
	var b strings.Builder
	b.WriteString(root)
	for i, s := range steps {
		if i == 0 {
			if strings.HasPrefix(root, "held from outside") {
				b.WriteString(": " + s.Type)
			}
			continue
		}
		b.WriteString(" → ")
		if s.Edge != "" {
			b.WriteString(s.Edge + " ")
		}
		b.WriteString(s.Type)
	}
	return printable(b.String())
}

func printLeaks(c *cmdEnv, o *leaksOptions, h *heap.Heap, paths []string, rep *objgraph.LeakReport) {
	w := c.stdout
	counts := make([]int, len(rep.Snapshots))
	copy(counts, rep.Snapshots)
	fmt.Fprintf(w, "snapshots: %s\n", strings.Join(paths, " → "))
	fmt.Fprintf(w, "objects:   %s\n", movement(counts))
	fmt.Fprintf(w, "%s has %s objects that %s did not", paths[1], units.Commas(uint64(rep.New)), paths[0])
	if len(paths) > 2 {
		fmt.Fprintf(w, "; %s of them are still there in %s", units.Commas(uint64(rep.Surviving)), strings.Join(paths[2:], " and "))
	}
	fmt.Fprintln(w, ".")
	if len(rep.Types) == 0 && len(rep.Garbage) == 0 {
		fmt.Fprintln(w, "\nno leak candidates")
	}
	shown := rep.Types
	if o.limit > 0 && len(shown) > o.limit {
		shown = shown[:o.limit]
	}
	for i, t := range shown {
		fmt.Fprintf(w, "\n#%d %s: %s, %s, retaining %s; count %s\n", i+1, printable(t.Type),
			objects(t.Count), units.Bytes(t.Bytes), units.Bytes(t.Retained), movement(t.Counts))
		groups := t.Groups
		if o.groups > 0 && len(groups) > o.groups {
			groups = groups[:o.groups]
		}
		for _, g := range groups {
			fmt.Fprintf(w, "  %s retaining %s, held as\n    %s\n", objects(g.Count), units.Bytes(g.Retained), shapeString(g.Root, g.Shape))
			printChain(c, h, g.Chain, g.Edges, "    ")
		}
		if n := len(t.Groups) - len(groups); n > 0 {
			fmt.Fprintf(w, "  (%d more groups; --groups 0 shows all)\n", n)
		}
	}
	if n := len(rep.Types) - len(shown); n > 0 {
		fmt.Fprintf(w, "\n(%d more types; --limit 0 shows all)\n", n)
	}
	if len(rep.Garbage) > 0 {
		total := 0
		for _, t := range rep.Garbage {
			total += t.Count
		}
		fmt.Fprintf(w, "\ngarbage: %s no root reaches, which gc.collect() would examine:\n", objects(total))
		garbage := rep.Garbage
		if o.limit > 0 && len(garbage) > o.limit {
			garbage = garbage[:o.limit]
		}
		for _, t := range garbage {
			fmt.Fprintf(w, "  %s: %s, %s; count %s\n", printable(t.Type), objects(t.Count), units.Bytes(t.Bytes), movement(t.Counts))
			printChain(c, h, t.Groups[0].Chain, t.Groups[0].Edges, "    ")
		}
		if n := len(rep.Garbage) - len(garbage); n > 0 {
			fmt.Fprintf(w, "  (%d more types; --limit 0 shows all)\n", n)
		}
	}
}

// printChain prints a chain as the chain command does, indented.
func printChain(c *cmdEnv, h *heap.Heap, chain []heap.ID, edges []string, indent string) {
	tw := newTable(c.stdout, 0)
	fmt.Fprintf(tw, "%sfor example:\n", indent)
	for i, id := range chain {
		edge := ""
		if i > 0 {
			edge = "-" + edges[i-1] + "->"
			if edges[i-1] == "" {
				edge = "->"
			}
		}
		fmt.Fprintf(tw, "%s  %s\t%s\t%s\t%s\n", indent, printable(edge), hexAddr(h.Addr(id)), printable(h.TypeName(id)), printable(h.Label(id)))
	}
	tw.Flush()
}

func leaksJSON(h *heap.Heap, paths []string, rep *objgraph.LeakReport) any {
	conv := func(types []objgraph.LeakType) []leakTypeJSON {
		out := []leakTypeJSON{}
		for _, t := range types {
			jt := leakTypeJSON{Type: t.Type, Count: t.Count, Bytes: t.Bytes, Retained: t.Retained, Counts: t.Counts, Groups: []leakGroupJSON{}}
			for _, g := range t.Groups {
				jg := leakGroupJSON{Root: g.Root, Shape: g.Shape, Count: g.Count, Bytes: g.Bytes, Retained: g.Retained, Example: hexAddr(h.Addr(g.Example))}
				if jg.Shape == nil {
					jg.Shape = []objgraph.ShapeStep{}
				}
				jg.Chain = chainJSON(h, g.Chain, g.Edges, false)
				jt.Groups = append(jt.Groups, jg)
			}
			out = append(out, jt)
		}
		return out
	}
	growth := rep.Growth
	if growth == nil {
		growth = []objgraph.TypeCount{}
	}
	return struct {
		Snapshots []string             `json:"snapshots"`
		Objects   []int                `json:"objects"`
		New       int                  `json:"new"`
		Surviving int                  `json:"surviving"`
		Types     []leakTypeJSON       `json:"types"`
		Garbage   []leakTypeJSON       `json:"garbage"`
		Growth    []objgraph.TypeCount `json:"growth"`
	}{paths, rep.Snapshots, rep.New, rep.Surviving, conv(rep.Types), conv(rep.Garbage), growth}
}

// objects spells a count of objects: "1 object", "12,345 objects".
func objects(n int) string {
	if n == 1 {
		return "1 object"
	}
	return units.Commas(uint64(n)) + " objects"
}
