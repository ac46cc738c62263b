package pyroscope

import (
	"os"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/synth"
	"github.com/objgraph-go/objgraph/objgraph"
)

// BenchmarkFit fits the profile of a 300,000-object Python-shaped heap
// (objgraph.Profile's 100,000 samples at most) to Pyroscope's limits.
func BenchmarkFit(b *testing.B) {
	path, err := synth.File(synth.Options{Objects: 300_000, Seed: 1, Shape: synth.Python})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	h, err := heap.ReadAny(f, heap.ReadOptions{Name: path})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	p := objgraph.Profile(h, objgraph.ProfileOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	var res FitResult
	for range b.N {
		_, res, err = Fit(p, FitOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Stacks), "stacks")
	b.ReportMetric(float64(res.Samples), "samples")
}
