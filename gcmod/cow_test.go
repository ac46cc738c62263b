package gcmod_test

import (
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
)

// cowHeap is a small heap laid out across 4 KiB pages (page n starts at
// n*0x1000), with 16-byte GC headers:
//
//	a  0x1010  tracked, generation 2      header on page 1
//	b  0x1fe0  tracked, generation 2      header on page 1
//	c  0x2000  tracked, generation 2      header on page 1, object on page 2
//	d  0x2100  untracked                  page 2
//	e  0x3000  untracked, immortal        page 3
//	f  0x4010  tracked, frozen            page 4
//	g  0x5010  tracked, generation 0      page 5
//
// Module app holds a, which holds b; a local variable holds c, which holds
// b too; nothing holds d, e, f or g.
func cowHeap(t testing.TB) (*heap.Heap, map[string]heap.ID) {
	t.Helper()
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.12.1", PointerSize: 8, GCHeaderSize: 16, PageSize: 4096})
	tNode := b.AddType("Node", "app.Node")
	tStr := b.AddType("str", "builtins.str")
	g2 := heap.FlagTracked.WithGeneration(2)
	ids := map[string]heap.ID{}
	for _, o := range []struct {
		name  string
		addr  uint64
		typ   heap.TypeID
		flags heap.Flags
	}{
		{"a", 0x1010, tNode, g2},
		{"b", 0x1fe0, tNode, g2},
		{"c", 0x2000, tNode, g2},
		{"d", 0x2100, tStr, 0},
		{"e", 0x3000, tStr, heap.FlagImmortal},
		{"f", 0x4010, tNode, heap.FlagTracked | heap.FlagPermanent},
		{"g", 0x5010, tNode, heap.FlagTracked},
	} {
		ids[o.name] = b.AddObject(heap.Object{Addr: o.addr, Type: o.typ, Size: 48, Refcount: 1, Flags: o.flags})
	}
	b.AddEdge(ids["a"], ids["b"], "next")
	b.AddEdge(ids["c"], ids["b"], "next")
	b.AddRoot(heap.Root{Kind: heap.RootLocal, Name: "MainThread: main: c", Target: ids["c"]})
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: ids["a"]})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h, ids
}

func TestPredictCOW(t *testing.T) {
	h, ids := cowHeap(t)
	cost := func(objects, pages int) gcmod.PageCost {
		return gcmod.PageCost{Objects: objects, Pages: pages, Bytes: uint64(pages) * 4096}
	}
	for _, tc := range []struct {
		name                                   string
		opts                                   gcmod.COWOptions
		memory, collect, frozen, read, both    gcmod.PageCost
		objects, tracked, frozenObjs, immortal int
	}{
		{
			name:   "full",
			memory: cost(7, 5), // pages 1 to 5
			// the headers of a, b, c (page 1) and g (page 5); f is frozen
			collect: cost(4, 2),
			frozen:  cost(0, 0),
			// every object but the immortal e: pages 1, 2, 4, 5
			read:    cost(6, 4),
			both:    cost(6, 4),
			objects: 7, tracked: 5, frozenObjs: 1, immortal: 1,
		},
		{
			name:    "generation0",
			opts:    gcmod.COWOptions{Generations: 1},
			memory:  cost(7, 5),
			collect: cost(1, 1), // g only
			frozen:  cost(0, 0),
			read:    cost(6, 4),
			both:    cost(6, 4),
			objects: 7, tracked: 5, frozenObjs: 1, immortal: 1,
		},
		{
			name:    "bigpages",
			opts:    gcmod.COWOptions{PageSize: 16384}, // everything on page 0 but g, on page 1
			memory:  gcmod.PageCost{Objects: 7, Pages: 2, Bytes: 2 * 16384},
			collect: gcmod.PageCost{Objects: 4, Pages: 2, Bytes: 2 * 16384},
			frozen:  gcmod.PageCost{},
			read:    gcmod.PageCost{Objects: 6, Pages: 2, Bytes: 2 * 16384},
			both:    gcmod.PageCost{Objects: 6, Pages: 2, Bytes: 2 * 16384},
			objects: 7, tracked: 5, frozenObjs: 1, immortal: 1,
		},
		{
			name:    "filter",
			opts:    gcmod.COWOptions{Objects: func(id heap.ID) bool { return id == ids["c"] || id == ids["d"] }},
			memory:  cost(2, 2),
			collect: cost(1, 1), // c's header, on page 1
			frozen:  cost(0, 0),
			read:    cost(2, 1), // c and d, both on page 2
			both:    cost(2, 2),
			objects: 2, tracked: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := gcmod.PredictCOW(h, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want gcmod.PageCost
			}{
				{"Memory", rep.Memory, tc.memory},
				{"Collect", rep.Collect, tc.collect},
				{"CollectFrozen", rep.CollectFrozen, tc.frozen},
				{"Read", rep.Read, tc.read},
				{"Both", rep.Both, tc.both},
				{"BothFrozen", rep.BothFrozen, tc.read},
			} {
				if c.got != c.want {
					t.Errorf("%s = %+v, want %+v", c.what, c.got, c.want)
				}
			}
			if rep.Objects != tc.objects || rep.Tracked != tc.tracked || rep.Frozen != tc.frozenObjs || rep.Immortal != tc.immortal {
				t.Errorf("objects %d, tracked %d, frozen %d, immortal %d; want %d, %d, %d, %d",
					rep.Objects, rep.Tracked, rep.Frozen, rep.Immortal, tc.objects, tc.tracked, tc.frozenObjs, tc.immortal)
			}
			// The shares add up to the costs.
			var collect, read float64
			for _, s := range rep.Types {
				collect += s.CollectPages
				read += s.ReadPages
			}
			if !near(collect, float64(rep.Collect.Pages)) || !near(read, float64(rep.Read.Pages)) {
				t.Errorf("type shares add up to %.3f and %.3f pages; the costs are %d and %d",
					collect, read, rep.Collect.Pages, rep.Read.Pages)
			}
			collect, read = 0, 0
			for _, s := range rep.Roots {
				collect += s.CollectPages
				read += s.ReadPages
			}
			if !near(collect, float64(rep.Collect.Pages)) || !near(read, float64(rep.Read.Pages)) {
				t.Errorf("root shares add up to %.3f and %.3f pages; the costs are %d and %d",
					collect, read, rep.Collect.Pages, rep.Read.Pages)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestPredictCOWShares(t *testing.T) {
	h, _ := cowHeap(t)
	rep, err := gcmod.PredictCOW(h, gcmod.COWOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Roots {
		got = append(got, r.Label())
	}
	// app holds a and b (b is one reference from app and from the local
	// variable: the module wins); the local holds c; nothing holds the rest.
	want := []string{"objects no root reaches", "module app", "local MainThread: main: c"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("roots %q, want %q", got, want)
	}
	for _, r := range rep.Roots {
		switch r.Label() {
		case "module app":
			// a and b share page 1's header writes with c: 2/3 of a page;
			// their counts are alone on page 1.
			if r.Objects != 2 || r.Collected != 2 || !near(r.CollectPages, 2.0/3) || !near(r.ReadPages, 1) {
				t.Errorf("module app: %+v", r.Share)
			}
		case "local MainThread: main: c":
			// c: 1/3 of page 1 for its header, 1/2 of page 2 (with d) for
			// its count.
			if r.Objects != 1 || !near(r.CollectPages, 1.0/3) || !near(r.ReadPages, 0.5) {
				t.Errorf("local: %+v", r.Share)
			}
		case "objects no root reaches":
			// d, e, f, g: g's header page; the counts of d (half of page
			// 2), f and g (pages 4 and 5); e is immortal.
			if r.Objects != 4 || r.Collected != 1 || !near(r.CollectPages, 1) || !near(r.ReadPages, 2.5) {
				t.Errorf("no root: %+v", r.Share)
			}
		}
	}
	if len(rep.Types) != 2 || rep.Types[0].Name != "app.Node" || rep.Types[0].Objects != 5 || rep.Types[1].Name != "builtins.str" {
		t.Errorf("types %+v", rep.Types)
	}
}

func TestPredictCOWErrors(t *testing.T) {
	h, _ := cowHeap(t)
	for _, tc := range []struct {
		opts gcmod.COWOptions
		want string
	}{
		{gcmod.COWOptions{PageSize: 3000}, "predicting copy-on-write: page size 3000 is not a power of two"},
		{gcmod.COWOptions{PageSize: -4096}, "predicting copy-on-write: page size -4096 is not a power of two"},
		{gcmod.COWOptions{Generations: 4}, "predicting copy-on-write: 4 generations; want 1 to 3"},
	} {
		if _, err := gcmod.PredictCOW(h, tc.opts); err == nil || err.Error() != tc.want {
			t.Errorf("PredictCOW(%+v): error %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestPredictCOWDefaults(t *testing.T) {
	for _, tc := range []struct {
		name           string
		meta           heap.Meta
		page, hdr      int
		collectPages   int
		collectObjects int
	}{
		// With no page size recorded, 4096; with no header size, two
		// pointers: the object at 0x1008 has its 8-byte header on page 1.
		{"32-bit", heap.Meta{PointerSize: 4}, 4096, 8, 1, 1},
		{"unknown", heap.Meta{}, 4096, 16, 1, 1},
		{"recorded", heap.Meta{PageSize: 65536, GCHeaderSize: 16}, 65536, 16, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := heap.NewBuilder()
			b.SetMeta(tc.meta)
			typ := b.AddType("list", "builtins.list")
			b.AddObject(heap.Object{Addr: 0x1008, Type: typ, Size: 56, Refcount: 1, Flags: heap.FlagTracked})
			h, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := gcmod.PredictCOW(h, gcmod.COWOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.PageSize != tc.page || rep.HeaderSize != tc.hdr || rep.Collect.Pages != tc.collectPages || rep.Collect.Objects != tc.collectObjects {
				t.Errorf("page size %d, header %d, collect %+v", rep.PageSize, rep.HeaderSize, rep.Collect)
			}
		})
	}
}

func TestPredictCOWEmpty(t *testing.T) {
	h, err := heap.NewBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gcmod.PredictCOW(h, gcmod.COWOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Memory.Pages != 0 || rep.Collect.Pages != 0 || len(rep.Types) != 0 || len(rep.Roots) != 0 {
		t.Errorf("empty heap: %+v", rep)
	}
	if a := rep.Advice(); !strings.Contains(a, "no tracked objects") {
		t.Errorf("advice %q", a)
	}
}

func TestCOWAdvice(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  gcmod.COWReport
		want []string
	}{
		{"frozen already", gcmod.COWReport{Tracked: 10, Frozen: 10, Memory: gcmod.PageCost{Pages: 10, Bytes: 40960}},
			[]string{"frozen already"}},
		{"little", gcmod.COWReport{Tracked: 10, Memory: gcmod.PageCost{Pages: 1000, Bytes: 1000 * 4096},
			Collect: gcmod.PageCost{Objects: 10, Pages: 2, Bytes: 8192}}, []string{"Freezing saves little", "8.0 KiB"}},
		{"pays", gcmod.COWReport{Tracked: 300000, Memory: gcmod.PageCost{Pages: 20000, Bytes: 20000 * 4096},
			Collect:    gcmod.PageCost{Objects: 300000, Pages: 5000, Bytes: 5000 * 4096},
			Read:       gcmod.PageCost{Objects: 300000, Pages: 20000, Bytes: 20000 * 4096},
			Both:       gcmod.PageCost{Objects: 300000, Pages: 20000, Bytes: 20000 * 4096},
			BothFrozen: gcmod.PageCost{Objects: 300000, Pages: 20000, Bytes: 20000 * 4096}},
			[]string{"Freezing pays", "19.5 MiB (5,000 pages, 25% of the 78.1 MiB", "19.5 MiB saved", "gc.freeze() right before fork",
				"reads every object copies 78.1 MiB", "(the same if it collects as well)", "shared_memory"}},
		{"reads little", gcmod.COWReport{Tracked: 300000, Memory: gcmod.PageCost{Pages: 20000, Bytes: 20000 * 4096},
			Collect: gcmod.PageCost{Objects: 300000, Pages: 5000, Bytes: 5000 * 4096},
			Read:    gcmod.PageCost{Objects: 10, Pages: 2, Bytes: 8192}},
			[]string{"Freezing pays", "Reading every object would copy only 8.0 KiB more."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.rep.Advice()
			for _, w := range tc.want {
				if !strings.Contains(a, w) {
					t.Errorf("advice %q lacks %q", a, w)
				}
			}
		})
	}
}
