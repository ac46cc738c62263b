package heap_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// bufferHeap is three objects: an array owning 1 MiB counted in its size,
// a view of it owning nothing, and an mmap owning 64 KiB not in its size.
func bufferHeap(t *testing.T) *heap.Heap {
	t.Helper()
	b := heap.NewBuilder()
	nd := b.AddType("ndarray", "numpy.ndarray")
	mm := b.AddType("mmap", "mmap.mmap")
	arr := b.AddObject(heap.Object{Addr: 0x1000, Type: nd, Size: 112 + 1<<20})
	view := b.AddObject(heap.Object{Addr: 0x2000, Type: nd, Size: 112})
	m := b.AddObject(heap.Object{Addr: 0x3000, Type: mm, Size: 96})
	b.AddEdge(view, arr, "base")
	b.SetBuffer(m, heap.Buffer{Owned: 64 << 10})
	b.SetBuffer(arr, heap.Buffer{Owned: 1 << 20, InSize: 1 << 20})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestBuffersRoundTrip(t *testing.T) {
	h := bufferHeap(t)
	var buf bytes.Buffer
	if err := heap.Write(&buf, h, heap.EncoderOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := heap.Read(bytes.NewReader(buf.Bytes()), heap.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// and through the JSON form
	var js bytes.Buffer
	if err := heap.WriteJSON(&js, got); err != nil {
		t.Fatal(err)
	}
	if got, err = heap.ReadJSON(bytes.NewReader(js.Bytes()), heap.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[uint64]heap.Buffer{0x1000: {Owned: 1 << 20, InSize: 1 << 20}, 0x3000: {Owned: 64 << 10}}
	if got.NumBuffers() != len(want) {
		t.Fatalf("%d buffers, want %d", got.NumBuffers(), len(want))
	}
	for id, b := range got.Buffers() {
		if w, ok := want[got.Addr(id)]; !ok || w != b {
			t.Errorf("object %#x: buffer %+v, want %+v", got.Addr(id), b, w)
		}
	}
	view, _ := got.Lookup(0x2000)
	if b, ok := got.BufferOf(view); ok {
		t.Errorf("the view owns %+v, want nothing", b)
	}
}

func TestBuffersBadInput(t *testing.T) {
	write := func(t *testing.T, owners []uint64, bufs [][]heap.Buffer) []byte {
		var buf bytes.Buffer
		e, err := heap.NewEncoder(&buf, &heap.Meta{}, heap.EncoderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ty := e.Type("bytearray", "builtins.bytearray", 0)
		for _, a := range []uint64{0x10, 0x20} {
			if err := e.Object(heap.Object{Addr: a, Type: ty, Size: 100}, nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range bufs {
			if err := e.Buffers(owners, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	t.Run("twice", func(t *testing.T) {
		data := write(t, []uint64{0x10}, [][]heap.Buffer{{{Owned: 50}}, {{Owned: 60}}})
		_, err := heap.Read(bytes.NewReader(data), heap.ReadOptions{Name: "two.ogs"})
		var fe *heap.FormatError
		if !errors.As(err, &fe) || fe.Kind != "BUFFERS" || !strings.Contains(err.Error(), "two.ogs") || !strings.Contains(err.Error(), "row 0") {
			t.Fatalf("an object in two BUFFERS rows: %v, want a format error naming the file, the BUFFERS record and the row", err)
		}
	})
	t.Run("dangling", func(t *testing.T) {
		data := write(t, []uint64{0x10, 0x99}, [][]heap.Buffer{{{Owned: 50, InSize: 50}, {Owned: 7}}})
		h, err := heap.Read(bytes.NewReader(data), heap.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h.NumBuffers() != 1 || h.DanglingEdges() != 1 {
			t.Errorf("%d buffers, %d dangling; want 1 and 1", h.NumBuffers(), h.DanglingEdges())
		}
	})
	t.Run("more in size than owned", func(t *testing.T) {
		var buf bytes.Buffer
		e, _ := heap.NewEncoder(&buf, &heap.Meta{}, heap.EncoderOptions{})
		if err := e.Buffers([]uint64{0x10}, []heap.Buffer{{Owned: 1, InSize: 2}}); err == nil {
			t.Error("the encoder wrote a buffer whose size counts more than it owns")
		}
		b := heap.NewBuilder()
		ty := b.AddType("bytearray", "")
		id := b.AddObject(heap.Object{Addr: 1, Type: ty})
		b.SetBuffer(id, heap.Buffer{Owned: 1, InSize: 2})
		if _, err := b.Build(); err == nil {
			t.Error("the builder took a buffer whose size counts more than it owns")
		}
	})
}
