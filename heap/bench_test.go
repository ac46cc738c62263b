package heap_test

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/synth"
)

// peakRSS resets and reads the process's peak resident set (VmHWM), in bytes;
// 0 where /proc is not available.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024
		}
	}
	return 0
}

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
		resetPeakRSS()
		h, err = heap.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, peakRSS())
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

func BenchmarkDominators10M(b *testing.B) {
	path, err := synth.File(synth.Options{Objects: 10_000_000, EdgesPerObj: 3, Seed: 1})
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
		dt = heap.Dominators(h, heap.DominatorOptions{})
	}
	b.ReportMetric(float64(dt.NumReachable()), "reachable")
}
