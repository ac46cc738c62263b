package gcmod

import (
	"fmt"
	"time"
)

// The incremental collector of CPython 3.14.0 to 3.14.4. Tracked objects are
// young (headGen0) or old; the old ones are in two spaces, the one the
// current pass has visited and the one it has not (headGen1 is space 0,
// headGen2 space 1; fOldSpace marks space 1). An automatic collection
// collects the young objects together with a slice of the unvisited space,
// grown until it is closed under references, so that each pass over the old
// objects is spread over many collections.
//
// This is an approximation in one respect: CPython starts each pass by
// marking what the interpreter's global roots and thread stacks reach, and a
// Runtime has neither, so its mark phase marks nothing.

type incState struct {
	visited  int // the space the current pass has visited: 0 or 1
	marking  bool
	workToDo int
	heapSize int // tracked objects allocated and not freed
}

func (s *incState) init() { s.marking = true }

// old is the list of old space s.
func (s *incState) old(space int) Obj { return headGen1 + Obj(space) }

func (r *Runtime) setSpace(o Obj, space int) {
	if space == 1 {
		r.flags[o] |= fOldSpace
	} else {
		r.flags[o] &^= fOldSpace
	}
}

func (r *Runtime) space(o Obj) int {
	if r.flags[o]&fOldSpace != 0 {
		return 1
	}
	return 0
}

func (r *Runtime) listSetSpace(h Obj, space int) {
	for o := r.next[h]; o != h; o = r.next[o] {
		r.setSpace(o, space)
	}
}

// incStats are the counts of one incremental collection.
type incStats struct {
	candidates, collected, uncollectable int
}

// collectIncremental is _PyGC_Collect: generation 0 collects the young
// objects, 1 one increment and 2 everything.
func (r *Runtime) collectIncremental(gen int) (collected, uncollectable int) {
	r.invokeCallbacks("start", CallbackInfo{Generation: gen})
	if r.debug&DebugStats != 0 {
		fmt.Fprintf(r.stderr, "gc: collecting generation %d...\n", gen)
		r.printGenerationSizes()
	}
	t0 := r.now()
	var st incStats
	switch gen {
	case 0:
		r.collectYoung(&st)
	case 1:
		r.collectIncrement(&st)
	default:
		r.collectFull(&st)
	}
	d := r.now() - t0
	s := &r.stats[gen]
	s.Collections++
	s.Collected += st.collected
	s.Uncollectable += st.uncollectable
	r.invokeCallbacks("stop", CallbackInfo{Generation: gen, Collected: st.collected,
		Uncollectable: st.uncollectable, Candidates: st.candidates, Duration: d})
	if r.debug&DebugStats != 0 {
		fmt.Fprintf(r.stderr, "gc: done, %d unreachable, %d uncollectable, %.4fs elapsed\n",
			st.collected+st.uncollectable, st.uncollectable, time.Duration(d).Seconds())
	}
	return st.collected, st.uncollectable
}

// collectRegion collects the objects of list from; the survivors go to to.
func (r *Runtime) collectRegion(from, to Obj, st *incStats) {
	st.candidates = r.deduceUnreachable(from, headUnreachable)
	r.untrackTuples(from)
	if from != to {
		r.listMerge(from, to)
	}
	m, n := r.collectUnreachable(headUnreachable, to)
	st.collected += m
	st.uncollectable = n
	r.handleLegacyFinalizers(headFinalizers, to)
}

func (r *Runtime) collectYoung(st *incStats) {
	visited := r.inc.old(r.inc.visited)
	r.untrackTuples(headGen0)
	r.listInit(headSurvivors)
	r.listSetSpace(headGen0, r.inc.visited)
	r.collectRegion(headGen0, headSurvivors, st)
	r.listMerge(headSurvivors, visited)
	r.count[0] = 0
	r.count[1+r.inc.visited]++
}

// assessWork is how many objects the next increment should examine: the new
// objects, plus a share of the heap of at most twice as many.
func (r *Runtime) assessWork() int {
	scale := max(r.threshold[1], 2)
	newObjects := r.count[0]
	share := min(r.inc.heapSize/10/scale, 2*newObjects)
	r.count[0] = 0
	return newObjects + share
}

func (r *Runtime) collectIncrement(st *incStats) {
	r.inc.workToDo += r.assessWork()
	if r.inc.workToDo < 0 {
		return
	}
	r.untrackTuples(headGen0)
	if r.inc.marking {
		// The mark phase would mark what the interpreter's roots reach.
		r.inc.marking = false
		return
	}
	notVisited := r.inc.old(r.inc.visited ^ 1)
	visited := r.inc.old(r.inc.visited)
	r.listInit(headIncrement)
	r.listSetSpace(headGen0, r.inc.visited)
	r.listMerge(headGen0, headIncrement)
	size := r.listSize(headIncrement)
	for size < r.inc.workToDo && !r.listEmpty(notVisited) {
		o := r.next[notVisited]
		r.listMove(o, headIncrement)
		r.setSpace(o, r.inc.visited)
		size++
		size += r.expandRegion(headIncrement, o)
	}
	r.listInit(headSurvivors)
	r.collectRegion(headIncrement, headSurvivors, st)
	r.listMerge(headSurvivors, visited)
	r.inc.workToDo -= size
	if r.listEmpty(notVisited) {
		r.completedScavenge()
	}
}

// expandRegion adds to list h, from o on, every tracked object the region
// reaches that the pass has not visited, and returns how many it added.
func (r *Runtime) expandRegion(h, o Obj) int {
	added := 0
	for ; o != h; o = r.next[o] {
		for _, t := range r.refsOf(o) {
			if r.flags[t]&fTracked != 0 && r.flags[t]&fImmortal == 0 && r.space(t) != r.inc.visited {
				r.setSpace(t, r.inc.visited)
				r.listMove(t, h)
				added++
			}
		}
	}
	return added
}

func (r *Runtime) collectFull(st *incStats) {
	pending := r.inc.old(r.inc.visited ^ 1)
	visited := r.inc.old(r.inc.visited)
	r.untrackTuples(headGen0)
	r.listMerge(headGen0, pending)
	r.listSetSpace(pending, r.inc.visited)
	r.listMerge(pending, visited)
	r.collectRegion(visited, visited, st)
	r.count = [3]int{}
	r.completedScavenge()
	r.clearFreeLists()
}

// completedScavenge ends a pass: the visited space becomes the one to visit.
func (r *Runtime) completedScavenge() {
	if r.listEmpty(headPermanent) {
		notVisited := r.inc.visited
		r.inc.visited ^= 1
		r.listSetSpace(headGen0, notVisited)
	} else {
		v := r.inc.visited
		r.listMerge(r.inc.old(v), r.inc.old(v^1))
		r.listSetSpace(r.inc.old(v^1), v^1)
	}
	r.inc.workToDo = 0
	r.inc.marking = true
}

func (r *Runtime) freezeIncremental() {
	v := r.inc.visited
	r.listSetSpace(headGen0, v)
	r.listMerge(headGen0, headPermanent)
	if v == 1 {
		r.listSetSpace(r.inc.old(0), 1)
	} else {
		r.listSetSpace(r.inc.old(1), 0)
	}
	r.listMerge(r.inc.old(0), headPermanent)
	r.listMerge(r.inc.old(1), headPermanent)
	r.count = [3]int{}
}
