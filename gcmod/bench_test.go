package gcmod_test

import (
	"testing"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/synth"
)

func synthHeap(b *testing.B, objects int) *heap.Heap {
	b.Helper()
	path, err := synth.File(synth.Options{Objects: objects, EdgesPerObj: 3, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	h, err := heap.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkUnreachable5M is offline collection of a synthetic 5M-object,
// ~15M-edge snapshot. Its refcounts are random, so most objects are held
// from outside; the time is what matters.
func BenchmarkUnreachable5M(b *testing.B) {
	h := synthHeap(b, 5_000_000)
	b.ReportAllocs()
	var rep *gcmod.Report
	for b.Loop() {
		var err error
		rep, err = gcmod.Unreachable(h, gcmod.UnreachableOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Candidates), "candidates")
	b.ReportMetric(float64(rep.Unreachable), "unreachable")
	b.ReportMetric(float64(len(rep.Groups)), "groups")
}

// BenchmarkRuntimeAlloc allocates gc-aware objects with automatic
// collection on, in a steady state: a live set of 100,000 objects, each new
// one referring to one of 1,000 long-lived objects and replacing the
// oldest, which dies; and half of the allocations two-object cycles dropped
// at once, for collections to find. It reports allocations per second.
func BenchmarkRuntimeAlloc(b *testing.B) {
	r, err := gcmod.NewRuntime(gcmod.Options{})
	if err != nil {
		b.Fatal(err)
	}
	node := r.NewType(gcmod.Type{Name: "Node"})
	long := make([]gcmod.Obj, 1000)
	for i := range long {
		long[i] = r.New(node)
	}
	live := make([]gcmod.Obj, 100_000)
	for i := range live {
		live[i] = r.New(node)
	}
	b.ReportAllocs()
	allocs := 0
	next := 0
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			a := r.New(node)
			c := r.New(node)
			r.SetRef(a, "peer", c)
			r.SetRef(c, "peer", a)
			r.Decref(a)
			r.Decref(c)
			allocs += 2
			continue
		}
		o := r.New(node)
		r.AddRef(o, long[i%len(long)], "owner")
		r.Decref(live[next])
		live[next] = o
		next = (next + 1) % len(live)
		allocs++
	}
	b.ReportMetric(float64(allocs)/b.Elapsed().Seconds(), "allocs/s")
	st := r.GetStats()
	b.ReportMetric(float64(st[0].Collections+st[1].Collections+st[2].Collections), "collections")
}
