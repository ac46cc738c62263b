package heap

import (
	"iter"
	"strconv"
	"sync"
	"unsafe"
)

// ID is a dense object id: an index into the heap's columns.
type ID uint32

// NoID is the id of no object.
const NoID = ^ID(0)

// TypeID is a dense index into the heap's type table.
type TypeID uint32

// Flags holds the per-object bits of the snapshot format: tracked,
// generation, frozen, finalizers, immortality and kind.
type Flags uint16

// Flag bits. The generation and the kind are fields; use Generation, Kind,
// WithGeneration and WithKind for them.
const (
	FlagTracked   Flags = 1 << 0 // tracked by the cycle collector
	FlagPermanent Flags = 1 << 3 // in the permanent generation (gc.freeze)
	FlagHasDel    Flags = 1 << 4 // has __del__ (tp_finalize)
	FlagLegacyDel Flags = 1 << 5 // has a legacy tp_del finalizer
	FlagImmortal  Flags = 1 << 6 // immortal (refcount never changes)
	FlagFinalized Flags = 1 << 7 // finalizer already ran (gc.is_finalized)

	FlagSizeEstimated Flags = 1 << 12 // size computed at C level: the type's __sizeof__ is Python code the agent does not run

	genShift  = 1
	genMask   = Flags(3) << genShift
	kindShift = 8
	kindMask  = Flags(0xF) << kindShift
)

// Tracked reports whether the object is tracked by the cycle collector.
func (f Flags) Tracked() bool { return f&FlagTracked != 0 }

// Generation is the object's collector generation, 0 to 2.
func (f Flags) Generation() int { return int(f&genMask) >> genShift }

// WithGeneration returns f with generation g (0 to 2).
func (f Flags) WithGeneration(g int) Flags { return f&^genMask | Flags(g&3)<<genShift }

// Kind is the object's coarse kind.
func (f Flags) Kind() Kind { return Kind(f & kindMask >> kindShift) }

// WithKind returns f with kind k.
func (f Flags) WithKind(k Kind) Flags { return f&^kindMask | Flags(k&0xF)<<kindShift }

// Kind classifies objects that analyses treat specially.
type Kind uint8

// Object kinds, as numbered by the snapshot format.
const (
	KindOther Kind = iota
	KindModule
	KindFrame
	KindType
	KindFunction
	KindCode
	KindCell
	KindWeakref
	numKinds
)

var kindNames = [...]string{"other", "module", "frame", "type", "function", "code", "cell", "weakref"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// RootKind says where a root holds the graph from.
type RootKind uint8

// Root kinds, as numbered by the snapshot format.
const (
	RootModule   RootKind = 1 + iota // a module in sys.modules
	RootFrame                        // a thread stack frame
	RootLocal                        // a local variable of a stack frame
	RootExternal                     // held from outside the graph
	RootThread                       // a thread object
	RootOther                        // anything else
	numRootKinds
)

var rootKindNames = [...]string{"", "module", "frame", "local", "external", "thread", "other"}

func (k RootKind) String() string {
	if k > 0 && k < numRootKinds {
		return rootKindNames[k]
	}
	return "rootkind(" + strconv.Itoa(int(k)) + ")"
}

// ParseRootKind is the inverse of RootKind.String.
func ParseRootKind(s string) (RootKind, bool) {
	for k := RootModule; k < numRootKinds; k++ {
		if rootKindNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// Root is a place the graph is held from: a module, a stack frame, a local
// variable, or a reference from outside the graph.
type Root struct {
	Kind   RootKind
	Name   string // e.g. the module name, or "MainThread: handle: request"
	Target ID     // the object held
	Thread uint64 // thread identifier, for frame and local roots
	Depth  uint32 // stack depth on that thread, 0 = innermost frame
}

// EdgeName names an edge: 0 is no name, values below 2^31 are string ids, and
// with bit 31 set the low bits are a sequence index, printed as "[i]".
type EdgeName uint32

const indexNameBit = EdgeName(1) << 31

// IndexName is the edge name "[i]" of a sequence element.
func IndexName(i int) EdgeName { return indexNameBit | EdgeName(uint32(i)&^uint32(indexNameBit)) }

// IsIndex reports whether n is a sequence index, and which.
func (n EdgeName) IsIndex() (int, bool) {
	if n&indexNameBit != 0 {
		return int(n &^ indexNameBit), true
	}
	return 0, false
}

type typeInfo struct {
	addr       uint64
	name, qual uint32 // string ids
}

// Heap is an immutable object graph. The zero value is an empty heap.
type Heap struct {
	meta Meta

	addr     []uint64
	typ      []TypeID
	size     []uint64
	refcnt   []uint64
	flags    []Flags
	labelOff []uint32 // len n+1 (or nil when n == 0); labels are labelData[labelOff[i]:labelOff[i+1]]
	label    []byte

	off      []uint32   // len n+1 (or nil when n == 0)
	edgeTo   []ID       // edge targets
	edgeName []EdgeName // nil when no edge has a name

	strs   stringTable
	types  []typeInfo
	roots  []Root
	bufs   []bufferRow // objects that own buffers, by id (buffers.go)
	allocs allocSites  // allocation tracebacks (allocs.go)
	weak   weakEdges   // weak references, apart from the edges (weak.go)

	dangling int // edges and roots dropped because their target was not in the file

	rev    reverseIndex
	byAddr addrIndex
	byType typeIndex
}

// Len is the number of objects.
func (h *Heap) Len() int { return len(h.addr) }

// NumEdges is the number of edges.
func (h *Heap) NumEdges() int { return len(h.edgeTo) }

// All yields every object id in order.
func (h *Heap) All() iter.Seq[ID] {
	return func(yield func(ID) bool) {
		for i := range h.addr {
			if !yield(ID(i)) {
				return
			}
		}
	}
}

// Meta describes the process and the capture.
func (h *Heap) Meta() *Meta { return &h.meta }

// Addr is the object's address.
func (h *Heap) Addr(id ID) uint64 { return h.addr[id] }

// Type is the object's type.
func (h *Heap) Type(id ID) TypeID { return h.typ[id] }

// Size is the object's own size in bytes.
func (h *Heap) Size(id ID) uint64 { return h.size[id] }

// Refcount is the object's reference count, 0 where the runtime has none.
func (h *Heap) Refcount(id ID) uint64 { return h.refcnt[id] }

// Flags are the object's flag bits.
func (h *Heap) Flags(id ID) Flags { return h.flags[id] }

// Label is the object's short label (a short repr), possibly empty.
func (h *Heap) Label(id ID) string {
	if h.labelOff == nil {
		return ""
	}
	b := h.label[h.labelOff[id]:h.labelOff[id+1]]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b)) // the heap never changes its bytes
}

// TypeName is the object's short type name, e.g. "dict".
func (h *Heap) TypeName(id ID) string { return h.TypeShortName(h.typ[id]) }

// Referents are the targets of the object's edges, in snapshot order. The
// slice is shared: do not modify it.
func (h *Heap) Referents(id ID) []ID {
	if h.off == nil {
		return nil
	}
	return h.edgeTo[h.off[id]:h.off[id+1]:h.off[id+1]]
}

// EdgeRange is the range [lo, hi) of edge indexes of the object, for
// EdgeTarget and EdgeName.
func (h *Heap) EdgeRange(id ID) (lo, hi int) {
	if h.off == nil {
		return 0, 0
	}
	return int(h.off[id]), int(h.off[id+1])
}

// EdgeTarget is the target of edge e.
func (h *Heap) EdgeTarget(e int) ID { return h.edgeTo[e] }

// EdgeNameID is the raw name of edge e.
func (h *Heap) EdgeNameID(e int) EdgeName {
	if h.edgeName == nil {
		return 0
	}
	return h.edgeName[e]
}

// EdgeName is the name of edge e: a dict key, an attribute, "[3]", or "".
func (h *Heap) EdgeName(e int) string { return h.NameString(h.EdgeNameID(e)) }

// NameString spells an edge name.
func (h *Heap) NameString(n EdgeName) string {
	if i, ok := n.IsIndex(); ok {
		return "[" + strconv.Itoa(i) + "]"
	}
	return h.strs.get(uint32(n))
}

// Edges yields the object's edges as (target, name) pairs.
func (h *Heap) Edges(id ID) iter.Seq2[ID, string] {
	return func(yield func(ID, string) bool) {
		lo, hi := h.EdgeRange(id)
		for e := lo; e < hi; e++ {
			if !yield(h.edgeTo[e], h.EdgeName(e)) {
				return
			}
		}
	}
}

// NumTypes is the number of types in the type table.
func (h *Heap) NumTypes() int { return len(h.types) }

// TypeShortName is a type's short name, e.g. "OrderedDict".
func (h *Heap) TypeShortName(t TypeID) string { return h.strs.get(h.types[t].name) }

// TypeQualName is a type's module-qualified name, e.g.
// "collections.OrderedDict"; the short name when the snapshot has no other.
func (h *Heap) TypeQualName(t TypeID) string {
	if q := h.types[t].qual; q != 0 {
		return h.strs.get(q)
	}
	return h.strs.get(h.types[t].name)
}

// TypeAddr is the address of the type object, 0 if unknown.
func (h *Heap) TypeAddr(t TypeID) uint64 { return h.types[t].addr }

// Roots are the heap's roots, in snapshot order. The slice is shared: do not
// modify it.
func (h *Heap) Roots() []Root { return h.roots }

// DanglingEdges is the number of edges and roots dropped while reading
// because their target was not in the snapshot.
func (h *Heap) DanglingEdges() int { return h.dangling }

// TotalSize is the sum of all objects' sizes.
func (h *Heap) TotalSize() uint64 {
	var s uint64
	for _, v := range h.size {
		s += v
	}
	return s
}

// typeIndex maps type names to type ids, built once on first use.
type typeIndex struct {
	once  sync.Once
	short map[string][]TypeID
	qual  map[string]TypeID
}

// TypesNamed returns the types whose module-qualified name is name, or, when
// none is, whose short name is name; nil when no type matches.
func (h *Heap) TypesNamed(name string) []TypeID {
	h.byType.once.Do(func() {
		h.byType.short = make(map[string][]TypeID)
		h.byType.qual = make(map[string]TypeID, len(h.types))
		for t := range h.types {
			tid := TypeID(t)
			h.byType.qual[h.TypeQualName(tid)] = tid
			s := h.TypeShortName(tid)
			h.byType.short[s] = append(h.byType.short[s], tid)
		}
	})
	if t, ok := h.byType.qual[name]; ok {
		return []TypeID{t}
	}
	return h.byType.short[name]
}

// HasDel reports whether the object has a __del__ (tp_finalize).
func (f Flags) HasDel() bool { return f&FlagHasDel != 0 }

// Immortal reports whether the object is immortal.
func (f Flags) Immortal() bool { return f&FlagImmortal != 0 }

// SizeEstimated reports whether the size is the C-level size the agent
// computed instead of calling the type's own __sizeof__ (Python code).
func (f Flags) SizeEstimated() bool { return f&FlagSizeEstimated != 0 }

// Permanent reports whether the object is in the permanent generation.
func (f Flags) Permanent() bool { return f&FlagPermanent != 0 }

// Listed reports whether gc.get_objects() lists the object: tracked and not
// frozen (gc.get_objects() leaves the permanent generation out).
func (f Flags) Listed() bool { return f&(FlagTracked|FlagPermanent) == FlagTracked }
