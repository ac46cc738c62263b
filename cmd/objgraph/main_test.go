package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/golden"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// fixture writes a small snapshot and returns its path.
func fixture(t *testing.T) string {
	t.Helper()
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.11.7", PID: 99})
	tDict := b.AddType("dict", "builtins.dict")
	tFoo := b.AddType("Foo", "app.Foo")
	tStr := b.AddType("str", "builtins.str")
	tr := heap.FlagTracked
	d := b.AddObject(heap.Object{Addr: 0x1000, Type: tDict, Size: 232, Refcount: 1, Flags: tr, Label: "2 items"})
	for i := range 3 {
		f := b.AddObject(heap.Object{Addr: 0x2000 + uint64(i)*0x40, Type: tFoo, Size: 56, Refcount: 1, Flags: tr})
		b.AddEdge(d, f, "k")
	}
	s := b.AddObject(heap.Object{Addr: 0x3000, Type: tStr, Size: 54, Refcount: 2, Label: "'x'"})
	b.AddEdge(d, s, "name")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: d})
	return writeSnapshot(t, b, "snap.ogs")
}

// writeSnapshot builds b and writes the heap to a file of that name in a
// temporary directory, returning its path.
func writeSnapshot(t *testing.T, b *heap.Builder, name string) string {
	t.Helper()
	h, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := heap.Write(f, h, heap.EncoderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (stdout, stderr string, code int) {
	return runStdin(strings.NewReader(""), args...)
}

// runStdin runs objgraph with stdin as its standard input.
func runStdin(stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, stdin, &o, &e)
	return o.String(), e.String(), code
}

func TestTop(t *testing.T) {
	snap := fixture(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"top", []string{"top"}},
		{"top-all", []string{"top", "--all"}},
		{"top-limit", []string{"top", "-n", "1", "--qualified"}},
		{"top-bytes", []string{"top", "--bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(append(tc.args, snap)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			out = strings.ReplaceAll(out, snap, "SNAP")
			golden.Check(t, tc.name+".stdout", out)
			golden.Check(t, tc.name+".stderr", errOut)
		})
	}
}

func TestTopJSON(t *testing.T) {
	out, _, code := runCLI("top", "--json", "--all", fixture(t))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v struct {
		Snapshot struct{ Objects, Tracked int }
		Types    int
		Top      []struct {
			Type  string
			Count int
			Bytes uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v.Snapshot.Objects != 5 || v.Snapshot.Tracked != 4 || v.Types != 3 || v.Top[0].Type != "Foo" || v.Top[0].Count != 3 || v.Top[0].Bytes != 168 {
		t.Errorf("unexpected JSON: %s", out)
	}
}

func TestConvert(t *testing.T) {
	snap := fixture(t)
	dir := t.TempDir()
	js := filepath.Join(dir, "s.json")
	if _, e, code := runCLI("convert", snap, "--to", "json", "-o", js); code != 0 {
		t.Fatalf("convert to json: %s", e)
	}
	back := filepath.Join(dir, "back.ogs")
	if _, e, code := runCLI("convert", js, "--to", "ogs", "-o", back); code != 0 {
		t.Fatalf("convert back: %s", e)
	}
	a, _, _ := runCLI("top", "--json", snap)
	b, _, _ := runCLI("top", "--json", back)
	a = strings.ReplaceAll(a, snap, "X")
	b = strings.ReplaceAll(b, back, "X")
	if a != b {
		t.Errorf("top differs after a JSON round trip:\n%s\n%s", a, b)
	}
	out, _, code := runCLI("convert", snap)
	if code != 0 || !strings.HasPrefix(out, `{"format":"objgraph-snapshot"`) {
		t.Errorf("convert to stdout: exit %d, %.60s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	snap := fixture(t)
	bad := filepath.Join(t.TempDir(), "bad.ogs")
	os.WriteFile(bad, []byte("\x89OGSNAP\n\x01\x00\x00\x00\x00\x00\x00\x00garbage"), 0o600)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{}, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"top"}, 2, "missing SNAPSHOT"},
		{[]string{"top", snap, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"top", "--no-such-flag", snap}, 2, "unknown flag"},
		{[]string{"top", "-n", "-1", snap}, 2, "--limit"},
		{[]string{"top", "missing.ogs"}, 1, "missing.ogs"},
		{[]string{"top", bad}, 1, "reading snapshot " + bad + ": record 0"},
		{[]string{"convert", "--to", "xml", snap}, 2, "--to must be json or ogs"},
		{[]string{"top", "--help"}, 0, ""},
		{[]string{"help", "top"}, 0, ""},
		{[]string{"version"}, 0, ""},
	} {
		_, errOut, code := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("objgraph %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.stderr)
		}
	}
}

// pipeOnly hides everything but Read, as a pipe on standard input does.
type pipeOnly struct{ r io.Reader }

func (p pipeOnly) Read(b []byte) (int, error) { return p.r.Read(b) }

// TestSnapshotSources reads a snapshot from a file, from standard input
// ("-"), through a pipe named as process substitution names it
// (/dev/fd/N), and in its JSON form the same ways; every way prints the same.
func TestSnapshotSources(t *testing.T) {
	snap := fixture(t)
	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	js, _, code := runCLI("convert", snap)
	if code != 0 {
		t.Fatal("convert failed")
	}
	want, _, _ := runCLI("top", "--json", snap)
	want = strings.ReplaceAll(want, snap, "SNAP")
	for _, form := range []struct {
		name string
		data []byte
	}{{"ogs", data}, {"json", []byte(js)}, {"json with a byte-order mark and a tab", []byte("\xEF\xBB\xBF\t" + js)}} {
		t.Run(form.name+" on stdin", func(t *testing.T) {
			out, errOut, code := runStdin(pipeOnly{bytes.NewReader(form.data)}, "top", "--json", "-")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if out = strings.ReplaceAll(out, `"-"`, `"SNAP"`); out != want {
				t.Errorf("top - printed\n%s\nwant\n%s", out, want)
			}
		})
		t.Run(form.name+" through a pipe", func(t *testing.T) {
			if _, err := os.Stat("/dev/fd/0"); err != nil {
				testenv.Missing(t, "no /dev/fd")
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			go func() {
				w.Write(form.data)
				w.Close()
			}()
			path := "/dev/fd/" + strconv.Itoa(int(r.Fd()))
			out, errOut, code := runCLI("top", "--json", path)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if out = strings.ReplaceAll(out, path, "SNAP"); out != want {
				t.Errorf("top %s printed\n%s\nwant\n%s", path, out, want)
			}
		})
	}
	t.Run("stdin twice", func(t *testing.T) {
		_, errOut, code := runStdin(bytes.NewReader(data), "newids", "-", "-")
		if code != 2 || !strings.Contains(errOut, "standard input (-) can be read only once") {
			t.Errorf("newids - -: exit %d, %s", code, errOut)
		}
	})
}

// TestNotASnapshot refuses input of neither form at once, from its first
// bytes, naming it: an endless device of zeros and text.
func TestNotASnapshot(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		testenv.Missing(t, "no /dev/zero")
	}
	text := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(text, []byte("hello\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"top", "/dev/zero"}, `objgraph: reading snapshot /dev/zero: offset 0x0: not an objgraph snapshot: it starts with "\x00\x00\x00\x00\x00\x00\x00\x00"`},
		{[]string{"leaks", fixture(t), "/dev/zero"}, "reading snapshot /dev/zero: offset 0x0: not an objgraph snapshot"},
		{[]string{"top", text}, `reading snapshot ` + text + `: offset 0x0: not an objgraph snapshot: it starts with "hello\n"`},
	} {
		_, errOut, code := runCLI(tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("objgraph %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
	// zeros on standard input, for ever
	_, errOut, code := runStdin(pipeOnly{zeros{}}, "top", "-")
	if want := "reading snapshot <stdin>: offset 0x0: not an objgraph snapshot"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("top - < /dev/zero: exit %d, stderr %q; want %q", code, errOut, want)
	}
}

// zeros reads as an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestOutputModes checks that every file a command writes from a snapshot is
// created private (0600), that a file replaced keeps its mode, and that a
// failed write leaves nothing under the final name.
func TestOutputModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	snap := fixture(t)
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }
	// a renderer that draws every graph as the same SVG, and one that
	// writes half a file and fails
	draw := out("draw.sh")
	os.WriteFile(draw, []byte("#!/bin/sh\ncat >/dev/null\necho '<svg/>'\n"), 0o755)
	broken := out("broken.sh")
	os.WriteFile(broken, []byte("#!/bin/sh\ncat >/dev/null\necho '<svg'\necho 'renderer crashed' >&2\nexit 1\n"), 0o755)
	for _, tc := range []struct {
		name string
		args []string
		file string
	}{
		{"convert to json", []string{"convert", snap, "-o"}, "s.json"},
		{"convert to ogs", []string{"convert", snap, "--to", "ogs", "-o"}, "s.ogs"},
		{"pprof", []string{"pprof", snap, "-o"}, "s.pb.gz"},
		{"backrefs dot", []string{"backrefs", snap, "--type", "Foo", "-o"}, "s.dot"},
		{"refs svg", []string{"refs", snap, "--type", "dict", "-o"}, "s.svg"},
		{"chain dot", []string{"chain", snap, "--type", "Foo", "-o"}, "chain.dot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(renderEnv, draw)
			path := out(tc.file)
			if _, errOut, code := runCLI(append(tc.args, path)...); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: mode %v (%v), want 0600", tc.file, st.Mode().Perm(), err)
			}
			// a file the user opened up keeps its mode when written again
			os.Chmod(path, 0o644)
			if _, errOut, code := runCLI(append(tc.args, path)...); code != 0 {
				t.Fatalf("again: exit %d: %s", code, errOut)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
				t.Errorf("%s written again: mode %v, want the 0644 it had", tc.file, st.Mode().Perm())
			}
		})
	}
	t.Run("failed drawing", func(t *testing.T) {
		t.Setenv(renderEnv, broken)
		sub := filepath.Join(dir, "failed")
		os.Mkdir(sub, 0o755)
		path := filepath.Join(sub, "g.svg")
		_, errOut, code := runCLI("refs", snap, "--type", "dict", "-o", path)
		if code != 1 || !strings.Contains(errOut, "renderer crashed") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if ents, _ := os.ReadDir(sub); len(ents) != 0 {
			t.Errorf("a failed drawing left %v behind", ents)
		}
	})
}

// TestConcurrentCalls runs commands with different flags at once: each call
// has options of its own, so each prints what it prints alone (and -race
// finds no shared state).
func TestConcurrentCalls(t *testing.T) {
	snap := fixture(t)
	calls := [][]string{
		{"top", "-n", "1", snap},
		{"top", "-n", "3", "--bytes", snap},
		{"top", "--tracked", "--json", snap},
		{"count", "--all", snap, "str"},
		{"count", snap, "str"},
		{"bytype", "-n", "2", snap, "dict"},
		{"convert", "--to", "json", snap},
	}
	want := make([]string, len(calls))
	for i, args := range calls {
		out, errOut, code := runCLI(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		want[i] = out
	}
	for round := range 4 {
		for i, args := range calls {
			t.Run(fmt.Sprintf("%d/%s", round, strings.Join(args[:len(args)-1], " ")), func(t *testing.T) {
				t.Parallel()
				if out, errOut, code := runCLI(args...); code != 0 || out != want[i] {
					t.Errorf("%v: exit %d, %s\nprinted\n%s\nalone it printed\n%s", args, code, errOut, out, want[i])
				}
			})
		}
	}
}
