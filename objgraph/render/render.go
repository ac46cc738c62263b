// Package render draws DOT graphs as SVG with github.com/goccy/go-graphviz:
// graphviz compiled to WebAssembly and run in pure Go, so no graphviz needs
// to be installed.
//
// Importing this package has a cost at program start, before main runs:
// go-graphviz compiles its WebAssembly module in its package initializer.
// That takes about a second the first time on a machine and about 50 ms
// after that, when the compiled code comes from go-graphviz's cache in
// $TMPDIR/go-graphviz. Programs that draw only now and then can leave the
// import to a helper program, as the objgraph command does with
// objgraph-render.
//
// go-graphviz must not be used from two goroutines at once; this package
// serialises all calls with one lock.
package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/goccy/go-graphviz"
)

// Format is an output format.
type Format string

// Output formats.
const (
	DOT Format = "dot" // the graph's own DOT text, unchanged
	SVG Format = "svg" // drawn by graphviz's dot layout
)

// ErrPNG is the error for PNG output. go-graphviz's PNG renderer leaves out
// edge lines and node outlines (checked by TestPNGStillBroken), so this
// package does not offer it.
var ErrPNG = errors.New("PNG output is not supported: the bundled graphviz draws PNGs without edges or node outlines; write .svg (any browser shows it) or .dot")

// FormatFor picks the format from a file name's extension: .dot, .gv or
// .svg. A .png name gets ErrPNG, any other an error that lists the choices.
func FormatFor(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".dot", ".gv":
		return DOT, nil
	case ".svg":
		return SVG, nil
	case ".png":
		return "", ErrPNG
	default:
		return "", fmt.Errorf("cannot tell the output format of %q: name it .svg or .dot", path)
	}
}

var (
	mu sync.Mutex         // serialises every use of gv
	gv *graphviz.Graphviz // created on first use, kept for the life of the program
)

// Render writes the graph described by dot (DOT text) to w in format f.
func Render(w io.Writer, dot []byte, f Format) error {
	switch f {
	case DOT:
		_, err := w.Write(dot)
		return err
	case SVG:
	case "png":
		return ErrPNG
	default:
		return fmt.Errorf("rendering graph: unknown format %q", f)
	}
	var buf bytes.Buffer
	if err := renderLocked(&buf, dot, graphviz.SVG); err != nil {
		return fmt.Errorf("rendering graph: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func renderLocked(w io.Writer, dot []byte, f graphviz.Format) error {
	mu.Lock()
	defer mu.Unlock()
	ctx := context.Background()
	if gv == nil {
		g, err := graphviz.New(ctx)
		if err != nil {
			return err
		}
		gv = g
	}
	graph, err := graphviz.ParseBytes(dot)
	if err != nil {
		return fmt.Errorf("parsing DOT: %w", err)
	}
	if graph == nil {
		return errors.New("parsing DOT: no graph")
	}
	defer graph.Close()
	return gv.Render(ctx, graph, f, w)
}
