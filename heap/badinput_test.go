package heap_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

func readNamed(data []byte) (*heap.Heap, error) {
	return heap.Read(bytes.NewReader(data), heap.ReadOptions{Name: "bad.ogs"})
}

// checkErr asserts err is a FormatError naming the file and a position.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	var fe *heap.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *heap.FormatError", err, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "bad.ogs") || !strings.Contains(msg, "offset 0x") {
		t.Errorf("error %q does not name the file and the offset", msg)
	}
	if want != "" && !strings.Contains(msg, want) {
		t.Errorf("error %q does not say %q", msg, want)
	}
}

func TestTruncated(t *testing.T) {
	for _, opts := range []heap.EncoderOptions{{}, {NoCompression: true, BatchSize: 2}} {
		data := encode(t, sample(t), opts)
		for n := 0; n < len(data); n++ {
			_, err := readNamed(data[:n])
			if err == nil {
				t.Fatalf("a file cut to %d of %d bytes was read without error", n, len(data))
			}
			checkErr(t, err, "")
		}
	}
	data := encode(t, sample(t), heap.EncoderOptions{})
	_, err := readNamed(data[:len(data)-30])
	checkErr(t, err, "truncated")
}

func TestCorruptBytes(t *testing.T) {
	data := encode(t, sample(t), heap.EncoderOptions{BatchSize: 3})
	for i := range data {
		for _, x := range []byte{0x01, 0x80, 0xFF} {
			bad := bytes.Clone(data)
			bad[i] ^= x
			h, err := readNamed(bad)
			if err != nil {
				checkErr(t, err, "")
				continue
			}
			_ = dump(h) // a file that still reads must be fully usable
		}
	}
}

func TestBadHeader(t *testing.T) {
	data := encode(t, sample(t), heap.EncoderOptions{})
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"magic", func(b []byte) []byte { b[1] = 'X'; return b }, "not an objgraph snapshot"},
		{"version", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[8:], 2); return b }, "unsupported format version 2.0"},
		{"short", func(b []byte) []byte { return b[:5] }, "too short"},
		{"trailing bytes", func(b []byte) []byte { return append(b, 0, 0, 0) }, "3 bytes after the END record"},
		{"empty", func(b []byte) []byte { return nil }, "too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readNamed(tc.edit(bytes.Clone(data)))
			checkErr(t, err, tc.want)
		})
	}
}

// rec builds one record by hand; cols are (id, width, codec, rawlen, storedlen, base, data).
type hcol struct {
	id          uint16
	width       uint8
	codec       uint8
	raw, stored uint32
	data        []byte
}

func rec(kind, rows uint32, cols ...hcol) []byte {
	var body []byte
	for _, c := range cols {
		body = binary.LittleEndian.AppendUint16(body, c.id)
		body = append(body, c.width, c.codec)
		body = binary.LittleEndian.AppendUint32(body, c.raw)
		body = binary.LittleEndian.AppendUint32(body, c.stored)
		body = binary.LittleEndian.AppendUint32(body, 0)
		body = binary.LittleEndian.AppendUint64(body, 0)
	}
	for _, c := range cols {
		body = append(body, c.data...)
	}
	var out []byte
	out = binary.LittleEndian.AppendUint32(out, kind)
	out = binary.LittleEndian.AppendUint32(out, rows)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(cols)))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	return append(out, body...)
}

func file(recs ...[]byte) []byte {
	out := []byte("\x89OGSNAP\n\x01\x00\x00\x00\x00\x00\x00\x00")
	meta := rec(1, 1, hcol{id: 1, raw: 2, stored: 2, data: []byte("{}")})
	out = append(out, meta...)
	for _, r := range recs {
		out = append(out, r...)
	}
	return out
}

func endRec() []byte {
	return rec(7, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: make([]byte, 8)})
}

func TestHostile(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"huge rows, tiny zlib column", file(rec(4, 1<<28, hcol{id: 1, width: 1, codec: 1, raw: 1 << 28, stored: 8, data: make([]byte, 8)}), endRec()),
			"more than zlib can expand"},
		{"rows times width overflows", file(rec(4, 0xFFFFFFFF, hcol{id: 1, width: 8, raw: 8, stored: 8, data: make([]byte, 8)}), endRec()),
			"is not 4294967295 rows of 8 bytes"},
		{"record length past end", func() []byte {
			b := file(rec(2, 0), endRec())
			binary.LittleEndian.PutUint32(b[16+len(rec(1, 1, hcol{id: 1, raw: 2, stored: 2, data: []byte("{}")}))+12:], 1<<29)
			return b
		}(), "truncated"},
		{"record over the limit", func() []byte {
			b := file(rec(2, 0), endRec())
			binary.LittleEndian.PutUint32(b[16+len(rec(1, 1, hcol{id: 1, raw: 2, stored: 2, data: []byte("{}")}))+12:], 0xFFFFFFF0)
			return b
		}(), "over the"},
		{"ncols past record", func() []byte {
			r := rec(2, 0)
			binary.LittleEndian.PutUint32(r[8:], 1<<30)
			return file(r, endRec())
		}(), "column directory"},
		{"unknown kind", file(rec(9, 0), endRec()), "unknown record kind 9"},
		{"optional kind skipped", file(rec(100, 5), endRec()), ""},
		{"no end", file(rec(2, 0)), "truncated"},
		{"edges without objects", file(rec(5, 0), endRec()), "must follow an OBJECTS"},
		{"objects without edges", file(rec(4, 0), endRec()), "followed by its EDGES"},
		{"second meta", file(rec(1, 1), endRec()), "second META"},
		{"bad width", file(rec(2, 1, hcol{id: 1, width: 3, raw: 3, stored: 3, data: make([]byte, 3)}), endRec()), "bad width 3"},
		{"bad codec", file(rec(2, 1, hcol{id: 1, width: 1, codec: 7, raw: 1, stored: 1, data: make([]byte, 1)}), endRec()), "unknown codec 7"},
		{"bad zlib", file(rec(2, 1, hcol{id: 1, width: 1, codec: 1, raw: 1, stored: 4, data: []byte{1, 2, 3, 4}}), endRec()), "zlib"},
		{"string lengths", file(rec(2, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{9}}, hcol{id: 2, raw: 2, stored: 2, data: []byte("ab")}), endRec()),
			"add up to 9 bytes"},
		{"type string out of range", file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{5}}), endRec()), "name string id 5 out of range"},
		{"object type out of range", file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}}), rec(4, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{1}}, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{1}}), rec(5, 0), endRec()),
			"out of range (at most 0)"},
		{"objects without types", file(rec(4, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{1}}), rec(5, 0), endRec()), "no TYPES"},
		{"missing address column", file(rec(4, 1), rec(5, 0), endRec()), "lacks its required column 1"},
		{"types without columns", file(rec(3, 0xFFFFFFFF), endRec()), "lacks its required column 2"},
		{"roots without columns", file(rec(6, 0xFFFFFFFF), endRec()), "lacks its required column 3"},
		{"strings without columns", file(rec(2, 0xFFFFFFFF), endRec()), "lacks its required column 1"},
		{"edges without columns", file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}}), rec(4, 0), rec(5, 0xFFFFFFFF), endRec()), "lacks its required column 1"},
		{"blob as required column", file(rec(6, 2, hcol{id: 3, raw: 2, stored: 2, data: []byte{0, 0}}), endRec()), "must hold integers"},
		{"duplicate address", file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}}), rec(4, 2, hcol{id: 1, width: 1, raw: 2, stored: 2, data: []byte{7, 7}}), rec(5, 0), endRec()), "share address 0x7"},
		{"edge count mismatch", file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}}), rec(4, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{1}}, hcol{id: 6, width: 1, raw: 1, stored: 1, data: []byte{3}}), rec(5, 0), endRec()),
			"add up to 3 but the EDGES record after it has 0"},
		{"end totals", file(rec(7, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: []byte{5, 0, 0, 0, 0, 0, 0, 0}})), "END says 5 objects but the file has 0"},
		{"root kind", file(rec(6, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{99}}, hcol{id: 3, width: 1, raw: 1, stored: 1, data: []byte{0}}), endRec()), "out of range"},
		{"crc", func() []byte {
			b := file(rec(2, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{0}}, hcol{id: 2}), endRec())
			b[len(b)-len(endRec())-30] ^= 1
			return b
		}(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readNamed(tc.data)
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("reading %d hostile bytes allocated %d MB", len(tc.data), grew>>20)
			}
			if tc.name == "optional kind skipped" {
				if err != nil {
					t.Errorf("a record of optional kind 100 was not skipped: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("read without error")
			}
			checkErr(t, err, tc.want)
		})
	}
}

// FuzzRead reads any bytes as a .ogs file. Whatever the bytes, the reader
// returns a heap or a *FormatError placed in the file, allocates at most a
// few hundred times the input, and reads a stream as it reads a file; a heap
// that reads is usable and writes and reads back the same. The seeds are in
// testdata/fuzz/FuzzRead (TestSeedCorpus).
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var h *heap.Heap
		var err error
		grew := allocated(func() { h, err = heap.Read(bytes.NewReader(data), heap.ReadOptions{Name: "fuzz.ogs"}) })
		if limit := 256*uint64(len(data)) + 8<<20; grew > limit {
			t.Fatalf("reading %d bytes allocated %d bytes", len(data), grew)
		}
		sh, serr := heap.Read(stream{bytes.NewReader(data)}, heap.ReadOptions{Name: "fuzz.ogs"})
		if err != nil {
			var fe *heap.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FormatError", err)
			}
			if fe.Offset < 0 || fe.Offset > int64(len(data)) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not placed in the %d bytes on one line", err, len(data))
			}
			if serr == nil || serr.Error() != err.Error() && !strings.Contains(serr.Error(), "after the END record") {
				t.Fatalf("a file fails with\n\t%v\nbut a stream with\n\t%v", err, serr)
			}
			return
		}
		if serr != nil {
			t.Fatalf("a file reads, but a stream fails: %v", serr)
		}
		// Whatever reads must be usable, and write and read back the same.
		d := dump(h)
		if sd := dump(sh); sd != d {
			t.Fatalf("a stream reads differently:\n%s\nvs\n%s", sd, d)
		}
		for id := range h.All() {
			h.Referrers(id)
			h.Lookup(h.Addr(id))
		}
		var buf bytes.Buffer
		if err := heap.Write(&buf, h, heap.EncoderOptions{}); err != nil {
			t.Fatalf("re-encoding a heap that read fine: %v", err)
		}
		h2, err := heap.Read(&buf, heap.ReadOptions{})
		if err != nil {
			t.Fatalf("reading back a re-encoded heap: %v", err)
		}
		// (what pointed outside the file was dropped on reading, and is
		// not written again: the copy has nothing dangling)
		if d2, want := dump(h2), strings.TrimSuffix(d, fmt.Sprintf("dangling %d\n", h.DanglingEdges()))+"dangling 0\n"; d2 != want {
			t.Fatalf("re-encoded heap differs:\n%s\nvs\n%s", want, d2)
		}
	})
}

// deflated returns n zero bytes as a zlib stream, padded with pad zero bytes
// after the stream's end.
func deflated(t testing.TB, n, pad int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if _, err := zw.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	must(t, zw.Close())
	return append(buf.Bytes(), make([]byte, pad)...)
}

// zcol is a zlib column of n zero bytes.
func zcol(t testing.TB, id uint16, width uint8, n int) hcol {
	z := deflated(t, n, 0)
	return hcol{id: id, width: width, codec: 1, raw: uint32(n), stored: uint32(len(z)), data: z}
}

// bombs are files whose zlib columns claim far more than real snapshots
// hold: valid streams of zeros that decode to rows rows (of one byte) or to
// blobs of 16 × rows bytes, and a short stream whose directory claims rows
// it does not hold. TestDecompressionBombs uses 16M rows; the fuzz seeds,
// 64k.
func bombs(t testing.TB, rows uint32) map[string][]byte {
	types := rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}})
	blob := int(16 * rows)
	lying := deflated(t, 1000, int(rows/1024))
	return map[string][]byte{
		// rows one-byte addresses from a stream of zeros of rows/1000 bytes
		"bomb-objects-rows": file(types, rec(4, rows, zcol(t, 1, 1, int(rows))), rec(5, 0), endRec()),
		// rows claimed by a column whose stream holds 1000 bytes
		"bomb-objects-lying": file(types, rec(4, rows, hcol{id: 1, width: 1, codec: 1, raw: rows, stored: uint32(len(lying)), data: lying}), rec(5, 0), endRec()),
		// rows edges of a single object, from zeros
		"bomb-edges-rows": file(types, rec(4, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{1}}, hcol{id: 6, width: 4, raw: 4, stored: 4, data: binary.LittleEndian.AppendUint32(nil, rows)}),
			rec(5, rows, zcol(t, 1, 1, int(rows))), endRec()),
		// one string of blob bytes of zeros
		"bomb-string-bytes": file(rec(2, 1, hcol{id: 1, width: 4, raw: 4, stored: 4, data: binary.LittleEndian.AppendUint32(nil, uint32(blob))}, zcol(t, 2, 0, blob)), endRec()),
		// one object with a label of blob bytes of zeros
		"bomb-label-bytes": file(types, rec(4, 1, hcol{id: 1, width: 1, raw: 1, stored: 1, data: []byte{1}},
			hcol{id: 7, width: 4, raw: 4, stored: 4, data: binary.LittleEndian.AppendUint32(nil, uint32(blob))}, zcol(t, 8, 0, blob)), rec(5, 0), endRec()),
		// rows roots from zeros
		"bomb-roots-rows": file(rec(6, rows, zcol(t, 3, 1, int(rows))), endRec()),
		// rows strings, all empty
		"bomb-strings-rows": file(rec(2, rows, zcol(t, 1, 1, int(rows))), endRec()),
	}
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestDecompressionBombs(t *testing.T) {
	for name, data := range bombs(t, 16<<20) {
		t.Run(name, func(t *testing.T) {
			var err error
			grew := allocated(func() { _, err = readNamed(data) })
			if limit := 64*uint64(len(data)) + 4<<20; grew > limit {
				t.Errorf("reading %d hostile bytes allocated %d MB", len(data), grew>>20)
			}
			if err == nil {
				t.Fatal("read without error")
			}
			checkErr(t, err, "")
			t.Log(err)
		})
	}
}

// lies are files within the size limits whose zlib columns hold 1000 bytes,
// far less than their directories claim, followed by pad bytes of padding.
func lies(t testing.TB, pad int) map[string][]byte {
	short := deflated(t, 1000, pad)
	claim := uint32(60 * len(short))
	return map[string][]byte{
		"lying-string-bytes": file(rec(2, 1, hcol{id: 1, width: 4, raw: 4, stored: 4, data: binary.LittleEndian.AppendUint32(nil, claim)},
			hcol{id: 2, codec: 1, raw: claim, stored: uint32(len(short)), data: short}), endRec()),
		"lying-int-column": file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}}),
			rec(4, uint32(pad/8), hcol{id: 1, width: 8, raw: uint32(pad), stored: uint32(pad), data: make([]byte, pad)},
				hcol{id: 3, width: 8, codec: 1, raw: uint32(pad), stored: uint32(len(short)), data: short}), rec(5, 0), endRec()),
	}
}

func TestLyingZlibColumns(t *testing.T) {
	for name, data := range lies(t, 1<<20) {
		t.Run(name, func(t *testing.T) {
			var err error
			grew := allocated(func() { _, err = readNamed(data) })
			// the record is read once and inflated into a buffer that grows
			// with what the stream holds
			if limit := 4*uint64(len(data)) + 1<<20; grew > limit {
				t.Errorf("reading %d bytes whose zlib column holds 1000 allocated %d MB", len(data), grew>>20)
			}
			checkErr(t, err, "zlib stream holds 1000 bytes, fewer than")
		})
	}
}

// atTheLimits is a file as close to the size limits as a producer may go:
// one object per 4 bytes of raw address, and 250-byte labels of zeros that
// make the OBJECTS record decode to 60 times its length.
func atTheLimits(t testing.TB, rows int) []byte {
	const labelLen = 250
	addrs := make([]byte, 0, 4*rows)
	lens := make([]byte, 0, 2*rows)
	for i := range rows {
		addrs = binary.LittleEndian.AppendUint32(addrs, uint32(16*i+16))
		lens = binary.LittleEndian.AppendUint16(lens, labelLen)
	}
	var zlens bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&zlens, zlib.BestCompression)
	zw.Write(lens)
	must(t, zw.Close())
	objects := rec(4, uint32(rows),
		hcol{id: 1, width: 4, raw: uint32(4 * rows), stored: uint32(4 * rows), data: addrs},
		hcol{id: 7, width: 2, codec: 1, raw: uint32(2 * rows), stored: uint32(zlens.Len()), data: zlens.Bytes()},
		zcol(t, 8, 0, labelLen*rows))
	if ratio := float64(4*rows+2*rows+labelLen*rows) / float64(len(objects)-20); ratio < 55 || ratio > 64 {
		t.Fatalf("the OBJECTS record expands %.1f times; it should be just under the limit", ratio)
	}
	return file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}}), objects, rec(5, 0),
		rec(7, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: u64s(uint64(rows))}))
}

// TestAtTheLimits reads a file just under both size limits: it must read,
// and in memory proportional to the file.
func TestAtTheLimits(t *testing.T) {
	const rows = 100_000
	data := atTheLimits(t, rows)
	var h *heap.Heap
	var err error
	grew := allocated(func() { h, err = readNamed(data) })
	must(t, err)
	if h.Len() != rows || len(h.Label(rows-1)) != 250 {
		t.Fatalf("read %d objects, the last labelled %q", h.Len(), h.Label(rows-1))
	}
	t.Logf("%d bytes read with %d MB allocated (%.0f times)", len(data), grew>>20, float64(grew)/float64(len(data)))
	if limit := 256*uint64(len(data)) + 4<<20; grew > limit {
		t.Errorf("reading %d bytes allocated %d MB", len(data), grew>>20)
	}
}

// TestErrorPositions checks that errors name the record that is wrong, its
// kind and its offset, and the row where there is one, for a representative
// set of the reader's checks.
func TestErrorPositions(t *testing.T) {
	b1 := func(id uint16, v ...byte) hcol {
		return hcol{id: id, width: 1, raw: uint32(len(v)), stored: uint32(len(v)), data: v}
	}
	strs := rec(2, 2, b1(1, 1, 1), hcol{id: 2, raw: 2, stored: 2, data: []byte("ab")})
	types := rec(3, 1, b1(2, 0))
	obj := func(addrs ...byte) []byte { return rec(4, uint32(len(addrs)), b1(1, addrs...)) }
	for _, tc := range []struct {
		name  string
		recs  [][]byte // the records after META
		bad   int      // the record the error names (META is 0), or len(recs)+1 for the end
		where string   // "KIND" in "record N (KIND)", or "" for none
		want  string   // what follows the position
	}{
		{"type name out of range", [][]byte{rec(3, 1, b1(2, 5)), endRec()}, 1, "TYPES",
			"row 0: type 0: name string id 5 out of range (0 strings)"},
		{"type qualname out of range, in a later record", [][]byte{strs, rec(3, 1, b1(2, 1)), rec(3, 2, b1(2, 1, 2), b1(3, 2, 3)), endRec()}, 3, "TYPES",
			"row 1: type 2: qualname string id 3 out of range (2 strings)"},
		{"object type out of range", [][]byte{types, obj(1), rec(5, 0), rec(4, 2, b1(1, 2, 3), b1(2, 0, 4)), rec(5, 0), endRec()}, 4, "OBJECTS",
			"column 2 row 1: value 4 is out of range (at most 0)"},
		{"duplicate address in a later record", [][]byte{types, obj(1, 2), rec(5, 0), obj(3, 2), rec(5, 0), endRec()}, 4, "OBJECTS",
			"row 1: objects 1 and 3 share address 0x2"},
		{"edge name out of range", [][]byte{strs, types, rec(4, 1, b1(1, 1), b1(6, 1)), rec(5, 1, b1(1, 1), b1(2, 8)), endRec()}, 4, "EDGES",
			"row 0: edge name string id 4 out of range (2 strings)"},
		{"root name out of range", [][]byte{strs, types, obj(1), rec(5, 0), rec(6, 1, b1(1, 1), b1(2, 9), b1(3, 1)), endRec()}, 5, "ROOTS",
			"column 2 row 0: value 9 is out of range (at most 2)"},
		{"two bad columns, one message", [][]byte{types, rec(4, 1, b1(1, 1), b1(2, 7), hcol{id: 5, width: 4, raw: 4, stored: 4, data: []byte{0, 0, 1, 0}}), rec(5, 0), endRec()}, 2, "OBJECTS",
			"column 2 row 0: value 7 is out of range (at most 0)"},
		{"bad zlib", [][]byte{rec(2, 1, hcol{id: 1, width: 1, codec: 1, raw: 1, stored: 4, data: []byte{1, 2, 3, 4}}), endRec()}, 1, "STRINGS",
			"column 1: zlib: "},
		{"checksum", [][]byte{strs, func() []byte { r := bytes.Clone(types); r[len(r)-1] ^= 1; return r }(), endRec()}, 2, "TYPES",
			"checksum mismatch"},
		{"truncated between records", [][]byte{rec(2, 0)}, 2, "", "file is truncated: it ends before the END record"},
		{"END totals", [][]byte{rec(7, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: u64s(3)})}, 1, "END", "END says 3 objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := file(tc.recs...)
			off := len(file())
			for _, r := range tc.recs[:tc.bad-1] {
				off += len(r)
			}
			_, err := readNamed(data)
			if err == nil {
				t.Fatal("read without error")
			}
			pos := fmt.Sprintf("record %d (%s) at offset %#x: ", tc.bad, tc.where, off)
			if tc.where == "" {
				pos = fmt.Sprintf("record %d at offset %#x: ", tc.bad, off)
			}
			if want := "reading snapshot bad.ogs: " + pos + tc.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n\t%v\nwant\n\t%s", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
	_, err := readNamed(append(file(endRec()), 1, 2))
	if want := fmt.Sprintf("reading snapshot bad.ogs: record 2 at offset %#x: 2 bytes after the END record", len(file(endRec()))); err == nil || err.Error() != want {
		t.Errorf("error\n\t%v\nwant\n\t%s", err, want)
	}
}
