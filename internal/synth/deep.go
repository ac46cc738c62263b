package synth

import (
	"fmt"

	"github.com/objgraph-go/objgraph/heap"
)

// Deep is an in-memory heap as deep as it is large, the shape that makes
// algorithms which walk chains of references per object quadratic.
type Deep struct {
	Heap  *heap.Heap
	Dict  heap.ID   // module __main__'s __dict__, which holds Class and Nodes[0]
	Class heap.ID   // the class of the nodes, which every node refers to
	Nodes []heap.ID // the chain, from the one the module's dict holds
}

// Sizes of the objects of Deep heaps, as on 64-bit CPython 3.11.
const (
	deepInstance = 56
	deepDict     = 232
	deepList     = 72
	deepStr      = 58
	deepType     = 1072
	deepModule   = 72
)

// deepBuilder adds the objects of a Deep heap, with refcounts that match
// the references the heap has, so that nothing looks held from outside:
// edges go to the heap.Builder as they come, objects at the end, when
// their references have been counted.
type deepBuilder struct {
	b     *heap.Builder
	types map[string]heap.TypeID
	objs  []heap.Object
}

func newDeepBuilder(objects int) *deepBuilder {
	d := &deepBuilder{b: heap.NewBuilder(), types: map[string]heap.TypeID{}}
	d.objs = make([]heap.Object, 0, objects)
	d.b.SetMeta(heap.Meta{Producer: "objgraph synth", Runtime: "CPython", Version: "3.11.7", PointerSize: 8, GCHeaderSize: 16, PageSize: 4096})
	return d
}

func (d *deepBuilder) obj(typ, qual string, size uint64, flags heap.Flags, label string) heap.ID {
	t, ok := d.types[qual]
	if !ok {
		t = d.b.AddType(typ, qual)
		d.types[qual] = t
	}
	id := heap.ID(len(d.objs))
	d.objs = append(d.objs, heap.Object{Addr: 0x7f0000000000 + uint64(id)*64, Type: t, Size: size, Flags: flags, Label: label})
	return id
}

func (d *deepBuilder) edge(from, to heap.ID, name string) {
	d.b.AddEdge(from, to, name)
	d.objs[to].Refcount++
}

func (d *deepBuilder) item(from, to heap.ID, i int) {
	d.b.AddIndexEdge(from, to, i)
	d.objs[to].Refcount++
}

// module adds module __main__, a root, and its dict.
func (d *deepBuilder) module() (mod, dict heap.ID) {
	mod = d.obj("module", "builtins.module", deepModule, heap.FlagTracked.WithKind(heap.KindModule), "__main__")
	dict = d.obj("dict", "builtins.dict", deepDict, heap.FlagTracked, "")
	d.edge(mod, dict, "__dict__")
	d.b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "__main__", Target: mod})
	return mod, dict
}

// class adds a class of module __main__, with its __dict__, named in dict.
func (d *deepBuilder) class(name string, dict heap.ID) (cls, cdict heap.ID) {
	cls = d.obj("type", "builtins.type", deepType, heap.FlagTracked.WithKind(heap.KindType), name)
	cdict = d.obj("dict", "builtins.dict", deepDict, heap.FlagTracked, "")
	d.edge(dict, cls, name)
	d.edge(cls, cdict, "__dict__")
	return cls, cdict
}

func (d *deepBuilder) build() (*heap.Heap, error) {
	for _, o := range d.objs {
		d.b.AddObject(o)
	}
	d.objs = nil
	return d.b.Build()
}

// LinkedList builds a linked list of n instances of class Node, as
// CPython 3.10 lays them out: each node refers to its class and to its
// __dict__, which holds a str value and the next node. Module __main__'s
// dict holds the class and the first node. 3n+4 objects, 4n+3 references.
func LinkedList(n int) (*Deep, error) {
	if n <= 0 {
		return nil, fmt.Errorf("synth: linked list of %d nodes", n)
	}
	d := newDeepBuilder(3*n + 4)
	_, dict := d.module()
	cls, _ := d.class("Node", dict)
	out := &Deep{Dict: dict, Class: cls, Nodes: make([]heap.ID, n)}
	var prev heap.ID
	for i := range n {
		node := d.obj("Node", "__main__.Node", deepInstance, heap.FlagTracked, "")
		nd := d.obj("dict", "builtins.dict", deepDict, heap.FlagTracked, "2 items")
		val := d.obj("str", "builtins.str", deepStr, 0, fmt.Sprintf("'node %d'", i))
		if i == 0 {
			d.edge(dict, node, "head")
		} else {
			d.edge(prev, node, "next")
		}
		d.edge(node, cls, "__class__")
		d.edge(node, nd, "__dict__")
		d.edge(nd, val, "value")
		out.Nodes[i], prev = node, nd
	}
	h, err := d.build()
	out.Heap = h
	return out, err
}

// DeepTree builds a tree of instances of class Tree, depth levels deep, as
// CPython 3.11 lays them out (attribute values held by the instance): each
// node refers to its class, to a str name and to a list of two children, a
// leaf (an instance of Tree whose name is the str "leaf", which the class's
// __dict__ also holds) and the node of the next level. Module __main__'s
// dict holds the class and the first node; Nodes are the inner nodes.
// 4·depth+5 objects, 7·depth+4 references.
func DeepTree(depth int) (*Deep, error) {
	if depth <= 0 {
		return nil, fmt.Errorf("synth: tree of depth %d", depth)
	}
	d := newDeepBuilder(4*depth + 5)
	_, dict := d.module()
	cls, cdict := d.class("Tree", dict)
	leafName := d.obj("str", "builtins.str", deepStr, 0, "'leaf'")
	d.edge(cdict, leafName, "kind")
	out := &Deep{Dict: dict, Class: cls, Nodes: make([]heap.ID, depth)}
	var children heap.ID
	for i := range depth {
		node := d.obj("Tree", "__main__.Tree", deepInstance, heap.FlagTracked, "")
		name := d.obj("str", "builtins.str", deepStr, 0, fmt.Sprintf("'level %d'", i))
		if i == 0 {
			d.edge(dict, node, "root")
		} else {
			d.item(children, node, 1)
		}
		d.edge(node, cls, "__class__")
		d.edge(node, name, "name")
		items := "2 items"
		if i == depth-1 {
			items = "1 item"
		}
		children = d.obj("list", "builtins.list", deepList, heap.FlagTracked, items)
		d.edge(node, children, "children")
		leaf := d.obj("Tree", "__main__.Tree", deepInstance, heap.FlagTracked, "")
		d.item(children, leaf, 0)
		d.edge(leaf, cls, "__class__")
		d.edge(leaf, leafName, "name")
		out.Nodes[i] = node
	}
	h, err := d.build()
	out.Heap = h
	return out, err
}
