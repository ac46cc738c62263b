package heap_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// stream hides everything but Read, as a pipe does.
type stream struct{ r io.Reader }

func (s stream) Read(p []byte) (int, error) { return s.r.Read(p) }

// endless is a stream of prefix and then zeros for ever; it counts what was
// read of it.
type endless struct {
	prefix []byte
	n      int
}

func (e *endless) Read(p []byte) (int, error) {
	k := 0
	if e.n < len(e.prefix) {
		k = copy(p, e.prefix[e.n:])
	}
	clear(p[k:])
	e.n += len(p)
	return len(p), nil
}

func TestReadStream(t *testing.T) {
	h := sample(t)
	want := dump(h)
	for _, opts := range []heap.EncoderOptions{{}, {NoCompression: true, BatchSize: 1}} {
		data := encode(t, h, opts)
		got, err := heap.Read(stream{bytes.NewReader(data)}, heap.ReadOptions{Name: "pipe"})
		must(t, err)
		if d := dump(got); d != want {
			t.Errorf("read from a stream:\n%s\nwant\n%s", d, want)
		}
		// Every cut of the stream fails as the same cut of a file does.
		for n := range len(data) {
			_, ferr := readNamed(data[:n])
			_, serr := heap.Read(stream{bytes.NewReader(data[:n])}, heap.ReadOptions{Name: "bad.ogs"})
			if ferr == nil || serr == nil || ferr.Error() != serr.Error() {
				t.Fatalf("cut to %d bytes: file: %v; stream: %v", n, ferr, serr)
			}
		}
	}
	for name, data := range bombs(t, 1<<16) {
		_, ferr := readNamed(data)
		_, serr := heap.Read(stream{bytes.NewReader(data)}, heap.ReadOptions{Name: "bad.ogs"})
		if ferr == nil || serr == nil || ferr.Error() != serr.Error() {
			t.Errorf("%s: file: %v; stream: %v", name, ferr, serr)
		}
	}
	_, err := heap.Read(stream{bytes.NewReader(append(encode(t, h, heap.EncoderOptions{}), 0))}, heap.ReadOptions{Name: "bad.ogs"})
	checkErr(t, err, "data after the END record")
}

// TestReadStreamChecksFirst reads endless streams: each is refused after its
// first bad header, not read to its end.
func TestReadStreamChecksFirst(t *testing.T) {
	header := []byte("\x89OGSNAP\n\x01\x00\x00\x00\x00\x00\x00\x00")
	for _, tc := range []struct {
		name   string
		prefix []byte
		want   string
		most   int // bytes it may read
	}{
		{"zeros", nil, "bad magic", 16},
		{"header then zeros", header, "record 0 (kind 0) at offset 0x10: unknown record kind 0", 36},
		{"version 2", []byte("\x89OGSNAP\n\x02\x00"), "unsupported format version 2.0", 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &endless{prefix: tc.prefix}
			_, err := heap.Read(src, heap.ReadOptions{Name: "bad.ogs"})
			checkErr(t, err, tc.want)
			if src.n > tc.most {
				t.Errorf("read %d bytes of the stream, want at most %d", src.n, tc.most)
			}
		})
	}
}

func TestReadAny(t *testing.T) {
	h := sample(t)
	want := dump(h)
	ogs := encode(t, h, heap.EncoderOptions{})
	var js bytes.Buffer
	must(t, heap.WriteJSON(&js, h))
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"ogs", ogs},
		{"json", js.Bytes()},
		{"json after white space", append([]byte("\t\r\n  "), js.Bytes()...)},
		{"json after a byte-order mark", append([]byte("\xEF\xBB\xBF"), js.Bytes()...)},
		{"json after a byte-order mark and a tab", append([]byte("\xEF\xBB\xBF\t"), js.Bytes()...)},
	} {
		for _, how := range []string{"in place", "stream"} {
			t.Run(tc.name+", "+how, func(t *testing.T) {
				var r io.Reader = bytes.NewReader(tc.data)
				if how == "stream" {
					r = stream{r}
				}
				got, err := heap.ReadAny(r, heap.ReadOptions{Name: "x"})
				must(t, err)
				if d := dump(got); d != want {
					t.Errorf("got\n%s\nwant\n%s", d, want)
				}
			})
		}
	}
}

func TestReadAnyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  io.Reader
		want string
	}{
		{"zeros", &endless{}, `not an objgraph snapshot: it starts with "\x00\x00\x00\x00\x00\x00\x00\x00", neither the .ogs magic`},
		{"text", strings.NewReader("hello, world"), `it starts with "hello, w"`},
		{"empty", strings.NewReader(""), "empty input"},
		{"ogs header then zeros", &endless{prefix: []byte("\x89OGSNAP\n\x01\x00\x00\x00\x00\x00\x00\x00")}, "unknown record kind 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := heap.ReadAny(tc.src, heap.ReadOptions{Name: "bad.ogs"})
			checkErr(t, err, tc.want)
			if e, ok := tc.src.(*endless); ok && e.n > 64<<10 {
				t.Errorf("read %d bytes of an endless stream", e.n)
			}
		})
	}
	// JSON that is not a snapshot is refused by the JSON reader.
	_, err := heap.ReadAny(strings.NewReader(" [1, 2]"), heap.ReadOptions{Name: "bad.json"})
	var je *heap.JSONError
	if !errors.As(err, &je) {
		t.Errorf("error %v is not a JSONError", err)
	}
}

// FuzzReadAny reads any bytes as a snapshot of either form, in place and as
// a stream. Both ways agree, and every error is a *FormatError or a
// *JSONError. The seeds are in testdata/fuzz/FuzzReadAny (TestSeedCorpus).
func FuzzReadAny(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := heap.ReadAny(bytes.NewReader(data), heap.ReadOptions{Name: "fuzz"})
		sh, serr := heap.ReadAny(stream{bytes.NewReader(data)}, heap.ReadOptions{Name: "fuzz"})
		if err != nil {
			var fe *heap.FormatError
			var je *heap.JSONError
			if !errors.As(err, &fe) && !errors.As(err, &je) {
				t.Fatalf("error %v (%T) is neither a FormatError nor a JSONError", err, err)
			}
			if serr == nil {
				t.Fatalf("in place: %v; as a stream it reads", err)
			}
			return
		}
		if serr != nil {
			t.Fatalf("in place it reads; as a stream: %v", serr)
		}
		if a, b := dump(h), dump(sh); a != b {
			t.Fatalf("in place and as a stream differ:\n%s\nvs\n%s", a, b)
		}
	})
}
