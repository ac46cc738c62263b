package gcmod_test

import (
	"runtime"
	"testing"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/internal/synth"
)

// TestUnreachableMemory checks that the memory of offline collection does
// not grow with the number of CPUs: subtract_refs shares one array between
// the workers instead of keeping one per CPU (4 bytes an object each). At
// GOMAXPROCS=64 it allocates less than one such array more than at 8, and
// less than two more than at 2; the difference is the lists of objects
// each worker finds, which are regrown when one worker takes over.
func TestUnreachableMemory(t *testing.T) {
	const n = 1 << 20
	h, err := synth.RandomGraph(n, 5, 4)
	if err != nil {
		t.Fatal(err)
	}
	h.BuildReverse() // built once, outside the measurements
	collect := func(procs int) (uint64, *gcmod.Report) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rep, err := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return after.TotalAlloc - before.TotalAlloc, rep
	}
	two, rep2 := collect(2)
	eight, _ := collect(8)
	many, rep64 := collect(64)
	t.Logf("Unreachable over %d objects allocates %d bytes at GOMAXPROCS=2, %d at 8, %d at 64 (%d unreachable)", n, two, eight, many, rep2.Unreachable)
	if rep2.Unreachable != rep64.Unreachable || rep2.Candidates != rep64.Candidates {
		t.Errorf("GOMAXPROCS=64 finds %d of %d candidates unreachable, 2 finds %d of %d", rep64.Unreachable, rep64.Candidates, rep2.Unreachable, rep2.Candidates)
	}
	if many > eight+4*n || many > two+8*n {
		t.Errorf("Unreachable allocates %d bytes at GOMAXPROCS=64, %d at 8 and %d at 2: memory grows with the number of CPUs", many, eight, two)
	}
}
