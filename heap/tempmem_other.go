//go:build !linux

package heap

func tempUint32s(n int) ([]uint32, func()) { return make([]uint32, n), func() {} }
