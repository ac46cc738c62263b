package heap

import (
	"fmt"
	"math"
	"slices"
)

// The allocation-site records (kinds 65–67, skipped by readers that do not
// know them), written when tracemalloc was tracing: ALLOCS maps objects to
// tracebacks, TRACEBACKS gives each traceback's number of frames, FRAMES
// holds the frames of all tracebacks in order, most recent first.
const (
	recAllocs     = 65
	recTracebacks = 66
	recFrames     = 67

	colAllocAddr = 1 // object address; required
	colAllocTB   = 2 // traceback number, from 1

	colTBFrames = 1 // frames in the traceback; required

	colFrameFile = 1 // file name (string id); required
	colFrameLine = 2 // line
	colFrameFunc = 3 // function (string id), 0 when unknown
)

// Frame is one frame of an allocation traceback.
type Frame struct {
	File     string // file name, as the code object has it
	Line     int    // line number, 0 when unknown
	Function string // qualified name of the function, "" when unknown
}

// allocSites are the allocation tracebacks of a heap.
type allocSites struct {
	ids    []ID     // objects with a traceback, in id order
	tb     []uint32 // their traceback numbers, from 0
	tbOff  []uint32 // traceback t's frames are frames[tbOff[t]:tbOff[t+1]]
	frFile []uint32 // string ids
	frLine []uint32
	frFunc []uint32 // string ids, 0 for none; nil when the file has none
}

// NumTracebacks is the number of distinct allocation tracebacks.
func (h *Heap) NumTracebacks() int {
	if len(h.allocs.tbOff) == 0 {
		return 0
	}
	return len(h.allocs.tbOff) - 1
}

// AllocTraceback returns the number of the traceback of the allocation of
// object id, and false when the snapshot has none for it.
func (h *Heap) AllocTraceback(id ID) (int, bool) {
	a := &h.allocs
	i, ok := slices.BinarySearch(a.ids, id)
	if !ok {
		return 0, false
	}
	return int(a.tb[i]), true
}

// Traceback returns the frames of traceback t, most recent first. The
// slice is new on each call.
func (h *Heap) Traceback(t int) []Frame {
	a := &h.allocs
	lo, hi := a.tbOff[t], a.tbOff[t+1]
	out := make([]Frame, 0, hi-lo)
	for k := lo; k < hi; k++ {
		f := Frame{File: h.strs.get(a.frFile[k]), Line: int(a.frLine[k])}
		if a.frFunc != nil && a.frFunc[k] != 0 {
			f.Function = h.strs.get(a.frFunc[k])
		}
		out = append(out, f)
	}
	return out
}

// readAllocs decodes the allocation-site records.
func (r *reader) readAllocs() error {
	var d colDecoder
	h := r.h
	a := &h.allocs
	nstr := uint64(h.strs.len())
	type row struct {
		id ID
		tb uint32
	}
	var rows []row
	var tbRec, frRec = -1, -1
	var nframes []uint32
	required := map[uint32][]uint16{recAllocs: {colAllocAddr}, recTracebacks: {colTBFrames}, recFrames: {colFrameFile}}
	err := r.optionalRecords(required, func(i int, rh recHeader, p []byte, cols []column) error {
		k := rh.kind
		n := int(rh.rows)
		switch k {
		case recTracebacks, recFrames:
			if (k == recTracebacks && tbRec >= 0) || (k == recFrames && frRec >= 0) {
				return fmt.Errorf("a second %s record", recordName(k))
			}
			if k == recTracebacks {
				tbRec = i
				nframes = make([]uint32, n)
				return ints(&d, p, cols, colTBFrames, nframes, math.MaxUint32)
			}
			frRec = i
			a.frFile = make([]uint32, n)
			a.frLine = make([]uint32, n)
			if err := firstErr(ints(&d, p, cols, colFrameFile, a.frFile, nstr-1),
				ints(&d, p, cols, colFrameLine, a.frLine, math.MaxUint32)); err != nil {
				return err
			}
			if findColumn(cols, colFrameFunc) != nil {
				a.frFunc = make([]uint32, n)
				return ints(&d, p, cols, colFrameFunc, a.frFunc, nstr-1)
			}
		case recAllocs:
			addrs := make([]uint64, n)
			tbs := make([]uint32, n)
			if err := firstErr(ints(&d, p, cols, colAllocAddr, addrs, math.MaxUint64),
				ints(&d, p, cols, colAllocTB, tbs, math.MaxUint32)); err != nil {
				return err
			}
			for j := range n {
				if tbs[j] == 0 {
					return fmt.Errorf("row %d: traceback 0 (they are numbered from 1)", j)
				}
				id, ok := r.hash.find(addrs[j])
				if !ok {
					h.dangling++
					continue
				}
				rows = append(rows, row{id, tbs[j] - 1})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rows == nil && tbRec < 0 && frRec < 0 {
		return nil
	}
	if tbRec < 0 || frRec < 0 {
		return &FormatError{File: r.name, Record: -1, Err: fmt.Errorf("allocation sites without their TRACEBACKS and FRAMES records")}
	}
	a.tbOff = make([]uint32, len(nframes)+1)
	var sum uint64
	for t, k := range nframes {
		sum += uint64(k)
		if sum > uint64(len(a.frFile)) {
			return r.errAt(tbRec, fmt.Errorf("row %d: the tracebacks need more than the %d frames of the FRAMES record", t, len(a.frFile)))
		}
		a.tbOff[t+1] = uint32(sum)
	}
	if sum != uint64(len(a.frFile)) {
		return r.errAt(tbRec, fmt.Errorf("the tracebacks take %d frames, the FRAMES record has %d", sum, len(a.frFile)))
	}
	slices.SortFunc(rows, func(x, y row) int { return int(x.id) - int(y.id) })
	a.ids = make([]ID, len(rows))
	a.tb = make([]uint32, len(rows))
	for j, rw := range rows {
		if j > 0 && rw.id == rows[j-1].id {
			return &FormatError{File: r.name, Record: -1, Err: fmt.Errorf("object %#x has two allocation tracebacks", h.addr[rw.id])}
		}
		if int(rw.tb) >= len(nframes) {
			return &FormatError{File: r.name, Record: -1, Err: fmt.Errorf("object %#x: traceback %d of %d", h.addr[rw.id], rw.tb+1, len(nframes))}
		}
		a.ids[j], a.tb[j] = rw.id, rw.tb
	}
	return nil
}
