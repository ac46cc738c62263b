package objgraph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// builder wraps heap.Builder for the tests of this file: objects by type
// name, with addresses handed out in order unless given.
type builder struct {
	b     *heap.Builder
	types map[string]heap.TypeID
	next  uint64
}

func newBuilder() *builder {
	return &builder{b: heap.NewBuilder(), types: map[string]heap.TypeID{}, next: 0x1000}
}

func (b *builder) obj(typ string, size uint64) heap.ID {
	b.next += 0x40
	return b.objAt(b.next, typ, size)
}

func (b *builder) objAt(addr uint64, typ string, size uint64) heap.ID {
	t, ok := b.types[typ]
	if !ok {
		t = b.b.AddType(typ, "x."+typ)
		b.types[typ] = t
	}
	flags := heap.FlagTracked
	if typ == "module" {
		flags = flags.WithKind(heap.KindModule)
	}
	return b.b.AddObject(heap.Object{Addr: addr, Type: t, Size: size, Flags: flags, Refcount: 1})
}

func (b *builder) build(t *testing.T) *heap.Heap {
	t.Helper()
	h, err := b.b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// stacks returns the profile's stacks, root first, joined by " / ", with
// their object counts.
func stacks(h *heap.Heap, opts objgraph.ProfileOptions) map[string]int64 {
	p := objgraph.Profile(h, opts)
	out := map[string]int64{}
	for _, s := range p.Sample {
		var names []string
		for i := len(s.Location) - 1; i >= 0; i-- {
			names = append(names, s.Location[i].Line[0].Function.Name)
		}
		out[strings.Join(names, " / ")] += s.Value[0]
	}
	return out
}

func TestShapes(t *testing.T) {
	b := newBuilder()
	mod := b.obj("module", 72)
	ns := b.obj("dict", 100)
	data := b.obj("dict", 100)
	b.b.AddEdge(mod, ns, "__dict__")
	b.b.AddEdge(ns, data, "cache")
	for _, key := range []string{"alice", "'bob'", "(1, 2)"} {
		b.b.AddEdge(data, b.obj("User", 10), key) // data keys collapse, identifiers too
	}
	b.b.AddEdge(data, b.obj("str", 5), "<key>") // the snapshot's own names stay
	inst := b.obj("Service", 10)
	b.b.AddEdge(ns, inst, "service")
	idict := b.obj("dict", 50)
	b.b.AddEdge(inst, idict, "__dict__")
	b.b.AddEdge(idict, b.obj("int", 4), "retries") // a namespace: kept
	lst := b.obj("list", 20)
	b.b.AddEdge(inst, lst, "queue")
	for i := range 3 {
		b.b.AddIndexEdge(lst, b.obj("Job", 8), i)
	}
	frame := b.obj("frame", 300)
	fg := b.obj("dict", 60)
	b.b.AddEdge(frame, fg, "f_globals")
	b.b.AddEdge(fg, b.obj("Logger", 10), "log")
	b.b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	b.b.AddRoot(heap.Root{Kind: heap.RootFrame, Name: "MainThread: run (app.py:9)", Target: frame})
	h := b.build(t)
	got := stacks(h, objgraph.ProfileOptions{})
	for stack, n := range map[string]int64{
		"module app / __dict__: dict / cache: dict / [*]: User":                          3,
		"module app / __dict__: dict / cache: dict / <key>: str":                         1,
		"module app / __dict__: dict / service: Service / __dict__: dict / retries: int": 1,
		"module app / __dict__: dict / service: Service / queue: list / [*]: Job":        3,
		"frame MainThread: run (app.py:9) / f_globals: dict / log: Logger":               1,
	} {
		if got[stack] != n {
			t.Errorf("stack %q has %d objects, want %d", stack, got[stack], n)
		}
	}
	if t.Failed() {
		t.Logf("stacks: %v", got)
	}
}

func TestRetainersPreferSnapshotRoots(t *testing.T) {
	b := newBuilder()
	mod := b.obj("module", 72)
	d := b.obj("dict", 100)
	ext := b.obj("list", 10) // held from outside the graph, and by a long chain from the module
	b.b.AddEdge(mod, d, "__dict__")
	chain := []heap.ID{mod, d}
	for range 5 {
		x := b.obj("Node", 10)
		b.b.AddEdge(chain[len(chain)-1], x, "next")
		chain = append(chain, x)
	}
	b.b.AddEdge(chain[len(chain)-1], ext, "next")
	orphan := b.obj("tuple", 10) // held from outside only
	inner := b.obj("str", 5)
	b.b.AddEdge(orphan, inner, "")
	shared := b.obj("str", 5) // reachable both ways: the module wins, though further
	b.b.AddEdge(orphan, shared, "")
	b.b.AddEdge(ext, shared, "")
	b.b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: mod})
	h := b.build(t)
	// Make ext and orphan look held from outside: refcount above referrers.
	// (The builder gave every object refcount 1; ext has one referrer, so it
	// is not external; orphan has none, so it is.)
	r := objgraph.FindRetainers(h)
	if c := r.Chain(ext); len(c) != 8 || c[0] != mod {
		t.Errorf("chain to ext: %v, want the 8 objects from the module", c)
	}
	if c := r.Chain(inner); len(c) != 2 || c[0] != orphan || !r.External(inner) {
		t.Errorf("chain to inner: %v (external %v), want from the externally held tuple", c, r.External(inner))
	}
	if r.External(ext) {
		t.Error("ext's chain starts at a module, not outside")
	}
	if c := r.Chain(shared); len(c) != 9 || c[0] != mod {
		t.Errorf("chain to shared: %v, want the 9 objects from the module", c)
	}
}

// leakHeaps builds three snapshots of a program that links new Nodes into
// a list held by a module, makes garbage cycles, and churns a temporary.
func leakHeaps(t *testing.T) (old, cur, newer *heap.Heap) {
	build := func(nodes int, temp uint64, tempType string, cycles int) *heap.Heap {
		b := newBuilder()
		mod := b.objAt(0x100, "module", 72)
		d := b.objAt(0x200, "dict", 100)
		b.b.AddEdge(mod, d, "__dict__")
		prev, edge := d, "head"
		for i := range nodes {
			n := b.objAt(0x1000+uint64(i)*0x100, "Node", 50)
			b.b.AddEdge(prev, n, edge)
			prev, edge = n, "next"
		}
		b.objAt(temp, tempType, 30)
		b.b.AddEdge(d, heap.ID(2+nodes), "tmp")
		for i := range cycles {
			x := b.objAt(0x9000+uint64(i)*0x100, "Pair", 40)
			y := b.objAt(0x9040+uint64(i)*0x100, "Pair", 40)
			z := b.objAt(0x9080+uint64(i)*0x100, "bytes", 500)
			b.b.AddEdge(x, y, "peer")
			b.b.AddEdge(y, x, "peer")
			b.b.AddEdge(y, z, "data")
		}
		b.b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
		return b.build(t)
	}
	// The temporary sits at one address: a list in old, a str in cur (new:
	// same address, another type), gone in newer.
	return build(2, 0x5000, "list", 0), build(5, 0x5000, "str", 2), build(7, 0x6000, "list", 3)
}

func TestFindLeaks(t *testing.T) {
	o, c, n := leakHeaps(t)
	// The last snapshot is analysed; the one in between gives counts.
	rep := objgraph.FindLeaks(objgraph.NewCensus(o), n, []*objgraph.Census{objgraph.NewCensus(c)}, objgraph.LeakOptions{})
	if rep.New != 5+1+9 || !slices.Equal(rep.Snapshots, []int{o.Len(), c.Len(), n.Len()}) {
		t.Errorf("new %d, snapshots %v; want 15 and the three sizes", rep.New, rep.Snapshots)
	}
	if len(rep.Types) != 2 || rep.Types[0].Type != "Node" || rep.Types[1].Type != "list" {
		t.Fatalf("types: %+v", rep.Types)
	}
	node := rep.Types[0]
	// Nodes 3 to 7 are new; each is a group of its own (the chains grow by
	// one hop a node), and node 3 retains the other four.
	if node.Count != 5 || len(node.Groups) != 5 || node.Retained != 250 || !slices.Equal(node.Counts, []int{2, 5, 7}) {
		t.Errorf("Node: count %d, %d groups, retained %d, counts %v; want 5, 5, 250, [2 5 7]", node.Count, len(node.Groups), node.Retained, node.Counts)
	}
	var sum uint64
	for _, g := range node.Groups {
		sum += g.Retained
	}
	if sum != 50+100+150+200+250 {
		t.Errorf("groups retain %d in all, want 750 (each group counts what its node retains)", sum)
	}
	g := node.Groups[0]
	if want := []string{"__dict__", "head", "next", "next"}; len(g.Edges) < 4 || !slices.Equal(g.Edges[:4], want) {
		t.Errorf("example chain edges %q, want them to start %q", g.Edges, want)
	}
	if len(rep.Garbage) != 2 {
		t.Fatalf("garbage: %+v", rep.Garbage)
	}
	for _, gt := range rep.Garbage {
		chain := gt.Groups[0].Chain
		switch gt.Type {
		case "Pair":
			if gt.Count != 6 || len(chain) != 3 || chain[0] != chain[2] || !slices.Equal(gt.Groups[0].Edges, []string{"peer", "peer"}) {
				t.Errorf("Pair garbage: %d objects, chain %v %q; want 6 and a cycle of two peers", gt.Count, chain, gt.Groups[0].Edges)
			}
		case "bytes":
			if e := gt.Groups[0].Edges; gt.Count != 3 || len(e) != 3 || e[2] != "data" {
				t.Errorf("bytes garbage: %d objects, edges %q; want 3, around the cycle, then data", gt.Count, e)
			}
		default:
			t.Errorf("unexpected garbage type %s", gt.Type)
		}
	}
	if i := slices.IndexFunc(rep.Growth, func(g objgraph.TypeCount) bool { return g.Type == "Node" }); i < 0 || rep.Growth[i].Delta != 5 || rep.Growth[0].Delta < 5 {
		t.Errorf("growth: %+v", rep.Growth)
	}

	// Of two snapshots, the second is analysed: the temporary str is new.
	rep = objgraph.FindLeaks(objgraph.NewCensus(o), c, nil, objgraph.LeakOptions{Qualified: true})
	var names []string
	for _, lt := range rep.Types {
		names = append(names, fmt.Sprintf("%s:%d", lt.Type, lt.Count))
	}
	if !slices.Contains(names, "x.str:1") || !slices.Contains(names, "x.Node:3") {
		t.Errorf("types of two snapshots: %v", names)
	}
}

func TestProfileCutsDeepChains(t *testing.T) {
	b := newBuilder()
	mod := b.obj("module", 72)
	prev := mod
	for range 60 { // one shape per depth
		x := b.obj("Node", 10)
		b.b.AddEdge(prev, x, "next")
		b.b.AddEdge(x, b.obj("str", 1), "name")
		prev = x
	}
	b.b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: mod})
	h := b.build(t)
	full := objgraph.Profile(h, objgraph.ProfileOptions{})
	if len(full.Sample) != 121 {
		t.Errorf("%d samples, want 121", len(full.Sample))
	}
	p := objgraph.Profile(h, objgraph.ProfileOptions{MaxSamples: 30})
	if len(p.Sample) > 30 {
		t.Errorf("%d samples with MaxSamples 30", len(p.Sample))
	}
	var objects int64
	cut := false
	for _, s := range p.Sample {
		objects += s.Value[0]
		for _, l := range s.Location {
			cut = cut || l.Line[0].Function.Name == "…"
		}
		if len(s.Location) > 1 && s.Location[0].Line[0].Function.Name != s.Label["type"][0] && !strings.HasSuffix(s.Location[0].Line[0].Function.Name, ": "+s.Label["type"][0]) {
			t.Errorf("sample of type %s ends in frame %q", s.Label["type"], s.Location[0].Line[0].Function.Name)
		}
	}
	if objects != int64(h.Len()) || !cut {
		t.Errorf("%d objects in the samples (want %d), cut %v", objects, h.Len(), cut)
	}
	if err := p.CheckValid(); err != nil {
		t.Error(err)
	}
}
