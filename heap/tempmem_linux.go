package heap

import (
	"syscall"
	"unsafe"
)

// tempUint32s returns a zeroed slice outside the Go heap, backed by huge
// pages where the kernel allows, and a function that releases it. Random
// access over a large table is bound by TLB misses; huge pages remove most.
// The slice must not be used after release.
func tempUint32s(n int) ([]uint32, func()) {
	size := n * 4
	if size < 4<<20 {
		return make([]uint32, n), func() {}
	}
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]uint32, n), func() {}
	}
	const madvHugepage = 14
	syscall.Madvise(mem, madvHugepage) // best effort
	s := unsafe.Slice((*uint32)(unsafe.Pointer(&mem[0])), n)
	return s, func() { syscall.Munmap(mem) }
}
