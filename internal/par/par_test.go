package par_test

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/objgraph-go/objgraph/internal/par"
)

func TestFor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	for _, tc := range []struct {
		name          string
		n, maxWorkers int
		workers       int
	}{
		{"empty", 0, 0, 1},
		{"small", 1000, 0, 1},
		{"all", 1<<16 + 7, 0, 8},
		{"capped", 1 << 20, 3, 3},
		{"cap above procs", 1 << 20, 100, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := par.Workers(tc.n, tc.maxWorkers); got != tc.workers {
				t.Fatalf("Workers(%d, %d) = %d, want %d", tc.n, tc.maxWorkers, got, tc.workers)
			}
			hits := make([]int32, tc.n)
			var calls atomic.Int32
			los, his := make([]int, tc.workers), make([]int, tc.workers)
			par.For(tc.n, tc.maxWorkers, func(w, lo, hi int) {
				calls.Add(1)
				los[w], his[w] = lo, hi
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			if int(calls.Load()) != tc.workers {
				t.Errorf("fn ran %d times, want %d", calls.Load(), tc.workers)
			}
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("item %d visited %d times", i, h)
				}
			}
			for w := range tc.workers {
				if los[w]%64 != 0 && los[w] != his[w] {
					t.Errorf("worker %d starts at %d, not a multiple of 64", w, los[w])
				}
				if w > 0 && los[w] != his[w-1] {
					t.Errorf("worker %d starts at %d, worker %d ends at %d", w, los[w], w-1, his[w-1])
				}
			}
		})
	}
}

func TestRanges(t *testing.T) {
	bounds := []int{0, 5, 5, 12, 40}
	got := make([][2]int, len(bounds)-1)
	par.Ranges(bounds, func(w, lo, hi int) { got[w] = [2]int{lo, hi} })
	for w := range got {
		if got[w] != [2]int{bounds[w], bounds[w+1]} {
			t.Errorf("worker %d got [%d, %d), want [%d, %d)", w, got[w][0], got[w][1], bounds[w], bounds[w+1])
		}
	}
}
