package heap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// weakHeap is a module whose dict holds a list of two weak references, one
// to an object the dict also holds strongly and one to an object only it
// refers to.
func weakHeap(t testing.TB) *heap.Heap {
	t.Helper()
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	tRef := b.AddType("KeyedRef", "weakref.KeyedRef")
	tFoo := b.AddType("Foo", "app.Foo")
	tr := heap.FlagTracked
	mod := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Flags: tr.WithKind(heap.KindModule)})
	md := b.AddObject(heap.Object{Addr: 0x2000, Type: tDict, Size: 640, Flags: tr})
	refs := b.AddObject(heap.Object{Addr: 0x3000, Type: tList, Size: 72, Flags: tr})
	r1 := b.AddObject(heap.Object{Addr: 0x4000, Type: tRef, Size: 80, Flags: tr.WithKind(heap.KindWeakref)})
	r2 := b.AddObject(heap.Object{Addr: 0x4100, Type: tRef, Size: 80, Flags: tr.WithKind(heap.KindWeakref)})
	held := b.AddObject(heap.Object{Addr: 0x5000, Type: tFoo, Size: 48, Flags: tr})
	weak := b.AddObject(heap.Object{Addr: 0x5100, Type: tFoo, Size: 48, Flags: tr})
	b.AddEdge(mod, md, "__dict__")
	b.AddEdge(md, refs, "refs")
	b.AddEdge(md, held, "held")
	b.AddIndexEdge(refs, r1, 0)
	b.AddIndexEdge(refs, r2, 1)
	b.AddWeakEdge(r2, weak) // out of order on purpose: the heap sorts them
	b.AddWeakEdge(r1, held)
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func weakPairs(h *heap.Heap) [][2]uint64 {
	var out [][2]uint64
	for f, to := range h.WeakEdges() {
		out = append(out, [2]uint64{h.Addr(f), h.Addr(to)})
	}
	return out
}

func TestWeakEdges(t *testing.T) {
	h := weakHeap(t)
	want := [][2]uint64{{0x4000, 0x5000}, {0x4100, 0x5100}}
	if got := weakPairs(h); !slices.Equal(got, want) {
		t.Fatalf("weak edges %#x, want %#x", got, want)
	}
	r1, _ := h.Lookup(0x4000)
	held, _ := h.Lookup(0x5000)
	weak, _ := h.Lookup(0x5100)
	if got := h.WeakReferents(r1); !slices.Equal(got, []heap.ID{held}) {
		t.Errorf("WeakReferents(r1) = %v, want [%d]", got, held)
	}
	if got := h.WeakReferents(held); got != nil {
		t.Errorf("WeakReferents of an object that is no weak reference = %v, want nil", got)
	}
	if got := h.WeakReferrers(held); !slices.Equal(got, []heap.ID{r1}) {
		t.Errorf("WeakReferrers(held) = %v, want [%d]", got, r1)
	}
	// weak references are no edges
	for _, id := range []heap.ID{weak, held} {
		for _, from := range h.Referrers(id) {
			if h.Flags(from).Kind() == heap.KindWeakref {
				t.Errorf("object %d has a strong referrer %d that is a weak reference", id, from)
			}
		}
	}
	if n := h.NumReferrers(weak); n != 0 {
		t.Errorf("the weakly held object has %d strong referrers, want 0", n)
	}
}

func TestWeakRoundTrip(t *testing.T) {
	h := weakHeap(t)
	want := weakPairs(h)
	for _, opts := range []heap.EncoderOptions{{}, {NoCompression: true}, {BatchSize: 1}} {
		got, err := heap.Read(bytes.NewReader(encode(t, h, opts)), heap.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p := weakPairs(got); !slices.Equal(p, want) {
			t.Errorf("%+v: weak edges %#x after a round trip, want %#x", opts, p, want)
		}
		var js bytes.Buffer
		must(t, heap.WriteJSON(&js, got))
		if !strings.Contains(js.String(), `"weak":[`) {
			t.Errorf("the JSON form has no weak references:\n%s", js.String())
		}
		back, err := heap.ReadJSON(&js, heap.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p := weakPairs(back); !slices.Equal(p, want) {
			t.Errorf("%+v: weak edges %#x through JSON, want %#x", opts, p, want)
		}
	}
}

// TestWeakOldReader checks that a file with a WEAKREFS record reads
// with the record removed, as a reader that does not know the kind skips
// it: the record is optional, and the rest of the file does not change.
func TestWeakOldReader(t *testing.T) {
	data := encode(t, weakHeap(t), heap.EncoderOptions{})
	stripped := stripRecords(t, data, 68)
	if len(stripped) == len(data) {
		t.Fatal("the file has no WEAKREFS record")
	}
	h, err := heap.Read(bytes.NewReader(stripped), heap.ReadOptions{})
	if err != nil {
		t.Fatalf("without its WEAKREFS record: %v", err)
	}
	if h.NumWeakEdges() != 0 || h.Len() != 7 {
		t.Errorf("%d objects and %d weak edges, want 7 and 0", h.Len(), h.NumWeakEdges())
	}
}

// stripRecords removes the records of a kind from a snapshot, fixing the
// END record's count of records.
func stripRecords(t *testing.T, data []byte, kind uint32) []byte {
	t.Helper()
	out := bytes.Clone(data[:16])
	removed := 0
	for off := 16; off < len(data); {
		k := binary.LittleEndian.Uint32(data[off:])
		n := 20 + int(binary.LittleEndian.Uint32(data[off+12:]))
		switch {
		case k == kind:
			removed++
		case k == 7:
			rows := binary.LittleEndian.Uint32(data[off+4:])
			ncols := binary.LittleEndian.Uint32(data[off+8:])
			body := bytes.Clone(data[off+20 : off+n])
			for c := range int(ncols) {
				if binary.LittleEndian.Uint16(body[c*24:]) == 6 {
					pos := int(ncols)*24 + c*8
					v := binary.LittleEndian.Uint64(body[pos:])
					binary.LittleEndian.PutUint64(body[pos:], v-uint64(removed))
				}
			}
			out = append(out, rawRec(7, rows, ncols, body)...)
		default:
			out = append(out, data[off:off+n]...)
		}
		off += n
	}
	return out
}

func TestWeakBadInput(t *testing.T) {
	write := func(t *testing.T, refs, to [][]uint64) []byte {
		var buf bytes.Buffer
		e, err := heap.NewEncoder(&buf, &heap.Meta{}, heap.EncoderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ty := e.Type("ReferenceType", "builtins.weakref", 0)
		for _, a := range []uint64{0x10, 0x20, 0x30} {
			if err := e.Object(heap.Object{Addr: a, Type: ty, Size: 80}, nil); err != nil {
				t.Fatal(err)
			}
		}
		for i := range refs {
			if err := e.WeakRefs(refs[i], to[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	t.Run("twice", func(t *testing.T) {
		data := write(t, [][]uint64{{0x10}, {0x10}}, [][]uint64{{0x20}, {0x30}})
		_, err := heap.Read(bytes.NewReader(data), heap.ReadOptions{Name: "two.ogs"})
		var fe *heap.FormatError
		if !errors.As(err, &fe) || fe.Kind != "WEAKREFS" || !strings.Contains(err.Error(), "two.ogs") || !strings.Contains(err.Error(), "row 0") {
			t.Fatalf("a weak reference in two rows: %v, want a format error naming the file, the WEAKREFS record and the row", err)
		}
	})
	t.Run("dangling", func(t *testing.T) {
		data := write(t, [][]uint64{{0x10, 0x20, 0x99}}, [][]uint64{{0x30, 0x98, 0x10}})
		h, err := heap.Read(bytes.NewReader(data), heap.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// the unknown weak reference counts as dangling, the unknown referent not
		if h.NumWeakEdges() != 1 || h.DanglingEdges() != 1 {
			t.Errorf("%d weak edges, %d dangling; want 1 and 1", h.NumWeakEdges(), h.DanglingEdges())
		}
	})
	t.Run("mismatched", func(t *testing.T) {
		e, _ := heap.NewEncoder(&bytes.Buffer{}, &heap.Meta{}, heap.EncoderOptions{})
		if err := e.WeakRefs([]uint64{1, 2}, []uint64{3}); err == nil {
			t.Error("the encoder wrote two weak references with one referent")
		}
	})
	for name, data := range weakHostile() {
		t.Run(name, func(t *testing.T) {
			var h *heap.Heap
			var err error
			grew := allocated(func() { h, err = heap.Read(bytes.NewReader(data), heap.ReadOptions{Name: "w.ogs"}) })
			if err == nil {
				t.Fatalf("read %d objects from a hostile WEAKREFS record", h.Len())
			}
			var fe *heap.FormatError
			if !errors.As(err, &fe) || fe.Kind != "WEAKREFS" {
				t.Errorf("error %v does not name the WEAKREFS record", err)
			}
			if limit := 256*uint64(len(data)) + 8<<20; grew > limit {
				t.Errorf("reading %d bytes allocated %d", len(data), grew)
			}
		})
	}
}

// weakHostile are WEAKREFS records that lie about their size.
func weakHostile() map[string][]byte {
	types := rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}})
	objs := []byte{}
	objs = append(objs, rec(4, 2, hcol{id: 1, width: 1, raw: 2, stored: 2, data: []byte{1, 2}})...)
	objs = append(objs, rec(5, 0)...)
	return map[string][]byte{
		"weakrefs-huge-rows": file(types, objs, rec(68, 1<<28,
			hcol{id: 1, width: 1, codec: 1, raw: 1 << 28, stored: 8, data: make([]byte, 8)},
			hcol{id: 2, width: 1, codec: 1, raw: 1 << 28, stored: 8, data: make([]byte, 8)}), endRec()),
		"weakrefs-rows-over-length": file(types, objs, rec(68, 1<<20,
			hcol{id: 1, width: 0, raw: 4, stored: 4, data: make([]byte, 4)}), endRec()),
		"weakrefs-no-referent": file(types, objs, rec(68, 1,
			hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{1}}), endRec()),
	}
}

// weakSeeds are the fuzz seeds of the WEAKREFS record.
func weakSeeds(t testing.TB) map[string][]byte {
	s := weakHostile()
	s["valid-weakrefs"] = encode(t, weakHeap(t), heap.EncoderOptions{})
	return s
}

// rawRec is a record of a kind with the given column directory and data.
func rawRec(kind, rows, ncols uint32, body []byte) []byte {
	var out []byte
	out = binary.LittleEndian.AppendUint32(out, kind)
	out = binary.LittleEndian.AppendUint32(out, rows)
	out = binary.LittleEndian.AppendUint32(out, ncols)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	return append(out, body...)
}

// weakJSON is weakHeap in the JSON form.
func weakJSON(t testing.TB) string {
	var buf bytes.Buffer
	must(t, heap.WriteJSON(&buf, weakHeap(t)))
	return buf.String()
}

func TestWeakJSONBadInput(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"out of range", `{"format":"objgraph-snapshot","version":1,"types":[{"name":"x"}],"objects":[{"addr":"0x1","type":0,"weak":[7]}]}`, "objects[0].weak[0]"},
		{"two referents", `{"format":"objgraph-snapshot","version":1,"types":[{"name":"x"}],"objects":[{"addr":"0x1","type":0,"weak":[0,0]}]}`, "objects[0].weak[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := heap.ReadJSON(strings.NewReader(tc.doc), heap.ReadOptions{Name: "w.json"})
			var je *heap.JSONError
			if !errors.As(err, &je) || !strings.Contains(err.Error(), "w.json") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a JSON error naming w.json and %s", err, tc.want)
			}
		})
	}
}
