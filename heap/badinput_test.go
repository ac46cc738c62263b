package heap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
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
		{"type string out of range", file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{5}}), endRec()), "string id out of range"},
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

func FuzzRead(f *testing.F) {
	h := sample(f)
	for _, opts := range []heap.EncoderOptions{{}, {NoCompression: true}, {BatchSize: 2}} {
		var buf bytes.Buffer
		if err := heap.Write(&buf, h, opts); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := heap.Read(bytes.NewReader(data), heap.ReadOptions{Name: "fuzz.ogs"})
		if err != nil {
			var fe *heap.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FormatError", err)
			}
			return
		}
		if h.Len() > 1<<14 {
			return // a zlib bomb that reads fine; too big to compare quickly
		}
		// Whatever reads must be usable, and write and read back the same.
		d := dump(h)
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
		if d2 := dump(h2); d2 != d {
			t.Fatalf("re-encoded heap differs:\n%s\nvs\n%s", d, d2)
		}
	})
}
