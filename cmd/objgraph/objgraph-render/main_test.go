package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "g.dot")
	os.WriteFile(in, []byte(`digraph { a -> b [label="x\\"]; }`), 0o644)
	out := filepath.Join(dir, "g.svg")
	for _, tc := range []struct {
		args   []string
		stdin  string
		code   int
		stdout string // a substring
		stderr string // a substring
	}{
		{[]string{"-Tsvg"}, "digraph { a -> b }", 0, "<svg", ""},
		{[]string{"-T", "svg", "-"}, "digraph { a -> b }", 0, "<svg", ""},
		{[]string{}, "digraph { a -> b }", 0, "<svg", ""},
		{[]string{"-Tdot", in}, "", 0, `label="x\\"`, ""},
		{[]string{"-Tsvg", "-o", out, in}, "", 0, "", ""},
		{[]string{"-Tpng"}, "digraph {}", 2, "", "PNG output is not supported"},
		{[]string{"-Tgif"}, "digraph {}", 2, "", `unknown format "gif"`},
		{[]string{"-x"}, "", 2, "", "unknown flag -x"},
		{[]string{"-o"}, "", 2, "", "-o needs a value"},
		{[]string{in, in}, "", 2, "", "unexpected argument"},
		{[]string{filepath.Join(dir, "missing.dot")}, "", 1, "", "missing.dot"},
		{[]string{"-Tsvg"}, "digraph {", 1, "", "parsing DOT"},
		{[]string{"--help"}, "", 0, "usage: objgraph-render", ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("objgraph-render %q: exit %d\nstdout %.100q\nstderr %q", tc.args, code, stdout.String(), stderr.String())
		}
	}
	if svg, err := os.ReadFile(out); err != nil || !bytes.Contains(svg, []byte("x\\</text>")) {
		t.Errorf("-o %s: %v\n%.300s", out, err, svg)
	}
}

// TestOutputMode checks that a drawing is created private (0600), as
// objgraph's outputs are, and that a file that exists keeps its mode.
func TestOutputMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	out := filepath.Join(t.TempDir(), "g.dot")
	for _, want := range []os.FileMode{0o600, 0o644} {
		var stderr bytes.Buffer
		if code := run([]string{"-Tdot", "-o", out}, strings.NewReader("digraph { a -> b }"), io.Discard, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if st, err := os.Stat(out); err != nil || st.Mode().Perm() != want {
			t.Errorf("mode %v (%v), want %v", st.Mode().Perm(), err, want)
		}
		os.Chmod(out, 0o644)
	}
}
