package heap_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

func TestJSONRoundTrip(t *testing.T) {
	h := sample(t)
	var buf bytes.Buffer
	must(t, heap.WriteJSON(&buf, h))
	if !strings.Contains(buf.String(), `"addr":"0x7f0000004040"`) || !strings.Contains(buf.String(), `[4,"[1]"]`) {
		t.Errorf("JSON lacks expected spellings:\n%s", buf.String())
	}
	got, err := heap.ReadJSON(&buf, heap.ReadOptions{Name: "s.json"})
	must(t, err)
	if a, b := dump(h), dump(got); a != b {
		t.Errorf("JSON round trip differs:\n got %s\nwant %s", b, a)
	}
}

func TestJSONErrors(t *testing.T) {
	good := func() string {
		var buf bytes.Buffer
		must(t, heap.WriteJSON(&buf, sample(t)))
		return buf.String()
	}()
	for _, tc := range []struct{ name, in, want string }{
		{"syntax", `{"format": "objgraph-snapshot", "version": 1, "objects": [}`, "line 1, column 59 (offset 58): invalid character '}'"},
		{"format", `{"format": "x", "version": 1}`, "not an objgraph JSON snapshot"},
		{"version", `{"format": "objgraph-snapshot", "version": 9}`, "unsupported version 9"},
		{"addr", strings.Replace(good, `"addr":"0x7f0000001000"`, `"addr":"12"`, 1), "objects[0].addr"},
		{"edge target", strings.Replace(good, `[[1,"__dict__"]]`, `[[99,"__dict__"]]`, 1), "objects[0].edges[0]"},
		{"type", strings.Replace(good, `"type":0,`, `"type":77,`, 1), "objects[0].type"},
		{"root kind", strings.Replace(good, `"kind":"module","name":"app"`, `"kind":"planet","name":"app"`, 1), "roots[0].kind"},
		{"wrong type", `{"format": "objgraph-snapshot", "version": 1, "objects": [{"addr": 5}]}`, "(offset 67): objects[0].addr: want a string, not number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := heap.ReadJSON(strings.NewReader(tc.in), heap.ReadOptions{Name: "bad.json"})
			var je *heap.JSONError
			if !errors.As(err, &je) {
				t.Fatalf("error %v is not a JSONError", err)
			}
			if !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the file and %q", err, tc.want)
			}
		})
	}
}

// FuzzReadJSON reads any bytes as the JSON form. Whatever the bytes, the
// reader returns a heap or a *JSONError placed in the input; a heap that
// reads writes and reads back the same. The seeds are in
// testdata/fuzz/FuzzReadJSON (TestSeedCorpus).
func FuzzReadJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := heap.ReadJSON(bytes.NewReader(data), heap.ReadOptions{Name: "fuzz.json"})
		if err != nil {
			var je *heap.JSONError
			if !errors.As(err, &je) {
				t.Fatalf("error %v is not a JSONError", err)
			}
			if je.Offset < 0 || je.Offset > int64(len(data)) || je.Line < 1 || je.Column < 1 {
				t.Fatalf("error %q is not placed in the %d bytes", err, len(data))
			}
			return
		}
		var out bytes.Buffer
		must(t, heap.WriteJSON(&out, h))
		h2, err := heap.ReadJSON(&out, heap.ReadOptions{})
		if err != nil {
			t.Fatalf("reading back written JSON: %v\n%s", err, out.String())
		}
		if a, b := dump(h), dump(h2); a != b {
			t.Fatalf("JSON round trip differs:\n%s\nvs\n%s", a, b)
		}
	})
}

// TestJSONStrict checks what the JSON reader takes and refuses around the
// document: trailing data and malformed edges are refused at their position;
// a byte-order mark and white space before the document are taken.
func TestJSONStrict(t *testing.T) {
	var buf bytes.Buffer
	must(t, heap.WriteJSON(&buf, sample(t)))
	good := buf.String()
	const edge = `[[1,"__dict__"]]` // object 0's edges
	if !strings.Contains(good, edge) {
		t.Fatalf("sample JSON lacks %s", edge)
	}
	at := func(s, sub string) int { return strings.Index(s, sub) }
	for _, tc := range []struct {
		name, in string
		off      int    // where the error is; -1 for no error
		want     string // what the error says
	}{
		{"trailing garbage", good + "x", len(good), `unexpected "x" after the end of the JSON document`},
		{"second document", good + `{"format":"objgraph-snapshot"}`, len(good), `unexpected "{\"format\":\"objgr" after the end`},
		{"trailing white space", good + "\n \t\r\n", -1, ""},
		{"edge of three values", strings.Replace(good, edge, `[[1,"__dict__",7]]`, 1), at(good, edge) + 1,
			"objects[0].edges[0]: an edge must be a [target, name] pair, not 3 values"},
		{"edge of one value", strings.Replace(good, edge, `[[1]]`, 1), at(good, edge) + 1, "objects[0].edges[0]: an edge must be a [target, name] pair, not 1 values"},
		{"edge not a list", strings.Replace(good, edge, `[[1,"a"],5]`, 1), at(good, edge) + 9, "objects[0].edges[1]: an edge must be a [target, name] pair, not 5"},
		{"edges not a list", strings.Replace(good, edge, `{}`, 1), at(good, edge), "objects[0].edges: edges must be a list of [target, name] pairs"},
		{"edge name", strings.Replace(good, edge, `[[1,2]]`, 1), at(good, edge) + 4, "objects[0].edges[0][1]: name must be a string or null"},
		{"shared address", strings.Replace(good, `"addr":"0x7f0000002000"`, `"addr":"0x7f0000001000"`, 1), at(good, `"0x7f0000002000"`),
			"objects[1].addr: objects 0 and 1 share address 0x7f0000001000"},
		{"meta of the wrong type", strings.Replace(good, `"pid":42`, `"pid":"x"`, 1), at(good, `42`), `meta.pid: want an integer, not string`},
		{"meta time not RFC 3339", strings.Replace(good, `"time":"2026-11-23T10:00:00Z"`, `"time":"noon"`, 1), at(good, `{"argv"`), `meta: parsing time "noon"`},
		{"missing address", strings.Replace(good, `"addr":"0x7f0000001000",`, ``, 1), at(good, `{"addr":"0x7f0000001000"`), `objects[0].addr: address "" is not`},
		{"byte-order mark", "\xEF\xBB\xBF" + good, -1, ""},
		{"leading tab", "\t" + good, -1, ""},
		{"leading CRLF and spaces", "\r\n  " + good, -1, ""},
		{"byte-order mark, then an error", "\xEF\xBB\xBF" + good + "x", 3 + len(good), "after the end of the JSON document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := heap.ReadJSON(strings.NewReader(tc.in), heap.ReadOptions{Name: "bad.json"})
			if tc.off < 0 {
				must(t, err)
				return
			}
			var je *heap.JSONError
			if !errors.As(err, &je) {
				t.Fatalf("error %v is not a JSONError", err)
			}
			if je.Offset != int64(tc.off) {
				t.Errorf("error at offset %d, want %d (%.20q): %v", je.Offset, tc.off, tc.in[min(tc.off, len(tc.in)):], err)
			}
			line := 1 + strings.Count(tc.in[:tc.off], "\n")
			col := tc.off - strings.LastIndex(tc.in[:tc.off], "\n")
			if je.Line != line || je.Column != col {
				t.Errorf("error at line %d, column %d; want %d, %d", je.Line, je.Column, line, col)
			}
			if msg := err.Error(); !strings.Contains(msg, "bad.json") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name the file and say %q", msg, tc.want)
			}
		})
	}
}

// TestSameNameTypes: a process may make many classes of one name (ctypes
// makes a CFunctionType per signature); each stays its own type through
// the JSON form and through Write, on a bundled snapshot that has them.
func TestSameNameTypes(t *testing.T) {
	h, err := heap.ReadFile("../testdata/snapshots/cache_leak-3.ogs")
	must(t, err)
	seen := map[string]int{}
	for tid := range h.NumTypes() {
		seen[h.TypeQualName(heap.TypeID(tid))]++
	}
	if seen["ctypes.CFunctionType"] < 2 {
		t.Fatalf("the snapshot has %d types named ctypes.CFunctionType; the test needs two or more", seen["ctypes.CFunctionType"])
	}
	var js, ogs bytes.Buffer
	must(t, heap.WriteJSON(&js, h))
	fromJSON, err := heap.ReadJSON(&js, heap.ReadOptions{Name: "s.json"})
	must(t, err)
	must(t, heap.Write(&ogs, h, heap.EncoderOptions{}))
	fromOGS, err := heap.Read(&ogs, heap.ReadOptions{Name: "s.ogs"})
	must(t, err)
	for name, got := range map[string]*heap.Heap{"JSON": fromJSON, "Write": fromOGS} {
		if got.NumTypes() != h.NumTypes() || got.Len() != h.Len() {
			t.Errorf("%s: %d types and %d objects, want %d and %d", name, got.NumTypes(), got.Len(), h.NumTypes(), h.Len())
			continue
		}
		for id := heap.ID(0); int(id) < h.Len(); id++ {
			if got.TypeAddr(got.Type(id)) != h.TypeAddr(h.Type(id)) || got.TypeQualName(got.Type(id)) != h.TypeQualName(h.Type(id)) {
				t.Errorf("%s: object %#x has type %s at %#x, want %s at %#x", name, h.Addr(id),
					got.TypeQualName(got.Type(id)), got.TypeAddr(got.Type(id)), h.TypeQualName(h.Type(id)), h.TypeAddr(h.Type(id)))
				break
			}
		}
	}
	// the same name at the same address is one type listed twice
	var dup bytes.Buffer
	b := heap.NewBuilder()
	t1 := b.AddTypeAt("CFunctionType", "ctypes.CFunctionType", 0x1000)
	b.AddObject(heap.Object{Addr: 0x2000, Type: t1})
	d, err := b.Build()
	must(t, err)
	must(t, heap.WriteJSON(&dup, d))
	doc := strings.Replace(dup.String(), `"types":[`, `"types":[{"name":"CFunctionType","qualname":"ctypes.CFunctionType","addr":"0x1000"},`, 1)
	if _, err := heap.ReadJSON(strings.NewReader(doc), heap.ReadOptions{Name: "d.json"}); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("a type listed twice: %v", err)
	}
}
