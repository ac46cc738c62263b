package objgraph

import (
	"cmp"
	"path"
	"slices"

	"github.com/google/pprof/profile"

	"github.com/objgraph-go/objgraph/heap"
)

// NoTraceback is the one frame of the allocation view's sample for objects
// that have no allocation traceback (allocated before tracemalloc started,
// or not traced).
const NoTraceback = "<no allocation traceback>"

// AllocProfile describes the objects of h by where they were allocated, as
// a pprof profile: each sample is the objects of one type with one
// allocation traceback, whose stack is that traceback, innermost frame
// first, with the file and line of each frame, so that pprof's -lines,
// -list and flame graph point at source lines. Values are objects and
// bytes (their own sizes); the label "type" names the type. It returns nil
// when h has no allocation tracebacks (the snapshot was taken while
// tracemalloc was not tracing).
func AllocProfile(h *heap.Heap, opts ProfileOptions) *profile.Profile {
	if h.NumTracebacks() == 0 {
		return nil
	}
	type key struct {
		tb  int // -1: none
		typ heap.TypeID
	}
	type agg struct{ count, bytes int64 }
	aggs := map[key]*agg{}
	for id := range h.All() {
		k := key{tb: -1, typ: h.Type(id)}
		if t, ok := h.AllocTraceback(id); ok {
			k.tb = t
		}
		a := aggs[k]
		if a == nil {
			a = &agg{}
			aggs[k] = a
		}
		a.count++
		a.bytes += int64(h.Size(id))
	}
	keys := make([]key, 0, len(aggs))
	for k := range aggs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.tb, b.tb); c != 0 {
			return c
		}
		return cmp.Compare(a.typ, b.typ)
	})
	p := &profile.Profile{
		SampleType:        profileSampleTypes[:2],
		DefaultSampleType: "space",
		PeriodType:        &profile.ValueType{Type: "space", Unit: "bytes"},
		Period:            1,
		TimeNanos:         h.Meta().Time.UnixNano(),
		Comments:          []string{"objgraph allocation profile: each stack is the traceback tracemalloc recorded for the objects' allocation, innermost frame first"},
	}
	m := &profile.Mapping{ID: 1, File: "objgraph-heap", HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
	p.Mapping = []*profile.Mapping{m}
	type fkey struct{ file, name string }
	funcs := map[fkey]*profile.Function{}
	locs := map[heap.Frame]*profile.Location{}
	loc := func(f heap.Frame) *profile.Location {
		if l, ok := locs[f]; ok {
			return l
		}
		k := fkey{f.File, f.Function}
		fn, ok := funcs[k]
		if !ok {
			// a frame without a function name (the snapshot's producer
			// found none) gets the file's base name, and the line says
			// where in it
			name := f.Function
			if name == "" {
				name = path.Base(f.File)
			}
			fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: f.File}
			p.Function = append(p.Function, fn)
			funcs[k] = fn
		}
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Line: []profile.Line{{Function: fn, Line: int64(f.Line)}}}
		p.Location = append(p.Location, l)
		locs[f] = l
		return l
	}
	tbLocs := map[int][]*profile.Location{}
	for _, k := range keys {
		a := aggs[k]
		stack, ok := tbLocs[k.tb]
		if !ok {
			if k.tb < 0 {
				stack = []*profile.Location{loc(heap.Frame{File: NoTraceback})}
			} else {
				for _, f := range h.Traceback(k.tb) {
					stack = append(stack, loc(f))
				}
				if len(stack) == 0 {
					stack = []*profile.Location{loc(heap.Frame{File: NoTraceback})}
				}
			}
			tbLocs[k.tb] = stack
		}
		p.Sample = append(p.Sample, &profile.Sample{
			Location: stack,
			Value:    []int64{a.count, a.bytes},
			Label:    map[string][]string{"type": {typeName(h, k.typ, opts.Qualified)}},
			NumLabel: map[string][]int64{"traceback": {int64(k.tb + 1)}},
		})
	}
	return p
}
