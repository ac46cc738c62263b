package heap

import (
	"slices"
	"sync"
	"sync/atomic"
)

// addrIndex is the list of object ids sorted by address, built once on first
// use, for Lookup by binary search.
type addrIndex struct {
	once sync.Once
	ids  []ID
}

// Lookup finds the object at address addr.
func (h *Heap) Lookup(addr uint64) (ID, bool) {
	h.byAddr.once.Do(func() { h.byAddr.ids = sortByAddr(h.addr) })
	ids := h.byAddr.ids
	i, j := 0, len(ids)
	for i < j {
		m := int(uint(i+j) >> 1)
		if h.addr[ids[m]] < addr {
			i = m + 1
		} else {
			j = m
		}
	}
	if i < len(ids) && h.addr[ids[i]] == addr {
		return ids[i], true
	}
	return NoID, false
}

// sortByAddr returns the ids 0..len(addr)-1 sorted by address, with an LSD
// radix sort that skips the bytes all addresses share.
func sortByAddr(addr []uint64) []ID {
	n := len(addr)
	ids := make([]ID, n)
	for i := range ids {
		ids[i] = ID(i)
	}
	if n < 1<<12 {
		slices.SortFunc(ids, func(a, b ID) int {
			switch {
			case addr[a] < addr[b]:
				return -1
			case addr[a] > addr[b]:
				return 1
			}
			return 0
		})
		return ids
	}
	var or, and uint64 = 0, ^uint64(0)
	for _, a := range addr {
		or |= a
		and &= a
	}
	varying := or ^ and // bits that differ somewhere
	tmp := make([]ID, n)
	for shift := uint(0); shift < 64; shift += 8 {
		if (varying>>shift)&0xFF == 0 {
			continue
		}
		var count [257]int
		for _, id := range ids {
			count[(addr[id]>>shift)&0xFF+1]++
		}
		for b := 1; b < 257; b++ {
			count[b] += count[b-1]
		}
		for _, id := range ids {
			k := (addr[id] >> shift) & 0xFF
			tmp[count[k]] = id
			count[k]++
		}
		ids, tmp = tmp, ids
	}
	return ids
}

// addrHash maps addresses to ids while a heap is being read: open addressing
// with linear probing over a power-of-two table of id+1 (0 is empty).
type addrHash struct {
	slots   []uint32
	release func()
	mask    uint64
	shift   uint
	addr    []uint64
}

func newAddrHash(addr []uint64) *addrHash {
	bits := uint(10)
	for uint64(1)<<bits < uint64(len(addr))*2 {
		bits++
	}
	size := uint64(1) << bits
	slots, release := tempUint32s(int(size))
	return &addrHash{slots: slots, release: release, mask: size - 1, shift: 64 - bits, addr: addr}
}

func (t *addrHash) slot(a uint64) uint64 {
	return (a * 0x9E3779B97F4A7C15) >> t.shift
}

// insert adds id; it returns the id already at that address, if any.
func (t *addrHash) insert(id ID) (ID, bool) {
	a := t.addr[id]
	for s := t.slot(a); ; s = (s + 1) & t.mask {
		v := t.slots[s]
		if v == 0 {
			t.slots[s] = uint32(id) + 1
			return 0, false
		}
		if t.addr[v-1] == a {
			return ID(v - 1), true
		}
	}
}

// free releases the table; t must not be used afterwards.
func (t *addrHash) free() {
	t.release()
	t.slots = nil
}

// insertAll adds ids lo..hi-1 concurrently with other insertAll calls. It
// returns a pair of ids sharing an address, if it meets one.
func (t *addrHash) insertAll(lo, hi int) (a, b ID, dup bool) {
	for id := lo; id < hi; id++ {
		x := t.addr[id]
		for s := (x * 0x9E3779B97F4A7C15) >> t.shift; ; s = (s + 1) & t.mask {
			p := &t.slots[s]
			v := atomic.LoadUint32(p)
			if v == 0 {
				if atomic.CompareAndSwapUint32(p, 0, uint32(id)+1) {
					break
				}
				v = atomic.LoadUint32(p)
			}
			if t.addr[v-1] == x {
				return min(ID(v-1), ID(id)), max(ID(v-1), ID(id)), true
			}
		}
	}
	return 0, 0, false
}

func (t *addrHash) find(a uint64) (ID, bool) {
	for s := t.slot(a); ; s = (s + 1) & t.mask {
		v := t.slots[s]
		if v == 0 {
			return NoID, false
		}
		if t.addr[v-1] == a {
			return ID(v - 1), true
		}
	}
}

// findAll resolves addrs into ids (NoID where absent) and returns how many
// were absent. It works in groups so that the table and address loads of a
// group are independent and their cache misses overlap.
func (t *addrHash) findAll(addrs []uint64, ids []ID) int {
	const group = 16
	miss := 0
	var slot [group]uint64
	var first [group]uint32
	for lo := 0; lo < len(addrs); lo += group {
		hi := min(lo+group, len(addrs))
		g := addrs[lo:hi]
		for k, a := range g {
			slot[k] = (a * 0x9E3779B97F4A7C15) >> t.shift
		}
		for k := range g {
			first[k] = t.slots[slot[k]]
		}
		for k, a := range g {
			if v := first[k]; v != 0 && t.addr[v-1] == a {
				ids[lo+k] = ID(v - 1)
				continue
			}
			id, ok := t.find(a)
			if !ok {
				miss++
			}
			ids[lo+k] = id
		}
	}
	return miss
}
