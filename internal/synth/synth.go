// Package synth writes large synthetic snapshots shaped like real Python
// heaps, for benchmarks.
package synth

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/objgraph-go/objgraph/heap"
)

// Options describe a synthetic heap. The zero value is not useful: set
// Objects.
type Options struct {
	Objects       int    // number of objects
	EdgesPerObj   int    // average referents per object; 0 means 3
	Seed          uint64 // random seed
	ModuleObjects int    // objects that are modules (and roots); 0 means 1000
	Shape         Shape  // the graph's shape; the zero value is Uniform
	Leak          int    // Python shape only: Session objects leaked into a cache, on top of Objects
}

var typeNames = []struct{ name, qual string }{
	{"dict", "builtins.dict"}, {"list", "builtins.list"}, {"tuple", "builtins.tuple"},
	{"str", "builtins.str"}, {"int", "builtins.int"}, {"function", "builtins.function"},
	{"cell", "builtins.cell"}, {"set", "builtins.set"}, {"bytes", "builtins.bytes"},
	{"float", "builtins.float"}, {"type", "builtins.type"}, {"method", "builtins.method"},
	{"weakref", "builtins.weakref"}, {"frozenset", "builtins.frozenset"}, {"code", "builtins.code"},
	{"module", "builtins.module"},
}

// Write streams a synthetic snapshot to w. Addresses are unique and not in
// id order. In the Uniform shape, about half of the edges point near their
// source, the rest anywhere; two thirds of the edges are named; a third of
// the objects have a label. See Python for the other shape.
func Write(w io.Writer, o Options) error {
	n := o.Objects
	if n <= 0 {
		return fmt.Errorf("synth: %d objects", n)
	}
	epo := o.EdgesPerObj
	if epo <= 0 {
		epo = 3
	}
	mods := o.ModuleObjects
	if mods <= 0 {
		mods = 1000
	}
	mods = min(mods, n)
	if o.Shape == Python {
		o.EdgesPerObj = epo
		return writePython(w, o, n, mods)
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	meta := &heap.Meta{Producer: "objgraph synth", Runtime: "CPython", Version: "3.11.7", PointerSize: 8,
		GCHeaderSize: 16, PageSize: 4096, GC: &heap.GCState{Enabled: true, Thresholds: []int{700, 10, 10}, Counts: []int{0, 0, 0}}}
	e, err := heap.NewEncoder(w, meta, heap.EncoderOptions{})
	if err != nil {
		return err
	}
	types := make([]heap.TypeID, 0, len(typeNames)+40)
	for _, t := range typeNames {
		types = append(types, e.Type(t.name, t.qual, 0))
	}
	for i := range 40 {
		types = append(types, e.Type(fmt.Sprintf("Model%d", i), fmt.Sprintf("app.models.Model%d", i), 0))
	}
	names := make([]heap.EdgeName, 2000)
	for i := range names {
		names[i] = e.Name(fmt.Sprintf("attr_%d", i))
	}
	// addr is a bijection of [0, n) spread over a 64-byte grid.
	mul := uint64(2654435761)
	for gcd(mul, uint64(n)) != 1 {
		mul += 2
	}
	addr := func(i int) uint64 { return 0x7f0000000000 + (uint64(i)*mul%uint64(n))*64 }
	var edges []heap.Edge
	var label []byte
	modType := types[len(typeNames)-1]
	for i := range n {
		edges = edges[:0]
		k := r.IntN(2*epo + 1)
		for j := range k {
			var t int
			if r.IntN(2) == 0 {
				t = (i + 1 + r.IntN(64)) % n
			} else {
				t = r.IntN(n)
			}
			var name heap.EdgeName
			switch r.IntN(3) {
			case 0:
				name = heap.IndexName(j)
			case 1:
				name = names[r.IntN(len(names))]
			}
			edges = append(edges, heap.Edge{Target: addr(t), Name: name})
		}
		ty := types[r.IntN(len(types))]
		flags := heap.FlagTracked.WithGeneration(r.IntN(3))
		if i < mods {
			ty = modType
			flags = flags.WithKind(heap.KindModule)
		}
		label = label[:0]
		if r.IntN(3) == 0 {
			label = fmt.Appendf(label, "%d items", r.IntN(1000))
		}
		err := e.Object(heap.Object{Addr: addr(i), Type: ty, Size: uint64(16 + 8*r.IntN(40)),
			Refcount: uint64(1 + r.IntN(4)), Flags: flags, Label: string(label)}, edges)
		if err != nil {
			return err
		}
	}
	for i := range mods {
		if err := e.Root(heap.Root{Kind: heap.RootModule, Name: fmt.Sprintf("mod%d", i)}, addr(i)); err != nil {
			return err
		}
	}
	return e.Close()
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
