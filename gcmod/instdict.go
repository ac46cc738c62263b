package gcmod

// Before 3.11 an instance keeps its attributes in a separate dict object,
// its __dict__: the instance refers to the dict and the dict to the
// attribute values. The dict is an ordinary dict of the heap: it is made by
// the first attribute store (taken from the dict free list or counted by the
// allocation counter, which may start a collection before it exists), it
// starts untracked and is tracked when a container is stored in it, full
// collections may untrack it, the collector sees it, clears it and counts
// it, and it is freed (onto the free list) when the instance lets it go.
// A collection's tp_clear of the instance drops the dict; a later store
// makes a new one. From 3.11 the attributes live inline in the instance,
// which refers to the values itself.
//
// The Runtime's attribute calls (SetRef, AddRef, DelRef, RemoveRef and
// ClearRefs on an instance) act on the dict on those versions, so the same
// calls make the same program on every version.

// dictName is the name of the reference from an instance to its __dict__.
const dictName = "__dict__"

// hasInstanceDict reports whether o keeps its attributes in a __dict__
// object: an instance of a gc-aware class before 3.11.
func (r *Runtime) hasInstanceDict(o Obj) bool {
	return r.rules.instanceDicts && r.info(o).kind == kindInstance
}

// instanceDict is o's __dict__, or NoObj when it has none yet.
func (r *Runtime) instanceDict(o Obj) Obj {
	if r.refLen[o] == 0 {
		return NoObj
	}
	off := r.refOff[o]
	if r.names[r.refName[off]] != dictName {
		return NoObj
	}
	return r.refs[off]
}

// attrs is the object that holds o's attributes: o's __dict__ before 3.11,
// made if make is set and o has none yet (NoObj when make is not set and
// there is none), and o itself otherwise.
func (r *Runtime) attrs(o Obj, make bool) Obj {
	if !r.hasInstanceDict(o) {
		return o
	}
	if d := r.instanceDict(o); d != NoObj || !make {
		return d
	}
	// The allocation may start a collection. o is referenced by the caller,
	// and the value being stored already carries its new reference, as the
	// interpreter's stack holds both.
	d := r.alloc(TypeDict, 0)
	r.appendRef(o, d, r.nameID(dictName))
	return d
}

// InstanceDict is o's __dict__ object: before 3.11, the dict that holds an
// instance's attributes, made by the first attribute store. It returns
// NoObj when o has no attribute yet, is not an instance of a gc-aware class
// or the version keeps attributes inline (3.11 and later). Unlike reading
// o.__dict__ in Python, it never makes the dict.
func (r *Runtime) InstanceDict(o Obj) Obj {
	r.check(o)
	if !r.hasInstanceDict(o) {
		return NoObj
	}
	return r.instanceDict(o)
}
