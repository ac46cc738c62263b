// Objgraph-render draws a DOT graph as SVG with a graphviz built into the
// program, so no graphviz needs to be installed. The objgraph command runs it
// to draw graphs; it lives in a program of its own because loading that
// graphviz costs every program that links it time at start-up, and most
// objgraph commands draw nothing.
//
// Usage:
//
//	objgraph-render [-Tsvg|-Tdot] [-o OUTPUT] [INPUT]
//
// It reads DOT from INPUT, or from standard input when INPUT is absent or
// "-", and writes to OUTPUT, or to standard output. OUTPUT is created with
// mode 0600, since a graph of a snapshot carries its strings; a file that
// exists keeps its mode. -T names the format
// (svg, the default, or dot); -Tpng is refused, because the built-in
// graphviz draws broken PNGs. The arguments follow graphviz's dot, so the
// program can stand in for dot where only these are used. The exit status is
// 0 on success, 1 on failure and 2 on a usage error.
//
// Install it next to objgraph:
//
//	go install github.com/objgraph-go/objgraph/cmd/objgraph/objgraph-render@latest
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/objgraph-go/objgraph/internal/atomicfile"
	"github.com/objgraph-go/objgraph/objgraph/render"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	format, in, out := render.SVG, "", ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprintln(stdout, "usage: objgraph-render [-Tsvg|-Tdot] [-o OUTPUT] [INPUT]")
			return 0
		case a == "-T" || a == "-o":
			if i+1 == len(args) {
				fmt.Fprintf(stderr, "objgraph-render: %s needs a value\n", a)
				return 2
			}
			i++
			if a == "-T" {
				format = render.Format(args[i])
			} else {
				out = args[i]
			}
		case strings.HasPrefix(a, "-T"):
			format = render.Format(a[2:])
		case strings.HasPrefix(a, "-o"):
			out = a[2:]
		case a != "-" && strings.HasPrefix(a, "-"):
			fmt.Fprintf(stderr, "objgraph-render: unknown flag %s\n", a)
			return 2
		case in != "":
			fmt.Fprintf(stderr, "objgraph-render: unexpected argument %q\n", a)
			return 2
		default:
			in = a
		}
	}
	switch format {
	case render.SVG, render.DOT:
	case "png":
		fmt.Fprintf(stderr, "objgraph-render: %v\n", render.ErrPNG)
		return 2
	default:
		fmt.Fprintf(stderr, "objgraph-render: unknown format %q: use svg or dot\n", format)
		return 2
	}
	var dot []byte
	var err error
	if in == "" || in == "-" {
		dot, err = io.ReadAll(stdin)
	} else {
		dot, err = os.ReadFile(in)
	}
	if err != nil {
		fmt.Fprintf(stderr, "objgraph-render: %v\n", err)
		return 1
	}
	if out == "" || out == "-" {
		err = render.Render(stdout, dot, format)
	} else {
		// a drawing of a snapshot's objects carries their labels: private,
		// as objgraph writes its outputs
		err = atomicfile.Write(out, 0o600, func(w io.Writer) error { return render.Render(w, dot, format) })
	}
	if err != nil {
		fmt.Fprintf(stderr, "objgraph-render: %v\n", err)
		return 1
	}
	return 0
}
