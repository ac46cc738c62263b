package heap

import "unsafe"

// stringTable holds interned strings in one byte arena. String id 0 is "".
type stringTable struct {
	data []byte
	off  []uint32 // off[i]..off[i+1] is string i; len = count+1
}

func (t *stringTable) len() int {
	if len(t.off) == 0 {
		return 1
	}
	return len(t.off) - 1
}

func (t *stringTable) get(id uint32) string {
	if id == 0 || int(id)+1 >= len(t.off) {
		return ""
	}
	b := t.data[t.off[id]:t.off[id+1]]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// add appends s and returns its id; it does not intern.
func (t *stringTable) add(s string) uint32 {
	if len(t.off) == 0 {
		t.off = append(t.off, 0, 0) // id 0: ""
	}
	t.data = append(t.data, s...)
	t.off = append(t.off, uint32(len(t.data)))
	return uint32(len(t.off) - 2)
}
