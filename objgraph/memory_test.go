package objgraph_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// memoryHeap is a snapshot of a process with the given resident set, whose
// heap is a list holding n bytearrays of 1 MiB (their items counted in
// their sizes).
func memoryHeap(t testing.TB, rss uint64, n int) *heap.Heap {
	b := heap.NewBuilder()
	mem, _ := json.Marshal(map[string]any{"rss": rss, "malloc": map[string]uint64{"arena": 1 << 20, "free": 1 << 19}})
	b.SetMeta(heap.Meta{Runtime: "CPython", Extra: map[string]json.RawMessage{"memory": mem}})
	tl := b.AddType("list", "builtins.list")
	tb := b.AddType("bytearray", "builtins.bytearray")
	lst := b.AddObject(heap.Object{Addr: 0x1000, Type: tl, Size: 1 << 20, Flags: heap.FlagTracked})
	for i := range n {
		id := b.AddObject(heap.Object{Addr: 0x2000 + uint64(i)*0x100, Type: tb, Size: 56 + 1<<20})
		b.AddEdge(lst, id, "")
		b.SetBuffer(id, heap.Buffer{Owned: 1 << 20, InSize: 1 << 20})
	}
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func ExampleNewMemoryGrowthVerdict() {
	first := objgraph.NewFootprint(memoryHeap(nil, 30<<20, 0))
	// 10 bytearrays of 1 MiB more, and 40 MiB that no Python object explains
	last := objgraph.NewFootprint(memoryHeap(nil, 80<<20, 10))
	v := objgraph.NewMemoryGrowthVerdict(first, last)
	fmt.Printf("rss %+d MiB: python %+d KiB, buffers %+d MiB, outside %+d MiB\n", v.RSS>>20, v.Python>>10, v.Buffers>>20, v.Outside>>20)
	fmt.Println("verdict:", v.Where, "hints:", v.Hints)
	// Output:
	// rss +50 MiB: python +0 KiB, buffers +10 MiB, outside +39 MiB
	// verdict: outside hints: [native_profiler]
}

func ExampleNewMemoryVerdict() {
	v := objgraph.NewMemoryVerdict(objgraph.NewFootprint(memoryHeap(nil, 48<<20, 40)))
	fmt.Printf("rss %d MiB: python %d MiB, buffers %d MiB; verdict %s\n", v.RSS>>20, v.Python>>20, v.Buffers>>20, v.Where)
	// Output:
	// rss 48 MiB: python 1 MiB, buffers 40 MiB; verdict buffers
}

func TestMemoryVerdict(t *testing.T) {
	u := func(n uint64) *uint64 { return &n }
	fp := func(rss *uint64, python, buffers uint64, free uint64) objgraph.Footprint {
		pm := &heap.ProcessMemory{RSS: rss, Malloc: &heap.MallocMemory{Free: free}}
		return objgraph.Footprint{Python: python, Buffers: buffers, Process: pm}
	}
	const M = 1 << 20
	base := fp(u(100*M), 20*M, 0, 0)
	cases := []struct {
		name  string
		last  objgraph.Footprint
		where objgraph.Where
		hints []objgraph.Hint
	}{
		{"python", fp(u(200*M), 110*M, 0, 0), objgraph.WherePython, nil},
		{"buffers", fp(u(200*M), 25*M, 80*M, 0), objgraph.WhereBuffers, nil},
		{"native", fp(u(200*M), 21*M, 0, 0), objgraph.WhereOutside, []objgraph.Hint{objgraph.HintNativeProfiler}},
		{"arenas", fp(u(200*M), 21*M, 0, 60*M), objgraph.WhereOutside, []objgraph.Hint{objgraph.HintNativeProfiler, objgraph.HintMallocArenas}},
		{"python freed, process kept", fp(u(200*M), 5*M, 0, 0), objgraph.WhereOutside, []objgraph.Hint{objgraph.HintNativeProfiler, objgraph.HintPymallocArenas}},
		{"noise", fp(u(110*M), 21*M, 0, 0), objgraph.WhereUnknown, nil},
		{"no rss", fp(nil, 60*M, 0, 0), objgraph.WhereUnknown, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := objgraph.NewMemoryGrowthVerdict(base, c.last)
			if v.Where != c.where || fmt.Sprint(v.Hints) != fmt.Sprint(c.hints) {
				t.Errorf("verdict %v %v, want %v %v (%+v)", v.Where, v.Hints, c.where, c.hints, v)
			}
			if v.HasRSS && v.RSS != v.Python+v.Buffers+v.Outside {
				t.Errorf("the parts %d+%d+%d do not add up to %d", v.Python, v.Buffers, v.Outside, v.RSS)
			}
			if !v.HasRSS && (v.RSS != 0 || v.Outside != 0) {
				t.Errorf("no resident set, but RSS %d and outside %d", v.RSS, v.Outside)
			}
		})
	}
}
