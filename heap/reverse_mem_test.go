package heap_test

import (
	"runtime"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/synth"
)

// threeEdgeHeap is n objects with three edges each to random objects.
func threeEdgeHeap(t *testing.T, n int) *heap.Heap {
	t.Helper()
	h, err := synth.RandomGraph(n, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// allocatedBy is the number of bytes fn allocates on the Go heap with
// GOMAXPROCS set to procs.
func allocatedBy(procs int, fn func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReverseMemory checks that the temporary memory of BuildReverse does
// not grow with the number of CPUs: at GOMAXPROCS=64 it allocates no more
// than at 4, and at most four count arrays more than with one worker. The
// heap is small enough (count arrays under 4 MiB) that the arrays are on
// the Go heap, where TotalAlloc sees them, rather than mapped.
func TestReverseMemory(t *testing.T) {
	const n = 400_000
	build := func(procs int) uint64 {
		h := threeEdgeHeap(t, n)
		return allocatedBy(procs, h.BuildReverse)
	}
	one, four, many := build(1), build(4), build(64)
	t.Logf("BuildReverse of %d objects allocates %d bytes at GOMAXPROCS=1, %d at 4, %d at 64", n, one, four, many)
	const slack = 64 << 10
	if many > four+slack {
		t.Errorf("BuildReverse allocates %d bytes at GOMAXPROCS=64 but %d at 4: memory grows with the number of CPUs", many, four)
	}
	if limit := one + 4*4*n + slack; many > limit {
		t.Errorf("BuildReverse allocates %d bytes at GOMAXPROCS=64, more than %d (one worker's %d and four count arrays)", many, limit, one)
	}
}
