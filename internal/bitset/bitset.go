// Package bitset is a set of small integers, such as object ids, one bit
// each.
package bitset

import "sync/atomic"

// Set is a set of the integers in [0, n), as words of 64 bits. Set,
// Clear and Has are not safe for concurrent use on the same word; TrySet
// is.
type Set[T ~uint32] []uint64

// New returns an empty set for the integers in [0, n).
func New[T ~uint32](n int) Set[T] { return make(Set[T], (n+63)/64) }

// Has reports whether i is in the set.
func (b Set[T]) Has(i T) bool { return b[i/64]&(1<<(i%64)) != 0 }

// Set adds i.
func (b Set[T]) Set(i T) { b[i/64] |= 1 << (i % 64) }

// Clear removes i.
func (b Set[T]) Clear(i T) { b[i/64] &^= 1 << (i % 64) }

// TrySet adds i atomically and reports whether it was not in the set
// before: of several goroutines adding i at once, exactly one sees true.
func (b Set[T]) TrySet(i T) bool {
	m := uint64(1) << (i % 64)
	w := &b[i/64]
	if atomic.LoadUint64(w)&m != 0 {
		return false
	}
	return atomic.OrUint64(w, m)&m == 0
}
