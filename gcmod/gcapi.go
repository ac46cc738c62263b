package gcmod

import (
	"fmt"
	"slices"
)

// Enable is gc.enable: automatic collection runs again.
func (r *Runtime) Enable() { r.enabled = true }

// Disable is gc.disable: the allocation counter keeps counting but starts
// no collection.
func (r *Runtime) Disable() { r.enabled = false }

// IsEnabled is gc.isenabled.
func (r *Runtime) IsEnabled() bool { return r.enabled }

// GetCount is gc.get_count: allocations minus deallocations of gc-aware
// objects since the last collection of generation 0, then the number of
// collections of generation 0 and of generation 1 since the last collection
// of the generation above. The incremental collector reports the young
// count and the collections of the increments instead.
func (r *Runtime) GetCount() [3]int {
	if r.rules.collector == Incremental {
		return [3]int{r.count[0], r.count[1+r.inc.visited], r.count[1+(r.inc.visited^1)]}
	}
	return r.count
}

// GetThreshold is gc.get_threshold.
func (r *Runtime) GetThreshold() [3]int { return r.threshold }

// SetThreshold is gc.set_threshold(threshold0[, threshold1[, threshold2]]):
// it sets the first one, two or three thresholds. A threshold0 of 0 disables
// automatic collection.
func (r *Runtime) SetThreshold(thresholds ...int) error {
	if len(thresholds) < 1 || len(thresholds) > 3 {
		return fmt.Errorf("set threshold: want 1 to 3 thresholds, have %d", len(thresholds))
	}
	copy(r.threshold[:], thresholds)
	return nil
}

// SetDebug is gc.set_debug.
func (r *Runtime) SetDebug(flags DebugFlags) { r.debug = flags }

// GetDebug is gc.get_debug.
func (r *Runtime) GetDebug() DebugFlags { return r.debug }

// GetObjects is gc.get_objects(generation): the tracked objects of a
// generation (0 to 2), or of all three when generation is -1, in the
// collector's order. Frozen objects are in none. The incremental collector
// has no generation 1: its old objects are all in generation 2.
func (r *Runtime) GetObjects(generation int) ([]Obj, error) {
	if generation < -1 || generation > 2 {
		return nil, fmt.Errorf("get objects: generation %d is not -1 (all) or 0 to 2", generation)
	}
	var objs []Obj
	if r.rules.collector == Incremental {
		if generation <= 0 {
			objs = r.listObjects(objs, headGen0)
		}
		if generation == -1 || generation == 2 {
			objs = r.listObjects(objs, r.inc.old(0))
			objs = r.listObjects(objs, r.inc.old(1))
		}
		return objs, nil
	}
	for g := range 3 {
		if generation == -1 || generation == g {
			objs = r.listObjects(objs, r.genHead(g))
		}
	}
	return objs, nil
}

// GetStats is gc.get_stats.
func (r *Runtime) GetStats() [3]GenStats { return r.stats }

// GetReferrers is gc.get_referrers: the tracked objects, not frozen, that
// refer to any of objs, each once, in the collector's order.
func (r *Runtime) GetReferrers(objs ...Obj) []Obj {
	var out []Obj
	for g := range 3 {
		h := r.genHead(g)
		for o := r.next[h]; o != h; o = r.next[o] {
			for _, t := range r.refsOf(o) {
				if slices.Contains(objs, t) {
					out = append(out, o)
					break
				}
			}
		}
	}
	return out
}

// GetReferents is gc.get_referents: what the gc-aware objects among objs
// refer to, in order, tracked or not. Atomic objects report nothing.
func (r *Runtime) GetReferents(objs ...Obj) []Obj {
	var out []Obj
	for _, o := range objs {
		r.check(o)
		if r.info(o).container {
			out = append(out, r.refsOf(o)...)
		}
	}
	return out
}

// Freeze is gc.freeze: every tracked object moves to the permanent
// generation, which collections ignore, and the counts restart from zero.
// Call it before fork so that collections in the child do not write to the
// pages it shares with the parent.
func (r *Runtime) Freeze() {
	if r.rules.collector == Incremental {
		r.freezeIncremental()
		return
	}
	for g := range 3 {
		r.listMerge(r.genHead(g), headPermanent)
		r.count[g] = 0
	}
}

// Unfreeze is gc.unfreeze: the permanent generation goes back to the
// oldest generation.
func (r *Runtime) Unfreeze() {
	if r.rules.collector == Incremental {
		r.listMerge(headPermanent, r.inc.old(r.inc.visited))
		return
	}
	r.listMerge(headPermanent, headGen2)
}

// GetFreezeCount is gc.get_freeze_count: the number of frozen objects.
func (r *Runtime) GetFreezeCount() int { return r.listSize(headPermanent) }

// Garbage is gc.garbage: the objects collections found unreachable but did
// not free (those with a legacy finalizer and what they reach, and with
// DEBUG_SAVEALL everything), in the order they were found. gc.garbage holds
// a reference to each.
func (r *Runtime) Garbage() []Obj { return slices.Clone(r.garbage) }

// ClearGarbage empties gc.garbage, giving up its references last first as
// del gc.garbage[:] does.
func (r *Runtime) ClearGarbage() {
	g := r.garbage
	r.garbage = nil
	for i := len(g) - 1; i >= 0; i-- {
		r.decref(g[i])
	}
}
