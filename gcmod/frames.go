package gcmod

import "reflect"

// Before 3.11 a call of a Python function makes a frame object, which is
// gc-aware: the allocation counter counts it (and may start a collection)
// unless it comes from a free list. A code object keeps the last frame it
// ran in (its zombie frame) for its next call, so that frame is never freed
// nor uncounted; a frame returned while its code keeps one already goes on
// the frame free list (200 frames), which full collections empty. Frames
// are not tracked: only gc.get_count() shows them. From 3.11 frames live
// on the interpreter's own stack and calls allocate nothing.
//
// The finalizers and callbacks a Runtime calls are its Python functions.
// Each Go function stands for one code object: the closures of one function
// literal share their code, as the functions one def statement makes share
// theirs.

// maxFrameFree is the length of the frame free list.
const maxFrameFree = 200

// frameState is what frames leave behind.
type frameState struct {
	zombie map[uintptr]bool // code whose zombie frame is free for its next call
	free   int              // frames on the free list
}

// codeOf identifies fn's code.
func codeOf(fn any) uintptr { return reflect.ValueOf(fn).Pointer() }

// enterFrame makes the frame of a call of code.
func (r *Runtime) enterFrame(code uintptr) {
	if !r.rules.frameObjects {
		return
	}
	f := &r.frameState
	switch {
	case f.zombie[code]:
		f.zombie[code] = false
	case f.free > 0:
		f.free--
	default:
		r.countAlloc()
	}
}

// exitFrame frees the frame of a call of code that returned.
func (r *Runtime) exitFrame(code uintptr) {
	if !r.rules.frameObjects {
		return
	}
	f := &r.frameState
	switch {
	case !f.zombie[code]:
		if f.zombie == nil {
			f.zombie = map[uintptr]bool{}
		}
		f.zombie[code] = true
	case f.free < maxFrameFree:
		f.free++
	default:
		r.countFree()
	}
}

// call calls the finalizer or weak reference callback fn with o, in a
// frame.
func (r *Runtime) call(fn func(*Runtime, Obj), o Obj) {
	code := uintptr(0)
	if r.rules.frameObjects {
		code = codeOf(fn)
	}
	r.enterFrame(code)
	r.userCalls++
	fn(r, o)
	r.exitFrame(code)
}
