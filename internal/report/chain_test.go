package report

import (
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

func TestChainLine(t *testing.T) {
	steps := []objgraph.ShapeStep{{Type: "module"}, {Edge: "__dict__", Type: "dict"}, {Edge: "", Type: "list"}, {Edge: "[*]", Type: "Foo"}}
	for _, tc := range []struct {
		root  objgraph.Root
		steps []objgraph.ShapeStep
		want  string
	}{
		{objgraph.Root{Kind: heap.RootModule, Name: "app"}, steps, "module app → __dict__ dict → list → [*] Foo"},
		{objgraph.External, []objgraph.ShapeStep{{Type: "list"}, {Edge: "[0]", Type: "dict"}}, "held from outside the graph: list → [0] dict"},
		{objgraph.Root{Kind: heap.RootLocal, Name: "MainThread: run (a.py:1) x"}, steps[:1], "local MainThread: run (a.py:1) x"},
		{objgraph.Root{Kind: heap.RootModule, Name: "\x1b[2J"}, []objgraph.ShapeStep{{Type: "module"}, {Edge: "k\n", Type: "T\a"}}, `module \x1b[2J → k\n T\a`},
	} {
		if got := ChainLine(tc.root, tc.steps); got != tc.want {
			t.Errorf("ChainLine(%v, %v) = %q, want %q", tc.root, tc.steps, got, tc.want)
		}
	}
	cycle := []objgraph.ShapeStep{{Type: "Conn"}, {Edge: "handlers", Type: "dict"}, {Edge: "", Type: "method"}}
	if got, want := CycleLine(cycle, "__self__"), "Conn → handlers dict → method → __self__ (back to first)"; got != want {
		t.Errorf("CycleLine = %q, want %q", got, want)
	}
	if got, want := CycleLine(cycle[:1], ""), "Conn → (back to first)"; got != want {
		t.Errorf("CycleLine of one unnamed reference = %q, want %q", got, want)
	}
}

func TestNewChain(t *testing.T) {
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tFoo := b.AddType("Foo", "app.Foo")
	mod := b.AddObject(heap.Object{Addr: 0x10, Type: tMod, Size: 72, Refcount: 1, Flags: heap.FlagTracked})
	foo := b.AddObject(heap.Object{Addr: 0x20, Type: tFoo, Size: 48, Refcount: 1, Flags: heap.FlagTracked, Label: "x"})
	b.AddEdge(mod, foo, "")
	b.AddEdge(mod, foo, "second")
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	c := NewChain(h, objgraph.Root{Kind: heap.RootModule, Name: "app"}, []heap.ID{mod, foo}, true)
	if c.Hops[0].Edge != nil || c.Hops[1].Edge == nil || *c.Hops[1].Edge != "" || c.Hops[1].Type != "app.Foo" {
		t.Errorf("hops %+v: want no edge, then the first (unnamed) reference to app.Foo", c.Hops)
	}
	if got, want := c.Line(), "module app → app.Foo"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	var b2 strings.Builder
	c.Table().Write(&b2)
	want := "hop  edge  address  type             label\n0          0x10     builtins.module\n1    -     0x20     app.Foo          x\n"
	if b2.String() != want {
		t.Errorf("Table:\n%s\nwant:\n%s", b2.String(), want)
	}
}

func TestSnapshotText(t *testing.T) {
	s := Snapshot{File: "a\x1b.ogs", Runtime: "CPython", Version: "3.12.1", PID: 7, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Objects: 12345, Tracked: 2, Edges: 3, Roots: 1, Bytes: 2048}
	var b strings.Builder
	s.WriteText(&b)
	want := "a\\x1b.ogs: CPython 3.12.1, pid 7, 2026-01-02 03:04:05 UTC\n12,345 objects (2 gc-tracked), 2.0 KiB, 3 edges, 1 roots\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
