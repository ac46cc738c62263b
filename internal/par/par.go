// Package par runs loops over index ranges on several goroutines, with a
// cap on the number of workers.
package par

import (
	"runtime"
	"sync"
)

// MinItems is the fewest items For splits between workers; below it one
// goroutine does the whole loop faster than several would.
const MinItems = 1 << 16

// Workers is how many workers For(n, maxWorkers, fn) uses: GOMAXPROCS, at
// most maxWorkers when it is positive, and 1 for fewer than MinItems items.
// Callers that keep something per worker size it with Workers, so a
// positive maxWorkers bounds that memory whatever the number of CPUs.
func Workers(n, maxWorkers int) int {
	if n < MinItems {
		return 1
	}
	w := runtime.GOMAXPROCS(0)
	if maxWorkers > 0 {
		w = min(w, maxWorkers)
	}
	return max(w, 1)
}

// For calls fn(w, lo, hi) for each of the Workers(n, maxWorkers) workers at
// once, and returns when all have returned. The ranges [lo, hi) cover [0, n)
// in order (worker w has the w-th range; some may be empty) and start at
// multiples of 64, so that workers never write to the same word of a
// bitset over the items. With one worker fn runs on the calling goroutine.
func For(n, maxWorkers int, fn func(w, lo, hi int)) {
	workers := Workers(n, maxWorkers)
	if workers == 1 {
		fn(0, 0, n)
		return
	}
	chunk := (n/workers + 63) &^ 63
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := min(w*chunk, n), min((w+1)*chunk, n)
		if w == workers-1 {
			hi = n
		}
		wg.Go(func() { fn(w, lo, hi) })
	}
	wg.Wait()
}

// Ranges calls fn(w, bounds[w], bounds[w+1]) for every w at once, one
// goroutine each, and returns when all have returned. It is For with
// ranges the caller chose, such as ranges of equal work rather than equal
// length; the caller bounds the number of workers by len(bounds).
func Ranges(bounds []int, fn func(w, lo, hi int)) {
	if len(bounds) == 2 {
		fn(0, bounds[0], bounds[1])
		return
	}
	var wg sync.WaitGroup
	for w := 0; w+1 < len(bounds); w++ {
		wg.Go(func() { fn(w, bounds[w], bounds[w+1]) })
	}
	wg.Wait()
}
