package synth

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/objgraph-go/objgraph/heap"
)

// Shape is the shape of a synthetic heap's graph.
type Shape int

// Shapes.
const (
	// Uniform: every object refers to 0 to 2×EdgesPerObj others, half
	// near it in id order and half anywhere; refcounts are random from 1
	// to 4, so that about a third of the objects look held from outside
	// the graph. Nothing like a real heap, and the hardest case for
	// dominators: almost every object is reachable along many paths.
	Uniform Shape = iota
	// Python: what a CPython heap looks like. Modules own trees of
	// containers, instances and their attribute values (each object has
	// one owner, siblings are allocated together, trees are about 15
	// levels deep); a hot set of shared objects (types, interned strings,
	// small ints, None) is referred to from everywhere; a few objects are
	// shared by two owners or point back to their owner's owner (cycles);
	// refcounts equal the references in the graph, except for one object
	// in 2000 that is also held from outside.
	Python
)

// pyHot is the number of shared objects of a Python-shaped heap.
const pyHot = 5000

// pyRNG is the random stream of object i: the same whichever pass asks.
func pyRNG(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(i)*0xbf58476d1ce4e5b9+1))
}

// pyHeap is the plan of a Python-shaped heap: the ownership tree, as a
// parent per object and the children of every object.
type pyHeap struct {
	o        Options
	n, mods  int
	parent   []int32
	childOff []int32 // children of i are child[childOff[i]:childOff[i+1]]
	child    []int32
	addr     func(i int) uint64
}

func planPython(o Options, n, mods int) *pyHeap {
	p := &pyHeap{o: o, n: n, mods: mods, parent: make([]int32, n)}
	r := rand.New(rand.NewPCG(o.Seed, 0x7079))
	first := min(n, mods+pyHot)
	for i := range first {
		p.parent[i] = -1
		if i >= mods {
			p.parent[i] = 0 // builtins owns the hot set
		}
	}
	for i := first; i < n; {
		// A burst of siblings: a container and its contents are
		// allocated together.
		var par int
		if i == first || r.IntN(mods+1000) < mods {
			par = r.IntN(mods)
		} else {
			par = first + r.IntN(i-first)
		}
		for b := 1 + r.IntN(6); b > 0 && i < n; b-- {
			p.parent[i] = int32(par)
			i++
		}
	}
	p.childOff = make([]int32, n+1)
	for _, par := range p.parent {
		if par >= 0 {
			p.childOff[par+1]++
		}
	}
	for i := 1; i <= n; i++ {
		p.childOff[i] += p.childOff[i-1]
	}
	p.child = make([]int32, n-mods)
	next := make([]int32, n)
	copy(next, p.childOff[:n])
	for i, par := range p.parent {
		if par >= 0 {
			p.child[next[par]] = int32(i)
			next[par]++
		}
	}
	mul := uint64(2654435761)
	for gcd(mul, uint64(n)) != 1 {
		mul += 2
	}
	p.addr = func(i int) uint64 {
		if i >= n { // leaked objects live above the base heap
			return 0x7f0000000000 + uint64(i)*64
		}
		return 0x7f0000000000 + (uint64(i)*mul%uint64(n))*64
	}
	return p
}

// Python type roles.
const (
	roleModule = iota
	roleHot
	roleDict
	roleList
	roleTuple
	roleInstance
	roleStr
	roleInt
	roleBytes
)

// role is what object i is, from its place in the tree.
func (p *pyHeap) role(i int, r *rand.Rand) int {
	switch {
	case i < p.mods:
		return roleModule
	case i < p.mods+pyHot:
		return roleHot
	case p.childOff[i+1] > p.childOff[i]:
		return []int{roleDict, roleDict, roleList, roleTuple, roleInstance, roleInstance}[r.IntN(6)]
	default:
		return []int{roleStr, roleStr, roleInt, roleBytes, roleTuple, roleDict, roleInstance, roleInstance}[r.IntN(8)]
	}
}

// edges appends object i's edges (as target ids, with names) and returns
// its role.
func (p *pyHeap) edges(i int, targets []int32, names []int32, nattr int) ([]int32, []int32, int) {
	r := pyRNG(p.o.Seed, i)
	role := p.role(i, r)
	kids := p.child[p.childOff[i]:p.childOff[i+1]]
	first := p.mods + pyHot
	for j, c := range kids {
		name := int32(-1 - j) // an index
		switch role {
		case roleModule, roleInstance, roleDict:
			name = int32(r.IntN(nattr))
		}
		targets = append(targets, c)
		names = append(names, name)
	}
	if role == roleInstance || role == roleDict || role == roleList || role == roleTuple {
		// Shared objects: the type, keys, None, small ints.
		for h := 1 + r.IntN(2*p.o.EdgesPerObj); h > 0; h-- {
			targets = append(targets, int32(p.mods+r.IntN(pyHot-1)))
			names = append(names, 0)
		}
		if first < i && r.IntN(32) == 0 { // shared with another owner
			targets = append(targets, int32(first+r.IntN(i-first)))
			names = append(names, int32(r.IntN(nattr)))
		}
		if par := p.parent[i]; par >= 0 && r.IntN(64) == 0 { // back to the owner's owner
			if gp := p.parent[par]; gp >= 0 {
				targets = append(targets, gp)
				names = append(names, int32(r.IntN(nattr)))
			}
		}
	}
	return targets, names, role
}

// writePython writes a Python-shaped heap (see Python). With o.Leak, the
// last object of the hot set, a dict, also holds o.Leak Session objects,
// each with a dict and a 4 KB bytes buffer, stored after the base heap:
// the base objects keep their ids, addresses and edges, so a heap written
// with a Leak is the same heap as one without, grown by the leak.
func writePython(w io.Writer, o Options, n, mods int) error {
	p := planPython(o, n, mods)
	const nattr = 2000
	leakKids := 2
	total := n + o.Leak*(1+leakKids)
	// First pass: in-degrees, for refcounts.
	indeg := make([]uint32, total)
	var targets, names []int32
	for i := range n {
		targets, names, _ = p.edges(i, targets[:0], names[:0], nattr)
		for _, t := range targets {
			indeg[t]++
		}
	}
	cache := min(n, mods+pyHot) - 1 // the last object of the hot set is a cache dict, not shared
	for j := range o.Leak {
		leaked := n + j*(1+leakKids)
		indeg[leaked]++
		for c := 1; c <= leakKids; c++ {
			indeg[leaked+c]++
		}
	}

	meta := &heap.Meta{Producer: "objgraph synth", Runtime: "CPython", Version: "3.11.7", PointerSize: 8,
		GCHeaderSize: 16, PageSize: 4096, GC: &heap.GCState{Enabled: true, Thresholds: []int{700, 10, 10}, Counts: []int{0, 0, 0}}}
	e, err := heap.NewEncoder(w, meta, heap.EncoderOptions{})
	if err != nil {
		return err
	}
	ty := map[int]heap.TypeID{
		roleModule: e.Type("module", "builtins.module", 0), roleHot: e.Type("type", "builtins.type", 0),
		roleDict: e.Type("dict", "builtins.dict", 0), roleList: e.Type("list", "builtins.list", 0),
		roleTuple: e.Type("tuple", "builtins.tuple", 0), roleStr: e.Type("str", "builtins.str", 0),
		roleInt: e.Type("int", "builtins.int", 0), roleBytes: e.Type("bytes", "builtins.bytes", 0),
	}
	models := make([]heap.TypeID, 40)
	for k := range models {
		models[k] = e.Type(fmt.Sprintf("Model%d", k), fmt.Sprintf("app.models.Model%d", k), 0)
	}
	leakType := e.Type("Session", "app.sessions.Session", 0)
	attr := make([]heap.EdgeName, nattr)
	for k := range attr {
		attr[k] = e.Name(fmt.Sprintf("attr_%d", k))
	}
	cacheName := e.Name("'session-key'")
	var edges []heap.Edge
	var label []byte
	for i := range n {
		targets, names, role := p.edges(i, targets[:0], names[:0], nattr)
		edges = edges[:0]
		for j, t := range targets {
			var name heap.EdgeName
			switch nm := names[j]; {
			case nm < 0:
				name = heap.IndexName(int(-1 - nm))
			case nm > 0:
				name = attr[nm]
			}
			edges = append(edges, heap.Edge{Target: p.addr(int(t)), Name: name})
		}
		if i == cache {
			for j := range o.Leak {
				edges = append(edges, heap.Edge{Target: p.addr(n + j*(1+leakKids)), Name: cacheName})
			}
		}
		r := pyRNG(o.Seed, i+n) // sizes and labels: a stream of their own
		t := ty[role]
		flags := heap.FlagTracked.WithGeneration(2)
		size := uint64(16 + 8*r.IntN(40))
		label = label[:0]
		switch role {
		case roleModule:
			flags = flags.WithKind(heap.KindModule)
			label = fmt.Appendf(label, "mod%d", i)
		case roleHot:
			flags = flags.WithKind(heap.KindType) | heap.FlagImmortal
			if i == cache {
				t = ty[roleDict]
				flags = heap.FlagTracked.WithGeneration(2)
			}
		case roleInstance:
			t = models[r.IntN(len(models))]
		case roleStr, roleInt, roleBytes:
			flags = 0
			label = fmt.Appendf(label, "'s%d'", r.IntN(100000))
		case roleDict, roleList, roleTuple:
			label = fmt.Appendf(label, "%d items", len(targets))
		}
		rc := uint64(indeg[i])
		if r.IntN(2000) == 0 {
			rc++ // held from outside the graph
		}
		if err := e.Object(heap.Object{Addr: p.addr(i), Type: t, Size: size, Refcount: rc, Flags: flags, Label: string(label)}, edges); err != nil {
			return err
		}
	}
	// The leak: sessions in the cache, each with a dict and a bytes buffer.
	for j := range o.Leak {
		s := n + j*(1+leakKids)
		edges = append(edges[:0], heap.Edge{Target: p.addr(s + 1), Name: e.Name("__dict__")}, heap.Edge{Target: p.addr(s + 2), Name: e.Name("buffer")})
		if err := e.Object(heap.Object{Addr: p.addr(s), Type: leakType, Size: 56, Refcount: 1, Flags: heap.FlagTracked}, edges); err != nil {
			return err
		}
		if err := e.Object(heap.Object{Addr: p.addr(s + 1), Type: ty[roleDict], Size: 232, Refcount: 1, Flags: heap.FlagTracked, Label: "2 items"}, nil); err != nil {
			return err
		}
		if err := e.Object(heap.Object{Addr: p.addr(s + 2), Type: ty[roleBytes], Size: 4129, Refcount: 1}, nil); err != nil {
			return err
		}
	}
	for i := range mods {
		if err := e.Root(heap.Root{Kind: heap.RootModule, Name: fmt.Sprintf("mod%d", i)}, p.addr(i)); err != nil {
			return err
		}
	}
	return e.Close()
}
