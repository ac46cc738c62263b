package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type topOptions struct {
	limit     int
	all       bool
	tracked   bool // the old flag, now the default
	qualified bool
	byBytes   bool
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
		}, runTop),
	})
}

// snapshotSummary is the header every analysis prints.
type snapshotSummary struct {
	File     string    `json:"file"`
	Runtime  string    `json:"runtime,omitempty"`
	Version  string    `json:"version,omitempty"`
	PID      int       `json:"pid,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	Objects  int       `json:"objects"`
	Tracked  int       `json:"tracked"`
	Edges    int       `json:"edges"`
	Roots    int       `json:"roots"`
	Bytes    uint64    `json:"bytes"`
	Dangling int       `json:"dangling_edges,omitempty"`
}

func summarize(path string, h *heap.Heap) snapshotSummary {
	m := h.Meta()
	s := snapshotSummary{File: path, Runtime: m.Runtime, Version: m.Version, PID: m.PID, Time: m.Time,
		Objects: h.Len(), Edges: h.NumEdges(), Roots: len(h.Roots()), Bytes: h.TotalSize(), Dangling: h.DanglingEdges()}
	for id := range h.All() {
		if h.Flags(id).Tracked() {
			s.Tracked++
		}
	}
	return s
}

func (s snapshotSummary) print(c *cmdEnv) {
	fmt.Fprintf(c.stdout, "%s:", s.File)
	if s.Runtime != "" {
		fmt.Fprintf(c.stdout, " %s %s", s.Runtime, s.Version)
	}
	if s.PID != 0 {
		fmt.Fprintf(c.stdout, ", pid %d", s.PID)
	}
	if !s.Time.IsZero() {
		fmt.Fprintf(c.stdout, ", %s", s.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	fmt.Fprintf(c.stdout, "\n%s objects (%s gc-tracked), %s, %s edges, %s roots\n",
		units.Commas(uint64(s.Objects)), units.Commas(uint64(s.Tracked)), units.Bytes(s.Bytes), units.Commas(uint64(s.Edges)), units.Commas(uint64(s.Roots)))
	if s.Dangling > 0 {
		fmt.Fprintf(c.stderr, "objgraph: %s: %d edges or roots point outside the snapshot and were dropped\n", s.File, s.Dangling)
	}
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
	stats := objgraph.MostCommonTypes(h, 0, objgraph.StatsOptions{Qualified: o.qualified, All: o.all})
	if o.byBytes {
		objgraph.SortByBytes(stats)
	}
	total := len(stats)
	if o.limit > 0 && len(stats) > o.limit {
		stats = stats[:o.limit]
	}
	sum := summarize(args[0], h)
	if c.json {
		type row struct {
			Type  string `json:"type"`
			Count int    `json:"count"`
			Bytes uint64 `json:"bytes"`
		}
		rows := make([]row, len(stats))
		for i, s := range stats {
			rows[i] = row{s.Type, s.Count, s.Bytes}
		}
		return c.writeJSON(struct {
			Snapshot snapshotSummary `json:"snapshot"`
			Types    int             `json:"types"`
			Top      []row           `json:"top"`
		}{sum, total, rows})
	}
	sum.print(c)
	fmt.Fprintln(c.stdout)
	cw, bw := len("count"), len("bytes")
	for _, s := range stats {
		cw = max(cw, len(units.Commas(uint64(s.Count))))
		bw = max(bw, len(units.Commas(s.Bytes)))
	}
	fmt.Fprintf(c.stdout, "%*s  %*s  %s\n", cw, "count", bw, "bytes", "type")
	for _, s := range stats {
		fmt.Fprintf(c.stdout, "%*s  %*s  %s\n", cw, units.Commas(uint64(s.Count)), bw, units.Commas(s.Bytes), s.Type)
	}
	if total > len(stats) {
		fmt.Fprintf(c.stdout, "(%d more types; --limit 0 shows all)\n", total-len(stats))
	}
	return nil
}
