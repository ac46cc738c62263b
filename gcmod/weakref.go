package gcmod

// weakState is what a weak reference object holds besides its references
// (which stand for its callback's).
type weakState struct {
	target   Obj                 // the referent; NoObj once cleared
	callback func(*Runtime, Obj) // nil for none, or once called or cleared
}

// NewWeakref is weakref.ref(target, callback): a weak reference to target
// that does not keep it alive. When target dies the reference is cleared and
// callback, if any, is called with the weak reference. The weak reference
// is a tracked container; references added to it with AddRef stand for the
// objects its callback holds, and are given up when the callback is
// dropped. As in CPython, a reference without callback to a target that
// has one already is that same object, with one more reference.
func (r *Runtime) NewWeakref(target Obj, callback func(r *Runtime, wr Obj)) Obj {
	r.check(target)
	if callback == nil {
		if wrs := r.weakrefs[target]; len(wrs) > 0 && r.wrInfo[wrs[0]].callback == nil {
			r.incref(wrs[0])
			return wrs[0]
		}
	}
	wr := r.alloc(TypeWeakref, 0)
	r.wrInfo[wr] = &weakState{target: target, callback: callback}
	// A reference without callback goes first; one with a callback after
	// that one, before the other callback references.
	wrs := r.weakrefs[target]
	at := 0
	if callback != nil && len(wrs) > 0 && r.wrInfo[wrs[0]].callback == nil {
		at = 1
	}
	r.weakrefs[target] = append(wrs[:at], append([]Obj{wr}, wrs[at:]...)...)
	r.flags[target] |= fWeakTarget
	r.runScheduled()
	return wr
}

// WeakTarget is what calling the weak reference wr returns: its referent,
// or false once it was cleared. It adds no reference.
func (r *Runtime) WeakTarget(wr Obj) (Obj, bool) {
	r.check(wr)
	ws := r.wrInfo[wr]
	if ws == nil || ws.target == NoObj {
		return NoObj, false
	}
	return ws.target, true
}

// detachWeakref clears wr: it no longer refers to its target.
func (r *Runtime) detachWeakref(wr Obj) {
	ws := r.wrInfo[wr]
	if ws == nil || ws.target == NoObj {
		return
	}
	wrs := r.weakrefs[ws.target]
	for i, w := range wrs {
		if w == wr {
			wrs = append(wrs[:i], wrs[i+1:]...)
			break
		}
	}
	if len(wrs) == 0 {
		delete(r.weakrefs, ws.target)
		r.flags[ws.target] &^= fWeakTarget
	} else {
		r.weakrefs[ws.target] = wrs
	}
	ws.target = NoObj
}

// clearWeakrefsOnDealloc clears the weak references to o, which is being
// freed, and calls their callbacks (PyObject_ClearWeakRefs).
func (r *Runtime) clearWeakrefsOnDealloc(o Obj) {
	wrs := r.weakrefs[o]
	// The references without callback at the head are cleared first.
	i := 0
	for i < len(wrs) && i < 2 && r.wrInfo[wrs[i]].callback == nil {
		r.wrInfo[wrs[i]].target = NoObj
		i++
	}
	rest := append([]Obj(nil), wrs[i:]...)
	for _, wr := range rest {
		r.wrInfo[wr].target = NoObj
	}
	delete(r.weakrefs, o)
	r.flags[o] &^= fWeakTarget
	switch len(rest) {
	case 0:
	case 1:
		// The callback (and what it holds) is taken from the reference
		// before it is called and given up after.
		wr := rest[0]
		cb := r.wrInfo[wr].callback
		r.wrInfo[wr].callback = nil
		if cb != nil {
			held := r.takeRefs(wr)
			r.call(cb, wr)
			r.dropAll(held)
		}
	default:
		// CPython holds the references and their callbacks in a tuple
		// while it calls them, and frees the tuple last item first.
		n := 2 * len(rest)
		r.tempAlloc(TypeTuple, n)
		cbs := make([]func(*Runtime, Obj), len(rest))
		held := make([][]Obj, len(rest))
		for j, wr := range rest {
			r.incref(wr)
			if cbs[j] = r.wrInfo[wr].callback; cbs[j] != nil {
				r.wrInfo[wr].callback = nil
				held[j] = r.takeRefs(wr)
			}
		}
		for j, wr := range rest {
			if cbs[j] != nil {
				r.call(cbs[j], wr)
			}
		}
		for j := len(rest) - 1; j >= 0; j-- {
			r.dropAll(held[j])
			r.decref(rest[j])
		}
		r.tempFree(TypeTuple, n)
	}
}

// takeRefs detaches o's references without giving them up.
func (r *Runtime) takeRefs(o Obj) []Obj {
	refs := append([]Obj(nil), r.refsOf(o)...)
	r.refLen[o] = 0
	return refs
}

// dropAll gives up references taken with takeRefs.
func (r *Runtime) dropAll(refs []Obj) {
	for _, t := range refs {
		r.decref(t)
	}
}

// handleWeakrefs deals with the weak references to the objects of
// unreachable before their finalizers run: weak references inside the set
// are cleared; a weak reference outside it whose callback must run is
// cleared, kept alive and its callback called, after which it goes to old.
// Before 3.14 every weak reference to the set is cleared here; from 3.14
// (clearLater) those without callback are cleared only after the
// finalizers ran, by clearWeakrefsTo. It returns the number of weak
// references freed by their callbacks' end, which count as collected.
func (r *Runtime) handleWeakrefs(unreachable, old Obj, clearLater bool) int {
	r.listInit(headWrcb)
	if len(r.wrInfo) == 0 {
		return 0 // no weak reference exists
	}
	for o := r.next[unreachable]; o != unreachable; o = r.next[o] {
		if !clearLater && r.typ[o] == TypeWeakref {
			r.detachWeakref(o)
		}
		if r.flags[o]&fWeakTarget == 0 {
			continue
		}
		wrs := r.weakrefs[o]
		if len(wrs) == 0 {
			continue
		}
		wrs = append([]Obj(nil), wrs...)
		for _, wr := range wrs {
			ws := r.wrInfo[wr]
			if clearLater && ws.callback == nil {
				continue
			}
			r.detachWeakref(wr)
			if ws.callback == nil || r.flags[wr]&fCollecting != 0 {
				continue // no callback, or the weakref is trash too: it never runs
			}
			r.incref(wr)
			if r.flags[wr]&fTracked != 0 {
				r.listMove(wr, headWrcb)
			} else {
				r.flags[wr] |= fTracked
				r.listAppend(wr, headWrcb)
			}
		}
	}
	freed := 0
	for !r.listEmpty(headWrcb) {
		wr := r.next[headWrcb]
		if cb := r.wrInfo[wr].callback; cb != nil {
			r.call(cb, wr)
		}
		r.decref(wr)
		if r.next[headWrcb] == wr {
			r.listMove(wr, old)
			if r.rules.collector == Incremental {
				r.setSpace(wr, r.inc.visited)
			}
		} else {
			freed++
		}
	}
	return freed
}

// clearWeakrefsTo clears the weak references inside list h and every weak
// reference to its objects (3.14 and later, after finalizers ran).
func (r *Runtime) clearWeakrefsTo(h Obj) {
	if len(r.wrInfo) == 0 {
		return
	}
	for o := r.next[h]; o != h; o = r.next[o] {
		if r.typ[o] == TypeWeakref {
			r.detachWeakref(o)
		}
		for len(r.weakrefs[o]) > 0 {
			r.detachWeakref(r.weakrefs[o][0])
		}
	}
}
