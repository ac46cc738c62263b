// Package radix sorts 64-bit keys, such as object addresses, with a
// payload.
package radix

import (
	"math/bits"
	"runtime"
	"sync"
)

// digitBits is the width of a digit of SortByKey.
const digitBits = 8

// SortByKey sorts keys in ascending order, and payload along with them
// (payload[i] belongs to keys[i]). It is a least-significant-digit radix
// sort over only the bits that differ between keys, each pass counting and
// scattering in parallel over parts of the input; equal keys keep their
// order. Sorting object addresses, the bits every address shares (the
// heap's high bits, the allocator's alignment) cost nothing.
func SortByKey[P any](keys []uint64, payload []P) {
	addr := keys
	n := len(addr)
	if n < 2 {
		return
	}
	var or, and uint64 = 0, ^uint64(0)
	for _, a := range addr {
		or |= a
		and &= a
	}
	varying := or ^ and
	if varying == 0 {
		return
	}
	lo, hi := bits.TrailingZeros64(varying), 64-bits.LeadingZeros64(varying)
	workers := min(runtime.GOMAXPROCS(0), 4)
	if n < 1<<16 {
		workers = 1
	}
	part := (n + workers - 1) / workers
	tmpAddr, tmpPayload := make([]uint64, n), make([]P, n)
	counts := make([][1 << digitBits]int, workers)
	var wg sync.WaitGroup
	for shift := lo; shift < hi; shift += digitBits {
		for w := range workers {
			wg.Go(func() {
				cnt := &counts[w]
				*cnt = [1 << digitBits]int{}
				for _, a := range addr[min(w*part, n):min((w+1)*part, n)] {
					cnt[a>>shift&(1<<digitBits-1)]++
				}
			})
		}
		wg.Wait()
		pos := 0
		for b := range 1 << digitBits {
			for w := range workers {
				c := counts[w][b]
				counts[w][b] = pos
				pos += c
			}
		}
		for w := range workers {
			wg.Go(func() {
				next := &counts[w]
				from, to := min(w*part, n), min((w+1)*part, n)
				for i, a := range addr[from:to] {
					b := a >> shift & (1<<digitBits - 1)
					j := next[b]
					tmpAddr[j], tmpPayload[j] = a, payload[from+i]
					next[b]++
				}
			})
		}
		wg.Wait()
		addr, tmpAddr = tmpAddr, addr
		payload, tmpPayload = tmpPayload, payload
	}
	if (hi-lo+digitBits-1)/digitBits%2 == 1 { // the result is in the scratch arrays
		copy(tmpAddr, addr)
		copy(tmpPayload, payload)
	}
}
