package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/golden"

	"github.com/objgraph-go/objgraph/heap"
)

// gcFixture writes a snapshot with reference cycles: two Foo objects
// referring to each other; a list that refers to itself and holds a dict;
// a Conn whose handler dict holds bound methods of itself; an object with a
// legacy finalizer in a cycle, holding a Foo; a Fin with __del__ referring
// to itself, in generation 0; a frozen cycle; a module holding a Foo; and a
// Foo that only an untracked tuple refers to (so it looks held from
// outside). With state false the snapshot records no collector state.
func gcFixture(t *testing.T, state bool) string {
	t.Helper()
	b := heap.NewBuilder()
	m := heap.Meta{Runtime: "CPython", Version: "3.11.7", PID: 4242}
	if state {
		m.GC = &heap.GCState{Enabled: true, Thresholds: []int{700, 10, 10}, Counts: []int{12, 3, 1}, FreezeCount: 2}
	}
	b.SetMeta(m)
	tFoo := b.AddType("Foo", "app.Foo")
	tList := b.AddType("list", "builtins.list")
	tDict := b.AddType("dict", "builtins.dict")
	tConn := b.AddType("Conn", "app.Conn")
	tMeth := b.AddType("method", "builtins.method")
	tLeg := b.AddType("Legacy", "app.Legacy")
	tFin := b.AddType("Fin", "app.Fin")
	tMod := b.AddType("module", "builtins.module")
	tTuple := b.AddType("tuple", "builtins.tuple")
	addr := uint64(0x7f0000001000)
	obj := func(t heap.TypeID, size, rc uint64, f heap.Flags, label string) heap.ID {
		addr += 0x40
		return b.AddObject(heap.Object{Addr: addr, Type: t, Size: size, Refcount: rc, Flags: f, Label: label})
	}
	g2 := heap.FlagTracked.WithGeneration(2)
	a := obj(tFoo, 56, 1, g2, "")
	c := obj(tFoo, 56, 1, g2, "")
	b.AddEdge(a, c, "peer")
	b.AddEdge(c, a, "peer")
	l := obj(tList, 72, 1, g2, "2 items")
	d := obj(tDict, 232, 1, g2, "0 items")
	b.AddIndexEdge(l, l, 0)
	b.AddIndexEdge(l, d, 1)
	conn := obj(tConn, 56, 2, g2, "")
	h := obj(tDict, 232, 1, g2, "2 items")
	m1 := obj(tMeth, 48, 1, g2, "")
	m2 := obj(tMeth, 48, 1, g2, "")
	b.AddEdge(conn, h, "handlers")
	b.AddEdge(h, m1, "on_data")
	b.AddEdge(h, m2, "on_close")
	b.AddEdge(m1, conn, "__self__")
	b.AddEdge(m2, conn, "__self__")
	leg := obj(tLeg, 56, 1, g2|heap.FlagLegacyDel, "")
	heldFoo := obj(tFoo, 56, 1, g2, "")
	b.AddEdge(leg, leg, "me")
	b.AddEdge(leg, heldFoo, "foo")
	fin := obj(tFin, 56, 1, heap.FlagTracked|heap.FlagHasDel, "")
	b.AddEdge(fin, fin, "me")
	fz1 := obj(tFoo, 56, 1, heap.FlagTracked|heap.FlagPermanent, "")
	fz2 := obj(tFoo, 56, 1, heap.FlagTracked|heap.FlagPermanent, "")
	b.AddEdge(fz1, fz2, "peer")
	b.AddEdge(fz2, fz1, "peer")
	mod := obj(tMod, 72, 1, g2.WithKind(heap.KindModule), "app")
	kept := obj(tFoo, 56, 1, g2, "")
	b.AddEdge(mod, kept, "kept")
	tup := obj(tTuple, 48, 1, 0, "1 items")
	viaTuple := obj(tFoo, 56, 1, g2, "")
	b.AddIndexEdge(tup, viaTuple, 0)
	b.AddEdge(viaTuple, tup, "t")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	return writeSnapshot(t, b, "cycles.ogs")
}

func TestGC(t *testing.T) {
	snap := gcFixture(t, true)
	bare := gcFixture(t, false)
	for _, tc := range []struct {
		name string
		args []string
		snap string
	}{
		{"gc-full", []string{"gc"}, snap},
		{"gc-generation0", []string{"gc", "--generation", "0"}, snap},
		{"gc-limit", []string{"gc", "-n", "2"}, snap},
		{"gc-python33", []string{"gc", "--python", "3.3"}, snap},
		{"gc-nostate", []string{"gc"}, bare},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(append(tc.args, tc.snap)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			out = strings.ReplaceAll(out, tc.snap, "SNAP")
			golden.Check(t, tc.name+".stdout", out)
			golden.Check(t, tc.name+".stderr", strings.ReplaceAll(errOut, tc.snap, "SNAP"))
		})
	}
}

func TestGCJSON(t *testing.T) {
	snap := gcFixture(t, true)
	out, errOut, code := runCLI("gc", "--json", snap)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden.Check(t, "gc-json.stdout", strings.ReplaceAll(out, snap, "SNAP"))
	var v struct {
		GC struct {
			Recorded    bool
			Generations [3]int
			Permanent   int
		}
		Collection struct {
			Unreachable, Collected, Uncollectable, Groups int
		}
		Groups []struct {
			Reason string
			Cycle  []struct{ Type, Edge string }
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !v.GC.Recorded || v.GC.Generations != [3]int{1, 0, 13} || v.GC.Permanent != 2 {
		t.Errorf("gc state %+v", v.GC)
	}
	if c := v.Collection; c.Unreachable != 11 || c.Collected != 9 || c.Uncollectable != 2 || c.Groups != 5 || len(v.Groups) != 5 {
		t.Errorf("collection %+v, %d groups", c, len(v.Groups))
	}
}

func TestGCUsage(t *testing.T) {
	snap := gcFixture(t, true)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"gc"}, 2, "missing SNAPSHOT"},
		{[]string{"gc", "--generation", "3", snap}, 2, "--generation must be 0, 1 or 2"},
		{[]string{"gc", "-n", "-1", snap}, 2, "--limit must be 0 or more"},
		{[]string{"gc", "--python", "three", snap}, 2, `--python: parsing version "three"`},
		{[]string{"gc", "missing.ogs"}, 1, "missing.ogs"},
		{[]string{"gc", "--help"}, 0, ""},
	} {
		_, errOut, code := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("objgraph %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.stderr)
		}
	}
}
