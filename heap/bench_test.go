package heap_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/memstat"
	"github.com/objgraph-go/objgraph/internal/synth"
)

func benchRead(b *testing.B, objects int) {
	path, err := synth.File(synth.Options{Objects: objects, EdgesPerObj: 3, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.ReportAllocs()
	b.SetBytes(st.Size())
	var peak float64
	var h *heap.Heap
	for b.Loop() {
		h = nil
		runtime.GC()
		debug.FreeOSMemory()
		memstat.ResetPeakRSS()
		h, err = heap.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, memstat.PeakRSS())
	}
	b.ReportMetric(float64(h.Len()), "objects")
	b.ReportMetric(float64(h.NumEdges()), "edges")
	b.ReportMetric(peak/1e6, "peak-RSS-MB")
}

// BenchmarkRead10M reads a synthetic 10M-object, ~30M-edge snapshot.
func BenchmarkRead10M(b *testing.B) { benchRead(b, 10_000_000) }

// BenchmarkRead1M reads a synthetic 1M-object, ~3M-edge snapshot.
func BenchmarkRead1M(b *testing.B) { benchRead(b, 1_000_000) }

func BenchmarkReverse10M(b *testing.B) {
	path, err := synth.File(synth.Options{Objects: 10_000_000, EdgesPerObj: 3, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	h, err := heap.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		h, err = heap.ReadFile(path) // a fresh heap: the index is built once per heap
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
		h.BuildReverse()
	}
}

func benchDominators(b *testing.B, o synth.Options) {
	path, err := synth.File(o)
	if err != nil {
		b.Fatal(err)
	}
	h, err := heap.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	h.BuildReverse()
	b.ReportAllocs()
	var dt *heap.DomTree
	for b.Loop() {
		b.StopTimer()
		dt = nil
		runtime.GC() // the previous tree's garbage is not this run's cost
		b.StartTimer()
		dt = heap.Dominators(h, heap.DominatorOptions{})
	}
	b.ReportMetric(float64(dt.NumReachable()), "reachable")
	b.ReportMetric(float64(len(dt.Roots())), "roots")
}

// BenchmarkDominators10M computes the dominator tree of the uniform
// synthetic 10M-object heap (see synth.Uniform).
func BenchmarkDominators10M(b *testing.B) {
	benchDominators(b, synth.Options{Objects: 10_000_000, EdgesPerObj: 3, Seed: 1})
}

// BenchmarkDominatorsPython10M computes the dominator tree of a 10M-object
// heap shaped like a Python program's (see synth.Python).
func BenchmarkDominatorsPython10M(b *testing.B) {
	benchDominators(b, synth.Options{Objects: 10_000_000, EdgesPerObj: 3, Seed: 1, Shape: synth.Python})
}

// BenchmarkDominatorsDeep computes the dominator tree of heaps as deep as
// they are large, built in memory once (see synth.Deep): "list" is a linked
// list of instances, each with a __dict__ and a str, all referring to their
// class (synth.LinkedList: 3 objects and 4 edges per node, 2 hops deep per
// node); "tree" a tree of instances, each level a node with a str name and
// a list of a leaf and the next level (synth.DeepTree: 4 objects and 7
// edges per level). The sizes are the nodes of the list, the levels of the
// tree.
func BenchmarkDominatorsDeep(b *testing.B) {
	for _, shape := range []struct {
		name  string
		build func(int) (*synth.Deep, error)
	}{{"list", synth.LinkedList}, {"tree", synth.DeepTree}} {
		for _, n := range []int{80_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%dk", shape.name, n/1000), func(b *testing.B) {
				d, err := shape.build(n)
				if err != nil {
					b.Fatal(err)
				}
				h := d.Heap
				h.BuildReverse()
				b.ReportAllocs()
				var dt *heap.DomTree
				for b.Loop() {
					b.StopTimer()
					dt = nil
					runtime.GC()
					b.StartTimer()
					dt = heap.Dominators(h, heap.DominatorOptions{})
				}
				if dt.FellBack() {
					b.Log("the iterative algorithm gave up: Lengauer–Tarjan computed the tree")
				}
				b.ReportMetric(float64(h.Len()), "objects")
				b.ReportMetric(float64(dt.Steps())/float64(h.Len()+h.NumEdges()), "steps/(objects+edges)")
			})
		}
	}
}
