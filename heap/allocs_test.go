package heap_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// b1 is an integer column of one byte per row.
func b1(id uint16, v ...byte) hcol {
	return hcol{id: id, width: 1, raw: uint32(len(v)), stored: uint32(len(v)), data: v}
}

// allocFile is a snapshot of three dicts, two with an allocation traceback;
// recs replace the allocation records when given.
func allocFile(recs ...[]byte) []byte {
	strs := rec(2, 4, b1(1, 4, 6, 6, 6), hcol{id: 2, raw: 22, stored: 22, data: []byte("dictapp.pyhandlelib.py")})
	types := rec(3, 1, b1(2, 1))
	objs := rec(4, 3, hcol{id: 1, width: 8, raw: 24, stored: 24, data: u64s(0x1000, 0x1010, 0x1020)}, b1(2, 0, 0, 0))
	if len(recs) == 0 {
		recs = [][]byte{
			rec(65, 2, hcol{id: 1, width: 8, raw: 16, stored: 16, data: u64s(0x1000, 0x1010)}, b1(2, 1, 2)),
			rec(66, 2, b1(1, 2, 1)),
			rec(67, 3, b1(1, 2, 4, 2), b1(2, 15, 3, 7), b1(3, 3, 0, 3)),
		}
	}
	all := append([][]byte{strs, types, objs, rec(5, 0)}, recs...)
	return file(append(all, rec(7, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: u64s(3)}))...)
}

func TestAllocRecords(t *testing.T) {
	// with a row for an address no object has, 0x9990
	h, err := readNamed(allocFile(
		rec(65, 3, hcol{id: 1, width: 8, raw: 24, stored: 24, data: u64s(0x1000, 0x1010, 0x9990)}, b1(2, 1, 2, 1)),
		rec(66, 2, b1(1, 2, 1)),
		rec(67, 3, b1(1, 2, 4, 2), b1(2, 15, 3, 7), b1(3, 3, 0, 3))))
	if err != nil {
		t.Fatal(err)
	}
	if n := h.NumTracebacks(); n != 2 {
		t.Fatalf("%d tracebacks, want 2", n)
	}
	want := map[heap.ID][]heap.Frame{
		0: {{File: "app.py", Line: 15, Function: "handle"}, {File: "lib.py", Line: 3}},
		1: {{File: "app.py", Line: 7, Function: "handle"}},
	}
	for id := range h.All() {
		tb, ok := h.AllocTraceback(id)
		w, has := want[id]
		if ok != has {
			t.Fatalf("object %d: traceback %v, want one: %v", id, ok, has)
		}
		if !ok {
			continue
		}
		got := h.Traceback(tb)
		if len(got) != len(w) {
			t.Fatalf("object %d: frames %+v, want %+v", id, got, w)
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("object %d frame %d: %+v, want %+v", id, i, got[i], w[i])
			}
		}
	}
	if d := h.DanglingEdges(); d != 1 {
		t.Errorf("%d dangling, want 1 (the allocation row of 0x9990)", d)
	}
}

// TestAllocRecordsWithoutFunctions reads FRAMES records of producers that
// wrote no function column.
func TestAllocRecordsWithoutFunctions(t *testing.T) {
	h, err := readNamed(allocFile(
		rec(65, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: u64s(0x1020)}, b1(2, 1)),
		rec(66, 1, b1(1, 1)),
		rec(67, 1, b1(1, 2), b1(2, 9))))
	if err != nil {
		t.Fatal(err)
	}
	tb, ok := h.AllocTraceback(2)
	if !ok || h.Traceback(tb)[0] != (heap.Frame{File: "app.py", Line: 9}) {
		t.Errorf("object 2: traceback %v %+v, want app.py:9 without a function", ok, h.Traceback(tb))
	}
}

// hostileAllocs are allocation records whose counts claim more than they
// hold, or that disagree with each other.
func hostileAllocs() map[string][]byte {
	huge := binary.LittleEndian.AppendUint32(nil, 0xFFFFFFFF)
	return map[string][]byte{
		"allocs-huge-rows": allocFile(rec(65, 0xFFFFFFFF, b1(1, 0), b1(2, 1)), rec(66, 1, b1(1, 1)), rec(67, 1, b1(1, 2))),
		"allocs-tracebacks-huge-rows": allocFile(rec(65, 1, b1(1, 0), b1(2, 1)),
			rec(66, 0xFFFFFFFF, b1(1, 1)), rec(67, 1, b1(1, 2))),
		"allocs-frames-huge-rows": allocFile(rec(65, 1, b1(1, 0), b1(2, 1)), rec(66, 1, b1(1, 1)),
			rec(67, 0xFFFFFFFF, b1(1, 2))),
		"allocs-huge-frame-count": allocFile(rec(65, 1, b1(1, 0), b1(2, 1)),
			rec(66, 1, hcol{id: 1, width: 4, raw: 4, stored: 4, data: huge}), rec(67, 1, b1(1, 2))),
		"allocs-frames-short":   allocFile(rec(65, 1, b1(1, 0), b1(2, 1)), rec(66, 2, b1(1, 1, 1)), rec(67, 1, b1(1, 2))),
		"allocs-traceback-zero": allocFile(rec(65, 1, b1(1, 0), b1(2, 0)), rec(66, 1, b1(1, 1)), rec(67, 1, b1(1, 2))),
		"allocs-traceback-past": allocFile(rec(65, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: u64s(0x1000)}, b1(2, 9)),
			rec(66, 1, b1(1, 1)), rec(67, 1, b1(1, 2))),
		"allocs-two-tracebacks": allocFile(rec(65, 2, hcol{id: 1, width: 8, raw: 16, stored: 16, data: u64s(0x1000, 0x1000)}, b1(2, 1, 1)),
			rec(66, 1, b1(1, 1)), rec(67, 1, b1(1, 2))),
		"allocs-without-frames":    allocFile(rec(65, 1, b1(1, 0), b1(2, 1)), rec(66, 1, b1(1, 1))),
		"allocs-second-tracebacks": allocFile(rec(66, 0), rec(66, 0), rec(67, 0)),
		"allocs-function-past":     allocFile(rec(65, 1, b1(1, 0), b1(2, 1)), rec(66, 1, b1(1, 1)), rec(67, 1, b1(1, 2), b1(3, 99))),
		"allocs-file-string-past":  allocFile(rec(65, 1, b1(1, 0), b1(2, 1)), rec(66, 1, b1(1, 1)), rec(67, 1, b1(1, 99))),
		"allocs-no-address-column": allocFile(rec(65, 1, b1(2, 1)), rec(66, 1, b1(1, 1)), rec(67, 1, b1(1, 2))),
		"buffers-huge-rows":        allocFile(rec(64, 0xFFFFFFFF, b1(1, 0))),
	}
}

func TestHostileAllocRecords(t *testing.T) {
	want := map[string]string{
		"allocs-huge-rows":            "raw length 1 is not 4294967295 rows",
		"allocs-tracebacks-huge-rows": "raw length 1 is not 4294967295 rows",
		"allocs-frames-huge-rows":     "raw length 1 is not 4294967295 rows",
		"allocs-huge-frame-count":     "need more than the 1 frames",
		"allocs-frames-short":         "need more than the 1 frames",
		"allocs-traceback-zero":       "traceback 0",
		"allocs-traceback-past":       "traceback 9 of 1",
		"allocs-two-tracebacks":       "two allocation tracebacks",
		"allocs-without-frames":       "without their TRACEBACKS and FRAMES",
		"allocs-second-tracebacks":    "a second TRACEBACKS record",
		"allocs-function-past":        "out of range",
		"allocs-file-string-past":     "out of range",
		"allocs-no-address-column":    "lacks its required column 1",
		"buffers-huge-rows":           "raw length 1 is not 4294967295 rows",
	}
	for name, data := range hostileAllocs() {
		t.Run(name, func(t *testing.T) {
			var err error
			grew := allocated(func() { _, err = readNamed(data) })
			if limit := 64*uint64(len(data)) + 4<<20; grew > limit {
				t.Errorf("reading %d hostile bytes allocated %d MB", len(data), grew>>20)
			}
			if err == nil {
				t.Fatal("read without error")
			}
			if !strings.Contains(err.Error(), want[name]) || !strings.Contains(err.Error(), "bad.ogs") {
				t.Errorf("error %q does not name the file and say %q", err, want[name])
			}
		})
	}
}
