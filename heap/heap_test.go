package heap_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
)

// sample builds a small Python-like heap: a module whose dict holds a cache
// list of Foo instances, a self-referencing pair, and a str.
func sample(t testing.TB) *heap.Heap {
	t.Helper()
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{
		Producer: "test", Runtime: "CPython", Version: "3.11.7", PID: 42, Argv: []string{"python3", "app.py"},
		Time:        time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		PointerSize: 8, GCHeaderSize: 16, PageSize: 4096,
		GC:    &heap.GCState{Enabled: true, Thresholds: []int{700, 10, 10}, Counts: []int{5, 1, 0}},
		Extra: map[string]json.RawMessage{"custom": json.RawMessage(`{"x":1}`)},
	})
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	tFoo := b.AddType("Foo", "app.Foo")
	tStr := b.AddType("str", "builtins.str")
	tracked := heap.FlagTracked.WithGeneration(2)
	mod := b.AddObject(heap.Object{Addr: 0x7f0000001000, Type: tMod, Size: 72, Refcount: 3, Flags: tracked.WithKind(heap.KindModule), Label: "app"})
	md := b.AddObject(heap.Object{Addr: 0x7f0000002000, Type: tDict, Size: 1200, Refcount: 1, Flags: tracked, Label: "3 items"})
	cache := b.AddObject(heap.Object{Addr: 0x7f0000003000, Type: tList, Size: 88, Refcount: 1, Flags: tracked.WithGeneration(0), Label: "2 items"})
	f1 := b.AddObject(heap.Object{Addr: 0x7f0000004000, Type: tFoo, Size: 48, Refcount: 1, Flags: tracked | heap.FlagHasDel})
	f2 := b.AddObject(heap.Object{Addr: 0x7f0000004040, Type: tFoo, Size: 48, Refcount: 2, Flags: tracked})
	s := b.AddObject(heap.Object{Addr: 0x5500000010, Type: tStr, Size: 54, Refcount: 4294967295, Flags: heap.FlagImmortal, Label: "'hello'"})
	b.AddEdge(mod, md, "__dict__")
	b.AddEdge(md, cache, "cache")
	b.AddEdge(md, s, "greeting")
	b.AddIndexEdge(cache, f1, 0)
	b.AddIndexEdge(cache, f2, 1)
	b.AddEdge(f1, f2, "peer")
	b.AddEdge(f2, f1, "peer")
	b.AddEdge(f2, s, "")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	b.AddRoot(heap.Root{Kind: heap.RootLocal, Name: "MainThread: main: x", Target: f2, Thread: 140000, Depth: 1})
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// dump renders everything observable about a heap, for comparisons.
func dump(h *heap.Heap) string {
	var sb strings.Builder
	m, _ := json.Marshal(h.Meta())
	fmt.Fprintf(&sb, "meta %s\n", m)
	for t := range h.NumTypes() {
		tid := heap.TypeID(t)
		fmt.Fprintf(&sb, "type %d %s %s %#x\n", t, h.TypeShortName(tid), h.TypeQualName(tid), h.TypeAddr(tid))
	}
	for id := range h.All() {
		fmt.Fprintf(&sb, "obj %d %#x %s size=%d rc=%d flags=%#x label=%q\n", id, h.Addr(id), h.TypeName(id),
			h.Size(id), h.Refcount(id), h.Flags(id), h.Label(id))
		for to, name := range h.Edges(id) {
			fmt.Fprintf(&sb, "  -> %d %q\n", to, name)
		}
	}
	for from, to := range h.WeakEdges() {
		fmt.Fprintf(&sb, "weak %d -> %d\n", from, to)
	}
	for _, r := range h.Roots() {
		fmt.Fprintf(&sb, "root %s %q %d %d %d\n", r.Kind, r.Name, r.Target, r.Thread, r.Depth)
	}
	fmt.Fprintf(&sb, "dangling %d\n", h.DanglingEdges())
	return sb.String()
}

func encode(t testing.TB, h *heap.Heap, opts heap.EncoderOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := heap.Write(&buf, h, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	h := sample(t)
	want := dump(h)
	for _, tc := range []struct {
		name string
		opts heap.EncoderOptions
	}{
		{"default", heap.EncoderOptions{}},
		{"raw", heap.EncoderOptions{NoCompression: true}},
		{"batch2", heap.EncoderOptions{BatchSize: 2}},
		{"batch1", heap.EncoderOptions{BatchSize: 1, NoCompression: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, h, tc.opts)
			// both the ReaderAt path and the plain stream path
			for _, r := range []interface{ Read([]byte) (int, error) }{bytes.NewReader(data), onlyReader{bytes.NewReader(data)}} {
				got, err := heap.Read(r, heap.ReadOptions{Name: "mem.ogs"})
				if err != nil {
					t.Fatal(err)
				}
				if d := dump(got); d != want {
					t.Errorf("round trip differs:\n got: %s\nwant: %s", d, want)
				}
			}
		})
	}
}

type onlyReader struct{ r *bytes.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.ogs")
	if err := os.WriteFile(path, encode(t, sample(t), heap.EncoderOptions{}), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := heap.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != 6 || h.NumEdges() != 8 {
		t.Errorf("got %d objects %d edges, want 6 and 8", h.Len(), h.NumEdges())
	}
	if _, err := heap.ReadFile(filepath.Join(t.TempDir(), "missing.ogs")); err == nil || !strings.Contains(err.Error(), "missing.ogs") {
		t.Errorf("missing file: error %v does not name the file", err)
	}
}

func TestAccessors(t *testing.T) {
	h := sample(t)
	id, ok := h.Lookup(0x7f0000004040)
	if !ok || h.TypeName(id) != "Foo" {
		t.Fatalf("Lookup(0x7f0000004040) = %d, %v", id, ok)
	}
	if _, ok := h.Lookup(0x7f0000004041); ok {
		t.Error("Lookup of an address between objects found something")
	}
	if got := h.Referrers(id); !slices.Equal(got, []heap.ID{2, 3}) {
		t.Errorf("Referrers(f2) = %v, want [2 3]", got)
	}
	if got := h.NumReferrers(5); got != 2 {
		t.Errorf("NumReferrers(str) = %d, want 2", got)
	}
	if got := h.TypesNamed("Foo"); len(got) != 1 || h.TypeQualName(got[0]) != "app.Foo" {
		t.Errorf("TypesNamed(Foo) = %v", got)
	}
	if got := h.TypesNamed("builtins.dict"); len(got) != 1 {
		t.Errorf("TypesNamed(builtins.dict) = %v", got)
	}
	if got := h.TypesNamed("nope"); got != nil {
		t.Errorf("TypesNamed(nope) = %v", got)
	}
	f := h.Flags(0)
	if !f.Tracked() || f.Generation() != 2 || f.Kind() != heap.KindModule {
		t.Errorf("module flags %#x: tracked=%v gen=%d kind=%v", f, f.Tracked(), f.Generation(), f.Kind())
	}
	if !h.Flags(3).HasDel() || !h.Flags(5).Immortal() || h.Flags(5).Tracked() {
		t.Error("flag accessors disagree with the flags set")
	}
	if got := h.TotalSize(); got != 72+1200+88+48+48+54 {
		t.Errorf("TotalSize = %d", got)
	}
	lo, hi := h.EdgeRange(2)
	if h.EdgeName(lo) != "[0]" || h.EdgeName(hi-1) != "[1]" {
		t.Errorf("index edge names: %q %q", h.EdgeName(lo), h.EdgeName(hi-1))
	}
	if m := h.Meta(); string(m.Extra["custom"]) != `{"x":1}` {
		t.Errorf("meta extra lost: %v", m.Extra)
	}
}

func TestEmptyHeap(t *testing.T) {
	h, err := heap.NewBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	got, err := heap.Read(bytes.NewReader(encode(t, h, heap.EncoderOptions{})), heap.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 0 || got.NumEdges() != 0 || len(got.Roots()) != 0 {
		t.Errorf("empty heap read back as %d objects", got.Len())
	}
}

func TestBuilderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		fill func(b *heap.Builder)
		want string
	}{
		{"duplicate address", func(b *heap.Builder) {
			ty := b.AddType("x", "")
			b.AddObject(heap.Object{Addr: 1, Type: ty})
			b.AddObject(heap.Object{Addr: 1, Type: ty})
		}, "share address 0x1"},
		{"edge out of range", func(b *heap.Builder) {
			ty := b.AddType("x", "")
			b.AddEdge(b.AddObject(heap.Object{Addr: 1, Type: ty}), 7, "")
		}, "out of range"},
		{"unknown type", func(b *heap.Builder) { b.AddObject(heap.Object{Addr: 1, Type: 3}) }, "unknown type"},
		{"root out of range", func(b *heap.Builder) { b.AddRoot(heap.Root{Kind: heap.RootModule, Target: 2}) }, "out of range"},
		{"root kind", func(b *heap.Builder) {
			ty := b.AddType("x", "")
			b.AddRoot(heap.Root{Kind: 0, Target: b.AddObject(heap.Object{Addr: 1, Type: ty})})
		}, "bad kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := heap.NewBuilder()
			tc.fill(b)
			_, err := b.Build()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDanglingEdges(t *testing.T) {
	var buf bytes.Buffer
	e, err := heap.NewEncoder(&buf, nil, heap.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ty := e.Type("list", "builtins.list", 0)
	x := e.Name("x")
	must(t, e.Object(heap.Object{Addr: 10, Type: ty}, []heap.Edge{{Target: 99, Name: x}, {Target: 20, Name: heap.IndexName(1)}, {Target: 98}}))
	must(t, e.Object(heap.Object{Addr: 20, Type: ty}, []heap.Edge{{Target: 10, Name: x}}))
	must(t, e.Root(heap.Root{Kind: heap.RootModule, Name: "m"}, 10))
	must(t, e.Root(heap.Root{Kind: heap.RootModule, Name: "gone"}, 12345))
	must(t, e.Close())
	h, err := heap.Read(&buf, heap.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.DanglingEdges() != 3 || h.NumEdges() != 2 || len(h.Roots()) != 1 {
		t.Fatalf("dangling %d, edges %d, roots %d; want 3, 2, 1", h.DanglingEdges(), h.NumEdges(), len(h.Roots()))
	}
	lo, _ := h.EdgeRange(0)
	if h.EdgeTarget(lo) != 1 || h.EdgeName(lo) != "[1]" {
		t.Errorf("kept edge is %d %q", h.EdgeTarget(lo), h.EdgeName(lo))
	}
	lo, _ = h.EdgeRange(1)
	if h.EdgeTarget(lo) != 0 || h.EdgeName(lo) != "x" {
		t.Errorf("second object's edge is %d %q", h.EdgeTarget(lo), h.EdgeName(lo))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFormatErrorType(t *testing.T) {
	_, err := heap.Read(bytes.NewReader([]byte("not a snapshot at all")), heap.ReadOptions{Name: "x.ogs"})
	var fe *heap.FormatError
	if !errors.As(err, &fe) || fe.File != "x.ogs" {
		t.Fatalf("error %v is not a FormatError for x.ogs", err)
	}
}

func TestMetaJSON(t *testing.T) {
	var m heap.Meta
	in := `{"runtime":"CPython","pid":7,"future_key":[1,2],"gc":{"enabled":false,"thresholds":[700,10,10],"counts":[1,2,3],"freeze_count":9}}`
	must(t, json.Unmarshal([]byte(in), &m))
	if m.Runtime != "CPython" || m.PID != 7 || m.GC.FreezeCount != 9 || string(m.Extra["future_key"]) != "[1,2]" {
		t.Fatalf("parsed %+v", m)
	}
	out, err := json.Marshal(m)
	must(t, err)
	var a, b map[string]any
	must(t, json.Unmarshal([]byte(in), &a))
	must(t, json.Unmarshal(out, &b))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("meta JSON round trip:\n in %s\nout %s", in, out)
	}
}

// TestWriteWithinLimits writes a heap whose columns compress better than
// the format's size limits allow a record to expand (narrow addresses, long
// identical labels): the writer must store what it has to as it is, so that
// the file reads back.
func TestWriteWithinLimits(t *testing.T) {
	b := heap.NewBuilder()
	typ := b.AddType("str", "builtins.str")
	label := strings.Repeat("x", 250)
	for i := range 5000 {
		b.AddObject(heap.Object{Addr: 0x1000 + 16*uint64(i), Type: typ, Size: 300, Refcount: 1, Label: label})
	}
	h, err := b.Build()
	must(t, err)
	for _, opts := range []heap.EncoderOptions{{}, {BatchSize: 1000}} {
		data := encode(t, h, opts)
		got, err := heap.Read(bytes.NewReader(data), heap.ReadOptions{Name: "limits.ogs"})
		if err != nil {
			t.Fatalf("reading what the writer wrote: %v", err)
		}
		if dump(got) != dump(h) {
			t.Error("the heap read back differs")
		}
	}
}
