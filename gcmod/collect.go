package gcmod

import (
	"fmt"
	"time"
)

// GenStats are one generation's running statistics, as gc.get_stats
// reports them.
type GenStats struct {
	Collections   int // collections of this generation
	Collected     int // objects they freed
	Uncollectable int // unreachable objects they could not free
}

// CallbackInfo is the info a gc callback receives.
type CallbackInfo struct {
	Generation    int           // the generation collected
	Collected     int           // objects freed; 0 in the "start" phase
	Uncollectable int           // unreachable objects not freed; 0 in the "start" phase
	Candidates    int           // incremental collector only: objects examined
	Duration      time.Duration // incremental collector only: time the collection took
}

// Callback is an entry of gc.callbacks: it is called with phase "start"
// before every collection and "stop" after it.
type Callback func(r *Runtime, phase string, info CallbackInfo)

// AddCallback appends cb to gc.callbacks.
func (r *Runtime) AddCallback(cb Callback) { r.callbacks = append(r.callbacks, cb) }

// ClearCallbacks empties gc.callbacks.
func (r *Runtime) ClearCallbacks() { r.callbacks = nil }

// Collect is gc.collect(generation): it collects generations 0 through
// generation and returns the number of objects it freed and the number of
// unreachable objects it could not free; gc.collect returns their sum. It
// returns an error for a generation outside 0 to 2, and does nothing when a
// collection is already running (a finalizer or callback calling Collect).
func (r *Runtime) Collect(generation int) (collected, uncollectable int, err error) {
	if generation < 0 || generation > 2 {
		return 0, 0, fmt.Errorf("collect: invalid generation %d", generation)
	}
	if r.collecting {
		return 0, 0, nil
	}
	r.collecting = true
	collected, uncollectable = r.collectWithCallbacks(generation)
	r.collecting = false
	return collected, uncollectable, nil
}

// collectAuto is what the allocation counter starts: the oldest generation
// whose count passed its threshold, with a full collection only when the
// objects that survived since the last one are a quarter of those that
// survived it.
func (r *Runtime) collectAuto() {
	if r.collecting {
		return
	}
	gen := -1
	if r.rules.collector == Incremental {
		gen = 1
	} else {
		for i := 2; i >= 0; i-- {
			if r.count[i] > r.threshold[i] {
				if i == 2 && r.longLived.pending < r.longLived.total/4 {
					continue
				}
				gen = i
				break
			}
		}
	}
	if gen < 0 {
		return
	}
	r.collecting = true
	r.collectWithCallbacks(gen)
	r.collecting = false
}

func (r *Runtime) collectWithCallbacks(gen int) (collected, uncollectable int) {
	if r.rules.collector == Incremental {
		return r.collectIncremental(gen)
	}
	r.invokeCallbacks("start", CallbackInfo{Generation: gen})
	collected, uncollectable = r.collectGenerations(gen)
	r.invokeCallbacks("stop", CallbackInfo{Generation: gen, Collected: collected, Uncollectable: uncollectable})
	return collected, uncollectable
}

// invokeCallbacks calls gc.callbacks. CPython builds the info dict first;
// its allocation shows in the counts.
func (r *Runtime) invokeCallbacks(phase string, info CallbackInfo) {
	if len(r.callbacks) == 0 {
		return
	}
	r.tempAlloc(TypeDict, 0)
	for i := 0; i < len(r.callbacks); i++ { // callbacks may change the list
		cb := r.callbacks[i]
		code := uintptr(0)
		if r.rules.frameObjects {
			code = codeOf(cb)
		}
		r.enterFrame(code)
		cb(r, phase, info)
		r.exitFrame(code)
	}
	r.tempFree(TypeDict, 0)
}

// genHead is the list of generation g.
func (r *Runtime) genHead(g int) Obj {
	if r.rules.collector == Incremental {
		switch g {
		case 0:
			return headGen0
		case 1:
			return r.inc.old(r.inc.visited)
		default:
			return r.inc.old(r.inc.visited ^ 1)
		}
	}
	return headGen0 + Obj(g)
}

// collectGenerations is gc_collect_main of the generational collector.
func (r *Runtime) collectGenerations(gen int) (collected, uncollectable int) {
	var t0 time.Duration
	if r.debug&DebugStats != 0 {
		fmt.Fprintf(r.stderr, "gc: collecting generation %d...\n", gen)
		r.printGenerationSizes()
		t0 = r.now()
	}
	if gen+1 < 3 {
		r.count[gen+1]++
	}
	for i := 0; i <= gen; i++ {
		r.count[i] = 0
	}
	young := r.genHead(gen)
	for i := range gen {
		r.listMerge(r.genHead(i), young)
	}
	old := young
	if gen < 2 {
		old = r.genHead(gen + 1)
	}

	r.deduceUnreachable(young, headUnreachable)
	r.untrackTuples(young)
	if young != old {
		if gen == 1 {
			r.longLived.pending += r.listSize(young)
		}
		r.listMerge(young, old)
	} else {
		// Dicts are untracked in full collections only, to avoid
		// quadratic work as a dict is built.
		if r.rules.lazyDicts {
			r.untrackDicts(young)
		}
		r.longLived.pending = 0
		r.longLived.total = r.listSize(young)
	}

	m, n := r.collectUnreachable(headUnreachable, old)

	if r.debug&DebugStats != 0 {
		r.printDone(m, n, t0)
	}
	r.handleLegacyFinalizers(headFinalizers, old)
	if gen == 2 {
		r.clearFreeLists()
	}
	st := &r.stats[gen]
	st.Collections++
	st.Collected += m
	st.Uncollectable += n
	return m, n
}

// collectUnreachable deals with the unreachable objects deduceUnreachable
// found: the ones legacy finalizers reach go to headFinalizers, weak
// references to the others are cleared (their callbacks called), their
// finalizers run, and those that are still unreachable afterwards are
// cleared; survivors go to old. It returns the number collected and the
// number uncollectable; handleLegacyFinalizers must follow.
func (r *Runtime) collectUnreachable(unreachable, old Obj) (m, n int) {
	r.listInit(headFinalizers)
	r.moveLegacyFinalizers(unreachable, headFinalizers)
	r.moveLegacyFinalizerReachable(headFinalizers)
	if r.debug&DebugCollectable != 0 {
		for o := r.next[unreachable]; o != unreachable; o = r.next[o] {
			r.debugObject("collectable", o)
		}
	}
	clearLater := !r.rules.version.less(3, 14, 0)
	calls := r.userCalls
	m += r.handleWeakrefs(unreachable, old, clearLater)
	r.finalizeGarbage(unreachable)
	if r.userCalls != calls && r.rules.resurrectAll {
		if r.anyResurrected(unreachable) {
			// Nothing is freed: the unreachable objects all survive.
			for o := r.next[unreachable]; o != unreachable; o = r.next[o] {
				r.flags[o] &^= fCollecting
			}
			r.listMerge(unreachable, old)
		}
		r.listInit(headFinal)
		r.listMerge(unreachable, headFinal)
	} else if r.userCalls != calls {
		r.handleResurrected(unreachable, headFinal, old)
	} else {
		// No finalizer or callback ran, so nothing can have been
		// resurrected: the analysis would find every object still
		// unreachable, in the same order.
		r.listInit(headFinal)
		r.listMerge(unreachable, headFinal)
	}
	if clearLater {
		r.clearWeakrefsTo(headFinal)
	}
	m += r.listSize(headFinal)
	r.deleteGarbage(headFinal, old)
	for o := r.next[headFinalizers]; o != headFinalizers; o = r.next[o] {
		n++
		if r.debug&DebugUncollectable != 0 {
			r.debugObject("uncollectable", o)
		}
	}
	return m, n
}

// printDone prints DEBUG_STATS's last line, without the counts when they
// are 0 before 3.8.
func (r *Runtime) printDone(m, n int, t0 time.Duration) {
	elapsed := (r.now() - t0).Seconds()
	if m == 0 && n == 0 && r.rules.version.less(3, 8, 0) {
		fmt.Fprintf(r.stderr, "gc: done, %.4fs elapsed\n", elapsed)
		return
	}
	fmt.Fprintf(r.stderr, "gc: done, %d unreachable, %d uncollectable, %.4fs elapsed\n", m+n, n, elapsed)
}

func (r *Runtime) printGenerationSizes() {
	fmt.Fprintf(r.stderr, "gc: objects in each generation: %d %d %d\ngc: objects in permanent generation: %d\n",
		r.listSize(r.genHead(0)), r.listSize(r.genHead(1)), r.listSize(r.genHead(2)), r.listSize(headPermanent))
}

func (r *Runtime) debugObject(msg string, o Obj) {
	ti := r.info(o)
	name := ti.tpName
	if name == "" {
		name = ti.name
	}
	fmt.Fprintf(r.stderr, "gc: %s <%s %#x>\n", msg, name, r.Addr(o))
}

// deduceUnreachable moves the objects of list base that nothing outside
// base refers to, directly or through other objects of base, to list
// unreachable (update_refs, subtract_refs and move_unreachable). It returns
// the number of objects examined.
func (r *Runtime) deduceUnreachable(base, unreachable Obj) int {
	n := 0
	for o := r.next[base]; o != base; o = r.next[o] {
		if r.flags[o]&fImmortal != 0 {
			r.gcRefs[o] = 1 << 30
		} else {
			r.gcRefs[o] = r.refcnt[o]
		}
		r.flags[o] |= fCollecting
		n++
	}
	for o := r.next[base]; o != base; o = r.next[o] {
		for _, t := range r.refsOf(o) {
			if r.flags[t]&fCollecting != 0 {
				r.gcRefs[t]--
			}
		}
	}
	r.listInit(unreachable)
	r.moveUnreachable(base, unreachable)
	return n
}

// moveUnreachable scans young in order. An object with references from
// outside is reachable: it stays, loses its collecting mark, and everything
// it refers to in young is reachable too (an object already moved to
// unreachable comes back to the end of young). An object with none is
// tentatively moved to unreachable. The dance reverses chains of reachable
// objects, so later scans find them in order and move nothing.
func (r *Runtime) moveUnreachable(young, unreachable Obj) {
	o := r.next[young]
	for o != young {
		if r.gcRefs[o] != 0 {
			for _, t := range r.refsOf(o) {
				if r.flags[t]&fCollecting == 0 {
					continue
				}
				if r.flags[t]&fUnreachable != 0 {
					r.flags[t] &^= fUnreachable
					r.listMove(t, young)
					r.gcRefs[t] = 1
				} else if r.gcRefs[t] == 0 {
					r.gcRefs[t] = 1
				}
			}
			r.flags[o] &^= fCollecting
			o = r.next[o] // read after the scan, which may append to young
		} else {
			next := r.next[o]
			r.listMove(o, unreachable)
			r.flags[o] |= fUnreachable
			o = next
		}
	}
}

// untrackTuples untracks the tuples of list h that hold no object that is
// or may become tracked.
func (r *Runtime) untrackTuples(h Obj) {
	if r.tracked[TypeTuple] == 0 {
		return
	}
	for o := r.next[h]; o != h; {
		next := r.next[o]
		if r.typ[o] == TypeTuple {
			r.maybeUntrack(o)
		}
		o = next
	}
}

// untrackDicts does the same for dicts.
func (r *Runtime) untrackDicts(h Obj) {
	if r.tracked[TypeDict] == 0 {
		return
	}
	for o := r.next[h]; o != h; {
		next := r.next[o]
		if r.typ[o] == TypeDict {
			r.maybeUntrack(o)
		}
		o = next
	}
}

func (r *Runtime) maybeUntrack(o Obj) {
	for _, t := range r.refsOf(o) {
		if r.mayBeTracked(t) {
			return
		}
	}
	r.untrack(o)
}

// moveLegacyFinalizers moves the objects of unreachable that have a legacy
// finalizer to finalizers.
func (r *Runtime) moveLegacyFinalizers(unreachable, finalizers Obj) {
	for o := r.next[unreachable]; o != unreachable; {
		if !r.anyLegacy {
			r.flags[o] &^= fUnreachable
			o = r.next[o]
			continue
		}
		next := r.next[o]
		r.flags[o] &^= fUnreachable
		if r.legacyFinalizer(r.info(o)) != nil {
			r.flags[o] &^= fCollecting
			r.listMove(o, finalizers)
		}
		o = next
	}
}

// moveLegacyFinalizerReachable moves what the objects of finalizers reach
// in the unreachable set to finalizers too: it cannot be freed either.
func (r *Runtime) moveLegacyFinalizerReachable(finalizers Obj) {
	for o := r.next[finalizers]; o != finalizers; o = r.next[o] {
		for _, t := range r.refsOf(o) {
			if r.flags[t]&fCollecting != 0 {
				r.listMove(t, finalizers)
				r.flags[t] &^= fCollecting
			}
		}
	}
}

// finalizeGarbage runs the __del__ of every object of collectable that was
// not finalized yet. A finalizer may free objects of the list.
func (r *Runtime) finalizeGarbage(collectable Obj) {
	if !r.rules.hasFinal || !r.anyDel {
		return
	}
	r.listInit(headSeen)
	for !r.listEmpty(collectable) {
		o := r.next[collectable]
		r.listMove(o, headSeen)
		ti := r.info(o)
		if ti.del != nil && r.flags[o]&fFinalized == 0 {
			r.flags[o] |= fFinalized
			r.incref(o)
			r.call(ti.del, o)
			r.decref(o)
		}
	}
	r.listMerge(headSeen, collectable)
}

// anyResurrected reports whether a finalizer or callback made an object of
// list h reachable from outside h again (check_garbage before 3.9).
func (r *Runtime) anyResurrected(h Obj) bool {
	for o := r.next[h]; o != h; o = r.next[o] {
		if r.flags[o]&fImmortal != 0 {
			r.gcRefs[o] = 1 << 30
		} else {
			r.gcRefs[o] = r.refcnt[o]
		}
		r.flags[o] |= fCollecting
	}
	for o := r.next[h]; o != h; o = r.next[o] {
		for _, t := range r.refsOf(o) {
			if r.flags[t]&fCollecting != 0 {
				r.gcRefs[t]--
			}
		}
	}
	for o := r.next[h]; o != h; o = r.next[o] {
		if r.gcRefs[o] != 0 {
			return true
		}
	}
	return false
}

// handleResurrected runs the reachability analysis again over the
// unreachable objects after their finalizers ran: those a finalizer made
// reachable again go to old, the rest to still.
func (r *Runtime) handleResurrected(unreachable, still, old Obj) {
	for o := r.next[unreachable]; o != unreachable; o = r.next[o] {
		r.flags[o] &^= fCollecting
	}
	r.deduceUnreachable(unreachable, still)
	for o := r.next[still]; o != still; o = r.next[o] {
		r.flags[o] &^= fUnreachable
	}
	r.listMerge(unreachable, old)
}

// deleteGarbage breaks the cycles of collectable by clearing each object
// (tp_clear), or with DEBUG_SAVEALL saves each in gc.garbage. An object that
// clearing does not free goes to old.
func (r *Runtime) deleteGarbage(collectable, old Obj) {
	for !r.listEmpty(collectable) {
		o := r.next[collectable]
		if r.debug&DebugSaveAll != 0 {
			r.incref(o)
			r.garbage = append(r.garbage, o)
		} else if !r.info(o).noClear {
			r.incref(o)
			r.tpClear(o)
			r.decref(o)
		}
		if r.next[collectable] == o {
			r.flags[o] &^= fCollecting
			r.listMove(o, old)
		}
	}
}

// tpClear drops o's references, as a collection's tp_clear does; a weak
// reference is cleared too.
func (r *Runtime) tpClear(o Obj) {
	if r.info(o).kind == kindWeakref {
		r.detachWeakref(o)
		r.wrInfo[o].callback = nil
	}
	r.clearRefs(o)
}

// handleLegacyFinalizers saves in gc.garbage the objects of finalizers
// that have a legacy finalizer (all of them with DEBUG_SAVEALL), and moves
// them all to old.
func (r *Runtime) handleLegacyFinalizers(finalizers, old Obj) {
	for o := r.next[finalizers]; o != finalizers; o = r.next[o] {
		if r.debug&DebugSaveAll != 0 || r.legacyFinalizer(r.info(o)) != nil {
			r.incref(o)
			r.garbage = append(r.garbage, o)
		}
	}
	r.listMerge(finalizers, old)
}
