package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/golden"
	"github.com/objgraph-go/objgraph/objgraph"
)

// weakProgram holds twenty items strongly in one list and weakly in a
// WeakSet, a WeakValueDictionary, a WeakKeyDictionary and weakref.finalize's
// registry; it keeps an orphan alive in a cycle (gc is off) that only a
// WeakValueDictionary refers to, plus a proxy, a WeakMethod and a weak
// reference whose class overrides __call__. It takes a snapshot and prints
// the addresses the test checks, and whether the override ran.
const weakProgram = `
import gc, json, sys, weakref
gc.disable()
sys.path.insert(0, sys.argv[1])
import objgraph_agent

class Item:
    def __init__(self, n):
        self.n = n
        self.payload = bytearray(4000)
    def method(self):
        return self.n

class Orphan:
    pass

ran = []
class Sneaky(weakref.ref):
    def __call__(self):
        ran.append(1)
        raise RuntimeError("the program's __call__ ran")

held = [Item(i) for i in range(20)]
members = weakref.WeakSet(held)
by_id = weakref.WeakValueDictionary((i, o) for i, o in enumerate(held))
tags = weakref.WeakKeyDictionary((o, i) for i, o in enumerate(held))
fins = [weakref.finalize(o, len, "x") for o in held]
for f in fins:
    f.atexit = False
orphan = Orphan()
orphan.me = orphan
cache = weakref.WeakValueDictionary()
cache["orphan"] = orphan
proxy = weakref.proxy(held[0])
wm = weakref.WeakMethod(held[1].method)
sneaky = Sneaky(held[2])
out = {"held": id(held), "items": [id(o) for o in held], "orphan": id(orphan), "proxy": id(proxy),
       "wm": id(wm), "sneaky": id(sneaky), "members": id(members), "by_id": id(by_id), "tags": id(tags)}
del orphan
objgraph_agent.snapshot(sys.argv[2])
out["ran"] = len(ran)
print(json.dumps(out))
`

// TestWeakReferences checks, in every interpreter, that weak references
// are in the snapshot apart from the edges, read without the program's
// code; that chains and retained sizes go the strong way; and that chain
// says when an object is reachable only weakly, and with --weak shows the
// weak hop.
func TestWeakReferences(t *testing.T) {
	agentDir, err := filepath.Abs(filepath.Join("..", "..", "internal", "agent"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "weak.py")
	if err := os.WriteFile(prog, []byte(weakProgram), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, py := range garbagePythons(t) {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			snap := filepath.Join(dir, fmt.Sprintf("weak-%d.ogs", i))
			out, err := exec.Command(py, prog, agentDir, snap).Output()
			if err != nil {
				t.Fatalf("%s %s: %v", py, prog, err)
			}
			var live struct {
				Held, Orphan, Proxy, WM, Sneaky, Members, Tags uint64
				ByID                                           uint64 `json:"by_id"`
				Items                                          []uint64
				Ran                                            int
			}
			if err := json.Unmarshal(out, &live); err != nil {
				t.Fatalf("%s printed %q: %v", py, out, err)
			}
			if live.Ran != 0 {
				t.Errorf("%s: the snapshot ran a weak reference subclass's __call__ %d times", py, live.Ran)
			}
			h, err := heap.ReadFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(a uint64) heap.ID {
				t.Helper()
				id, ok := h.Lookup(a)
				if !ok {
					t.Fatalf("%s: %#x is not in the snapshot", py, a)
				}
				return id
			}
			held := lookup(live.Held)
			items := make([]heap.ID, len(live.Items))
			for k, a := range live.Items {
				items[k] = lookup(a)
			}
			// the weak references, each to its referent
			for name, c := range map[string]struct {
				ref  uint64
				item int
			}{"proxy": {live.Proxy, 0}, "WeakMethod": {live.WM, 1}, "ref subclass": {live.Sneaky, 2}} {
				if got := h.WeakReferents(lookup(c.ref)); !slices.Equal(got, []heap.ID{items[c.item]}) {
					t.Errorf("%s: the %s refers weakly to %v, want item %d (%d)", py, name, got, c.item, items[c.item])
				}
			}
			dt := heap.Dominators(h, heap.DominatorOptions{})
			for k, it := range items {
				// WeakSet, WeakValueDictionary, WeakKeyDictionary, finalize
				if n := len(h.WeakReferrers(it)); n < 4 {
					t.Errorf("%s: item %d has %d weak referrers, want 4 or more", py, k, n)
				}
				if refs := h.Referrers(it); !slices.Equal(refs, []heap.ID{held}) {
					t.Errorf("%s: item %d has strong referrers %v, want only the list %d", py, k, refs, held)
				}
				if d := dt.IDom(it); d != held {
					t.Errorf("%s: item %d is dominated by %d (%s), want the list", py, k, d, h.TypeName(d))
				}
			}
			if r := dt.Retained(held); r < 20*4000 {
				t.Errorf("%s: the list retains %d bytes, want its items' 80,000 and more", py, r)
			}
			for name, a := range map[string]uint64{"WeakSet": live.Members, "WeakValueDictionary": live.ByID, "WeakKeyDictionary": live.Tags} {
				if r := dt.Retained(lookup(a)); r >= 5*4000 {
					t.Errorf("%s: the %s retains %d bytes: it holds its items' payloads", py, name, r)
				}
			}
			sizer := objgraph.NewGroupSizer(h, dt)
			if _, freed := sizer.Freed([]heap.ID{lookup(live.Members), lookup(live.ByID), lookup(live.Tags)}); freed >= 5*4000 {
				t.Errorf("%s: the weak containers together free %d bytes, want less than five items' payloads", py, freed)
			}

			// chain: the strong way, or only weakly
			stdout, stderr, code := runCLI("chain", "--json", "--addr", fmt.Sprintf("%#x", live.Items[5]), snap)
			if code != 0 {
				t.Fatalf("chain to an item: exit %d: %s", code, stderr)
			}
			var rep struct {
				Found    bool `json:"found"`
				WeakOnly bool `json:"weak_only"`
				Chain    []struct {
					Edge    *string `json:"edge"`
					Weak    bool    `json:"weak"`
					Address string  `json:"address"`
					Type    string  `json:"type"`
				} `json:"chain"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			n := len(rep.Chain)
			if !rep.Found || rep.WeakOnly || n < 2 || rep.Chain[n-2].Address != fmt.Sprintf("%#x", live.Held) {
				t.Errorf("%s: chain to an item does not end with the list:\n%s", py, stdout)
			}
			for _, hop := range rep.Chain {
				if hop.Weak {
					t.Errorf("%s: the chain to an item goes through a weak reference:\n%s", py, stdout)
				}
			}

			orphan := fmt.Sprintf("%#x", live.Orphan)
			stdout, stderr, code = runCLI("chain", "--addr", orphan, snap)
			if code != 1 || !strings.Contains(stdout, "reachable only weakly") || !strings.Contains(stderr, "only weak references reach it") {
				t.Errorf("%s: chain to the orphan: exit %d, want 1 and \"reachable only weakly\"\nstdout:\n%s\nstderr:\n%s", py, code, stdout, stderr)
			}
			stdout, _, _ = runCLI("chain", "--json", "--addr", orphan, snap)
			rep.Chain = nil
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			n = len(rep.Chain)
			if rep.Found || !rep.WeakOnly || n < 2 || !rep.Chain[n-1].Weak || rep.Chain[n-2].Type != "KeyedRef" {
				t.Errorf("%s: chain --json to the orphan: want weak_only and a last weak hop from a KeyedRef:\n%s", py, stdout)
			}
			stdout, stderr, code = runCLI("chain", "--weak", "--addr", orphan, snap)
			if code != 0 || !strings.Contains(stdout, "(weak)") || !strings.Contains(stdout, "KeyedRef") {
				t.Errorf("%s: chain --weak to the orphan: exit %d, want 0 and a (weak) hop from a KeyedRef\nstdout:\n%s\nstderr:\n%s", py, code, stdout, stderr)
			}
			stdout, _, code = runCLI("chain", "--weak", "-o", "-", "--addr", orphan, snap)
			if code != 0 || !strings.Contains(stdout, `[label="(weak)",style=dashed]`) {
				t.Errorf("%s: chain --weak -o -: exit %d, want a dashed weak edge:\n%s", py, code, stdout)
			}
			// backrefs draws the weak referrers with --weak only
			for _, weak := range []bool{false, true} {
				args := []string{"backrefs", "-o", "-", "--max-depth", "1", "--addr", fmt.Sprintf("%#x", live.Items[3]), snap}
				if weak {
					args = append(args[:1], append([]string{"--weak"}, args[1:]...)...)
				}
				stdout, stderr, code = runCLI(args...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				if dashed := strings.Count(stdout, "style=dashed"); weak && dashed < 4 || !weak && dashed != 0 {
					t.Errorf("%s: %v draws %d weak references, want %s:\n%s", py, args, dashed, map[bool]string{true: "4 or more", false: "none"}[weak], stdout)
				}
			}
			// at lists them apart from the strong referrers
			stdout, stderr, code = runCLI("at", "--json", "-n", "0", snap, fmt.Sprintf("%#x", live.Items[3]))
			var at struct {
				Referrers     []struct{} `json:"referrers"`
				WeakReferrers []struct{} `json:"weak_referrers"`
			}
			if err := json.Unmarshal([]byte(stdout), &at); code != 0 || err != nil {
				t.Fatalf("at --json: exit %d, %v: %s", code, err, stderr)
			}
			if len(at.Referrers) != 1 || len(at.WeakReferrers) < 4 {
				t.Errorf("%s: at lists %d referrers and %d weak referrers of item 3, want 1 and 4 or more", py, len(at.Referrers), len(at.WeakReferrers))
			}
		})
	}
}

// weakFixture is a module whose registry, a WeakValueDictionary, holds a
// KeyedRef to a Session that only a cycle keeps alive, and a list that
// holds a Conn strongly which a WeakSet's weak reference also tracks.
func weakFixture(t *testing.T) string {
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.12.1", PID: 7})
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	tSet := b.AddType("set", "builtins.set")
	tWVD := b.AddType("WeakValueDictionary", "weakref.WeakValueDictionary")
	tWS := b.AddType("WeakSet", "_weakrefset.WeakSet")
	tKeyed := b.AddType("KeyedRef", "weakref.KeyedRef")
	tRef := b.AddType("ReferenceType", "builtins.weakref")
	tSess := b.AddType("Session", "app.Session")
	tConn := b.AddType("Conn", "app.Conn")
	tr := heap.FlagTracked
	wr := tr.WithKind(heap.KindWeakref)
	mod := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Refcount: 2, Flags: tr.WithKind(heap.KindModule), Label: "app"})
	globals := b.AddObject(heap.Object{Addr: 0x1100, Type: tDict, Size: 232, Refcount: 1, Flags: tr, Label: "3 items"})
	reg := b.AddObject(heap.Object{Addr: 0x1200, Type: tWVD, Size: 56, Refcount: 1, Flags: tr})
	data := b.AddObject(heap.Object{Addr: 0x1300, Type: tDict, Size: 232, Refcount: 1, Flags: tr, Label: "1 items"})
	keyed := b.AddObject(heap.Object{Addr: 0x1400, Type: tKeyed, Size: 80, Refcount: 1, Flags: wr})
	sess := b.AddObject(heap.Object{Addr: 0x1500, Type: tSess, Size: 48, Refcount: 1, Flags: tr})
	conns := b.AddObject(heap.Object{Addr: 0x1600, Type: tList, Size: 64, Refcount: 1, Flags: tr, Label: "1 items"})
	conn := b.AddObject(heap.Object{Addr: 0x1700, Type: tConn, Size: 48, Refcount: 1, Flags: tr})
	ws := b.AddObject(heap.Object{Addr: 0x1800, Type: tWS, Size: 56, Refcount: 1, Flags: tr})
	wsData := b.AddObject(heap.Object{Addr: 0x1900, Type: tSet, Size: 216, Refcount: 1, Flags: tr, Label: "1 items"})
	ref := b.AddObject(heap.Object{Addr: 0x1a00, Type: tRef, Size: 72, Refcount: 1, Flags: wr})
	b.AddEdge(mod, globals, "__dict__")
	b.AddEdge(globals, reg, "registry")
	b.AddEdge(globals, conns, "conns")
	b.AddEdge(globals, ws, "tracked")
	b.AddEdge(reg, data, "data")
	b.AddEdge(data, keyed, "s1")
	b.AddEdge(sess, sess, "me")
	b.AddIndexEdge(conns, conn, 0)
	b.AddEdge(ws, wsData, "data")
	b.AddEdge(wsData, ref, "")
	b.AddWeakEdge(keyed, sess)
	b.AddWeakEdge(ref, conn)
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	return writeSnapshot(t, b, "weak.ogs")
}

// TestWeakGolden checks chain's output for an object only weak references
// reach, and with --weak, in text, JSON and DOT, and at's lists of weak
// referents and referrers.
func TestWeakGolden(t *testing.T) {
	snap := weakFixture(t)
	names := strings.NewReplacer(snap, "SNAP")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"chain-weak-only", []string{"chain", snap, "--type", "Session"}, 1},
		{"chain-weak-only-json", []string{"chain", "--json", snap, "--type", "Session"}, 1},
		{"chain-weak", []string{"chain", "--weak", snap, "--type", "Session"}, 0},
		{"chain-weak-dot", []string{"chain", "--weak", snap, "--type", "Session", "-o", "-"}, 0},
		{"chain-strong-tracked", []string{"chain", snap, "--type", "Conn"}, 0},
		{"backrefs-weak-dot", []string{"backrefs", "--weak", snap, "--type", "Conn", "-o", "-"}, 0},
		{"at-weak-referrers", []string{"at", snap, "0x1500"}, 0},
		{"at-weak-referent", []string{"at", snap, "0x1400"}, 0},
		{"at-weak-json", []string{"at", "--json", snap, "0x1700"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			golden.Check(t, tc.name+".stdout", names.Replace(out))
			golden.Check(t, tc.name+".stderr", names.Replace(errOut))
		})
	}
}
