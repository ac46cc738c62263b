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
		{"syntax", `{"format": "objgraph-snapshot", "version": 1, "objects": [}`, "offset 59"},
		{"format", `{"format": "x", "version": 1}`, "not an objgraph JSON snapshot"},
		{"version", `{"format": "objgraph-snapshot", "version": 9}`, "unsupported version 9"},
		{"addr", strings.Replace(good, `"addr":"0x7f0000001000"`, `"addr":"12"`, 1), "objects[0].addr"},
		{"edge target", strings.Replace(good, `[[1,"__dict__"]]`, `[[99,"__dict__"]]`, 1), "objects[0].edges[0]"},
		{"type", strings.Replace(good, `"type":0,`, `"type":77,`, 1), "objects[0].type"},
		{"root kind", strings.Replace(good, `"kind":"module","name":"app"`, `"kind":"planet","name":"app"`, 1), "roots[0].kind"},
		{"wrong type", `{"format": "objgraph-snapshot", "version": 1, "objects": [{"addr": 5}]}`, "objects.addr"},
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

func FuzzReadJSON(f *testing.F) {
	var buf bytes.Buffer
	must(f, heap.WriteJSON(&buf, sample(f)))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"objgraph-snapshot","version":1,"types":[{"name":"x"}],"objects":[{"addr":"0x1","type":0,"edges":[[0,"[5]"],[0,null]]}],"roots":[{"kind":"module","name":"m","target":0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := heap.ReadJSON(bytes.NewReader(data), heap.ReadOptions{Name: "fuzz.json"})
		if err != nil {
			var je *heap.JSONError
			if !errors.As(err, &je) {
				t.Fatalf("error %v is not a JSONError", err)
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
