package render_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-graphviz"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
	"github.com/objgraph-go/objgraph/objgraph/render"
)

func ExampleRender() {
	var svg bytes.Buffer
	err := render.Render(&svg, []byte(`digraph { a -> b [label="x"]; }`), render.SVG)
	fmt.Println(err, strings.Contains(svg.String(), "<svg"))
	// Output: <nil> true
}

func ExampleFormatFor() {
	for _, name := range []string{"graph.svg", "graph.dot", "graph.png", "graph.pdf"} {
		f, err := render.FormatFor(name)
		fmt.Printf("%q %v\n", f, err)
	}
	// Output:
	// "svg" <nil>
	// "dot" <nil>
	// "" PNG output is not supported: the bundled graphviz draws PNGs without edges or node outlines; write .svg (any browser shows it) or .dot
	// "" cannot tell the output format of "graph.pdf": name it .svg or .dot
}

// TestPNGStillBroken renders a -> b as PNG with go-graphviz and looks for the
// edge between the two nodes. When this test fails, go-graphviz's PNG output
// has been fixed and ErrPNG can go.
func TestPNGStillBroken(t *testing.T) {
	ctx := context.Background()
	g, err := graphviz.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	graph, err := graphviz.ParseBytes([]byte("digraph { a -> b }"))
	if err != nil {
		t.Fatal(err)
	}
	defer graph.Close()
	var buf bytes.Buffer
	if err := g.Render(ctx, graph, graphviz.PNG, &buf); err != nil {
		t.Fatalf("PNG rendering fails outright: %v", err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	// The nodes sit one above the other; halfway down, the edge crosses the
	// middle column.
	b := img.Bounds()
	cx := (b.Min.X + b.Max.X) / 2
	edge := false
	for y := b.Min.Y + b.Dy()*45/100; y < b.Min.Y+b.Dy()*55/100; y++ {
		for x := cx - 4; x <= cx+4; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r+g+bl)/3 < 0x8000 {
				edge = true
			}
		}
	}
	if edge {
		t.Error("go-graphviz now draws the edge of a -> b in PNG: check its PNG output and drop ErrPNG if it is right")
	}
}

// allTheChars is objgraph's docs/quoting.txt heap: a dict whose keys are
// the 256 characters chr(0) to chr(255), and one whose keys are the 256
// single bytes.
func allTheChars(t testing.TB) (*heap.Heap, []heap.ID) {
	b := heap.NewBuilder()
	tDict := b.AddType("dict", "builtins.dict")
	tInt := b.AddType("int", "builtins.int")
	d := b.AddObject(heap.Object{Addr: 0x1000, Type: tDict, Flags: heap.FlagTracked, Label: "256 items"})
	raw := b.AddObject(heap.Object{Addr: 0x1020, Type: tDict, Flags: heap.FlagTracked, Label: "256 items"})
	for i := range 256 {
		v := b.AddObject(heap.Object{Addr: 0x2000 + uint64(i)*0x20, Type: tInt, Label: fmt.Sprint(i)})
		b.AddEdge(d, v, string(rune(i)))
		b.AddEdge(raw, v, string([]byte{byte(i)}))
	}
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h, []heap.ID{d, raw}
}

// svgTexts renders dot and returns the text of every <text> element, after
// checking that the SVG is well-formed XML.
func svgTexts(t *testing.T, dot string) []string {
	t.Helper()
	var svg bytes.Buffer
	if err := render.Render(&svg, []byte(dot), render.SVG); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&svg)
	var texts []string
	in := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local == "text"
			if in {
				texts = append(texts, "")
			}
		case xml.EndElement:
			in = false
		case xml.CharData:
			if in {
				texts[len(texts)-1] += string(tok)
			}
		}
	}
	return texts
}

// TestQuotingSVG draws objgraph's quoting.txt graph and checks that graphviz
// reads the DOT, writes well-formed SVG, and shows every key as Python's repr
// would spell it.
func TestQuotingSVG(t *testing.T) {
	h, starts := allTheChars(t)
	var dot bytes.Buffer
	if _, err := objgraph.ShowRefs(&dot, h, starts, objgraph.GraphOptions{TooMany: 600}); err != nil {
		t.Fatal(err)
	}
	texts := map[string]int{}
	for _, s := range svgTexts(t, dot.String()) {
		texts[s]++
	}
	for _, want := range []string{`\x00`, `\x1f`, `\n`, `\t`, `\r`, `\x7f`, `\x80`, `\x9f`, `\xa0`, `\xad`,
		`"`, `\`, `&`, `<`, `>`, `'`, `é`, `ÿ`, `a`, `&amp;`[:1]} {
		if texts[want] == 0 {
			t.Errorf("no edge label reads %q", want)
		}
	}
	// Both dicts name an edge "\x80": the character and the byte.
	if texts[`\x80`] != 2 || texts[`\`] != 2 {
		t.Errorf(`labels \x80: %d, \: %d; want 2 each`, texts[`\x80`], texts[`\`])
	}
}

// TestLabelEndingInBackslash draws objgraph's bug #30 label.
func TestLabelEndingInBackslash(t *testing.T) {
	b := heap.NewBuilder()
	tStr := b.AddType("str", "builtins.str")
	s := b.AddObject(heap.Object{Addr: 0x1000, Type: tStr, Label: `'map(func, *iterables) --> map object\n\`})
	h, _ := b.Build()
	var dot bytes.Buffer
	objgraph.ShowRefs(&dot, h, []heap.ID{s}, objgraph.GraphOptions{})
	texts := svgTexts(t, dot.String())
	if len(texts) != 2 || texts[1] != `'map(func, *iterables) --> map object\n\` {
		t.Errorf("texts %q", texts)
	}
}

func TestRenderErrors(t *testing.T) {
	if err := render.Render(io.Discard, []byte("digraph {"), render.SVG); err == nil {
		t.Error("no error for bad DOT")
	}
	if err := render.Render(io.Discard, []byte("digraph {}"), "png"); !errors.Is(err, render.ErrPNG) {
		t.Errorf("png: %v", err)
	}
	if err := render.Render(io.Discard, []byte("digraph {}"), "gif"); err == nil {
		t.Error("no error for gif")
	}
	var out bytes.Buffer
	if err := render.Render(&out, []byte("digraph {}\n"), render.DOT); err != nil || out.String() != "digraph {}\n" {
		t.Errorf("dot: %q, %v", out.String(), err)
	}
	// A bad graph leaves the renderer usable.
	if err := render.Render(io.Discard, []byte("digraph { a }"), render.SVG); err != nil {
		t.Errorf("after a bad graph: %v", err)
	}
}

// TestConcurrent renders from several goroutines at once; run with -race.
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			errs[i] = render.Render(&out, []byte(fmt.Sprintf("digraph { a%d -> b }", i)), render.SVG)
			if errs[i] == nil && !strings.Contains(out.String(), fmt.Sprintf("a%d", i)) {
				errs[i] = fmt.Errorf("goroutine %d: wrong graph", i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// fanIn builds a heap where 500 objects refer, over three levels, to one
// target: 10 referrers, each with 7 referrers, each with 6, so that
// ShowBackrefs at its default depth of 3 draws 501 nodes.
func fanIn(t testing.TB) (*heap.Heap, heap.ID) {
	b := heap.NewBuilder()
	types := []heap.TypeID{b.AddType("dict", "builtins.dict"), b.AddType("list", "builtins.list"),
		b.AddType("Session", "app.models.Session"), b.AddType("function", "builtins.function")}
	addr := uint64(0x7f0000000000)
	add := func(level, i int) heap.ID {
		addr += 0x40
		return b.AddObject(heap.Object{Addr: addr, Type: types[(level+i)%len(types)], Size: 64, Refcount: 1,
			Flags: heap.FlagTracked, Label: fmt.Sprintf("<object %d at level %d>", i, level)})
	}
	target := add(0, 0)
	level := []heap.ID{target}
	for depth, fan := range []int{10, 7, 6} {
		var next []heap.ID
		for _, to := range level {
			for i := range fan {
				from := add(depth+1, len(next))
				b.AddEdge(from, to, fmt.Sprintf("attr_%d", i))
				next = append(next, from)
			}
		}
		level = next
	}
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return h, target
}

// BenchmarkBackrefs500SVG draws the back-reference graph of 501 nodes and
// renders it to SVG; render-s is the rendering alone.
func BenchmarkBackrefs500SVG(b *testing.B) {
	h, target := fanIn(b)
	var dot bytes.Buffer
	if n, _ := objgraph.ShowBackrefs(&dot, h, []heap.ID{target}, objgraph.GraphOptions{}); n != 501 {
		b.Fatalf("%d nodes", n)
	}
	if err := render.Render(io.Discard, dot.Bytes(), render.SVG); err != nil { // first use: start graphviz
		b.Fatal(err)
	}
	b.ReportAllocs()
	var renderTime float64
	for b.Loop() {
		var d, svg bytes.Buffer
		objgraph.ShowBackrefs(&d, h, []heap.ID{target}, objgraph.GraphOptions{})
		t0 := time.Now()
		if err := render.Render(&svg, d.Bytes(), render.SVG); err != nil {
			b.Fatal(err)
		}
		renderTime += time.Since(t0).Seconds()
	}
	b.ReportMetric(renderTime/float64(b.N), "render-s")
}
