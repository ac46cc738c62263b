package gcmod

// The collector's generations are doubly linked lists threaded through the
// next and prev columns, as CPython threads them through PyGC_Head. A list
// head is a reserved id below firstObj whose links point to itself when the
// list is empty. The order of a list is observable (gc.get_objects, the
// order finalizers run and gc.garbage fills), so every operation keeps
// CPython's order.

func (r *Runtime) listInit(h Obj) { r.next[h], r.prev[h] = h, h }

func (r *Runtime) listEmpty(h Obj) bool { return r.next[h] == h }

// listAppend links o, which is in no list, at the end of list h.
func (r *Runtime) listAppend(o, h Obj) {
	last := r.prev[h]
	r.prev[o], r.next[o] = last, h
	r.next[last] = o
	r.prev[h] = o
}

// listRemove unlinks o from its list.
func (r *Runtime) listRemove(o Obj) {
	p, n := r.prev[o], r.next[o]
	r.next[p] = n
	r.prev[n] = p
	r.next[o], r.prev[o] = 0, 0
}

// listMove moves o from its list to the end of list h.
func (r *Runtime) listMove(o, h Obj) {
	p, n := r.prev[o], r.next[o]
	r.next[p] = n
	r.prev[n] = p
	r.listAppend(o, h)
}

// listMerge appends the whole of list from to list to and empties from.
func (r *Runtime) listMerge(from, to Obj) {
	if !r.listEmpty(from) {
		toTail := r.prev[to]
		first, last := r.next[from], r.prev[from]
		r.next[toTail] = first
		r.prev[first] = toTail
		r.next[last] = to
		r.prev[to] = last
	}
	r.listInit(from)
}

func (r *Runtime) listSize(h Obj) int {
	n := 0
	for o := r.next[h]; o != h; o = r.next[o] {
		n++
	}
	return n
}

// listObjects appends the members of list h to dst.
func (r *Runtime) listObjects(dst []Obj, h Obj) []Obj {
	for o := r.next[h]; o != h; o = r.next[o] {
		dst = append(dst, o)
	}
	return dst
}
