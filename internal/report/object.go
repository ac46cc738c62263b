package report

import (
	"strconv"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// Object is one object of a snapshot.
type Object struct {
	ID        heap.ID `json:"id"`                   // its id in the snapshot
	Address   string  `json:"address"`              // hexadecimal, as hex(id(obj))
	Type      string  `json:"type"`                 // short type name, or module-qualified where the command was asked for those
	QualType  string  `json:"qualified_type"`       // module-qualified type name
	Size      uint64  `json:"size"`                 // own size in bytes
	Refcount  uint64  `json:"refcount"`             // reference count
	Tracked   bool    `json:"tracked"`              // tracked by the cycle collector
	Label     string  `json:"label,omitempty"`      // short description, as objgraph labels nodes
	Immortal  bool    `json:"immortal,omitempty"`   // immortal (3.12+)
	HasDel    bool    `json:"has_del,omitempty"`    // its type has __del__
	Kind      string  `json:"kind,omitempty"`       // module, frame, type, function, …
	Gen       *int    `json:"generation,omitempty"` // collector generation, for tracked objects
	Referents int     `json:"referents"`            // references it holds
}

// Describe is object id of h, with its short type name.
func Describe(h *heap.Heap, id heap.ID) Object {
	f := h.Flags(id)
	o := Object{ID: id, Address: Addr(h.Addr(id)), Type: h.TypeName(id), QualType: h.TypeQualName(h.Type(id)),
		Size: h.Size(id), Refcount: h.Refcount(id), Tracked: f.Tracked(), Label: h.Label(id),
		Immortal: f.Immortal(), HasDel: f.HasDel(), Referents: len(h.Referents(id))}
	if k := f.Kind(); k != heap.KindOther {
		o.Kind = k.String()
	}
	if f.Tracked() {
		g := f.Generation()
		o.Gen = &g
	}
	return o
}

// DescribeAll describes the objects ids, in order; never nil.
func DescribeAll(h *heap.Heap, ids []heap.ID) []Object {
	out := make([]Object, len(ids))
	for i, id := range ids {
		out[i] = Describe(h, id)
	}
	return out
}

// Addr spells an address as hex(id(obj)) does: "0x7f3a…".
func Addr(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// Refcount spells an object's reference count, "immortal" for an immortal
// object.
func Refcount(h *heap.Heap, id heap.ID) string {
	if h.Flags(id).Immortal() {
		return "immortal"
	}
	return strconv.FormatUint(h.Refcount(id), 10)
}

// A Hop is one object of a chain of references and the reference that
// leads to it.
type Hop struct {
	Edge *string `json:"edge"`           // name of the reference from the object before ("" when unnamed); null for the first
	Weak bool    `json:"weak,omitempty"` // the reference from the object before is a weak one (its edge is "")
	Object
}

// WeakEdge stands for a weak reference where a chain names its references.
const WeakEdge = "(weak)"

// A Chain is a chain of references, from where it starts to the object it
// holds.
type Chain struct {
	Root objgraph.Root `json:"root"` // where it starts
	Hops []Hop         `json:"hops"` // root object first
}

// NewChain describes a chain of objects of h that starts at root; with
// qualified, types are module-qualified.
func NewChain(h *heap.Heap, root objgraph.Root, chain []heap.ID, qualified bool) Chain {
	return Chain{Root: root, Hops: Hops(h, chain, qualified)}
}

// Hops describes the objects of a chain, each with the name of the first
// reference to it from the one before; never nil.
func Hops(h *heap.Heap, chain []heap.ID, qualified bool) []Hop {
	edges := objgraph.ChainEdges(h, chain)
	weak := objgraph.WeakHops(h, chain)
	hops := make([]Hop, len(chain))
	for i, id := range chain {
		hops[i].Object = Describe(h, id)
		if qualified {
			hops[i].Type = hops[i].QualType
		}
		if i > 0 {
			hops[i].Edge = &edges[i-1]
			hops[i].Weak = weak[i-1]
		}
	}
	return hops
}

// Steps is the chain as ChainLine spells it: each hop's reference and type.
func (c Chain) Steps() []objgraph.ShapeStep {
	steps := make([]objgraph.ShapeStep, len(c.Hops))
	for i, hop := range c.Hops {
		steps[i].Type = hop.Type
		if hop.Edge != nil {
			steps[i].Edge = *hop.Edge
		}
		if hop.Weak {
			steps[i].Edge = WeakEdge
		}
	}
	return steps
}

// Line spells the chain on one line (see ChainLine).
func (c Chain) Line() string { return ChainLine(c.Root, c.Steps()) }

// Table is the chain one hop a line: hop number, reference ("-" when
// unnamed), address, type, label.
func (c Chain) Table() *Table {
	t := NewTable(Left("hop"), Left("edge"), Left("address"), Left("type"), Left("label"))
	for i, hop := range c.Hops {
		edge := ""
		if hop.Edge != nil {
			edge = *hop.Edge
			if edge == "" {
				edge = "-"
			}
		}
		if hop.Weak {
			edge = WeakEdge
		}
		t.Row(strconv.Itoa(i), edge, hop.Address, hop.Type, hop.Label)
	}
	return t
}
