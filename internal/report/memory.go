package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// Memory is the verdict on the process's memory: how much of its resident
// set, or of its growth, Python objects explain, how much the buffers they
// own explain, and how much is outside both. In JSON the figures are bytes
// named rss_growth, python_growth, buffer_growth and outside_python_growth
// between two snapshots, and rss, python, buffer and outside_python for
// one; rss and outside_python are null when the snapshots recorded no
// resident set.
type Memory struct {
	v objgraph.MemoryVerdict
}

// NewMemory wraps a verdict for printing.
func NewMemory(v objgraph.MemoryVerdict) *Memory { return &Memory{v: v} }

func (m *Memory) MarshalJSON() ([]byte, error) {
	v := m.v
	suffix := ""
	if v.Growth {
		suffix = "_growth"
	}
	var rss, outside *int64
	if v.HasRSS {
		rss, outside = &v.RSS, &v.Outside
	}
	hints := make([]string, len(v.Hints))
	for i, h := range v.Hints {
		hints[i] = h.String()
	}
	doc := map[string]any{
		"rss" + suffix:            rss,
		"python" + suffix:         v.Python,
		"buffer" + suffix:         v.Buffers,
		"outside_python" + suffix: outside,
		"verdict":                 v.Where.String(),
		"hints":                   hints,
	}
	if v.MallocFree != nil {
		doc["malloc_free"+suffix] = *v.MallocFree
	}
	if v.PymallocBlocks != nil {
		doc["pymalloc_blocks"+suffix] = *v.PymallocBlocks
	}
	if v.TracemallocSeen != nil {
		doc["tracemalloc"+suffix] = *v.TracemallocSeen
	}
	return json.Marshal(doc)
}

// signed formats a byte count that may be negative.
func signed(n int64, growth bool) string {
	switch {
	case n < 0:
		return "-" + units.Bytes(uint64(-n))
	case growth:
		return "+" + units.Bytes(uint64(n))
	}
	return units.Bytes(uint64(n))
}

func share(part, whole int64) string {
	if whole <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d%%)", (part*100+whole/2)/whole)
}

// WriteText writes the verdict: one line of figures, one of what
// dominates, and a line per next step.
func (m *Memory) WriteText(w io.Writer) error {
	v := m.v
	g := v.Growth
	if !v.HasRSS {
		what := "Python objects take %s, the buffers they own %s"
		if g {
			what = "Python objects grew %s, the buffers they own %s"
		}
		fmt.Fprintf(w, "memory:  "+what+"; the snapshots recorded no resident set to compare with\n", signed(v.Python, g), signed(v.Buffers, g))
		return nil
	}
	lead := "the resident set is %s"
	if g {
		lead = "the resident set grew %s"
	}
	fmt.Fprintf(w, "memory:  "+lead+": Python objects %s%s, the buffers they own %s%s, outside both %s%s\n",
		signed(v.RSS, g), signed(v.Python, g), share(v.Python, v.RSS), signed(v.Buffers, g), share(v.Buffers, v.RSS),
		signed(v.Outside, g), share(v.Outside, v.RSS))
	switch v.Where {
	case objgraph.WhereOutside:
		fmt.Fprintln(w, "verdict: native — most of it is outside Python objects: C extensions, the C allocator's free lists, or fragmentation")
	case objgraph.WhereBuffers:
		fmt.Fprintln(w, "verdict: buffers — most of it is data buffers Python objects own (numpy arrays, torch tensors, bytearrays, …): see top --bytes --buffers")
	case objgraph.WherePython:
		fmt.Fprintln(w, "verdict: Python — Python objects explain most of it")
	default:
		if g {
			fmt.Fprintf(w, "verdict: too little growth to tell (under %s)\n", units.Bytes(objgraph.MinVerdictGrowth))
		}
	}
	for _, h := range v.Hints {
		switch h {
		case objgraph.HintNativeProfiler:
			fmt.Fprintln(w, "next:    a native profiler shows which C code allocates: memray run --native, then memray flamegraph")
		case objgraph.HintMallocArenas:
			fmt.Fprintf(w, "next:    the C allocator holds %s free in its arenas: glibc arena fragmentation; try MALLOC_ARENA_MAX=2\n", signed(*v.MallocFree, g))
		case objgraph.HintPymallocArenas:
			fmt.Fprintln(w, "next:    Python objects shrank but the process did not: pymalloc arenas held by a few live objects stay resident")
		}
	}
	return nil
}
