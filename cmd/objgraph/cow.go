package main

// The cow command: what a child forked at the time of the snapshot would
// copy, and what gc.freeze() saves.

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
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

type pageCostJSON struct {
	Objects int    `json:"objects"`
	Pages   int    `json:"pages"`
	Bytes   uint64 `json:"bytes"`
}

type shareJSON struct {
	Objects      int     `json:"objects"`
	Collected    int     `json:"collected"`
	CollectPages float64 `json:"collect_pages"`
	CollectBytes uint64  `json:"collect_bytes"`
	ReadPages    float64 `json:"read_pages"`
	ReadBytes    uint64  `json:"read_bytes"`
}

type cowTypeJSON struct {
	Type string `json:"type"`
	shareJSON
}

type cowRootJSON struct {
	Kind  string `json:"kind"` // "" for the objects no root reaches
	Name  string `json:"name"`
	Label string `json:"label"`
	shareJSON
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
	types, roots := rep.Types, rep.Roots
	if n := o.limit; n > 0 {
		types, roots = limited(types, n), limited(roots, n)
	}
	typeName := func(t heap.TypeID) string {
		if o.qualified {
			return h.TypeQualName(t)
		}
		return h.TypeShortName(t)
	}
	share := func(s gcmod.Share) shareJSON {
		ps := float64(rep.PageSize)
		return shareJSON{Objects: s.Objects, Collected: s.Collected,
			CollectPages: cowRound(s.CollectPages), CollectBytes: uint64(s.CollectPages*ps + 0.5),
			ReadPages: cowRound(s.ReadPages), ReadBytes: uint64(s.ReadPages*ps + 0.5)}
	}
	sum := summarize(args[0], h)
	if c.json {
		cost := func(p gcmod.PageCost) pageCostJSON { return pageCostJSON{p.Objects, p.Pages, p.Bytes} }
		tj := make([]cowTypeJSON, len(types))
		for i, t := range types {
			tj[i] = cowTypeJSON{Type: typeName(t.Type), shareJSON: share(t.Share)}
		}
		rj := make([]cowRootJSON, len(roots))
		for i, r := range roots {
			rj[i] = cowRootJSON{Name: r.Name, Label: r.Label(), shareJSON: share(r.Share)}
			if r.Kind != 0 {
				rj[i].Kind = r.Kind.String()
			}
		}
		return c.writeJSON(struct {
			Snapshot     snapshotSummary         `json:"snapshot"`
			PageSize     int                     `json:"page_size"`
			GCHeaderSize int                     `json:"gc_header_size"`
			Generation   int                     `json:"generation"`
			Objects      int                     `json:"objects"`
			Tracked      int                     `json:"tracked"`
			Frozen       int                     `json:"frozen"`
			Immortal     int                     `json:"immortal"`
			Costs        map[string]pageCostJSON `json:"costs"`
			Types        []cowTypeJSON           `json:"types"`
			Roots        []cowRootJSON           `json:"roots"`
			Advice       string                  `json:"advice"`
		}{sum, rep.PageSize, rep.HeaderSize, rep.Generations - 1, rep.Objects, rep.Tracked, rep.Frozen, rep.Immortal,
			map[string]pageCostJSON{
				"memory": cost(rep.Memory), "collect": cost(rep.Collect), "collect_frozen": cost(rep.CollectFrozen),
				"read": cost(rep.Read), "collect_read": cost(rep.Both), "collect_read_frozen": cost(rep.BothFrozen),
			}, tj, rj, rep.Advice()})
	}

	sum.print(c)
	w := c.stdout
	collect := [...]string{"gc.collect(0) in the child", "gc.collect(1) in the child", "gc.collect() in the child"}[rep.Generations-1]
	fmt.Fprintf(w, "\nA child forked at the time of the snapshot (%d-byte pages, %d-byte GC headers):\n\n", rep.PageSize, rep.HeaderSize)
	rows := []struct {
		what string
		cost gcmod.PageCost
	}{
		{"the objects and their GC headers", rep.Memory},
		{collect, rep.Collect},
		{"  after gc.freeze() in the parent", rep.CollectFrozen},
		{"reading every object", rep.Read},
		{"collecting and reading", rep.Both},
		{"  after gc.freeze() in the parent", rep.BothFrozen},
	}
	table := report.NewTable(report.Left(""), report.Right("objects"), report.Right("pages"), report.Right("bytes"), report.Right("of shared"))
	table.Indent = "  "
	for i, r := range rows {
		pct := fmt.Sprintf("%.1f%%", cowPct(r.cost.Bytes, rep.Memory.Bytes))
		if i == 0 {
			pct = "shared"
		}
		table.Row(r.what, units.Commas(uint64(r.cost.Objects)), units.Commas(uint64(r.cost.Pages)), units.Bytes(r.cost.Bytes), pct)
	}
	table.Write(w)
	fmt.Fprintf(w, "\n%s objects, %s tracked (%s frozen), %s immortal\n",
		units.Commas(uint64(rep.Objects)), units.Commas(uint64(rep.Tracked)), units.Commas(uint64(rep.Frozen)), units.Commas(uint64(rep.Immortal)))

	bytesOf := func(pages float64) string { return units.Bytes(uint64(pages*float64(rep.PageSize) + 0.5)) }
	fmt.Fprintf(w, "\nBy type, each page split evenly among the objects written on it:\n\n")
	table = report.NewTable(report.Right("collect"), report.Right("read"), report.Right("objects"), report.Left("type"))
	table.Indent = "  "
	for _, t := range types {
		table.Row(bytesOf(t.CollectPages), bytesOf(t.ReadPages), units.Commas(uint64(t.Objects)), typeName(t.Type))
	}
	table.Write(w)
	if len(types) < len(rep.Types) {
		fmt.Fprintf(w, "(%d more types; --limit 0 shows all)\n", len(rep.Types)-len(types))
	}
	fmt.Fprintf(w, "\nBy root, each object counted for the root fewest references away:\n\n")
	table = report.NewTable(report.Right("collect"), report.Right("read"), report.Right("objects"), report.Left("root"))
	table.Indent = "  "
	for _, r := range roots {
		table.Row(bytesOf(r.CollectPages), bytesOf(r.ReadPages), units.Commas(uint64(r.Objects)), r.Label())
	}
	table.Write(w)
	if len(roots) < len(rep.Roots) {
		fmt.Fprintf(w, "(%d more roots; --limit 0 shows all)\n", len(rep.Roots)-len(roots))
	}
	fmt.Fprintln(w)
	for _, line := range cowWrap(report.Escape(rep.Advice()), 79) {
		fmt.Fprintln(w, line)
	}
	return nil
}

// cowWrap breaks text into lines of at most width bytes, between words.
func cowWrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func cowPct(n, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// cowRound rounds a page share to two decimals for JSON.
func cowRound(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
