package heap

import (
	"fmt"
	"math"
)

// Object is one object as a producer describes it, for [Builder.AddObject]
// and [Encoder.Object].
type Object struct {
	Addr     uint64 // address; unique in a heap
	Type     TypeID // from AddType
	Size     uint64 // own size in bytes
	Refcount uint64 // reference count, 0 where the runtime has none
	Flags    Flags  // tracked, generation, kind, …
	Label    string // short label, e.g. "3 items"
}

// Builder constructs a Heap object by object. Ids are given in the order
// objects are added. The zero value is not usable; call NewBuilder.
type Builder struct {
	h       Heap
	strIDs  map[string]uint32
	typeIDs map[typeKey]TypeID
	from    []ID
	to      []ID
	names   []EdgeName
	named   bool
	roots   []Root
	err     error
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{strIDs: make(map[string]uint32), typeIDs: make(map[typeKey]TypeID)}
}

// SetMeta sets the heap's metadata.
func (b *Builder) SetMeta(m Meta) { b.h.meta = m }

func (b *Builder) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := b.strIDs[s]; ok {
		return id
	}
	id := b.h.strs.add(s)
	b.strIDs[s] = id
	return id
}

// AddType interns a type by its module-qualified name (by its short name when
// qualname is empty) and returns its id.
func (b *Builder) AddType(name, qualname string) TypeID {
	return b.AddTypeAt(name, qualname, 0)
}

// AddTypeAt is AddType for a type whose type object is at addr (0 for
// unknown): types of one name at different addresses are different types.
func (b *Builder) AddTypeAt(name, qualname string, addr uint64) TypeID {
	k := newTypeKey(name, qualname, addr)
	if t, ok := b.typeIDs[k]; ok {
		return t
	}
	t := TypeID(len(b.h.types))
	b.h.types = append(b.h.types, typeInfo{name: b.intern(name), qual: b.intern(qualname), addr: addr})
	b.typeIDs[k] = t
	return t
}

// typeKey identifies a type while a heap is built or written: its
// module-qualified name (its short name when it has none) and the address
// of its type object.
type typeKey struct {
	name string
	addr uint64
}

func newTypeKey(name, qualname string, addr uint64) typeKey {
	if qualname == "" {
		qualname = name
	}
	return typeKey{qualname, addr}
}

// SetTypeAddr records the address of a type's type object.
func (b *Builder) SetTypeAddr(t TypeID, addr uint64) { b.h.types[t].addr = addr }

// AddObject adds an object and returns its id.
func (b *Builder) AddObject(o Object) ID {
	h := &b.h
	if len(h.addr) >= math.MaxUint32-1 {
		b.fail(fmt.Errorf("too many objects"))
		return NoID
	}
	if len(h.labelOff) == 0 {
		h.labelOff = append(h.labelOff, 0)
	}
	h.addr = append(h.addr, o.Addr)
	h.typ = append(h.typ, o.Type)
	h.size = append(h.size, o.Size)
	h.refcnt = append(h.refcnt, o.Refcount)
	h.flags = append(h.flags, o.Flags)
	h.label = append(h.label, o.Label...)
	h.labelOff = append(h.labelOff, uint32(len(h.label)))
	return ID(len(h.addr) - 1)
}

// AddEdge adds an edge from one object to another with a name ("" for none).
// Edges of one object keep the order they were added in.
func (b *Builder) AddEdge(from, to ID, name string) {
	b.addEdge(from, to, EdgeName(b.intern(name)))
}

// AddIndexEdge adds an edge named "[i]", as from a list or tuple.
func (b *Builder) AddIndexEdge(from, to ID, i int) { b.addEdge(from, to, IndexName(i)) }

func (b *Builder) addEdge(from, to ID, n EdgeName) {
	b.from = append(b.from, from)
	b.to = append(b.to, to)
	b.names = append(b.names, n)
	b.named = b.named || n != 0
}

// AddRoot adds a root.
func (b *Builder) AddRoot(r Root) { b.roots = append(b.roots, r) }

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Build returns the heap. It fails on an edge or root naming an object that
// does not exist, on an unknown type id, and on two objects with one
// address. The Builder must not be used afterwards.
func (b *Builder) Build() (*Heap, error) {
	if b.err != nil {
		return nil, fmt.Errorf("building heap: %w", b.err)
	}
	h := &b.h
	n := len(h.addr)
	for i, t := range h.typ {
		if int(t) >= len(h.types) {
			return nil, fmt.Errorf("building heap: object %d: unknown type id %d", i, t)
		}
	}
	for i := range b.from {
		if int(b.from[i]) >= n || int(b.to[i]) >= n {
			return nil, fmt.Errorf("building heap: edge %d: object id out of range (%d -> %d, %d objects)", i, b.from[i], b.to[i], n)
		}
	}
	for i, r := range b.roots {
		if int(r.Target) >= n {
			return nil, fmt.Errorf("building heap: root %d (%s): object id %d out of range", i, r.Name, r.Target)
		}
		if r.Kind == 0 || r.Kind >= numRootKinds {
			return nil, fmt.Errorf("building heap: root %d (%s): bad kind %d", i, r.Name, r.Kind)
		}
	}
	ah := newAddrHash(h.addr)
	for i := range h.addr {
		if prev, dup := ah.insert(ID(i)); dup {
			return nil, fmt.Errorf("building heap: %w", &sharedAddrError{prev, ID(i), h.addr[i]})
		}
	}
	if n > 0 {
		off := make([]uint32, n+1)
		for _, f := range b.from {
			off[f+1]++
		}
		for i := 1; i <= n; i++ {
			off[i] += off[i-1]
		}
		next := make([]uint32, n)
		copy(next, off[:n])
		h.edgeTo = make([]ID, len(b.from))
		if b.named {
			h.edgeName = make([]EdgeName, len(b.from))
		}
		for i, f := range b.from {
			e := next[f]
			next[f]++
			h.edgeTo[e] = b.to[i]
			if b.named {
				h.edgeName[e] = b.names[i]
			}
		}
		h.off = off
	}
	h.roots = b.roots
	h.weak.sort()
	b.from, b.to, b.names, b.roots = nil, nil, nil, nil
	return h, nil
}

// sharedAddrError is two objects with one address.
type sharedAddrError struct {
	first, second ID
	addr          uint64
}

func (e *sharedAddrError) Error() string {
	return fmt.Sprintf("objects %d and %d share address %#x", e.first, e.second, e.addr)
}
