package gcmod

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
)

// newRuntime is a Runtime of version with automatic collection disabled.
// The unit tests reach the rules of every version, verified or not.
func newRuntime(t *testing.T, version string) *Runtime {
	t.Helper()
	r, err := NewRuntime(Options{Version: version, Unverified: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Disable()
	return r
}

// cycle makes two objects of type ty that refer to each other and drops
// the caller's references.
func cycle(r *Runtime, ty TypeID) (a, b Obj) {
	a, b = r.New(ty), r.New(ty)
	r.SetRef(a, "peer", b)
	r.SetRef(b, "peer", a)
	r.Decref(a)
	r.Decref(b)
	return a, b
}

func TestErrors(t *testing.T) {
	r := newRuntime(t, "")
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"collect -1", func() error { _, _, err := r.Collect(-1); return err }(), "collect: invalid generation -1"},
		{"collect 3", func() error { _, _, err := r.Collect(3); return err }(), "collect: invalid generation 3"},
		{"objects 3", func() error { _, err := r.GetObjects(3); return err }(), "get objects: generation 3"},
		{"threshold", r.SetThreshold(), "set threshold: want 1 to 3 thresholds, have 0"},
		{"track atom", r.Track(r.New(TypeObject)), "track: object object"},
		{"version", func() error { _, err := NewRuntime(Options{Version: "three"}); return err }(), `new runtime: parsing version "three"`},
	} {
		if tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q...", tc.name, tc.err, tc.want)
		}
	}
	if _, _, err := r.Collect(2); err != nil {
		t.Error(err)
	}
}

func TestPanicsOnDeadHandle(t *testing.T) {
	r := newRuntime(t, "")
	o := r.New(TypeList)
	r.Decref(o)
	defer func() {
		if e := recover(); e == nil || !strings.Contains(e.(string), "not a live object") {
			t.Errorf("panic %v", e)
		}
	}()
	r.Incref(o)
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		coll Collector
		ok   bool
	}{
		{"3.11.7", Version{3, 11, 7}, Generational, true},
		{"3.12", Version{3, 12, 0}, Generational, true},
		{"3.14.0rc2", Version{3, 14, 0}, Incremental, true},
		{"3.14.4", Version{3, 14, 4}, Incremental, true},
		{"3.14.5", Version{3, 14, 5}, Generational, true},
		{"2.7.18", Version{2, 7, 18}, Legacy, true},
		{"3.3", Version{3, 3, 0}, Legacy, true},
		{"3", Version{}, 0, false},
		{"3.x", Version{}, 0, false},
	} {
		v, err := ParseVersion(tc.in)
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v", tc.in, v, err)
			continue
		}
		if tc.ok && v.Collector() != tc.coll {
			t.Errorf("%v.Collector() = %v, want %v", v, v.Collector(), tc.coll)
		}
	}
}

// Before PEP 442 (3.4), a cycle with __del__ is uncollectable: it goes to
// gc.garbage and __del__ does not run.
func TestLegacyDel(t *testing.T) {
	for _, tc := range []struct {
		version                  string
		collected, uncollectable int
		dels                     int
	}{
		// Before 3.11 each instance's __dict__ is an object of the cycle.
		{"2.7.18", 0, 4, 0},
		{"3.3", 0, 4, 0},
		{"3.4", 4, 0, 2},
		{"3.11", 2, 0, 2},
	} {
		r := newRuntime(t, tc.version)
		dels := 0
		fin := r.NewType(Type{Name: "Fin", Del: func(*Runtime, Obj) { dels++ }})
		a, b := cycle(r, fin)
		h, _ := r.Snapshot()
		rep, err := Unreachable(h, UnreachableOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c, u, _ := r.Collect(2)
		if c != tc.collected || u != tc.uncollectable || dels != tc.dels {
			t.Errorf("%s: collected %d, uncollectable %d, %d __del__ calls", tc.version, c, u, dels)
		}
		if rep.Collected != c || rep.Uncollectable != u {
			t.Errorf("%s: offline %d collected, %d uncollectable", tc.version, rep.Collected, rep.Uncollectable)
		}
		if g := r.Garbage(); tc.uncollectable > 0 && !slices.Equal(g, []Obj{a, b}) {
			t.Errorf("%s: garbage %v", tc.version, g)
		}
	}
}

// On 3.12 and later a collection the counter asks for runs once the
// allocation returns, so the new object survives it.
func TestDeferredCollection(t *testing.T) {
	for _, tc := range []struct {
		version string
		young   int
	}{{"3.11.7", 1}, {"3.12.1", 0}} {
		r := newRuntime(t, tc.version)
		r.Enable()
		r.SetThreshold(1)
		node := r.NewType(Type{Name: "Node"})
		r.New(node)
		r.New(node) // passes the threshold
		young, _ := r.GetObjects(0)
		if len(young) != tc.young {
			t.Errorf("%s: %d objects in generation 0, want %d", tc.version, len(young), tc.young)
		}
	}
}

func TestIncremental(t *testing.T) {
	r := newRuntime(t, "3.14.2")
	if got := r.GetThreshold(); got != [3]int{2000, 10, 0} {
		t.Errorf("thresholds %v", got)
	}
	node := r.NewType(Type{Name: "Node"})
	var infos []CallbackInfo
	r.AddCallback(func(_ *Runtime, phase string, info CallbackInfo) {
		if phase == "stop" {
			infos = append(infos, info)
		}
	})
	keep := r.New(TypeList)
	for range 10 {
		o := r.New(node)
		r.AddRef(keep, o, "")
		r.Decref(o)
	}
	cycle(r, node)
	c, _, _ := r.Collect(0)
	if c != 2 {
		t.Errorf("young collection freed %d, want 2", c)
	}
	if objs, _ := r.GetObjects(1); len(objs) != 0 {
		t.Errorf("generation 1 has %d objects; the incremental collector has none there", len(objs))
	}
	if objs, _ := r.GetObjects(2); len(objs) != 11 {
		t.Errorf("generation 2 has %d objects, want 11", len(objs))
	}
	// Garbage among the old objects is found by increments, spread over
	// automatic collections.
	a, b := r.New(node), r.New(node)
	r.SetRef(a, "peer", b)
	r.SetRef(b, "peer", a)
	w := r.NewWeakref(a, nil)
	r.Collect(0) // a and b are old now
	r.Decref(a)
	r.Decref(b)
	r.SetThreshold(5, 2)
	r.Enable()
	for range 200 {
		o := r.New(node)
		r.AddRef(keep, o, "")
		r.Decref(o)
	}
	r.Disable()
	if _, ok := r.WeakTarget(w); ok {
		t.Error("old cycle survived 200 allocations of automatic increments")
	}
	r.Decref(w)
	r.ClearRefs(keep)
	if c, _, _ := r.Collect(2); c != 0 {
		t.Errorf("full collection found %d more", c)
	}
	if len(infos) == 0 || infos[0].Candidates == 0 {
		t.Errorf("callback infos %+v", infos)
	}
	all, _ := r.GetObjects(-1)
	r.Freeze()
	if r.GetFreezeCount() != len(all) || r.GetCount() != [3]int{} {
		t.Errorf("freeze count %d of %d, counts %v", r.GetFreezeCount(), len(all), r.GetCount())
	}
	r.Unfreeze()
	if objs, _ := r.GetObjects(2); len(objs) != len(all) {
		t.Errorf("%d objects in generation 2 after unfreeze, want %d", len(objs), len(all))
	}
}

// A long chain is freed without recursion.
func TestLongChain(t *testing.T) {
	r := newRuntime(t, "")
	node := r.NewType(Type{Name: "Node"})
	head := r.New(node)
	prev := head
	for range 300_000 {
		o := r.New(node)
		r.SetRef(prev, "next", o)
		r.Decref(o)
		prev = o
	}
	r.Decref(head)
	if objs, _ := r.GetObjects(-1); len(objs) != 0 {
		t.Errorf("%d objects left", len(objs))
	}
	// And a long cycle is collected.
	head = r.New(node)
	prev = head
	for range 300_000 {
		o := r.New(node)
		r.SetRef(prev, "next", o)
		r.Decref(o)
		prev = o
	}
	r.SetRef(prev, "next", head)
	r.Decref(head)
	if c, _, _ := r.Collect(2); c != 300_001 {
		t.Errorf("collected %d", c)
	}
}

func TestDebugOutput(t *testing.T) {
	var out bytes.Buffer
	clock := time.Duration(0)
	r, _ := NewRuntime(Options{Stderr: &out, Now: func() time.Duration { clock += 1500 * time.Microsecond; return clock }})
	r.Disable()
	leg := r.NewType(Type{Name: "Leg", LegacyDel: func(*Runtime, Obj) {}})
	cycle(r, leg)
	l := r.New(TypeList)
	r.AddRef(l, l, "")
	r.Decref(l)
	r.SetDebug(DebugStats | DebugCollectable | DebugUncollectable)
	r.Collect(2)
	want := "gc: collecting generation 2...\n" +
		"gc: objects in each generation: 3 0 0\n" +
		"gc: objects in permanent generation: 0\n" +
		"gc: collectable <list 0x7f00000003c0>\n" +
		"gc: uncollectable <Leg 0x7f0000000340>\n" +
		"gc: uncollectable <Leg 0x7f0000000380>\n" +
		"gc: done, 3 unreachable, 2 uncollectable, 0.0015s elapsed\n"
	if out.String() != want {
		t.Errorf("got\n%swant\n%s", out.String(), want)
	}
}

func TestSnapshot(t *testing.T) {
	r := newRuntime(t, "")
	fin := r.NewType(Type{Name: "Fin", QualName: "app.Fin", Del: func(*Runtime, Obj) {}, Size: 64})
	leg := r.NewType(Type{Name: "Leg", LegacyDel: func(*Runtime, Obj) {}})
	l := r.New(TypeList)
	f := r.New(fin)
	g := r.New(leg)
	r.AddRef(l, f, "")
	r.AddRef(l, g, "")
	r.Collect(0)
	d := r.New(TypeDict)
	r.SetRef(d, "key", l)
	w := r.NewWeakref(f, nil)
	imm := r.New(TypeObject)
	r.SetImmortal(imm)
	r.SetRef(d, "imm", imm)
	r.Freeze()
	t2 := r.NewTuple(imm)
	h, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	byAddr := func(o Obj) heap.ID {
		id, ok := h.Lookup(r.Addr(o))
		if !ok {
			t.Fatalf("object %d missing", o)
		}
		return id
	}
	for _, tc := range []struct {
		o     Obj
		flags heap.Flags
		label string
		edges []string
	}{
		{l, heap.FlagTracked | heap.FlagPermanent, "2 items", []string{"[0]", "[1]"}},
		{f, heap.FlagTracked | heap.FlagPermanent | heap.FlagHasDel, "", nil},
		{g, heap.FlagTracked | heap.FlagPermanent | heap.FlagLegacyDel, "", nil},
		{d, heap.FlagTracked | heap.FlagPermanent, "2 items", []string{"key", "imm"}},
		{w, (heap.FlagTracked | heap.FlagPermanent).WithKind(heap.KindWeakref), "", nil},
		{imm, heap.FlagImmortal, "", nil},
		{t2, heap.FlagTracked, "1 items", []string{"[0]"}},
	} {
		id := byAddr(tc.o)
		var edges []string
		for _, name := range h.Edges(id) {
			edges = append(edges, name)
		}
		if h.Flags(id) != tc.flags || h.Label(id) != tc.label || !slices.Equal(edges, tc.edges) {
			t.Errorf("%s: flags %#x label %q edges %v; want %#x %q %v", h.TypeName(id), h.Flags(id), h.Label(id), edges, tc.flags, tc.label, tc.edges)
		}
	}
	if id := byAddr(f); h.TypeQualName(h.Type(id)) != "app.Fin" || h.Size(id) != 64 || h.Refcount(id) != 2 {
		t.Errorf("Fin: %s size %d refcount %d", h.TypeQualName(h.Type(id)), h.Size(id), h.Refcount(id))
	}
	if m := h.Meta(); m.Version != "3.11.7" || m.GC == nil || m.GC.FreezeCount != 5 || m.GC.Enabled {
		t.Errorf("meta %+v %+v", m, m.GC)
	}
}

func TestWeakrefs(t *testing.T) {
	r := newRuntime(t, "")
	node := r.NewType(Type{Name: "Node"})
	a := r.New(node)
	var calls []Obj
	cb := func(_ *Runtime, wr Obj) { calls = append(calls, wr) }
	w1 := r.NewWeakref(a, nil)
	if w2 := r.NewWeakref(a, nil); w2 != w1 || r.Refcount(w1) != 2 {
		t.Error("basic weakref not shared")
	}
	w3 := r.NewWeakref(a, cb)
	w4 := r.NewWeakref(a, cb)
	if tgt, ok := r.WeakTarget(w3); !ok || tgt != a {
		t.Error("weakref target")
	}
	r.Decref(a)
	if !slices.Equal(calls, []Obj{w4, w3}) {
		t.Errorf("callbacks %v, want newest first %v", calls, []Obj{w4, w3})
	}
	if _, ok := r.WeakTarget(w1); ok {
		t.Error("weakref not cleared")
	}
}

func TestGetReferrersAndReferents(t *testing.T) {
	r := newRuntime(t, "")
	l := r.New(TypeList)
	d := r.New(TypeDict)
	x := r.New(TypeObject)
	r.AddRef(l, x, "")
	r.AddRef(l, x, "")
	r.SetRef(d, "x", x)
	r.AddRef(x, l, "") // an atomic object's references are not reported
	if got := r.GetReferents(l, x, d); !slices.Equal(got, []Obj{x, x, x}) {
		t.Errorf("referents %v", got)
	}
	// d is an untracked dict (it holds no container): not a referrer.
	if got := r.GetReferrers(x); !slices.Equal(got, []Obj{l}) {
		t.Errorf("referrers %v", got)
	}
}

// A version the differential tests do not prove is refused with an error
// that names it, unless Options.Unverified accepts it.
func TestUnverifiedVersions(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
		want    string
	}{
		{"", true, ""},
		{"3.7.0", true, ""},
		{"3.10.13", true, ""},
		{"3.13.5", true, ""},
		{"3.6.15", false, "new runtime: CPython 3.6.15 is not verified: the Runtime is proven against CPython 3.7 to 3.13, and the differential tests cannot run on it: they need gc.freeze (3.7)"},
		{"2.7.18", false, "new runtime: CPython 2.7.18 is not verified"},
		{"3.14.2", false, "new runtime: CPython 3.14.2 is not verified: the Runtime is proven against CPython 3.7 to 3.13, and no interpreter of it has run the differential tests; set Options.Unverified"},
		{"4.0", false, "new runtime: CPython 4.0.0 is not verified"},
	} {
		r, err := NewRuntime(Options{Version: tc.version})
		if tc.ok {
			if err != nil || r == nil {
				t.Errorf("%q: %v", tc.version, err)
			}
			continue
		}
		var ue *UnverifiedError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want an UnverifiedError %q...", tc.version, err, tc.want)
			continue
		}
		if v, _ := ParseVersion(tc.version); ue.Version != v {
			t.Errorf("%q: error names %v", tc.version, ue.Version)
		}
		if r, err := NewRuntime(Options{Version: tc.version, Unverified: true}); err != nil || r.Version() != ue.Version {
			t.Errorf("%q with Unverified: %v", tc.version, err)
		}
	}
}

// Before 3.11 the attribute calls on an instance act on its __dict__, which
// the first store makes and which snapshots show as the edge __dict__.
func TestInstanceDict(t *testing.T) {
	r := newRuntime(t, "3.10.13")
	node := r.NewType(Type{Name: "Node"})
	a, b := r.New(node), r.New(node)
	if r.DelRef(a, "x") || r.RemoveRef(a, b) || r.InstanceDict(a) != NoObj {
		t.Fatal("an instance with no attribute has a __dict__")
	}
	r.ClearRefs(a) // no dict: nothing to clear, none made
	r.SetRef(a, "x", r.New(TypeObject))
	d := r.InstanceDict(a)
	if d == NoObj || r.TypeOf(d) != TypeDict || r.Refcount(d) != 1 || r.IsTracked(d) {
		t.Fatalf("after storing an int: dict %d, want an untracked dict referenced once", d)
	}
	if got := r.GetReferents(a); !slices.Equal(got, []Obj{d}) {
		t.Errorf("referents of the instance %v, want its dict %d", got, d)
	}
	r.SetRef(a, "peer", b)
	if !r.IsTracked(d) {
		t.Error("storing an instance did not track the dict")
	}
	if r.InstanceDict(a) != d || !r.DelRef(a, "x") || !r.RemoveRef(a, b) {
		t.Error("the attribute calls do not reach the dict")
	}
	r.SetRef(a, "peer", b)
	h, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	edges := func(o Obj) (names []string) {
		id, _ := h.Lookup(r.Addr(o))
		for _, name := range h.Edges(id) {
			names = append(names, name)
		}
		return names
	}
	if e := edges(a); !slices.Equal(e, []string{"__dict__"}) {
		t.Errorf("instance edges %v", e)
	}
	if e := edges(d); !slices.Equal(e, []string{"peer"}) {
		t.Errorf("dict edges %v", e)
	}
	r.ClearRefs(a) // a.__dict__.clear()
	if r.InstanceDict(a) != d || len(r.GetReferents(d)) != 0 {
		t.Error("ClearRefs of the instance did not clear its dict")
	}
	// A cycle of two instances is four objects, and a collection frees the
	// dicts with the instances.
	r.SetRef(a, "peer", b)
	r.SetRef(b, "peer", a)
	r.Decref(a)
	r.Decref(b)
	if c, u, _ := r.Collect(2); c != 4 || u != 0 {
		t.Errorf("collected %d, uncollectable %d; want 4, 0", c, u)
	}
	if r.Alive(d) && r.TypeOf(d) == TypeDict {
		t.Error("the dict survived its instance")
	}
	// From 3.11 the attributes are the instance's own references.
	r = newRuntime(t, "3.11.7")
	node = r.NewType(Type{Name: "Node"})
	a, b = r.New(node), r.New(node)
	r.SetRef(a, "peer", b)
	if r.InstanceDict(a) != NoObj || !slices.Equal(r.GetReferents(a), []Obj{b}) {
		t.Error("3.11 made a __dict__")
	}
}
