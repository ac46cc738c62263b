package main

import (
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
)

// evilName is a type name that would clear the screen, ring the bell and
// break its line if written raw to a terminal.
const evilName = "\x1b[2JEvil\a\nX"

// evilSnapshot writes a snapshot whose objects have a type, labels and
// reference names made of control characters: n of them held by a module,
// a cycle of two that no root reaches, and one held from outside the graph.
func evilSnapshot(t *testing.T, name string, n int, at time.Time) string {
	t.Helper()
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.12.1", PID: 7, Time: at})
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tEvil := b.AddType(evilName, "app\x1b]0;title\a."+evilName)
	tr := heap.FlagTracked
	mod := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Refcount: 2, Flags: tr | heap.Flags(heap.KindModule), Label: "app\x1b[1m"})
	d := b.AddObject(heap.Object{Addr: 0x1100, Type: tDict, Size: 232, Refcount: 1, Flags: tr, Label: "\x1b[31m"})
	b.AddEdge(mod, d, "__dict__")
	for i := range n {
		e := b.AddObject(heap.Object{Addr: 0x2000 + uint64(i)*0x40, Type: tEvil, Size: 48, Refcount: 1, Flags: tr, Label: "<\x1b[5m>"})
		b.AddEdge(d, e, "k\x1b[8m")
	}
	x := b.AddObject(heap.Object{Addr: 0x9000, Type: tEvil, Size: 48, Refcount: 1, Flags: tr, Label: "\x07"})
	y := b.AddObject(heap.Object{Addr: 0x9040, Type: tEvil, Size: 48, Refcount: 1, Flags: tr})
	b.AddEdge(x, y, "peer\x1b")
	b.AddEdge(y, x, "peer\x1b")
	b.AddObject(heap.Object{Addr: 0xa000, Type: tEvil, Size: 48, Refcount: 1, Flags: tr, Label: "held\x1b"})
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app\x1b[0m", Target: mod})
	return writeSnapshot(t, b, name)
}

// TestControlCharactersEscaped runs every command that prints what a
// snapshot names (types, labels, references, roots) on a snapshot whose
// names are control characters, and checks that none reaches the output
// raw: each is spelled as an escape.
func TestControlCharactersEscaped(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	old := evilSnapshot(t, "old.ogs", 2, t0)
	cur := evilSnapshot(t, "cur.ogs", 5, t0.Add(time.Minute))
	newer := evilSnapshot(t, "newer.ogs", 6, t0.Add(2*time.Minute))
	for _, args := range [][]string{
		{"top", cur},
		{"top", "--qualified", cur},
		{"growth", old, cur, newer},
		{"growth", "--qualified", old, cur},
		{"newids", old, cur},
		{"gc", cur},
		{"cow", cur},
		{"cow", "--qualified", cur},
		{"leaking", cur},
		{"leaking", "--list", cur},
		{"bytype", cur, evilName},
		{"at", cur, "0x1100"},
		{"at", cur, "0x9000"},
		{"dominators", cur},
		{"chain", cur, "--addr", "0x2000"},
		{"chain", cur, "--addr", "0x9000"},
		{"leaks", old, cur, newer},
		{"leaks", "--fail-on-growth", "0", old, cur},
		{"count", cur, "\x1b[2J"},
	} {
		t.Run(args[0], func(t *testing.T) {
			out, errOut, _ := runCLI(args...)
			for _, s := range []struct{ name, text string }{{"stdout", out}, {"stderr", errOut}} {
				for i, r := range s.text {
					if r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) {
						t.Fatalf("%q: %s has the control character %q at byte %d:\n%s", args, s.name, r, i, s.text)
					}
				}
			}
			if !strings.Contains(out+errOut, `\x1b`) {
				t.Errorf("%q: no escaped ESC in the output:\n%s\n%s", args, out, errOut)
			}
		})
	}
}
