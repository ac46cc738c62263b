package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/objgraph-go/objgraph/internal/atomicfile"
)

// Graphs are drawn to SVG by the objgraph-render program, not in this one:
// the graphviz it links (go-graphviz, compiled to WebAssembly) costs every
// program that links it time at start-up, about a second on a machine's
// first run, and most commands draw nothing.

// renderEnv names the environment variable that points at objgraph-render.
const renderEnv = "OBJGRAPH_RENDER"

const renderInstall = "go install github.com/objgraph-go/objgraph/cmd/objgraph/objgraph-render@latest"

// graphFormat is the format an output name asks for: "dot" (also for "-",
// standard output) or "svg". Any other name is a usage error, given before
// any work is done.
func graphFormat(out string) (string, error) {
	if out == "-" {
		return "dot", nil
	}
	switch ext := strings.ToLower(filepath.Ext(out)); ext {
	case ".dot", ".gv":
		return "dot", nil
	case ".svg":
		return "svg", nil
	case ".png":
		return "", usagef("-o %s: PNG output is not supported: the bundled graphviz draws PNGs without edges or node outlines; write .svg (any browser shows it) or .dot", out)
	default:
		return "", usagef("-o %s: cannot tell the output format: name it .svg or .dot (or - for DOT on standard output)", out)
	}
}

// writeGraph writes a DOT graph to out in the format its name asks for.
func (c *cmdEnv) writeGraph(out string, dot []byte) error {
	format, err := graphFormat(out)
	if err != nil {
		return err
	}
	if out == "-" {
		_, err := c.stdout.Write(dot)
		return err
	}
	if format == "dot" {
		return atomicfile.Write(out, outputMode, func(w io.Writer) error {
			_, err := w.Write(dot)
			return err
		})
	}
	prog, err := findRenderer()
	if err != nil {
		return err
	}
	return atomicfile.Write(out, outputMode, func(w io.Writer) error {
		cmd := exec.Command(prog, "-Tsvg")
		cmd.Stdin = bytes.NewReader(dot)
		cmd.Stdout = w
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return fmt.Errorf("drawing SVG with %s: %s", prog, msg)
		}
		return nil
	})
}

// findRenderer finds objgraph-render: where $OBJGRAPH_RENDER says, next to
// this program, or on PATH.
func findRenderer() (string, error) {
	if p := os.Getenv(renderEnv); p != "" {
		return p, nil
	}
	name := "objgraph-render"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if p, ok := buildRenderer(name); ok {
		return p, nil
	}
	return "", errors.New("drawing SVG needs the objgraph-render program, next to objgraph or on PATH (or named by $" + renderEnv + "); install it with\n\t" +
		renderInstall + "\nor write the graph as .dot")
}

// renderPkg is the import path of the rendering helper.
const renderPkg = "github.com/objgraph-go/objgraph/cmd/objgraph/objgraph-render"

// buildRenderer covers "go run ./cmd/objgraph" in a checkout, where no
// objgraph-render was installed: when the go command can build the helper
// from the current module, it builds it into the user cache directory (the
// go build cache makes later builds quick) and returns its path.
func buildRenderer(name string) (string, bool) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", false
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", false
	}
	dir = filepath.Join(dir, "objgraph")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(gobin, "build", "-o", out, renderPkg)
	if cmd.Run() != nil {
		return "", false
	}
	return out, true
}
