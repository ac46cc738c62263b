package report

// The cow result: what a child forked at the time of the snapshot would
// copy, and what gc.freeze() saves.

import (
	"fmt"
	"io"
	"strings"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// PageCost is a set of pages a child writes to.
type PageCost struct {
	Objects int    `json:"objects"` // objects written to
	Pages   int    `json:"pages"`   // distinct pages
	Bytes   uint64 `json:"bytes"`   // their size
}

// PageShare is the part of the costs a type or a root accounts for.
type PageShare struct {
	Objects      int     `json:"objects"`
	Collected    int     `json:"collected"`     // of which the child's collection visits
	CollectPages float64 `json:"collect_pages"` // share of the collection's pages, to two decimals
	CollectBytes uint64  `json:"collect_bytes"`
	ReadPages    float64 `json:"read_pages"` // share of the reading's pages
	ReadBytes    uint64  `json:"read_bytes"`
}

// COWType is the share of one type.
type COWType struct {
	Type string `json:"type"`
	PageShare
}

// COWRoot is the share of the objects attributed to one root.
type COWRoot struct {
	Root  objgraph.Root `json:"root"`  // garbage for the objects no root reaches
	Label string        `json:"label"` // the root as the text names it
	PageShare
}

// COW is what a child forked at the time of the snapshot would copy.
type COW struct {
	Snapshot     Snapshot            `json:"snapshot"`
	PageSize     int                 `json:"page_size"`
	GCHeaderSize int                 `json:"gc_header_size"`
	Generation   int                 `json:"generation"` // the child's collection is gc.collect(Generation)
	Objects      int                 `json:"objects"`
	Tracked      int                 `json:"tracked"`
	Frozen       int                 `json:"frozen"`
	Immortal     int                 `json:"immortal"`
	Costs        map[string]PageCost `json:"costs"` // memory, collect, collect_frozen, read, collect_read, collect_read_frozen
	Types        []COWType           `json:"types"` // largest share first, as many as asked
	Roots        []COWRoot           `json:"roots"` // largest share first, as many as asked
	Advice       string              `json:"advice"`

	rep *gcmod.COWReport
}

// NewCOW makes the result of a prediction over h, with the first n types
// and roots (0: all), and qualified type names when asked.
func NewCOW(snap Snapshot, h *heap.Heap, rep *gcmod.COWReport, n int, qualified bool) *COW {
	share := func(s gcmod.Share) PageShare {
		ps := float64(rep.PageSize)
		return PageShare{Objects: s.Objects, Collected: s.Collected,
			CollectPages: round2(s.CollectPages), CollectBytes: uint64(s.CollectPages*ps + 0.5),
			ReadPages: round2(s.ReadPages), ReadBytes: uint64(s.ReadPages*ps + 0.5)}
	}
	cost := func(p gcmod.PageCost) PageCost { return PageCost{p.Objects, p.Pages, p.Bytes} }
	r := &COW{Snapshot: snap, PageSize: rep.PageSize, GCHeaderSize: rep.HeaderSize, Generation: rep.Generations - 1,
		Objects: rep.Objects, Tracked: rep.Tracked, Frozen: rep.Frozen, Immortal: rep.Immortal,
		Costs: map[string]PageCost{
			"memory": cost(rep.Memory), "collect": cost(rep.Collect), "collect_frozen": cost(rep.CollectFrozen),
			"read": cost(rep.Read), "collect_read": cost(rep.Both), "collect_read_frozen": cost(rep.BothFrozen),
		},
		Types: []COWType{}, Roots: []COWRoot{}, Advice: rep.Advice(), rep: rep}
	for _, t := range limit(rep.Types, n) {
		name := h.TypeShortName(t.Type)
		if qualified {
			name = h.TypeQualName(t.Type)
		}
		r.Types = append(r.Types, COWType{Type: name, PageShare: share(t.Share)})
	}
	for _, root := range limit(rep.Roots, n) {
		r.Roots = append(r.Roots, COWRoot{Root: objgraph.Root{Kind: root.Kind, Name: root.Name}, Label: root.Label(), PageShare: share(root.Share)})
	}
	return r
}

func (r *COW) WriteText(w io.Writer) error {
	rep := r.rep
	r.Snapshot.WriteText(w)
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
	t := NewTable(Left(""), Right("objects"), Right("pages"), Right("bytes"), Right("of shared"))
	t.Indent = "  "
	for i, row := range rows {
		pct := "shared"
		if i > 0 {
			pct = fmt.Sprintf("%.1f%%", percent(row.cost.Bytes, rep.Memory.Bytes))
		}
		t.Row(row.what, units.Commas(uint64(row.cost.Objects)), units.Commas(uint64(row.cost.Pages)), units.Bytes(row.cost.Bytes), pct)
	}
	t.Write(w)
	fmt.Fprintf(w, "\n%s objects, %s tracked (%s frozen), %s immortal\n",
		units.Commas(uint64(rep.Objects)), units.Commas(uint64(rep.Tracked)), units.Commas(uint64(rep.Frozen)), units.Commas(uint64(rep.Immortal)))

	fmt.Fprintf(w, "\nBy type, each page split evenly among the objects written on it:\n\n")
	names, shares := make([]string, len(r.Types)), make([]PageShare, len(r.Types))
	for i, s := range r.Types {
		names[i], shares[i] = s.Type, s.PageShare
	}
	shareTable(w, "type", names, shares, len(rep.Types))
	fmt.Fprintf(w, "\nBy root, each object counted for the root fewest references away:\n\n")
	names, shares = make([]string, len(r.Roots)), make([]PageShare, len(r.Roots))
	for i, s := range r.Roots {
		names[i], shares[i] = s.Label, s.PageShare
	}
	shareTable(w, "root", names, shares, len(rep.Roots))
	fmt.Fprintln(w)
	for _, line := range wrap(Escape(r.Advice), 79) {
		fmt.Fprintln(w, line)
	}
	return nil
}

// shareTable writes the shares of the types or roots named, of total in
// all: collect, read, objects, what.
func shareTable(w io.Writer, what string, names []string, shares []PageShare, total int) {
	t := NewTable(Right("collect"), Right("read"), Right("objects"), Left(what))
	t.Indent = "  "
	for i, s := range shares {
		t.Row(units.Bytes(s.CollectBytes), units.Bytes(s.ReadBytes), units.Commas(uint64(s.Objects)), names[i])
	}
	t.Write(w)
	more(w, "", total-len(shares), what, "--limit")
}

// wrap breaks text into lines of at most width bytes, between words.
func wrap(text string, width int) []string {
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

func percent(n, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// round2 rounds a page share to two decimals for JSON.
func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
