package gcmod_test

import (
	"testing"

	"github.com/objgraph-go/objgraph/gcmod"
)

// BenchmarkPredictCOW5M predicts copy-on-write for the synthetic
// 5M-object, ~15M-edge snapshot: the sort by address, the page counts and
// the attribution to types and roots.
func BenchmarkPredictCOW5M(b *testing.B) {
	h := synthHeap(b, 5_000_000)
	b.ReportAllocs()
	var rep *gcmod.COWReport
	for b.Loop() {
		var err error
		rep, err = gcmod.PredictCOW(h, gcmod.COWOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Collect.Pages), "collect-pages")
	b.ReportMetric(float64(rep.Read.Pages), "read-pages")
}
