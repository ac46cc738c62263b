package heap_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

func u8s(v ...uint8) []byte { return v }

func u64s(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}

// valueFile is a snapshot whose int and float objects carry values
// (OBJECTS columns 9 and 10) instead of labels, next to a str with a label.
// extra columns are added to the float record.
func valueFile(extra ...hcol) []byte { return valueFileWidth(8, extra...) }

// valueFileWidth is valueFile with a float column of the given width.
func valueFileWidth(width uint8, extra ...hcol) []byte {
	strs := rec(2, 3, hcol{id: 1, width: 1, raw: 3, stored: 3, data: u8s(3, 5, 3)},
		hcol{id: 2, raw: 11, stored: 11, data: []byte("intfloatstr")})
	types := rec(3, 3, hcol{id: 2, width: 1, raw: 3, stored: 3, data: u8s(1, 2, 3)})
	floats := append([]hcol{
		{id: 1, width: 8, raw: 32, stored: 32, data: u64s(0x1000, 0x1010, 0x1020, 0x1030)},
		{id: 2, width: 1, raw: 4, stored: 4, data: u8s(1, 1, 1, 1)},
		{id: 10, width: width, raw: 4 * uint32(width), stored: 4 * uint32(width), data: u64s(math.Float64bits(0.1),
			math.Float64bits(1e16), math.Float64bits(-2.5e-7), math.Float64bits(math.Inf(-1)))[:4*int(width)]},
	}, extra...)
	ints := []hcol{
		{id: 1, width: 8, raw: 16, stored: 16, data: u64s(0x2000, 0x2010)},
		{id: 9, width: 8, raw: 16, stored: 16, data: u64s(uint64(math.MaxInt64), 1<<63)},
	}
	str := []hcol{
		{id: 1, width: 8, raw: 8, stored: 8, data: u64s(0x3000)},
		{id: 2, width: 1, raw: 1, stored: 1, data: u8s(2)},
		{id: 7, width: 1, raw: 1, stored: 1, data: u8s(4)},
		{id: 8, raw: 4, stored: 4, data: []byte("'ab'")},
	}
	end := rec(7, 1, hcol{id: 1, width: 8, raw: 8, stored: 8, data: u64s(7)})
	return file(strs, types, rec(4, 4, floats...), rec(5, 0), rec(4, 2, ints...), rec(5, 0),
		rec(4, 1, str...), rec(5, 0), end)
}

func TestValueLabels(t *testing.T) {
	h, err := heap.Read(bytes.NewReader(valueFile()), heap.ReadOptions{Name: "values.ogs"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0.1", "1e+16", "-2.5e-07", "-inf", "9223372036854775807", "-9223372036854775808", "'ab'"}
	if h.Len() != len(want) {
		t.Fatalf("%d objects, want %d", h.Len(), len(want))
	}
	for i, w := range want {
		if got := h.Label(heap.ID(i)); got != w {
			t.Errorf("object %d: label %q, want %q", i, got, w)
		}
	}
	if got := h.TypeName(heap.ID(5)); got != "int" {
		t.Errorf("object 5 has type %q, want int", got)
	}
}

func TestValueColumnsHostile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []hcol
		want  string
	}{
		{"int and float values", []hcol{{id: 9, width: 8, raw: 32, stored: 32, data: make([]byte, 32)}}, "columns 9 (int values) and 10"},
		{"values and labels", []hcol{{id: 7, width: 1, raw: 4, stored: 4, data: make([]byte, 4)}}, "cannot also have labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readNamed(valueFile(tc.extra...))
			if err == nil {
				t.Fatal("read without error")
			}
			checkErr(t, err, tc.want)
		})
	}
	_, err := readNamed(valueFileWidth(4))
	if err == nil {
		t.Fatal("a 4-byte value column read without error")
	}
	checkErr(t, err, "must be 8 bytes wide")
}
