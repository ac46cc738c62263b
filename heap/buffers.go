package heap

import (
	"fmt"
	"iter"
	"math"
	"slices"
)

// The BUFFERS record (kind 64, skipped by readers that do not know it):
// the objects whose data lives in a block of memory of its own, with the
// bytes each one owns.
const (
	recBuffers = 64

	colBufAddr   = 1 // owner's address; required
	colBufOwned  = 2 // bytes the owner's buffer takes
	colBufInSize = 3 // bytes of those that the owner's size already counts
)

// Buffer is the data buffer an object owns outside itself: a numpy array's
// data, a bytearray's or array.array's items, an mmap's pages. Views own
// nothing; the object they are views of owns the data.
type Buffer struct {
	Owned  uint64 // bytes the buffer takes
	InSize uint64 // bytes of Owned that the object's Size already counts
}

type bufferRow struct {
	id ID
	Buffer
}

// BufferOf returns the buffer object id owns, and false when it owns none.
func (h *Heap) BufferOf(id ID) (Buffer, bool) {
	i, ok := slices.BinarySearchFunc(h.bufs, id, func(r bufferRow, id ID) int { return int(r.id) - int(id) })
	if !ok {
		return Buffer{}, false
	}
	return h.bufs[i].Buffer, true
}

// Buffers yields the objects that own buffers, in id order.
func (h *Heap) Buffers() iter.Seq2[ID, Buffer] {
	return func(yield func(ID, Buffer) bool) {
		for _, r := range h.bufs {
			if !yield(r.id, r.Buffer) {
				return
			}
		}
	}
}

// NumBuffers is the number of objects that own buffers.
func (h *Heap) NumBuffers() int { return len(h.bufs) }

// SetBuffer records the buffer object id owns, replacing one set before.
// InSize may not exceed Owned.
func (b *Builder) SetBuffer(id ID, buf Buffer) {
	if b.err != nil {
		return
	}
	if buf.InSize > buf.Owned {
		b.err = fmt.Errorf("buffer of object %d: %d bytes counted in its size, more than the %d it owns", id, buf.InSize, buf.Owned)
		return
	}
	if int(id) >= len(b.h.addr) {
		b.err = fmt.Errorf("buffer of object %d: no such object (%d objects)", id, len(b.h.addr))
		return
	}
	rows := b.h.bufs
	i, ok := slices.BinarySearchFunc(rows, id, func(r bufferRow, id ID) int { return int(r.id) - int(id) })
	if ok {
		rows[i].Buffer = buf
		return
	}
	b.h.bufs = slices.Insert(rows, i, bufferRow{id, buf})
}

// readBuffers decodes BUFFERS records. An owner whose address matches no
// object is dropped and counted as dangling.
func (r *reader) readBuffers() error {
	var d colDecoder
	h := r.h
	recOf := map[ID]int{} // the record of each owner, for the error on a second buffer
	err := r.optionalRecords(map[uint32][]uint16{recBuffers: {colBufAddr}}, func(i int, rh recHeader, p []byte, cols []column) error {
		rows := int(rh.rows)
		addrs := make([]uint64, rows)
		owned := make([]uint64, rows)
		inSize := make([]uint64, rows)
		err := firstErr(
			ints(&d, p, cols, colBufAddr, addrs, math.MaxUint64),
			ints(&d, p, cols, colBufOwned, owned, math.MaxUint64),
			ints(&d, p, cols, colBufInSize, inSize, math.MaxUint64))
		if err != nil {
			return err
		}
		for k := range rows {
			if inSize[k] > owned[k] {
				return fmt.Errorf("row %d: %d bytes counted in the size, more than the %d owned", k, inSize[k], owned[k])
			}
			id, ok := r.hash.find(addrs[k])
			if !ok {
				h.dangling++
				continue
			}
			if _, dup := recOf[id]; dup {
				return fmt.Errorf("row %d: object %#x owns a buffer in another row already", k, addrs[k])
			}
			recOf[id] = i
			h.bufs = append(h.bufs, bufferRow{id, Buffer{Owned: owned[k], InSize: inSize[k]}})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(h.bufs, func(a, b bufferRow) int { return int(a.id) - int(b.id) })
	return nil
}

// Buffers writes a BUFFERS record: the buffer each address in owners owns,
// bufs[i] for owners[i]. The owners must be objects of the snapshot, given
// before or after; each may appear once in a snapshot.
func (e *Encoder) Buffers(owners []uint64, bufs []Buffer) error {
	if len(owners) != len(bufs) {
		return fmt.Errorf("writing buffers: %d owners for %d buffers", len(owners), len(bufs))
	}
	if len(owners) == 0 {
		return nil
	}
	e.flushObjects() // an OBJECTS record is followed by its EDGES
	owned := make([]uint64, len(bufs))
	in := make([]uint64, len(bufs))
	for i, b := range bufs {
		if b.InSize > b.Owned {
			return fmt.Errorf("writing buffers: owner %#x: %d bytes counted in its size, more than the %d it owns", owners[i], b.InSize, b.Owned)
		}
		owned[i], in[i] = b.Owned, b.InSize
	}
	e.record(recBuffers, len(owners), []colData{
		{id: colBufAddr, vals: owners},
		{id: colBufOwned, vals: owned, zip: true},
		{id: colBufInSize, vals: in, zip: true},
	})
	if e.err != nil {
		return fmt.Errorf("writing snapshot: %w", e.err)
	}
	return nil
}

// writeBuffers writes h's buffers with e.
func writeBuffers(e *Encoder, h *Heap) error {
	if len(h.bufs) == 0 {
		return nil
	}
	owners := make([]uint64, len(h.bufs))
	bufs := make([]Buffer, len(h.bufs))
	for i, r := range h.bufs {
		owners[i], bufs[i] = h.addr[r.id], r.Buffer
	}
	return e.Buffers(owners, bufs)
}
