package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/golden"
)

// cowFixture writes the snapshot of a server that preloaded its data:
// module app holds a list of 640 Records (48 bytes and a 16-byte GC header
// each, 64 to a 4 KiB page: 10 pages), each Record holds a str of its own
// (64 bytes, untracked: 10 pages), and a local variable of the main thread
// holds a dict in generation 0 with 64 small ints (immortal, as in 3.12).
// With frozen set, every tracked object is in the permanent generation, as
// after gc.freeze().
func cowFixture(t *testing.T, frozen bool) string {
	t.Helper()
	b := heap.NewBuilder()
	m := heap.Meta{Runtime: "CPython", Version: "3.12.1", PID: 4242, PointerSize: 8, GCHeaderSize: 16, PageSize: 4096,
		GC: &heap.GCState{Enabled: true, Thresholds: []int{700, 10, 10}, Counts: []int{1, 0, 0}}}
	g2, g0 := heap.FlagTracked.WithGeneration(2), heap.FlagTracked
	if frozen {
		g2, g0 = heap.FlagTracked|heap.FlagPermanent, heap.FlagTracked|heap.FlagPermanent
		m.GC.FreezeCount = 643
	}
	b.SetMeta(m)
	tMod := b.AddType("module", "builtins.module")
	tList := b.AddType("list", "builtins.list")
	tRec := b.AddType("Record", "app.Record")
	tStr := b.AddType("str", "builtins.str")
	tDict := b.AddType("dict", "builtins.dict")
	tInt := b.AddType("int", "builtins.int")
	mod := b.AddObject(heap.Object{Addr: 0x7f0000000010, Type: tMod, Size: 72, Refcount: 2, Flags: g2.WithKind(heap.KindModule), Label: "app"})
	list := b.AddObject(heap.Object{Addr: 0x7f0000000060, Type: tList, Size: 56, Refcount: 1, Flags: g2, Label: "640 items"})
	b.AddEdge(mod, list, "records")
	for i := range 640 {
		rec := b.AddObject(heap.Object{Addr: 0x7f0000100010 + uint64(i)*64, Type: tRec, Size: 48, Refcount: 1, Flags: g2})
		s := b.AddObject(heap.Object{Addr: 0x7f0000200000 + uint64(i)*64, Type: tStr, Size: 60, Refcount: 1, Label: "'name'"})
		b.AddIndexEdge(list, rec, i)
		b.AddEdge(rec, s, "name")
	}
	d := b.AddObject(heap.Object{Addr: 0x7f0000300010, Type: tDict, Size: 2280, Refcount: 1, Flags: g0, Label: "64 items"})
	for i := range 64 {
		n := b.AddObject(heap.Object{Addr: 0x560000001000 + uint64(i)*32, Type: tInt, Size: 28, Flags: heap.FlagImmortal})
		b.AddIndexEdge(d, n, i)
	}
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	b.AddRoot(heap.Root{Kind: heap.RootLocal, Name: "MainThread: serve: counts", Target: d})
	return writeSnapshot(t, b, "preload.ogs")
}

func TestCOW(t *testing.T) {
	snap := cowFixture(t, false)
	frozen := cowFixture(t, true)
	for _, tc := range []struct {
		name string
		args []string
		snap string
	}{
		{"cow", []string{"cow"}, snap},
		{"cow-generation0", []string{"cow", "--generation", "0"}, snap},
		{"cow-page-size", []string{"cow", "--page-size", "16384", "--qualified"}, snap},
		{"cow-limit", []string{"cow", "-n", "1"}, snap},
		{"cow-frozen", []string{"cow"}, frozen},
		{"cow-json", []string{"cow", "--json"}, snap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(append(tc.args, tc.snap)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			golden.Check(t, tc.name+".stdout", strings.ReplaceAll(out, tc.snap, "SNAP"))
			golden.Check(t, tc.name+".stderr", strings.ReplaceAll(errOut, tc.snap, "SNAP"))
		})
	}
}

func TestCOWJSON(t *testing.T) {
	snap := cowFixture(t, false)
	out, errOut, code := runCLI("cow", "--json", snap)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		PageSize int `json:"page_size"`
		Costs    map[string]struct{ Objects, Pages int }
		Types    []struct {
			Type         string
			CollectPages float64 `json:"collect_pages"`
		}
		Roots  []struct{ Root struct{ Kind, Name string } }
		Advice string
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The headers of the module and the list share a page; the Records'
	// fill 10 pages and the dict's one more.
	if c := v.Costs["collect"]; v.PageSize != 4096 || c.Objects != 643 || c.Pages != 12 {
		t.Errorf("page size %d, collect %+v", v.PageSize, c)
	}
	if c := v.Costs["collect_frozen"]; c.Pages != 0 {
		t.Errorf("collect after gc.freeze() %+v", c)
	}
	// The immortal ints are not written to.
	if c := v.Costs["read"]; c.Objects != 1283 || c.Pages != 22 {
		t.Errorf("read %+v", c)
	}
	if len(v.Types) == 0 || v.Types[0].Type != "Record" || v.Types[0].CollectPages != 10 {
		t.Errorf("types %+v", v.Types)
	}
	if len(v.Roots) != 2 || v.Roots[0].Root.Kind != "module" || v.Roots[0].Root.Name != "app" || v.Roots[1].Root.Kind != "local" {
		t.Errorf("roots %+v", v.Roots)
	}
	if !strings.HasPrefix(v.Advice, "Freezing pays") {
		t.Errorf("advice %q", v.Advice)
	}
}

func TestCOWUsage(t *testing.T) {
	snap := cowFixture(t, false)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"cow"}, 2, "missing SNAPSHOT"},
		{[]string{"cow", snap, snap}, 2, "unexpected argument"},
		{[]string{"cow", "--page-size", "3000", snap}, 2, "--page-size must be a power of two"},
		{[]string{"cow", "--generation", "3", snap}, 2, "--generation must be 0, 1 or 2"},
		{[]string{"cow", "-n", "-1", snap}, 2, "--limit must be 0 or more"},
		{[]string{"cow", "missing.ogs"}, 1, "missing.ogs"},
		{[]string{"cow", "--help"}, 0, ""},
	} {
		_, errOut, code := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("objgraph %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.stderr)
		}
	}
}
