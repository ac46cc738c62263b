package gcmod

import (
	"fmt"
	"io"
	"time"
)

// Obj is a handle on an object of a Runtime. Like an id() in CPython, the
// handle of a freed object may be handed out again for a new object.
type Obj uint32

// NoObj is the handle of no object.
const NoObj Obj = 0

// TypeID names a type of a Runtime: one of the builtin types below or one
// that NewType returned.
type TypeID uint32

// The builtin types every Runtime has.
const (
	TypeObject  TypeID = iota // an atomic object (int, str, object()): not gc-aware, never tracked
	TypeList                  // list: tracked from creation; freed lists are kept on a free list of 80
	TypeTuple                 // tuple (NewTuple): a collection untracks it when it holds no container
	TypeDict                  // dict: before 3.14, untracked until a container is stored in it
	TypeMethod                // bound method: a container with no tp_clear
	TypeWeakref               // weakref.ref (NewWeakref)
	numBuiltinTypes
)

// Type describes a class for NewType. The zero value (with a name) is a
// plain class whose instances are gc-aware, like any Python class.
type Type struct {
	Name      string                  // short name, e.g. "Node"
	QualName  string                  // module-qualified name, e.g. "app.Node"; "" means "__main__." + Name
	Atomic    bool                    // instances are not gc-aware (like int): never tracked, not counted
	Size      uint64                  // bytes per instance, for snapshots; 0 means 48
	Del       func(r *Runtime, o Obj) // __del__ (tp_finalize, PEP 442); nil for none
	LegacyDel func(r *Runtime, o Obj) // a legacy tp_del finalizer; nil for none
}

// typeKind selects the builtin behaviour of a type.
type typeKind uint8

const (
	kindInstance typeKind = iota
	kindAtom
	kindList
	kindTuple
	kindDict
	kindMethod
	kindWeakref
)

type typeInfo struct {
	name, qual   string
	tpName       string // the name the DEBUG_* flags print; "" means name
	kind         typeKind
	container    bool
	size         uint64
	del, legacy  func(r *Runtime, o Obj)
	noClear      bool // no tp_clear: a collection cannot break a cycle by clearing it
	clearReverse bool // references are dropped last first
	freeList     int  // freed objects kept for reuse
}

// objFlags are per-object bits.
type objFlags uint8

const (
	fAlive       objFlags = 1 << iota
	fTracked              // in a generation list
	fFinalized            // tp_finalize ran (gc.is_finalized)
	fImmortal             // refcount never changes
	fCollecting           // in the generation being collected (PREV_MASK_COLLECTING)
	fUnreachable          // tentatively unreachable (NEXT_MASK_UNREACHABLE)
	fOldSpace             // incremental collector: in old space 1
	fWeakTarget           // weak references may refer to the object
)

// List heads live in the same link columns as objects, at the ids below
// firstObj.
const (
	headGen0 Obj = 1 + iota // young generation
	headGen1                // generation 1; old space 0 for the incremental collector
	headGen2                // generation 2; old space 1 for the incremental collector
	headPermanent
	headUnreachable
	headFinalizers
	headWrcb
	headSeen
	headFinal
	headIncrement
	headSurvivors
	firstObj
)

// DebugFlags are gc.set_debug's flags.
type DebugFlags int

// The debug flags, with gc's values.
const (
	DebugStats         DebugFlags = 1 << 0 // print statistics on every collection
	DebugCollectable   DebugFlags = 1 << 1 // print the collectable objects found
	DebugUncollectable DebugFlags = 1 << 2 // print the uncollectable objects found
	DebugSaveAll       DebugFlags = 1 << 5 // save every unreachable object in Garbage instead of freeing it
	DebugLeak                     = DebugCollectable | DebugUncollectable | DebugSaveAll
)

// Options configure a Runtime. The zero value follows CPython 3.11.7 and
// discards debugging output.
type Options struct {
	Version    string               // CPython version whose collector and defaults to follow, e.g. "3.12.1"; "" means 3.11.7
	Unverified bool                 // accept a version outside 3.7 to 3.13, which the differential tests do not prove: before 3.7, 3.14 and later
	Stderr     io.Writer            // where the DEBUG_* flags print, as sys.stderr; nil discards
	Now        func() time.Duration // monotonic clock for the elapsed times DEBUG_STATS prints; nil uses the real clock
}

// Runtime is a mutable heap of objects with reference counts and CPython's
// cycle collector: the gc module over a simulated interpreter. Objects are
// freed the moment their reference count reaches zero; reference cycles are
// freed by collections, run by Collect or automatically as allocations
// accumulate, exactly as CPython decides.
//
// Methods panic when given a handle that names no live object, as indexing a
// slice out of range does. A Runtime is not safe for concurrent use.
type Runtime struct {
	rules  rules
	stderr io.Writer
	now    func() time.Duration

	types []typeInfo

	// Object columns, indexed by Obj. Ids below firstObj are list heads.
	typ    []TypeID
	refcnt []int32
	flags  []objFlags
	next   []Obj   // generation list links
	prev   []Obj   //
	gcRefs []int32 // during a collection: references from outside the collected set

	// Each object's references are refs[refOff[o] : refOff[o]+refLen[o]]
	// with refCap[o] slots reserved. A full slot range moves to the end of
	// refs; the dead slots are reclaimed when they are half of refs.
	refOff, refLen, refCap []uint32
	refs                   []Obj
	refName                []uint32 // string ids, parallel to refs; 0 is no name
	deadSlots              int
	names                  []string
	nameIDs                map[string]uint32
	nameCache              [4]struct {
		s  string
		id uint32
	} // the names looked up last

	freeIDs []Obj // handles of freed objects, reused last first

	// Weak references.
	weakrefs map[Obj][]Obj      // target -> weakrefs, in CPython's list order
	wrInfo   map[Obj]*weakState // weakref -> its state

	emptyTuple Obj
	userCalls  int // finalizers and callbacks run so far, to know when one may have changed the heap

	// What the collector can skip: steps that concern types no object can
	// have.
	anyDel, anyLegacy bool                 // a type has __del__, a type has a legacy finalizer
	tracked           [numBuiltinTypes]int // tracked tuples and dicts, by type

	// Collector state.
	enabled    bool
	debug      DebugFlags
	count      [3]int
	threshold  [3]int
	collecting bool
	scheduled  bool // a deferred collection is due (3.12+)
	longLived  struct{ pending, total int }
	stats      [3]GenStats
	garbage    []Obj
	callbacks  []Callback
	freeLists  freeLists
	inc        incState
	frameState frameState // before 3.11: the frames calls leave behind

	// Deallocation in progress: frames of objects whose references are
	// being dropped, and the references they drop.
	frames  []deallocFrame
	dropped []Obj
}

type deallocFrame struct {
	obj              Obj
	begin, next, end int // the object's references are dropped[begin:end]; those from next on are still held
}

// NewRuntime returns an empty Runtime with automatic collection enabled and
// the version's default thresholds. For a version the differential tests do
// not prove a Runtime against (before 3.7, 3.14 and later) it returns an
// *UnverifiedError unless Options.Unverified is set.
func NewRuntime(opts Options) (*Runtime, error) {
	v := defaultVersion
	if opts.Version != "" {
		var err error
		if v, err = ParseVersion(opts.Version); err != nil {
			return nil, fmt.Errorf("new runtime: %w", err)
		}
	}
	if !verified(v) && !opts.Unverified {
		return nil, fmt.Errorf("new runtime: %w", &UnverifiedError{Version: v})
	}
	r := &Runtime{
		rules:    rulesFor(v),
		stderr:   opts.Stderr,
		now:      opts.Now,
		nameIDs:  map[string]uint32{},
		names:    []string{""},
		weakrefs: map[Obj][]Obj{},
		wrInfo:   map[Obj]*weakState{},
		enabled:  true,
	}
	if r.stderr == nil {
		r.stderr = io.Discard
	}
	if r.now == nil {
		start := time.Now()
		r.now = func() time.Duration { return time.Since(start) }
	}
	r.threshold = r.rules.thresholds
	for o := Obj(0); o < firstObj; o++ {
		r.grow()
		r.next[o], r.prev[o] = o, o
	}
	r.types = []typeInfo{
		TypeObject:  {name: "object", qual: "builtins.object", kind: kindAtom, size: 16},
		TypeList:    {name: "list", qual: "builtins.list", kind: kindList, container: true, size: 56, clearReverse: true, freeList: 80},
		TypeTuple:   {name: "tuple", qual: "builtins.tuple", kind: kindTuple, container: true, size: 40, noClear: true, clearReverse: true, freeList: 2000},
		TypeDict:    {name: "dict", qual: "builtins.dict", kind: kindDict, container: true, size: 64, freeList: 80},
		TypeMethod:  {name: "method", qual: "builtins.method", kind: kindMethod, container: true, size: 48, noClear: true, freeList: r.rules.methodFreeList},
		TypeWeakref: {name: "ReferenceType", qual: "weakref.ReferenceType", tpName: "weakref.ReferenceType", kind: kindWeakref, container: true, size: 80},
	}
	if r.rules.collector == Incremental {
		r.inc.init()
	}
	// The empty tuple is a singleton that is never tracked nor freed.
	r.emptyTuple = r.newObject(TypeTuple)
	r.flags[r.emptyTuple] |= fImmortal
	return r, nil
}

// Version is the CPython version the Runtime follows.
func (r *Runtime) Version() Version { return r.rules.version }

// NewType defines a class and returns its id.
func (r *Runtime) NewType(t Type) TypeID {
	ti := typeInfo{name: t.Name, qual: t.QualName, kind: kindInstance, container: !t.Atomic,
		size: t.Size, del: t.Del, legacy: t.LegacyDel}
	if t.Atomic {
		ti.kind = kindAtom
	}
	if ti.qual == "" {
		ti.qual = "__main__." + t.Name
	}
	r.anyDel = r.anyDel || t.Del != nil
	r.anyLegacy = r.anyLegacy || t.LegacyDel != nil || (t.Del != nil && !r.rules.hasFinal)
	if ti.size == 0 {
		ti.size = 48
	}
	r.types = append(r.types, ti)
	return TypeID(len(r.types) - 1)
}

// TypeName is the short name of o's type.
func (r *Runtime) TypeName(o Obj) string { return r.types[r.typeOf(o)].name }

// TypeOf is o's type.
func (r *Runtime) TypeOf(o Obj) TypeID { return r.typeOf(o) }

func (r *Runtime) typeOf(o Obj) TypeID {
	r.check(o)
	return r.typ[o]
}

func (r *Runtime) check(o Obj) {
	if o < firstObj || int(o) >= len(r.flags) || r.flags[o]&fAlive == 0 {
		panic(fmt.Sprintf("gcmod: object %d is not a live object of this runtime", o))
	}
}

func (r *Runtime) info(o Obj) *typeInfo { return &r.types[r.typ[o]] }

// Alive reports whether o names a live object.
func (r *Runtime) Alive(o Obj) bool {
	return o >= firstObj && int(o) < len(r.flags) && r.flags[o]&fAlive != 0
}

// Addr is o's address, as id() would print it. It is unique among live
// objects and may be reused after o is freed.
func (r *Runtime) Addr(o Obj) uint64 { return 0x7f0000000000 + uint64(o)*64 }

// Refcount is o's reference count.
func (r *Runtime) Refcount(o Obj) int {
	r.check(o)
	return int(r.refcnt[o])
}

// grow appends one slot to every object column and returns it.
func (r *Runtime) grow() Obj {
	o := Obj(len(r.flags))
	r.typ = append(r.typ, 0)
	r.refcnt = append(r.refcnt, 0)
	r.flags = append(r.flags, 0)
	r.next = append(r.next, 0)
	r.prev = append(r.prev, 0)
	r.gcRefs = append(r.gcRefs, 0)
	r.refOff = append(r.refOff, 0)
	r.refLen = append(r.refLen, 0)
	r.refCap = append(r.refCap, 0)
	return o
}

// New allocates an object of type t with a reference count of 1: the
// caller's reference, to be given up with Decref. Allocating a gc-aware
// object counts towards the automatic collection threshold and may start a
// collection (before the object exists on 3.11 and earlier, as soon as it
// is returned on 3.12 and later). New(TypeTuple) is NewTuple().
func (r *Runtime) New(t TypeID) Obj {
	if int(t) >= len(r.types) {
		panic(fmt.Sprintf("gcmod: unknown type id %d", t))
	}
	switch r.types[t].kind {
	case kindTuple:
		return r.NewTuple()
	case kindWeakref:
		panic("gcmod: weakrefs are made by NewWeakref")
	}
	o := r.alloc(t, 0)
	r.runScheduled()
	return o
}

// alloc runs the allocation counter and makes the object. A collection the
// counter defers (3.12+) runs when the caller calls runScheduled, once the
// object is complete.
func (r *Runtime) alloc(t TypeID, size int) Obj {
	ti := &r.types[t]
	if ti.container && !r.freeLists.pop(ti, size) {
		r.countAlloc()
	}
	o := r.newObject(t)
	if ti.container && (ti.kind != kindDict || !r.rules.lazyDicts) {
		r.track(o)
	}
	return o
}

// newObject makes an untracked object with a reference count of 1.
func (r *Runtime) newObject(t TypeID) Obj {
	var o Obj
	if n := len(r.freeIDs); n > 0 {
		o = r.freeIDs[n-1]
		r.freeIDs = r.freeIDs[:n-1]
	} else {
		o = r.grow()
	}
	r.typ[o] = t
	r.refcnt[o] = 1
	r.flags[o] = fAlive
	r.next[o], r.prev[o] = 0, 0
	r.refLen[o] = 0
	return o
}

// NewTuple allocates a tuple holding items, with a reference count of 1.
// Like CPython, NewTuple() returns the one empty tuple.
func (r *Runtime) NewTuple(items ...Obj) Obj {
	if len(items) == 0 {
		return r.emptyTuple // immortal: no reference to count
	}
	// The items are referenced before the tuple is allocated, as the
	// interpreter's stack holds them, and the tuple takes those references.
	for _, it := range items {
		r.check(it)
		r.incref(it)
	}
	o := r.alloc(TypeTuple, len(items))
	for _, it := range items {
		r.appendRef(o, it, 0)
	}
	r.runScheduled()
	return o
}

// NewMethod allocates a bound method of self, as reading self.handler does
// for a method of self's class: a container referring to self as __self__.
func (r *Runtime) NewMethod(self Obj) Obj {
	r.check(self)
	o := r.alloc(TypeMethod, 0)
	r.incref(self)
	r.appendRef(o, self, r.nameID("__self__"))
	r.runScheduled()
	return o
}

// Incref adds a reference to o held from outside the heap.
func (r *Runtime) Incref(o Obj) {
	r.check(o)
	r.incref(o)
}

func (r *Runtime) incref(o Obj) {
	if r.flags[o]&fImmortal == 0 {
		r.refcnt[o]++
	}
}

// Decref gives up a reference to o held from outside the heap. When the
// count reaches zero the object is freed at once: its finalizer runs, weak
// references to it are cleared and their callbacks called, and the
// references it holds are given up, freeing in turn what they alone held.
func (r *Runtime) Decref(o Obj) {
	r.check(o)
	if r.refcnt[o] <= 0 && r.flags[o]&fImmortal == 0 {
		panic(fmt.Sprintf("gcmod: Decref of object %d with reference count %d", o, r.refcnt[o]))
	}
	r.decref(o)
}

func (r *Runtime) decref(o Obj) {
	if r.flags[o]&fImmortal != 0 {
		return
	}
	r.refcnt[o]--
	if r.refcnt[o] == 0 {
		r.dealloc(o)
	}
}

// SetImmortal makes o immortal (PEP 683): its reference count no longer
// changes and it is never freed nor collected.
func (r *Runtime) SetImmortal(o Obj) {
	r.check(o)
	r.flags[o] |= fImmortal
}

// nameID interns an edge name.
func (r *Runtime) nameID(s string) uint32 {
	if s == "" {
		return 0
	}
	for _, c := range r.nameCache {
		if c.s == s {
			return c.id
		}
	}
	id, ok := r.nameIDs[s]
	if !ok {
		id = uint32(len(r.names))
		r.names = append(r.names, s)
		r.nameIDs[s] = id
	}
	copy(r.nameCache[1:], r.nameCache[:])
	r.nameCache[0].s, r.nameCache[0].id = s, id
	return id
}

// refsOf are o's references. The slice is valid until the next change to
// any object's references.
func (r *Runtime) refsOf(o Obj) []Obj {
	off := r.refOff[o]
	return r.refs[off : off+r.refLen[o]]
}

// appendRef adds a reference slot without touching reference counts.
func (r *Runtime) appendRef(o, to Obj, name uint32) {
	n := r.refLen[o]
	if n == r.refCap[o] {
		r.moveRefs(o, max(2, 2*n))
	}
	i := r.refOff[o] + n
	r.refs[i] = to
	r.refName[i] = name
	r.refLen[o] = n + 1
}

// moveRefs gives o a fresh slot range of capacity c at the end of refs.
func (r *Runtime) moveRefs(o Obj, c uint32) {
	if r.deadSlots > 1<<16 && r.deadSlots > len(r.refs)/2 {
		r.compactRefs()
	}
	off, n := r.refOff[o], r.refLen[o]
	at := uint32(len(r.refs))
	r.refs = append(r.refs, make([]Obj, c)...)
	r.refName = append(r.refName, make([]uint32, c)...)
	copy(r.refs[at:], r.refs[off:off+n])
	copy(r.refName[at:], r.refName[off:off+n])
	r.deadSlots += int(r.refCap[o])
	r.refOff[o], r.refCap[o] = at, c
}

// compactRefs moves every live object's slot range to a new array.
func (r *Runtime) compactRefs() {
	total := 0
	for o := firstObj; int(o) < len(r.flags); o++ {
		if r.flags[o]&fAlive != 0 {
			total += int(r.refCap[o])
		} else {
			r.refCap[o], r.refLen[o] = 0, 0
		}
	}
	refs := make([]Obj, 0, total+total/2)
	names := make([]uint32, 0, total+total/2)
	for o := firstObj; int(o) < len(r.flags); o++ {
		if r.refCap[o] == 0 {
			continue
		}
		off, c := r.refOff[o], r.refCap[o]
		r.refOff[o] = uint32(len(refs))
		refs = append(refs, r.refs[off:off+c]...)
		names = append(names, r.refName[off:off+c]...)
	}
	r.refs, r.refName, r.deadSlots = refs, names, 0
}

// removeRefAt deletes o's i-th reference slot, keeping the order of the
// others, without touching reference counts.
func (r *Runtime) removeRefAt(o Obj, i uint32) {
	off, n := r.refOff[o], r.refLen[o]
	copy(r.refs[off+i:off+n-1], r.refs[off+i+1:off+n])
	copy(r.refName[off+i:off+n-1], r.refName[off+i+1:off+n])
	r.refLen[o] = n - 1
}

// AddRef makes from refer to to, after its other references, as
// list.append does; name ("" for none) names the reference in snapshots.
// Storing a container in an untracked dict tracks the dict. Before 3.11
// the attribute calls on an instance (AddRef, SetRef, DelRef, RemoveRef,
// ClearRefs) act on its __dict__ object, which the first store makes (see
// InstanceDict).
func (r *Runtime) AddRef(from, to Obj, name string) {
	r.check(from)
	r.check(to)
	r.incref(to)
	from = r.attrs(from, true)
	r.appendRef(from, to, r.nameID(name))
	r.maintainDictTracking(from, to)
}

// SetRef makes from's reference named name refer to to, as setattr or
// d[name] = to do: it replaces the first reference of that name in place, or
// adds one. The old target's reference is given up afterwards.
func (r *Runtime) SetRef(from Obj, name string, to Obj) {
	r.check(from)
	r.check(to)
	id := r.nameID(name)
	r.incref(to)
	from = r.attrs(from, true)
	refs := r.refsOf(from)
	off := r.refOff[from]
	for i := range refs {
		if r.refName[off+uint32(i)] == id && id != 0 {
			old := refs[i]
			refs[i] = to
			r.maintainDictTracking(from, to)
			r.decref(old)
			return
		}
	}
	r.appendRef(from, to, id)
	r.maintainDictTracking(from, to)
}

// DelRef removes from's first reference named name, as delattr or del
// d[name] do, and reports whether there was one.
func (r *Runtime) DelRef(from Obj, name string) bool {
	r.check(from)
	id, ok := r.nameIDs[name]
	if !ok || name == "" {
		return false
	}
	if from = r.attrs(from, false); from == NoObj {
		return false
	}
	off := r.refOff[from]
	for i := range r.refLen[from] {
		if r.refName[off+i] == id {
			old := r.refs[off+i]
			r.removeRefAt(from, i)
			r.decref(old)
			return true
		}
	}
	return false
}

// RemoveRef removes from's first reference to to, as list.remove does, and
// reports whether there was one.
func (r *Runtime) RemoveRef(from, to Obj) bool {
	r.check(from)
	if from = r.attrs(from, false); from == NoObj {
		return false
	}
	off := r.refOff[from]
	for i := range r.refLen[from] {
		if r.refs[off+i] == to {
			r.removeRefAt(from, i)
			r.decref(to)
			return true
		}
	}
	return false
}

// ClearRefs removes all of o's references, as list.clear and dict.clear do
// and as a collection's tp_clear does.
func (r *Runtime) ClearRefs(o Obj) {
	r.check(o)
	if o = r.attrs(o, false); o != NoObj {
		r.clearRefs(o)
	}
}

// clearRefs detaches o's references and then gives them up, in the order
// of o's type.
func (r *Runtime) clearRefs(o Obj) {
	n := int(r.refLen[o])
	if n == 0 {
		return
	}
	base := len(r.dropped)
	r.dropped = append(r.dropped, r.refsOf(o)...)
	r.refLen[o] = 0
	if r.info(o).clearReverse {
		reverse(r.dropped[base:])
	}
	for i := base; i < base+n; i++ {
		r.decref(r.dropped[i])
	}
	r.dropped = r.dropped[:base]
}

func reverse(s []Obj) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// Refs are the objects o refers to, in order, with the names of the
// references ("" for none). It is what a snapshot records as o's edges.
func (r *Runtime) Refs(o Obj) (targets []Obj, names []string) {
	r.check(o)
	off := r.refOff[o]
	for i := range r.refLen[o] {
		targets = append(targets, r.refs[off+i])
		names = append(names, r.names[r.refName[off+i]])
	}
	return targets, names
}

// mayBeTracked is _PyObject_GC_MAY_BE_TRACKED: whether o is, or may become,
// tracked.
func (r *Runtime) mayBeTracked(o Obj) bool {
	ti := r.info(o)
	if !ti.container {
		return false
	}
	if ti.kind == kindTuple {
		return r.flags[o]&fTracked != 0
	}
	return true
}

func (r *Runtime) maintainDictTracking(d, v Obj) {
	if r.rules.lazyDicts && r.info(d).kind == kindDict && r.flags[d]&fTracked == 0 && r.mayBeTracked(v) {
		r.track(d)
	}
}

// Track makes the collector track o, a gc-aware object, appending it to the
// youngest generation. It does nothing when o is tracked already.
func (r *Runtime) Track(o Obj) error {
	r.check(o)
	if !r.info(o).container {
		return fmt.Errorf("track: %s object %d is not gc-aware", r.TypeName(o), o)
	}
	if r.flags[o]&fTracked == 0 {
		r.track(o)
	}
	return nil
}

// Untrack stops the collector tracking o. It does nothing when o is not
// tracked.
func (r *Runtime) Untrack(o Obj) {
	r.check(o)
	r.untrack(o)
}

func (r *Runtime) track(o Obj) {
	r.flags[o] |= fTracked
	if t := r.typ[o]; t == TypeTuple || t == TypeDict {
		r.tracked[t]++
	}
	r.listAppend(o, headGen0)
	if r.rules.collector == Incremental {
		r.setSpace(o, r.inc.visited^1)
	}
}

func (r *Runtime) untrack(o Obj) {
	if r.flags[o]&fTracked == 0 {
		return
	}
	r.listRemove(o)
	r.flags[o] &^= fTracked | fCollecting | fUnreachable
	if t := r.typ[o]; t == TypeTuple || t == TypeDict {
		r.tracked[t]--
	}
}

// IsTracked is gc.is_tracked.
func (r *Runtime) IsTracked(o Obj) bool {
	r.check(o)
	return r.flags[o]&fTracked != 0
}

// IsFinalized is gc.is_finalized: whether o's __del__ has run.
func (r *Runtime) IsFinalized(o Obj) bool {
	r.check(o)
	return r.flags[o]&fFinalized != 0
}

// dealloc frees o, whose reference count just reached zero, and everything
// that frees. Objects are freed depth first in CPython's order (an object's
// references are given up before its own memory is released), with an
// explicit stack instead of recursion.
func (r *Runtime) dealloc(o Obj) {
	base := len(r.frames)
	if !r.beginDealloc(o) {
		return
	}
	for len(r.frames) > base {
		top := len(r.frames) - 1
		f := &r.frames[top]
		if f.next < f.end {
			child := r.dropped[f.next]
			f.next++
			if r.flags[child]&fImmortal == 0 {
				r.refcnt[child]--
				if r.refcnt[child] == 0 {
					r.beginDealloc(child) // may push a frame
				}
			}
			continue
		}
		obj, begin, length := f.obj, f.begin, f.end-f.begin
		r.frames = r.frames[:top]
		r.dropped = r.dropped[:begin]
		r.free(obj, length)
	}
}

// beginDealloc runs o's finalizers and clears weak references to it, as
// CPython's subtype_dealloc does, and when nothing resurrected o it pushes a
// frame that gives up o's references. It reports whether o is being freed.
func (r *Runtime) beginDealloc(o Obj) bool {
	ti := r.info(o)
	r.untrack(o)
	finalizers := false
	if ti.del != nil && r.rules.hasFinal {
		finalizers = true
		if r.flags[o]&fFinalized == 0 && !r.callFinalizer(o, ti.del, false) {
			return false
		}
	}
	if r.flags[o]&fWeakTarget != 0 {
		r.clearWeakrefsOnDealloc(o)
	}
	if legacy := r.legacyFinalizer(ti); legacy != nil {
		finalizers = true
		if !r.callFinalizer(o, legacy, true) {
			return false
		}
	}
	if finalizers && r.flags[o]&fWeakTarget != 0 {
		// Weak references made by a finalizer are cleared without their
		// callbacks.
		for _, wr := range r.weakrefs[o] {
			r.wrInfo[wr].target = NoObj
		}
		delete(r.weakrefs, o)
		r.flags[o] &^= fWeakTarget
	}
	if ti.kind == kindWeakref {
		r.detachWeakref(o)
	}
	begin := len(r.dropped)
	r.dropped = append(r.dropped, r.refsOf(o)...)
	r.refLen[o] = 0
	if ti.clearReverse {
		reverse(r.dropped[begin:])
	}
	r.frames = append(r.frames, deallocFrame{obj: o, begin: begin, next: begin, end: len(r.dropped)})
	return true
}

// legacyFinalizer is the finalizer a collection cannot run: tp_del, and
// before 3.4 __del__ too.
func (r *Runtime) legacyFinalizer(ti *typeInfo) func(*Runtime, Obj) {
	if ti.legacy != nil {
		return ti.legacy
	}
	if !r.rules.hasFinal {
		return ti.del
	}
	return nil
}

// callFinalizer runs a finalizer of o, whose count is zero, with o
// temporarily resurrected and tracked, and reports whether o is still dying
// afterwards. A finalizer that keeps a reference resurrects o, which then
// stays tracked in the youngest generation. A legacy finalizer is looked up
// as a bound method of o, which CPython makes before the call and frees
// after it; __del__ (tp_finalize) marks o finalized.
func (r *Runtime) callFinalizer(o Obj, fn func(*Runtime, Obj), legacy bool) bool {
	container := r.info(o).container
	if container {
		r.track(o)
	}
	r.refcnt[o] = 1
	if legacy {
		r.tempAlloc(TypeMethod, 0)
	}
	r.call(fn, o)
	if legacy {
		r.tempFree(TypeMethod, 0)
	} else if container {
		r.flags[o] |= fFinalized
	}
	r.refcnt[o]--
	if r.refcnt[o] > 0 {
		return false
	}
	r.untrack(o)
	return true
}

// free releases o's memory once its references are gone; length is the
// number of references it held (a tuple's length picks its free list).
func (r *Runtime) free(o Obj, length int) {
	ti := r.info(o)
	if ti.container && !r.freeLists.push(ti, length) {
		r.countFree()
	}
	if ti.kind == kindWeakref {
		delete(r.wrInfo, o)
	}
	r.flags[o] = 0
	r.refcnt[o] = 0
	r.freeIDs = append(r.freeIDs, o)
}
