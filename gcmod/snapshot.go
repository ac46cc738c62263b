package gcmod

import (
	"fmt"

	"github.com/objgraph-go/objgraph/heap"
)

// Snapshot returns the Runtime's objects as a heap, as the objgraph agent
// would write them: every live object in handle order, with its type, size,
// reference count and flags (tracked, generation, frozen, finalizers,
// immortal, finalized) and its references as edges (named, or by index for
// lists and tuples), and the collector's state in the metadata. Objects the
// Runtime holds internally (the empty tuple) are included. A heap records
// no roots: references from outside are refcount minus in-graph references.
func (r *Runtime) Snapshot() (*heap.Heap, error) {
	b := heap.NewBuilder()
	th := r.GetThreshold()
	cnt := r.GetCount()
	b.SetMeta(heap.Meta{
		Producer:     "gcmod",
		Runtime:      "CPython",
		Version:      r.rules.version.String(),
		PointerSize:  8,
		GCHeaderSize: 16,
		GC: &heap.GCState{Enabled: r.enabled, Thresholds: th[:], Counts: cnt[:],
			FreezeCount: r.GetFreezeCount()},
	})
	types := make([]heap.TypeID, len(r.types))
	for i, t := range r.types {
		types[i] = b.AddType(t.name, t.qual)
	}
	gen := r.generations()
	ids := make([]heap.ID, len(r.flags))
	for o := firstObj; int(o) < len(r.flags); o++ {
		if r.flags[o]&fAlive == 0 {
			continue
		}
		ti := r.info(o)
		var f heap.Flags
		if r.flags[o]&fTracked != 0 {
			f |= heap.FlagTracked
			if g := gen[o]; g == 3 {
				f |= heap.FlagPermanent
			} else {
				f = f.WithGeneration(int(g))
			}
		}
		if ti.del != nil {
			f |= heap.FlagHasDel
		}
		if ti.legacy != nil {
			f |= heap.FlagLegacyDel
		}
		if r.flags[o]&fImmortal != 0 {
			f |= heap.FlagImmortal
		}
		if r.flags[o]&fFinalized != 0 {
			f |= heap.FlagFinalized
		}
		if ti.kind == kindWeakref {
			f = f.WithKind(heap.KindWeakref)
		}
		label := ""
		switch ti.kind {
		case kindList, kindTuple, kindDict:
			label = fmt.Sprintf("%d items", r.refLen[o])
		}
		rc := uint64(r.refcnt[o])
		if r.flags[o]&fImmortal != 0 {
			rc = 0
		}
		ids[o] = b.AddObject(heap.Object{Addr: r.Addr(o), Type: types[r.typ[o]], Size: ti.size,
			Refcount: rc, Flags: f, Label: label})
	}
	for o := firstObj; int(o) < len(r.flags); o++ {
		if r.flags[o]&fAlive == 0 {
			continue
		}
		indexed := r.info(o).kind == kindList || r.info(o).kind == kindTuple
		off := r.refOff[o]
		for i := range r.refLen[o] {
			to := ids[r.refs[off+i]]
			if name := r.refName[off+i]; name != 0 {
				b.AddEdge(ids[o], to, r.names[name])
			} else if indexed {
				b.AddIndexEdge(ids[o], to, int(i))
			} else {
				b.AddEdge(ids[o], to, "")
			}
		}
	}
	h, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("runtime snapshot: %w", err)
	}
	return h, nil
}

// generations maps each tracked object to its generation, 3 for frozen.
func (r *Runtime) generations() []uint8 {
	gen := make([]uint8, len(r.flags))
	mark := func(h Obj, g uint8) {
		for o := r.next[h]; o != h; o = r.next[o] {
			gen[o] = g
		}
	}
	if r.rules.collector == Incremental {
		mark(headGen1, 2)
		mark(headGen2, 2)
	} else {
		mark(headGen1, 1)
		mark(headGen2, 2)
	}
	mark(headPermanent, 3)
	return gen
}
