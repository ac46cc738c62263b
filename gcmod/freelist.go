package gcmod

// CPython keeps freed lists, dicts, short tuples and (before 3.9) bound
// methods on free lists and hands
// them out again instead of allocating. An object taken from a free list is
// not counted by the allocation counter, and one put on a free list is not
// uncounted; a full collection empties the free lists, uncounting what they
// held. gc.get_count() shows all of this, so the Runtime models the lists'
// lengths (their objects need no identity).

// maxTupleFree is one past the longest tuple kept on a free list.
const maxTupleFree = 20

type freeLists struct {
	lists, dicts int
	methods      int               // before 3.9
	tuples       [maxTupleFree]int // by length
}

// slot is the free list of objects of type ti with the given length, nil
// when there is none.
func (f *freeLists) slot(ti *typeInfo, length int) *int {
	switch ti.kind {
	case kindList:
		return &f.lists
	case kindDict:
		return &f.dicts
	case kindMethod:
		return &f.methods
	case kindTuple:
		if length > 0 && length < maxTupleFree {
			return &f.tuples[length]
		}
	}
	return nil
}

// pop takes an object from its free list, if one is there.
func (f *freeLists) pop(ti *typeInfo, length int) bool {
	if p := f.slot(ti, length); p != nil && *p > 0 {
		*p--
		return true
	}
	return false
}

// push puts a freed object on its free list, if there is room.
func (f *freeLists) push(ti *typeInfo, length int) bool {
	if p := f.slot(ti, length); p != nil && *p < ti.freeList {
		*p++
		return true
	}
	return false
}

// clear empties the free lists and returns how many objects they held.
func (f *freeLists) clear() int {
	n := f.lists + f.dicts + f.methods
	for _, t := range f.tuples {
		n += t
	}
	*f = freeLists{}
	return n
}

// countAlloc counts an allocation of a gc-aware object that did not come
// from a free list, and starts (or, on 3.12 and later, schedules) a
// collection when the count passes the first threshold.
func (r *Runtime) countAlloc() {
	r.count[0]++
	if r.rules.collector == Incremental {
		r.inc.heapSize++
	}
	if r.count[0] > r.threshold[0] && r.enabled && r.threshold[0] != 0 && !r.collecting {
		if r.rules.deferred {
			r.scheduled = true
		} else {
			r.collectAuto()
		}
	}
}

// countFree uncounts a freed gc-aware object that did not go to a free list.
func (r *Runtime) countFree() {
	if r.count[0] > 0 {
		r.count[0]--
	}
	if r.rules.collector == Incremental && r.inc.heapSize > 0 {
		r.inc.heapSize--
	}
}

// runScheduled runs a collection the allocation counter deferred.
func (r *Runtime) runScheduled() {
	if r.scheduled && !r.collecting {
		r.scheduled = false
		if r.enabled {
			r.collectAuto()
		}
	}
}

// tempAlloc and tempFree account for an object CPython makes and frees
// internally (the info dict of gc callbacks, the tuple of weakref callbacks
// a dying object builds): only the counter and the free lists see it.
func (r *Runtime) tempAlloc(t TypeID, length int) {
	if !r.freeLists.pop(&r.types[t], length) {
		r.countAlloc()
	}
}

func (r *Runtime) tempFree(t TypeID, length int) {
	if !r.freeLists.push(&r.types[t], length) {
		r.countFree()
	}
}

// clearFreeLists empties the free lists at the end of a full collection.
func (r *Runtime) clearFreeLists() {
	n := r.freeLists.clear() + r.frameState.free
	r.frameState.free = 0
	for range n {
		r.countFree()
	}
}
