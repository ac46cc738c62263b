package objgraph

import (
	"fmt"

	"github.com/objgraph-go/objgraph/heap"
)

// ownsBuffer reports whether object id owns a buffer outside itself.
func ownsBuffer(h *heap.Heap, id heap.ID) bool {
	_, ok := h.BufferOf(id)
	return ok
}

// Footprint is what one snapshot says about the process's memory: the
// bytes its Python objects take, the bytes of the buffers they own, and
// the process's own figures where the producer recorded them.
type Footprint struct {
	Python  uint64              // the objects' own sizes, less the part of their buffers those sizes count
	Buffers uint64              // the buffers objects own outside themselves
	Owners  int                 // objects that own buffers
	Process *heap.ProcessMemory // nil when the snapshot recorded none
}

// NewFootprint adds up the objects and buffers of h. Every object counts,
// tracked or not. A malformed memory record in the metadata reads as none
// recorded.
func NewFootprint(h *heap.Heap) Footprint {
	var f Footprint
	for id := range h.All() {
		f.Python += h.Size(id)
	}
	for _, b := range h.Buffers() {
		f.Python -= b.InSize
		f.Buffers += b.Owned
		f.Owners++
	}
	if pm, err := h.Meta().ProcessMemory(); err == nil {
		f.Process = pm
	}
	return f
}

// rss is the resident set, when recorded.
func (f Footprint) rss() (int64, bool) {
	if f.Process == nil || f.Process.RSS == nil {
		return 0, false
	}
	return int64(*f.Process.RSS), true
}

// Where says which part of the memory dominates a verdict.
type Where int

const (
	WhereUnknown Where = iota // no resident set recorded, or too little growth to tell
	WherePython               // Python objects explain most of it
	WhereBuffers              // the buffers Python objects own explain most of it
	WhereOutside              // most of it is outside both: native
)

func (w Where) String() string {
	return [...]string{"unknown", "python", "buffers", "outside"}[w]
}

// MemoryVerdict splits the process's resident set, or its growth between
// two snapshots, into what Python objects explain, what the buffers they
// own explain, and what is outside both. All figures are bytes; growths
// may be negative.
type MemoryVerdict struct {
	Growth  bool   // between two snapshots; otherwise one snapshot's levels
	HasRSS  bool   // the snapshots recorded the resident set; RSS and Outside are 0 otherwise
	RSS     int64  // the resident set, or its growth
	Python  int64  // Python objects' own sizes, or their growth
	Buffers int64  // buffers they own, or their growth
	Outside int64  // RSS − Python − Buffers: C extensions, the C allocator's free lists, fragmentation
	Where   Where  // what dominates
	Hints   []Hint // what the allocator counters add, for the next step

	MallocFree      *int64 // growth (or level) of the C allocator's free bytes in its arenas, when recorded
	PymallocBlocks  *int64 // growth (or level) of pymalloc's allocated blocks, when recorded
	TracemallocSeen *int64 // growth (or level) of what tracemalloc traced, when it was tracing in both
}

// Hint is a next step a verdict suggests.
type Hint int

const (
	HintNativeProfiler Hint = iota + 1 // outside dominates: a native profiler (memray --native) shows which C code allocates
	HintMallocArenas                   // the C allocator's free bytes grew: glibc arena fragmentation (MALLOC_ARENA_MAX)
	HintPymallocArenas                 // Python objects shrank while the process did not: pymalloc arenas held by few live objects
)

func (h Hint) String() string {
	switch h {
	case HintNativeProfiler:
		return "native_profiler"
	case HintMallocArenas:
		return "malloc_arenas"
	case HintPymallocArenas:
		return "pymalloc_arenas"
	}
	return fmt.Sprintf("Hint(%d)", int(h))
}

// MinVerdictGrowth is the least resident-set growth a verdict names a
// dominant part for: below it, allocator noise (free lists, the agent's
// own buffers of an earlier capture, tracemalloc's traces) decides.
const MinVerdictGrowth = 16 << 20

// NewMemoryVerdict is the verdict for one snapshot's footprint.
func NewMemoryVerdict(f Footprint) MemoryVerdict {
	v := MemoryVerdict{Python: int64(f.Python), Buffers: int64(f.Buffers)}
	if rss, ok := f.rss(); ok {
		v.HasRSS, v.RSS = true, rss
		v.Outside = rss - v.Python - v.Buffers
	}
	if p := f.Process; p != nil {
		if p.Malloc != nil {
			x := int64(p.Malloc.Free)
			v.MallocFree = &x
		}
		if p.Pymalloc != nil {
			x := int64(p.Pymalloc.AllocatedBlocks)
			v.PymallocBlocks = &x
		}
		if p.Tracemalloc != nil {
			x := int64(p.Tracemalloc.Traced)
			v.TracemallocSeen = &x
		}
	}
	v.judge()
	return v
}

// NewMemoryGrowthVerdict is the verdict for the growth from first to last.
func NewMemoryGrowthVerdict(first, last Footprint) MemoryVerdict {
	a, b := NewMemoryVerdict(first), NewMemoryVerdict(last)
	v := MemoryVerdict{Growth: true, Python: b.Python - a.Python, Buffers: b.Buffers - a.Buffers}
	if a.HasRSS && b.HasRSS {
		v.HasRSS, v.RSS = true, b.RSS-a.RSS
		v.Outside = v.RSS - v.Python - v.Buffers
	}
	diff := func(x, y *int64) *int64 {
		if x == nil || y == nil {
			return nil
		}
		d := *y - *x
		return &d
	}
	v.MallocFree = diff(a.MallocFree, b.MallocFree)
	v.PymallocBlocks = diff(a.PymallocBlocks, b.PymallocBlocks)
	v.TracemallocSeen = diff(a.TracemallocSeen, b.TracemallocSeen)
	v.judge()
	return v
}

// judge sets Where and Hints: the part over half of the resident set (or
// of its growth) dominates.
func (v *MemoryVerdict) judge() {
	v.Where, v.Hints = WhereUnknown, nil
	if !v.HasRSS || (v.Growth && v.RSS < MinVerdictGrowth) || v.RSS <= 0 {
		if v.Growth && v.HasRSS && v.Python < 0 && v.RSS >= 0 {
			v.Hints = append(v.Hints, HintPymallocArenas)
		}
		return
	}
	half := v.RSS / 2
	switch {
	case v.Outside > half:
		v.Where = WhereOutside
	case v.Buffers > half:
		v.Where = WhereBuffers
	case v.Python > half:
		v.Where = WherePython
	}
	if v.Where == WhereOutside {
		v.Hints = append(v.Hints, HintNativeProfiler)
		if v.MallocFree != nil && *v.MallocFree > v.Outside/4 {
			v.Hints = append(v.Hints, HintMallocArenas)
		}
		if v.Growth && v.Python < 0 {
			v.Hints = append(v.Hints, HintPymallocArenas)
		}
	}
}
