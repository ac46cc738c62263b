package objgraph

import (
	"strings"

	"github.com/objgraph-go/objgraph/heap"
)

// The shape of a retainer chain is what two chains that hold objects "in
// the same place" have in common: where the chain starts (the root), and,
// hop by hop, the type of each object and the name of the reference that
// leads to it, with the names that differ from one element of a container
// to the next collapsed. List, tuple and set indexes, and the keys of
// ordinary dicts, become "[*]", so that every Response in a cache dict has
// the same shape whatever its key; attribute names, and the keys of the
// namespaces of modules, classes and instances, are kept. A dict counts as
// a namespace when the chain enters it through __dict__, f_globals,
// f_locals, f_builtins, __globals__ or __builtins__.

// collapsedName is the edge name of an element of a container.
const collapsedName = "[*]"

// namespaceEdges lead into dicts whose keys are names, not data.
var namespaceEdges = map[string]bool{
	"__dict__": true, "f_globals": true, "f_locals": true, "f_builtins": true,
	"__globals__": true, "__builtins__": true,
}

// mappingTypes hold data under their keys.
var mappingTypes = map[string]bool{
	"dict": true, "OrderedDict": true, "defaultdict": true, "Counter": true,
	"WeakValueDictionary": true, "WeakKeyDictionary": true, "mappingproxy": true, "ChainMap": true,
}

// A ShapeStep is one hop of a chain's shape.
type ShapeStep struct {
	Edge string `json:"edge"` // name of the reference that leads to the object, collapsed; "" for the root and unnamed references
	Type string `json:"type"` // type name of the object
}

// shapeNode is an interned shape: its last step and the shape before it.
type shapeNode struct {
	parent uint32 // index of the shape without the last step; noShape for a root
	edge   uint32 // edge class, an index into shapes.edges
	typ    heap.TypeID
	root   uint32 // for a root: index into shapes.roots
	depth  uint32 // steps after the root
	data   bool   // the object is a mapping entered other than as a namespace: its keys collapse
}

const noShape = ^uint32(0)

// fixedClass marks, in shapes.named, edge classes kept even in data dicts.
const fixedClass = 1 << 31

// shapes interns chain shapes as a tree: each shape is its parent shape
// plus one step, so the shapes of a whole heap cost one entry per distinct
// shape and one look-up per object.
type shapes struct {
	h       *heap.Heap
	r       *Retainers
	nodes   []shapeNode
	index   shapeIndex
	edges   []string          // edge classes
	edgeIDs map[string]uint32 // edge class -> index
	named   []uint32          // raw edge name -> edge class + 1, for names kept as they are (0 = not seen)
	roots   []Root            // the roots of the shapes
	rootIDs map[Root]uint32
	of      []uint32  // object id -> shape, noShape until computed
	mapping []bool    // type id -> mapping type
	walk    []heap.ID // shape's stack, kept for the next call
}

func newShapes(h *heap.Heap, r *Retainers) *shapes {
	s := &shapes{h: h, r: r, edgeIDs: map[string]uint32{}, rootIDs: map[Root]uint32{}, of: make([]uint32, h.Len())}
	for i := range s.of {
		s.of[i] = noShape
	}
	s.mapping = make([]bool, h.NumTypes())
	for t := range s.mapping {
		s.mapping[t] = mappingTypes[h.TypeShortName(heap.TypeID(t))]
	}
	s.edgeClass("") // class 0: no name
	return s
}

// reset forgets the shapes, and the shapes of the objects visited, to start
// over with another cut depth (see shapes.cut). The edge classes and roots
// stay.
func (s *shapes) reset(visited []heap.ID) {
	for _, v := range visited {
		s.of[v] = noShape
	}
	s.nodes = s.nodes[:0]
	s.index.reset()
}

func (s *shapes) edgeClass(name string) uint32 {
	if c, ok := s.edgeIDs[name]; ok {
		return c
	}
	c := uint32(len(s.edges))
	s.edges = append(s.edges, name)
	s.edgeIDs[name] = c
	return c
}

// classOf is the edge class of edge e, which leaves an object that holds
// data under its keys when data is set.
func (s *shapes) classOf(e int, data bool) uint32 {
	raw := s.h.EdgeNameID(e)
	if raw == 0 {
		return 0
	}
	if _, ok := raw.IsIndex(); ok {
		return s.edgeClass(collapsedName)
	}
	if int(raw) >= len(s.named) || s.named[raw] == 0 {
		// Names of the form <key> are the snapshot's own, not data.
		name := s.h.NameString(raw)
		c := s.edgeClass(collapsedName)
		if isIdentifier(name) {
			c = s.edgeClass(name)
		}
		if strings.HasPrefix(name, "<") && strings.HasSuffix(name, ">") {
			c = s.edgeClass(name) | fixedClass
		}
		for int(raw) >= len(s.named) {
			s.named = append(s.named, make([]uint32, max(64, len(s.named)))...)
		}
		s.named[raw] = c + 1
	}
	c := s.named[raw] - 1
	switch {
	case c&fixedClass != 0:
		return c &^ fixedClass
	case data:
		return s.edgeClass(collapsedName)
	}
	return c
}

// rootIndex interns a root.
func (s *shapes) rootIndex(d Root) uint32 {
	ri, ok := s.rootIDs[d]
	if !ok {
		ri = uint32(len(s.roots))
		s.roots = append(s.roots, d)
		s.rootIDs[d] = ri
	}
	return ri
}

// past marks, in shapes.of, an object whose chain is longer than the cut
// depth: it counts under the shape of its chain's first hops, the rest of
// its entry.
const past = 1 << 31

// step computes the entry of shapes.of for v from that of the object
// before it on its chain, which must be known, with chains cut at depth
// hops: an object further from its root gets the shape of its chain's
// first depth hops, marked past.
func (s *shapes) step(v heap.ID, depth uint32) uint32 {
	p, e := s.r.Parent(v)
	switch {
	case p == heap.NoID:
		return s.intern(shapeKey{noShape, s.rootIndex(s.r.Root(v)), uint32(s.h.Type(v)), 1})
	case s.of[p]&past != 0:
		return s.of[p]
	case s.nodes[s.of[p]].depth >= depth:
		return s.of[p] | past
	default:
		ps := s.of[p]
		return s.intern(shapeKey{ps, s.classOf(e, s.nodes[ps].data), uint32(s.h.Type(v)), 0})
	}
}

// shape returns the shape of id's chain, cut at depth hops (see step):
// the shape, and whether the chain is longer, in which case the shape is
// that of its first depth hops. It computes the shapes of the objects
// before id on its chain as needed, each once; it returns noShape when no
// root reaches id.
func (s *shapes) shape(id heap.ID, depth uint32) (sh uint32, cut bool) {
	if !s.r.Reached(id) {
		return noShape, false
	}
	if s.of[id] == noShape {
		// Walk up to an object whose shape is known, then come back down.
		stack := s.walk[:0]
		for v := id; s.of[v] == noShape; {
			stack = append(stack, v)
			p, _ := s.r.Parent(v)
			if p == heap.NoID {
				break
			}
			v = p
		}
		for i := len(stack) - 1; i >= 0; i-- {
			s.of[stack[i]] = s.step(stack[i], depth)
		}
		s.walk = stack
	}
	return s.of[id] &^ past, s.of[id]&past != 0
}

// intern returns the shape with key, adding it when new.
func (s *shapes) intern(key shapeKey) uint32 {
	if sh, ok := s.index.get(key); ok {
		return sh
	}
	sh := uint32(len(s.nodes))
	n := shapeNode{parent: key.parent, typ: heap.TypeID(key.typ)}
	if key.root == 1 {
		n.root = key.edge
	} else {
		p := s.nodes[key.parent]
		n.edge, n.root, n.depth = key.edge, p.root, p.depth+1
		n.data = s.mapping[n.typ] && !namespaceEdges[s.edges[key.edge]]
	}
	if key.root == 1 {
		n.data = s.mapping[n.typ]
	}
	s.nodes = append(s.nodes, n)
	s.index.put(key, sh)
	return sh
}

// steps spells shape sh, root first.
func (s *shapes) steps(sh uint32, qualified bool) (root Root, steps []ShapeStep) {
	for ; sh != noShape; sh = s.nodes[sh].parent {
		n := s.nodes[sh]
		steps = append(steps, ShapeStep{Edge: s.edges[n.edge], Type: typeName(s.h, n.typ, qualified)})
		root = s.roots[n.root]
	}
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
	}
	if len(steps) > 0 {
		steps[0].Edge = ""
	}
	return root, steps
}

// shapeKey identifies a shape: the shape before it, the edge class and
// the type of its last step; for a root (root == 1), edge is the index of
// the root's description.
type shapeKey struct {
	parent, edge, typ, root uint32
}

// shapeIndex is a hash table from shape keys to shapes, with open
// addressing: a Go map costs several times more per look-up, and a heap
// profile looks up every object.
type shapeIndex struct {
	keys []shapeKey
	vals []uint32 // shape + 1; 0 = empty slot
	n    int
}

func (x *shapeIndex) hash(k shapeKey) uint64 {
	h := uint64(k.parent)*0x9e3779b97f4a7c15 ^ uint64(k.edge)*0xbf58476d1ce4e5b9 ^ uint64(k.typ)*0x94d049bb133111eb ^ uint64(k.root)
	h ^= h >> 31
	return h * 0x9e3779b97f4a7c15
}

func (x *shapeIndex) get(k shapeKey) (uint32, bool) {
	if len(x.vals) == 0 {
		return 0, false
	}
	mask := uint64(len(x.vals) - 1)
	for i := x.hash(k) & mask; ; i = (i + 1) & mask {
		if x.vals[i] == 0 {
			return 0, false
		}
		if x.keys[i] == k {
			return x.vals[i] - 1, true
		}
	}
}

func (x *shapeIndex) reset() {
	clear(x.vals)
	x.n = 0
}

func (x *shapeIndex) put(k shapeKey, v uint32) {
	if 2*(x.n+1) > len(x.vals) {
		old, oldVals := x.keys, x.vals
		size := max(1024, 2*len(x.vals))
		x.keys, x.vals, x.n = make([]shapeKey, size), make([]uint32, size), 0
		for i, ov := range oldVals {
			if ov != 0 {
				x.put(old[i], ov-1)
			}
		}
	}
	mask := uint64(len(x.vals) - 1)
	i := x.hash(k) & mask
	for x.vals[i] != 0 {
		i = (i + 1) & mask
	}
	x.keys[i], x.vals[i] = k, v+1
	x.n++
}
