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

// graphRenderer finds the renderer an output name needs: objgraph-render
// for SVG, none ("") for DOT. Commands call it before they read the
// snapshot, so that a missing renderer is reported, or built, first.
func (c *cmdEnv) graphRenderer(out string) (string, error) {
	format, err := graphFormat(out)
	if err != nil || format != "svg" {
		return "", err
	}
	return c.findRenderer()
}

// writeGraph writes a DOT graph to out in the format its name asks for,
// drawing SVG with render, the program graphRenderer found.
func (c *cmdEnv) writeGraph(out, render string, dot []byte) error {
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
	return atomicfile.Write(out, outputMode, func(w io.Writer) error {
		cmd := exec.Command(render, "-Tsvg")
		cmd.Stdin = bytes.NewReader(dot)
		cmd.Stdout = w
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return fmt.Errorf("drawing SVG with %s: %s", render, msg)
		}
		return nil
	})
}

// findRenderer finds objgraph-render: where $OBJGRAPH_RENDER says (an
// error if it is not there), next to this program, or on PATH; else, in a checkout of this module, it builds
// it (see goBuildRenderer).
func (c *cmdEnv) findRenderer() (string, error) {
	if p := os.Getenv(renderEnv); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("$%s: %w", renderEnv, err)
		}
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
	p, err := c.goBuildRenderer(name)
	if err == nil {
		return p, nil
	}
	msg := "drawing SVG needs the objgraph-render program, next to objgraph or on PATH (or named by $" + renderEnv + "); install it with\n\t" +
		renderInstall + "\nor write the graph as .dot"
	if !errors.Is(err, errNoModule) {
		msg += " (building it here failed: " + err.Error() + ")"
	}
	return "", errors.New(msg)
}

// renderPkg is the import path of the rendering helper.
const renderPkg = "github.com/objgraph-go/objgraph/cmd/objgraph/objgraph-render"

// errNoModule is goBuildRenderer's error when there is nothing to build
// objgraph-render from.
var errNoModule = errors.New("no go command, or objgraph-render is not in the current module")

// goBuildRenderer covers "go run ./cmd/objgraph" in a checkout, where no
// objgraph-render was installed: when the go command can build the helper
// from the current module, it builds it into the user cache directory (the
// go build cache makes later builds quick) and returns its path. It returns
// errNoModule when there is nothing to build from.
func (c *cmdEnv) goBuildRenderer(name string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", errNoModule
	}
	if exec.Command(gobin, "list", renderPkg).Run() != nil {
		return "", errNoModule
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return buildRenderer(c.stderr, filepath.Join(dir, "objgraph"), name, func(out string) error {
		msg, err := exec.Command(gobin, "build", "-o", out, renderPkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build: %w: %s", err, bytes.TrimSpace(msg))
		}
		return nil
	})
}

// buildRenderer builds the renderer into dir/name with build, which writes
// the program to the path it is given, and returns dir/name. The first
// build, which can take minutes, is announced on stderr. Concurrent builds
// are safe: each builds into a directory of its own in dir and renames the
// result into place, so dir/name is always a whole program.
func buildRenderer(stderr io.Writer, dir, name string, build func(out string) error) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	if _, err := os.Stat(out); err != nil {
		fmt.Fprintf(stderr, "objgraph: building %s (first use; this can take a few minutes)...\n", name)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	built := filepath.Join(tmp, name)
	if err := build(built); err != nil {
		return "", err
	}
	if err := os.Rename(built, out); err != nil {
		// Windows does not replace a program that is running; one that
		// another build put there will do.
		if _, serr := os.Stat(out); serr != nil {
			return "", err
		}
	}
	return out, nil
}
