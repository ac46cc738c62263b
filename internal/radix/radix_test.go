package radix

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortByKey(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for _, tc := range []struct {
		n    int
		span uint64 // addresses vary below this
		step uint64 // and are multiples of this
	}{
		{0, 1, 1}, {1, 1, 1}, {50, 1 << 20, 16}, {100_000, 1 << 12, 16}, {100_000, 1 << 30, 64},
		{200_000, 1 << 47, 16}, {70_000, 1 << 22, 1}, {100_000, 1, 1},
	} {
		addr := make([]uint64, tc.n)
		payload := make([]int, tc.n)
		for i := range addr {
			addr[i] = 0x7f0000000000 + r.Uint64N(tc.span)/tc.step*tc.step
			payload[i] = i
		}
		type pair struct {
			a uint64
			p int
		}
		want := make([]pair, tc.n)
		for i := range want {
			want[i] = pair{addr[i], payload[i]}
		}
		slices.SortStableFunc(want, func(x, y pair) int { return cmp.Compare(x.a, y.a) })
		SortByKey(addr, payload)
		for i := range want {
			if addr[i] != want[i].a || payload[i] != want[i].p {
				t.Fatalf("n=%d span=%#x: at %d got (%#x, %d), want (%#x, %d)", tc.n, tc.span, i, addr[i], payload[i], want[i].a, want[i].p)
			}
		}
	}
}
