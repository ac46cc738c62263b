package main

import (
	"io"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/objgraph-go/objgraph/internal/memstat"
	"github.com/objgraph-go/objgraph/internal/synth"
)

// BenchmarkLeaks10M runs objgraph leaks end to end, reading included, on
// two snapshots of a Python-shaped synthetic heap (synth.Python): 10M
// objects, then the same heap after 100,000 Session objects (each with a
// dict and a 4 KB buffer) leaked into a cache, 10.3M objects.
func BenchmarkLeaks10M(b *testing.B) {
	o := synth.Options{Objects: 10_000_000, EdgesPerObj: 3, Seed: 1, Shape: synth.Python}
	old, err := synth.File(o)
	if err != nil {
		b.Fatal(err)
	}
	o.Leak = 100_000
	cur, err := synth.File(o)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var peak float64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		memstat.ResetPeakRSS()
		b.StartTimer()
		if code := run([]string{"leaks", old, cur}, nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
		peak = max(peak, memstat.PeakRSS())
	}
	b.ReportMetric(peak/1e6, "peak-RSS-MB")
}
