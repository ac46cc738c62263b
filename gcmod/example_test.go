package gcmod_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
)

// newRuntime is a Runtime following CPython 3.11.7 with automatic
// collection off, so that the examples' counts do not depend on when a
// collection runs.
func newRuntime() *gcmod.Runtime {
	r, err := gcmod.NewRuntime(gcmod.Options{})
	if err != nil {
		panic(err)
	}
	r.Disable()
	return r
}

// pair makes two Nodes that refer to each other and drops the caller's
// references, leaving a cycle only the collector can free.
func pair(r *gcmod.Runtime, node gcmod.TypeID) (a, b gcmod.Obj) {
	a, b = r.New(node), r.New(node)
	r.SetRef(a, "peer", b)
	r.SetRef(b, "peer", a)
	r.Decref(a)
	r.Decref(b)
	return a, b
}

func ExampleNewRuntime() {
	r, err := gcmod.NewRuntime(gcmod.Options{Version: "3.13.0"})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Version(), r.GetThreshold(), r.IsEnabled())
	// Output: 3.13.0 [2000 10 10] true
}

func ExampleRuntime_Version() {
	r, _ := gcmod.NewRuntime(gcmod.Options{})
	fmt.Println(r.Version(), r.Version().Collector())
	// Output: 3.11.7 generational
}

func ExampleRuntime_NewType() {
	r := newRuntime()
	node := r.NewType(gcmod.Type{Name: "Node", QualName: "app.Node"})
	n := r.New(node)
	fmt.Println(r.TypeName(n), r.IsTracked(n))
	// Output: Node true
}

func ExampleRuntime_TypeName() {
	r := newRuntime()
	fmt.Println(r.TypeName(r.New(gcmod.TypeList)), r.TypeName(r.New(gcmod.TypeDict)))
	// Output: list dict
}

func ExampleRuntime_TypeOf() {
	r := newRuntime()
	fmt.Println(r.TypeOf(r.New(gcmod.TypeList)) == gcmod.TypeList)
	// Output: true
}

func ExampleRuntime_Alive() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	fmt.Println(r.Alive(l))
	r.Decref(l)
	fmt.Println(r.Alive(l))
	// Output:
	// true
	// false
}

func ExampleRuntime_Addr() {
	r := newRuntime()
	a, b := r.New(gcmod.TypeList), r.New(gcmod.TypeList)
	fmt.Println(r.Addr(a) != r.Addr(b))
	// Output: true
}

func ExampleRuntime_Refcount() {
	r := newRuntime()
	x := r.New(gcmod.TypeObject)
	l := r.New(gcmod.TypeList)
	r.AddRef(l, x, "")
	fmt.Println(r.Refcount(x))
	// Output: 2
}

func ExampleRuntime_New() {
	r := newRuntime()
	d := r.New(gcmod.TypeDict)
	// Dicts start untracked before 3.14, until a container is stored in them.
	fmt.Println(r.IsTracked(d), r.GetCount())
	r.SetRef(d, "items", r.New(gcmod.TypeList))
	fmt.Println(r.IsTracked(d), r.GetCount())
	// Output:
	// false [1 0 0]
	// true [2 0 0]
}

func ExampleRuntime_NewTuple() {
	r := newRuntime()
	n := r.New(gcmod.TypeObject) // an int
	t := r.NewTuple(n, n)
	fmt.Println(r.IsTracked(t))
	r.Collect(0) // a collection untracks tuples of atomic objects
	fmt.Println(r.IsTracked(t), r.NewTuple() == r.NewTuple())
	// Output:
	// true
	// false true
}

// The seeds' Connection: its handler dict holds bound methods of itself.
func ExampleRuntime_NewMethod() {
	r := newRuntime()
	conn := r.New(r.NewType(gcmod.Type{Name: "Connection"}))
	handlers := r.New(gcmod.TypeDict)
	for _, name := range []string{"on_data", "on_close"} {
		m := r.NewMethod(conn)
		r.SetRef(handlers, name, m)
		r.Decref(m)
	}
	r.SetRef(conn, "handlers", handlers)
	r.Decref(handlers)
	r.Decref(conn)
	fmt.Println(r.Collect(2))
	// Output: 4 0 <nil>
}

func ExampleRuntime_NewWeakref() {
	r := newRuntime()
	obj := r.New(r.NewType(gcmod.Type{Name: "Node"}))
	wr := r.NewWeakref(obj, func(r *gcmod.Runtime, wr gcmod.Obj) {
		fmt.Println("callback")
	})
	r.Decref(obj)
	_, alive := r.WeakTarget(wr)
	fmt.Println(alive)
	// Output:
	// callback
	// false
}

func ExampleRuntime_WeakTarget() {
	r := newRuntime()
	obj := r.New(gcmod.TypeList)
	wr := r.NewWeakref(obj, nil)
	target, ok := r.WeakTarget(wr)
	fmt.Println(target == obj, ok)
	// Output: true true
}

func ExampleRuntime_Incref() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	r.Incref(l)
	r.Decref(l)
	fmt.Println(r.Alive(l), r.Refcount(l))
	// Output: true 1
}

// An object is freed the moment its count reaches zero, and what it alone
// held goes with it, in CPython's order. The count shows that the freed
// list went to the list free list, as CPython's does.
func ExampleRuntime_Decref() {
	r := newRuntime()
	fin := r.NewType(gcmod.Type{Name: "Fin", Del: func(r *gcmod.Runtime, o gcmod.Obj) {
		fmt.Println("__del__", r.TypeName(o))
	}})
	l := r.New(gcmod.TypeList)
	f := r.New(fin)
	r.AddRef(l, f, "")
	r.Decref(f)
	r.Decref(l)
	fmt.Println(r.GetCount())
	// Output:
	// __del__ Fin
	// [1 0 0]
}

func ExampleRuntime_SetImmortal() {
	r := newRuntime()
	none := r.New(gcmod.TypeObject)
	r.SetImmortal(none)
	r.Decref(none)
	fmt.Println(r.Alive(none))
	// Output: true
}

func ExampleRuntime_AddRef() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.Decref(l)
	fmt.Println(r.Alive(l))
	fmt.Println(r.Collect(2))
	// Output:
	// true
	// 1 0 <nil>
}

func ExampleRuntime_SetRef() {
	r := newRuntime()
	node := r.NewType(gcmod.Type{Name: "Node"})
	a, b, c := r.New(node), r.New(node), r.New(node)
	r.SetRef(a, "next", b)
	r.SetRef(a, "next", c) // replaces b
	targets, names := r.Refs(a)
	fmt.Println(targets[0] == c, names, r.Refcount(b))
	// Output: true [next] 1
}

func ExampleRuntime_DelRef() {
	r := newRuntime()
	a := r.New(r.NewType(gcmod.Type{Name: "Node"}))
	r.SetRef(a, "me", a)
	fmt.Println(r.DelRef(a, "me"), r.DelRef(a, "me"), r.Refcount(a))
	// Output: true false 1
}

func ExampleRuntime_RemoveRef() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	x := r.New(gcmod.TypeObject)
	r.AddRef(l, x, "")
	fmt.Println(r.RemoveRef(l, x), r.RemoveRef(l, x))
	// Output: true false
}

func ExampleRuntime_ClearRefs() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.ClearRefs(l) // breaks the cycle by hand
	fmt.Println(r.Refcount(l))
	// Output: 1
}

func ExampleRuntime_Refs() {
	r := newRuntime()
	d := r.New(gcmod.TypeDict)
	x := r.New(gcmod.TypeObject)
	r.SetRef(d, "key", x)
	targets, names := r.Refs(d)
	fmt.Println(targets[0] == x, names)
	// Output: true [key]
}

func ExampleRuntime_Track() {
	r := newRuntime()
	d := r.New(gcmod.TypeDict)
	err := r.Track(d)
	fmt.Println(err, r.IsTracked(d))
	fmt.Println(r.Track(r.New(gcmod.TypeObject)))
	// Output:
	// <nil> true
	// track: object object 14 is not gc-aware
}

func ExampleRuntime_Untrack() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.Untrack(l)
	r.Decref(l)
	fmt.Println(r.Collect(2)) // the collector cannot see it
	// Output: 0 0 <nil>
}

func ExampleRuntime_IsTracked() {
	r := newRuntime()
	fmt.Println(r.IsTracked(r.New(gcmod.TypeList)), r.IsTracked(r.New(gcmod.TypeObject)))
	// Output: true false
}

// test_gc's test_is_finalized: a finalizer resurrects its object, once.
func ExampleRuntime_IsFinalized() {
	r := newRuntime()
	var storage []gcmod.Obj
	lazarus := r.NewType(gcmod.Type{Name: "Lazarus", Del: func(r *gcmod.Runtime, o gcmod.Obj) {
		r.Incref(o)
		storage = append(storage, o)
	}})
	laz := r.New(lazarus)
	fmt.Println(r.IsFinalized(laz))
	r.Decref(laz)
	fmt.Println(r.Alive(laz), r.IsFinalized(laz))
	r.Decref(storage[0])
	fmt.Println(r.Alive(laz))
	// Output:
	// false
	// true true
	// false
}

// The seeds' instance cycle with __del__: since PEP 442 (3.4) it is
// collected; before, it went to gc.garbage, and the two instances' __dict__
// objects, which it reaches, were uncollectable too.
func ExampleRuntime_Collect() {
	for _, version := range []string{"3.11.7", "2.7.18"} {
		r, _ := gcmod.NewRuntime(gcmod.Options{Version: version, Unverified: true}) // 2.7 is not proven
		fin := r.NewType(gcmod.Type{Name: "Fin", Del: func(*gcmod.Runtime, gcmod.Obj) {}})
		pair(r, fin)
		collected, uncollectable, _ := r.Collect(2)
		fmt.Println(version, collected, uncollectable, len(r.Garbage()))
	}
	// Output:
	// 3.11.7 2 0 0
	// 2.7.18 0 4 2
}

func ExampleRuntime_AddCallback() {
	r := newRuntime()
	r.AddCallback(func(r *gcmod.Runtime, phase string, info gcmod.CallbackInfo) {
		fmt.Println(phase, info.Generation, info.Collected, info.Uncollectable)
	})
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.Decref(l)
	r.Collect(1)
	// Output:
	// start 1 0 0
	// stop 1 1 0
}

func ExampleRuntime_ClearCallbacks() {
	r := newRuntime()
	r.AddCallback(func(*gcmod.Runtime, string, gcmod.CallbackInfo) { fmt.Println("called") })
	r.ClearCallbacks()
	r.Collect(2)
	fmt.Println("done")
	// Output: done
}

// The seeds' disabled collector: cycles accumulate until it is enabled
// again and the next allocation passes the threshold.
func ExampleRuntime_Disable() {
	r, _ := gcmod.NewRuntime(gcmod.Options{})
	r.Disable()
	node := r.NewType(gcmod.Type{Name: "Node"})
	for range 400 {
		pair(r, node)
	}
	fmt.Println(r.GetCount())
	r.Enable()
	r.New(node)
	fmt.Println(r.GetCount(), r.GetStats()[0])
	// Output:
	// [800 0 0]
	// [0 1 0] {1 800 0}
}

func ExampleRuntime_Enable() {
	r := newRuntime()
	r.Enable()
	fmt.Println(r.IsEnabled())
	// Output: true
}

func ExampleRuntime_IsEnabled() {
	r, _ := gcmod.NewRuntime(gcmod.Options{})
	fmt.Println(r.IsEnabled())
	// Output: true
}

// test_gc's test_collect_generations: an object moves up one generation
// per collection.
func ExampleRuntime_GetCount() {
	r := newRuntime()
	r.New(gcmod.TypeList)
	r.Collect(0)
	fmt.Println(r.GetCount())
	r.Collect(1)
	fmt.Println(r.GetCount())
	r.Collect(2)
	fmt.Println(r.GetCount())
	// Output:
	// [0 1 0]
	// [0 0 1]
	// [0 0 0]
}

func ExampleRuntime_GetThreshold() {
	r, _ := gcmod.NewRuntime(gcmod.Options{Version: "3.14.2", Unverified: true}) // 3.14 is not proven
	fmt.Println(r.GetThreshold(), r.Version().Collector())
	// Output: [2000 10 0] incremental
}

func ExampleRuntime_SetThreshold() {
	r, _ := gcmod.NewRuntime(gcmod.Options{})
	r.SetThreshold(10)
	node := r.NewType(gcmod.Type{Name: "Node"})
	for range 10 {
		pair(r, node) // the 11th allocation collects the first five pairs
	}
	fmt.Println(r.GetThreshold(), r.GetCount(), r.GetStats()[0])
	// Output: [10 10 10] [9 1 0] {1 10 0}
}

func ExampleRuntime_SetDebug() {
	r, _ := gcmod.NewRuntime(gcmod.Options{Stderr: os.Stdout, Now: func() time.Duration { return 0 }})
	r.Disable()
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.Decref(l)
	r.SetDebug(gcmod.DebugStats | gcmod.DebugCollectable)
	r.Collect(2)
	// Output:
	// gc: collecting generation 2...
	// gc: objects in each generation: 1 0 0
	// gc: objects in permanent generation: 0
	// gc: collectable <list 0x7f0000000340>
	// gc: done, 1 unreachable, 0 uncollectable, 0.0000s elapsed
}

func ExampleRuntime_GetDebug() {
	r := newRuntime()
	r.SetDebug(gcmod.DebugLeak)
	fmt.Println(r.GetDebug() == gcmod.DebugCollectable|gcmod.DebugUncollectable|gcmod.DebugSaveAll)
	// Output: true
}

func ExampleRuntime_GetObjects() {
	r := newRuntime()
	a := r.New(gcmod.TypeList)
	r.Collect(0)
	b := r.New(gcmod.TypeList)
	young, _ := r.GetObjects(0)
	older, _ := r.GetObjects(1)
	fmt.Println(len(young), young[0] == b, len(older), older[0] == a)
	// Output: 1 true 1 true
}

func ExampleRuntime_GetStats() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.Decref(l)
	r.Collect(2)
	fmt.Printf("%+v\n", r.GetStats())
	// Output: [{Collections:0 Collected:0 Uncollectable:0} {Collections:0 Collected:0 Uncollectable:0} {Collections:1 Collected:1 Uncollectable:0}]
}

func ExampleRuntime_GetReferrers() {
	r := newRuntime()
	x := r.New(gcmod.TypeObject)
	l := r.New(gcmod.TypeList)
	r.AddRef(l, x, "")
	r.AddRef(l, x, "")
	fmt.Println(r.GetReferrers(x)[0] == l, len(r.GetReferrers(x)))
	// Output: true 1
}

func ExampleRuntime_GetReferents() {
	r := newRuntime()
	x := r.New(gcmod.TypeObject)
	l := r.New(gcmod.TypeList)
	r.AddRef(l, x, "")
	r.AddRef(l, x, "")
	fmt.Println(len(r.GetReferents(l)), len(r.GetReferents(x)))
	// Output: 2 0
}

// The seeds' freeze before fork: frozen objects are out of every
// collection, so a child process does not write to the pages it shares.
func ExampleRuntime_Freeze() {
	r := newRuntime()
	node := r.NewType(gcmod.Type{Name: "Node"})
	a, b := r.New(node), r.New(node)
	r.SetRef(a, "peer", b)
	r.SetRef(b, "peer", a)
	r.Freeze()
	// After fork, in the child:
	r.Decref(a)
	r.Decref(b)
	fmt.Println(r.GetFreezeCount())
	fmt.Println(r.Collect(2))
	// Output:
	// 2
	// 0 0 <nil>
}

func ExampleRuntime_Unfreeze() {
	r := newRuntime()
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.Freeze()
	r.Decref(l)
	r.Unfreeze()
	fmt.Println(r.GetFreezeCount())
	fmt.Println(r.Collect(2))
	// Output:
	// 0
	// 1 0 <nil>
}

func ExampleRuntime_GetFreezeCount() {
	r := newRuntime()
	r.New(gcmod.TypeList)
	r.New(gcmod.TypeDict) // untracked: not frozen
	r.Freeze()
	fmt.Println(r.GetFreezeCount())
	// Output: 1
}

// The seeds' DEBUG_SAVEALL: the garbage is kept in gc.garbage instead of
// being freed.
func ExampleRuntime_Garbage() {
	r := newRuntime()
	r.SetDebug(gcmod.DebugSaveAll)
	l := r.New(gcmod.TypeList)
	r.AddRef(l, l, "")
	r.Decref(l)
	fmt.Println(r.Collect(2))
	fmt.Println(len(r.Garbage()), r.Garbage()[0] == l, r.Alive(l))
	// Output:
	// 1 0 <nil>
	// 1 true true
}

func ExampleRuntime_ClearGarbage() {
	r := newRuntime()
	tpDel := r.NewType(gcmod.Type{Name: "Legacy", LegacyDel: func(*gcmod.Runtime, gcmod.Obj) {}})
	a := r.New(tpDel)
	r.SetRef(a, "me", a)
	r.Decref(a)
	fmt.Println(r.Collect(2))
	r.ClearGarbage()
	fmt.Println(len(r.Garbage()), r.Refcount(a))
	// Output:
	// 0 1 <nil>
	// 0 1
}

func ExampleRuntime_Snapshot() {
	r := newRuntime()
	node := r.NewType(gcmod.Type{Name: "Node", QualName: "app.Node"})
	pair(r, node)
	h, err := r.Snapshot()
	if err != nil {
		panic(err)
	}
	rep, _ := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
	fmt.Println(h.Len(), rep.Unreachable, h.Meta().Version)
	// Output: 3 2 3.11.7
}

func ExampleParseVersion() {
	v, err := gcmod.ParseVersion("3.14.0rc2")
	fmt.Println(v, err, v.Collector())
	_, err = gcmod.ParseVersion("3")
	fmt.Println(err)
	// Output:
	// 3.14.0 <nil> incremental
	// parsing version "3": want major.minor[.patch]
}

func ExampleVersion_Collector() {
	for _, s := range []string{"2.7", "3.11", "3.14.4", "3.14.5"} {
		v, _ := gcmod.ParseVersion(s)
		fmt.Println(s, v.Collector())
	}
	// Output:
	// 2.7 legacy
	// 3.11 generational
	// 3.14.4 incremental
	// 3.14.5 generational
}

func ExampleVersion_String() {
	v, _ := gcmod.ParseVersion("3.12")
	fmt.Println(v.String())
	// Output: 3.12.0
}

func ExampleCollector_String() {
	fmt.Println(gcmod.Generational.String())
	// Output: generational
}

// cyclesHeap is a snapshot with two Foo objects referring to each other, a
// list that refers to itself and holds a dict, an object with a legacy
// finalizer in a cycle, and a Foo that a module holds.
func cyclesHeap() *heap.Heap {
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.11.7"})
	foo := b.AddType("Foo", "app.Foo")
	lst := b.AddType("list", "builtins.list")
	dct := b.AddType("dict", "builtins.dict")
	leg := b.AddType("Legacy", "app.Legacy")
	mod := b.AddType("module", "builtins.module")
	tr := heap.FlagTracked
	add := func(t heap.TypeID, addr uint64, rc uint64, f heap.Flags) heap.ID {
		return b.AddObject(heap.Object{Addr: addr, Type: t, Size: 56, Refcount: rc, Flags: f})
	}
	a := add(foo, 0x1000, 1, tr)
	c := add(foo, 0x1040, 1, tr)
	b.AddEdge(a, c, "peer")
	b.AddEdge(c, a, "peer")
	l := add(lst, 0x2000, 1, tr)
	d := add(dct, 0x2040, 1, tr)
	b.AddIndexEdge(l, l, 0)
	b.AddIndexEdge(l, d, 1)
	g := add(leg, 0x3000, 1, tr|heap.FlagLegacyDel)
	b.AddEdge(g, g, "me")
	m := add(mod, 0x4000, 1, tr.WithKind(heap.KindModule))
	kept := add(foo, 0x4040, 1, tr)
	b.AddEdge(m, kept, "kept")
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h
}

func ExampleUnreachable() {
	h := cyclesHeap()
	rep, err := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Candidates, rep.Unreachable, rep.Collected, rep.Uncollectable, rep.Bytes)
	for _, g := range rep.Groups {
		fmt.Printf("%d+%d objects, %d bytes, %v:", len(g.Members), len(g.Held), g.Bytes, g.Reason)
		for _, s := range g.Cycle {
			fmt.Printf(" %s.%s ->", h.TypeName(s.Obj), h.EdgeName(s.Edge))
		}
		fmt.Println(" (back to first)")
	}
	// Output:
	// 7 5 4 1 280
	// 2+0 objects, 112 bytes, freed: Foo.peer -> Foo.peer -> (back to first)
	// 1+1 objects, 112 bytes, freed: list.[0] -> (back to first)
	// 1+0 objects, 56 bytes, legacy finalizer: Legacy.me -> (back to first)
}

func ExampleReport_Reason() {
	h := cyclesHeap()
	rep, _ := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
	for _, addr := range []uint64{0x1000, 0x3000} {
		id, _ := h.Lookup(addr)
		fmt.Println(h.TypeName(id), rep.Reason(id))
	}
	// Output:
	// Foo freed
	// Legacy legacy finalizer
}

func ExampleReport_IsUnreachable() {
	h := cyclesHeap()
	rep, _ := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
	kept, _ := h.Lookup(0x4040)
	dict, _ := h.Lookup(0x2040)
	fmt.Println(rep.IsUnreachable(kept), rep.IsUnreachable(dict))
	// Output: false true
}

func ExampleReason_String() {
	fmt.Println(gcmod.HeldByLegacy)
	// Output: held by a legacy finalizer
}

func ExampleCountGenerations() {
	b := heap.NewBuilder()
	t := b.AddType("dict", "builtins.dict")
	for i, f := range []heap.Flags{heap.FlagTracked, heap.FlagTracked.WithGeneration(2), heap.FlagTracked | heap.FlagPermanent, 0} {
		b.AddObject(heap.Object{Addr: 0x1000 + uint64(i)*0x40, Type: t, Size: 64, Refcount: 1, Flags: f})
	}
	h, _ := b.Build()
	fmt.Printf("%+v\n", gcmod.CountGenerations(h))
	// Output:
	// {Young:[1 0 1] Permanent:1 Untracked:1}
}

// Before 3.11 an instance's attributes live in a __dict__ object, which the
// first attribute store makes; from 3.11 they live in the instance.
func ExampleRuntime_InstanceDict() {
	for _, version := range []string{"3.10.13", "3.11.7"} {
		r, _ := gcmod.NewRuntime(gcmod.Options{Version: version})
		node := r.NewType(gcmod.Type{Name: "Node"})
		a, b := r.New(node), r.New(node)
		fmt.Println(version, r.InstanceDict(a) != gcmod.NoObj)
		r.SetRef(a, "peer", b)
		d := r.InstanceDict(a)
		if d == gcmod.NoObj {
			fmt.Println(version, "attributes inline:", r.GetReferents(a)[0] == b)
			continue
		}
		fmt.Println(version, r.TypeName(d), r.GetReferents(a)[0] == d, r.GetReferents(d)[0] == b)
	}
	// Output:
	// 3.10.13 false
	// 3.10.13 dict true true
	// 3.11.7 false
	// 3.11.7 attributes inline: true
}

func ExampleUnverifiedError_Error() {
	_, err := gcmod.NewRuntime(gcmod.Options{Version: "3.14.2"})
	var ue *gcmod.UnverifiedError
	fmt.Println(errors.As(err, &ue), ue.Version)
	fmt.Println(err)
	// Output:
	// true 3.14.2
	// new runtime: CPython 3.14.2 is not verified: the Runtime is proven against CPython 3.7 to 3.13, and no interpreter of it has run the differential tests; set Options.Unverified to follow its rules unproven
}

func ExampleReport_Shapes() {
	h := cyclesHeap()
	rep, _ := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
	for _, s := range rep.Shapes(h) {
		fmt.Printf("%d group(s), %d objects, %d bytes, %v:", len(s.Groups), s.Objects, s.Bytes, s.Reasons)
		for _, st := range s.Steps {
			fmt.Printf(" %s.%s ->", st.Type, st.Edge)
		}
		fmt.Println()
	}
	// Output:
	// 1 group(s), 2 objects, 112 bytes, [freed]: app.Foo.peer -> app.Foo.peer ->
	// 1 group(s), 2 objects, 112 bytes, [freed]: builtins.list.[*] ->
	// 1 group(s), 1 objects, 56 bytes, [legacy finalizer]: app.Legacy.me ->
}
