package heap_test

import (
	"bytes"
	"fmt"

	"github.com/objgraph-go/objgraph/heap"
)

func ExampleBuilder() {
	b := heap.NewBuilder()
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	d := b.AddObject(heap.Object{Addr: 0x1000, Type: tDict, Size: 232, Refcount: 1, Flags: heap.FlagTracked, Label: "1 items"})
	l := b.AddObject(heap.Object{Addr: 0x2000, Type: tList, Size: 56, Refcount: 1, Flags: heap.FlagTracked, Label: "0 items"})
	b.AddEdge(d, l, "cache")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: d})
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	for id := range h.All() {
		fmt.Printf("%d %s %q\n", id, h.TypeName(id), h.Label(id))
		for to, name := range h.Edges(id) {
			fmt.Printf("  -%s-> %d\n", name, to)
		}
	}
	// Output:
	// 0 dict "1 items"
	//   -cache-> 1
	// 1 list "0 items"
}

func ExampleHeap_Lookup() {
	b := heap.NewBuilder()
	t := b.AddType("Foo", "app.Foo")
	b.AddObject(heap.Object{Addr: 0x7f00aa, Type: t})
	h, _ := b.Build()
	id, ok := h.Lookup(0x7f00aa)
	fmt.Println(id, ok, h.TypeQualName(h.Type(id)))
	_, ok = h.Lookup(0x7f00ab)
	fmt.Println(ok)
	// Output:
	// 0 true app.Foo
	// false
}

func ExampleHeap_Referrers() {
	b := heap.NewBuilder()
	t := b.AddType("list", "builtins.list")
	a := b.AddObject(heap.Object{Addr: 1, Type: t})
	c := b.AddObject(heap.Object{Addr: 2, Type: t})
	x := b.AddObject(heap.Object{Addr: 3, Type: t})
	b.AddIndexEdge(a, x, 0)
	b.AddIndexEdge(c, x, 5)
	h, _ := b.Build()
	fmt.Println(h.Referrers(x))
	// Output: [0 1]
}

func ExampleEncoder() {
	var buf bytes.Buffer
	e, _ := heap.NewEncoder(&buf, &heap.Meta{Runtime: "CPython"}, heap.EncoderOptions{})
	tList := e.Type("list", "builtins.list", 0)
	tInt := e.Type("int", "builtins.int", 0)
	e.Object(heap.Object{Addr: 0x10, Type: tList, Flags: heap.FlagTracked, Label: "1 items"},
		[]heap.Edge{{Target: 0x20, Name: heap.IndexName(0)}})
	e.Object(heap.Object{Addr: 0x20, Type: tInt, Label: "42"}, nil)
	e.Root(heap.Root{Kind: heap.RootModule, Name: "__main__"}, 0x10)
	if err := e.Close(); err != nil {
		panic(err)
	}
	h, err := heap.Read(&buf, heap.ReadOptions{})
	if err != nil {
		panic(err)
	}
	lo, _ := h.EdgeRange(0)
	fmt.Println(h.Len(), h.NumEdges(), h.EdgeName(lo), h.Label(h.EdgeTarget(lo)), h.Roots()[0].Name)
	// Output: 2 1 [0] 42 __main__
}

func ExampleReadAny() {
	b := heap.NewBuilder()
	t := b.AddType("dict", "builtins.dict")
	b.AddObject(heap.Object{Addr: 0x1000, Type: t, Label: "0 items"})
	h, _ := b.Build()
	var ogs, js bytes.Buffer
	heap.Write(&ogs, h, heap.EncoderOptions{})
	heap.WriteJSON(&js, h)
	for _, in := range [][]byte{ogs.Bytes(), append([]byte("\xEF\xBB\xBF\n"), js.Bytes()...), make([]byte, 64)} {
		h, err := heap.ReadAny(bytes.NewReader(in), heap.ReadOptions{Name: "in"})
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(h.Len(), h.TypeName(0), h.Label(0))
	}
	// Output:
	// 1 dict 0 items
	// 1 dict 0 items
	// reading snapshot in: offset 0x0: not an objgraph snapshot: it starts with "\x00\x00\x00\x00\x00\x00\x00\x00", neither the .ogs magic "\x89OGSNAP\n" nor a JSON object
}
