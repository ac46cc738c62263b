package main

// Golden tests of count, growth, newids, bytype, at, leaking, chain, refs and
// backrefs. Each case compares stdout and stderr with
// testdata/<case>.stdout and .stderr (go test -update rewrites them).

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/objgraph-go/objgraph/internal/golden"

	"github.com/objgraph-go/objgraph/heap"
)

// appHeap is a small program's heap at one of three moments (0, 1, 2):
// module app holds a cache dict that gains Foo objects over time; a thread's
// frame holds a request dict in a local; a list is held only from C code;
// an orphaned cycle of two dicts is held by nothing.
func appHeap(t *testing.T, moment int) string {
	t.Helper()
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.11.7", PID: 4242})
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	tStr := b.AddType("str", "builtins.str")
	tFrame := b.AddType("frame", "builtins.frame")
	tFoo := b.AddType("Foo", "app.Foo")
	tBar := b.AddType("Foo", "other.Foo")
	tr := heap.FlagTracked
	add := func(addr uint64, t heap.TypeID, size uint64, flags heap.Flags, label string) heap.ID {
		return b.AddObject(heap.Object{Addr: addr, Type: t, Size: size, Refcount: 1, Flags: flags, Label: label})
	}
	mod := add(0x7f0000001000, tMod, 72, tr.WithKind(heap.KindModule).WithGeneration(2), "app")
	globals := add(0x7f0000001100, tDict, 360, tr.WithGeneration(2), "3 items")
	cache := add(0x7f0000001200, tDict, 640, tr.WithGeneration(1), "cache")
	name := add(0x7f0000001300, tStr, 52, 0, "'app'")
	b.AddEdge(mod, globals, "__dict__")
	b.AddEdge(globals, cache, "cache")
	b.AddEdge(globals, name, "__name__")
	nFoo := []int{2, 5, 4}[moment]
	for i := range nFoo {
		foo := add(0x7f0000002000+uint64(i)*0x40, tFoo, 48, tr, "<app.Foo object at 0x...>")
		b.AddEdge(cache, foo, "key"+string(rune('a'+i)))
	}
	other := add(0x7f0000003000, tBar, 48, tr, "<other.Foo object>")
	b.AddEdge(globals, other, "other")
	frame := add(0x7f0000004000, tFrame, 400, heap.Flags(0).WithKind(heap.KindFrame), "app.py:42")
	req := add(0x7f0000004100, tDict, 232, tr, "2 items")
	b.AddEdge(frame, req, "request")
	b.AddEdge(req, other, "handler")
	leak := add(0x7f0000005000, tList, 88, tr, "1 items")
	b.AddIndexEdge(leak, req, 0)
	c1 := add(0x7f0000006000, tDict, 232, tr, "1 items")
	c2 := add(0x7f0000006100, tDict, 232, tr, "1 items")
	b.AddEdge(c1, c2, "peer")
	b.AddEdge(c2, c1, "peer")
	if moment == 2 {
		// A str where the fifth Foo was a moment before.
		add(0x7f0000002100, tStr, 50, 0, "'not a Foo'")
	}
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: mod})
	b.AddRoot(heap.Root{Kind: heap.RootFrame, Name: "MainThread: handle (app.py:42)", Target: frame})
	return writeSnapshot(t, b, "app"+string(rune('0'+moment))+".ogs")
}

var renderOnce struct {
	sync.Once
	path string
	err  error
}

// renderer builds objgraph-render once for the tests that draw SVG.
func renderer(t *testing.T) string {
	t.Helper()
	renderOnce.Do(func() {
		dir, err := os.MkdirTemp("", "objgraph-render-")
		if err != nil {
			renderOnce.err = err
			return
		}
		renderOnce.path = filepath.Join(dir, "objgraph-render")
		out, err := exec.Command("go", "build", "-o", renderOnce.path, "./objgraph-render").CombinedOutput()
		if err != nil {
			renderOnce.err = err
			renderOnce.path = string(out)
		}
	})
	if renderOnce.err != nil {
		t.Fatalf("building objgraph-render: %v\n%s", renderOnce.err, renderOnce.path)
	}
	return renderOnce.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if renderOnce.path != "" && renderOnce.err == nil {
		os.RemoveAll(filepath.Dir(renderOnce.path))
	}
	os.Exit(code)
}

func TestAnalysisCommands(t *testing.T) {
	snaps := []string{appHeap(t, 0), appHeap(t, 1), appHeap(t, 2)}
	names := strings.NewReplacer(snaps[0], "SNAP0", snaps[1], "SNAP1", snaps[2], "SNAP2")
	s0, s1, s2 := snaps[0], snaps[1], snaps[2]
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"count", []string{"count", s1, "Foo"}, 0},
		{"count-qualified", []string{"count", s1, "app.Foo"}, 0},
		{"count-untracked", []string{"count", s1, "str"}, 0},
		{"count-all", []string{"count", "--all", s1, "str"}, 0},
		{"count-unknown", []string{"count", s1, "foo"}, 0},
		{"count-json", []string{"count", "--json", s1, "dict"}, 0},
		{"growth", []string{"growth", s0, s1, s2}, 0},
		{"growth-qualified", []string{"growth", "--qualified", "-n", "1", s0, s1}, 0},
		{"growth-json", []string{"growth", "--json", s0, s1, s2}, 0},
		{"newids", []string{"newids", s0, s1}, 0},
		{"newids-sort", []string{"newids", "--sort", "current", "-n", "2", "--all", s0, s1}, 0},
		{"newids-type", []string{"newids", "--type", "Foo", s0, s1}, 0},
		{"newids-json", []string{"newids", "--json", "--qualified", s0, s1}, 0},
		{"newids-reused", []string{"newids", "--all", s1, s2}, 0},
		{"bytype", []string{"bytype", s1, "Foo"}, 0},
		{"bytype-limit", []string{"bytype", "-n", "2", s1, "app.Foo"}, 0},
		{"bytype-untracked", []string{"bytype", s1, "str"}, 0},
		{"bytype-json", []string{"bytype", "--json", "--all", s0, "str"}, 0},
		{"at", []string{"at", s1, "0x7f0000004100"}, 0},
		{"at-untracked", []string{"at", s1, "139637976732416"}, 0},
		{"at-json", []string{"at", "--json", s1, "0x7f0000001200", "-n", "1"}, 0},
		{"at-missing", []string{"at", s1, "0x10"}, 1},
		{"leaking", []string{"leaking", s1}, 0},
		{"leaking-list", []string{"leaking", "--list", s1}, 0},
		{"leaking-json", []string{"leaking", "--json", "--list", s1}, 0},
		{"chain", []string{"chain", s1, "--type", "app.Foo"}, 0},
		{"chain-addr", []string{"chain", s1, "--addr", "0x7f0000003000"}, 0},
		{"chain-modules", []string{"chain", s1, "--addr", "0x7f0000003000", "--modules"}, 0},
		{"chain-frame", []string{"chain", s1, "-a", "0x7f0000004100"}, 0},
		{"chain-leak", []string{"chain", s1, "-a", "0x7f0000005000"}, 1},
		{"chain-garbage", []string{"chain", s1, "--addr", "0x7f0000006100", "--max-depth", "5"}, 1},
		{"chain-json", []string{"chain", "--json", s1, "--type", "Foo"}, 0},
		{"chain-dot", []string{"chain", s1, "--type", "Foo", "-o", "-"}, 0},
		{"backrefs-dot", []string{"backrefs", s1, "--addr", "0x7f0000002000", "-o", "-"}, 0},
		{"backrefs-options", []string{"backrefs", s1, "--type", "other.Foo", "-o", "-", "--max-depth", "2", "--too-many", "1", "--highlight", "dict", "--refcounts", "--qualified"}, 0},
		{"refs-dot", []string{"refs", s1, "--addr", "0x7f0000001000", "-o", "-", "--filter", "!str", "--max-depth", "2"}, 0},
		{"refs-filter", []string{"refs", s1, "--addr", "0x7f0000001000", "-o", "-", "--filter", "dict", "--max-depth", "2"}, 0},
		{"refs-depth0", []string{"refs", s1, "--addr", "0x7f0000001000", "-o", "-", "--max-depth", "0"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			golden.Check(t, tc.name+".stdout", names.Replace(out))
			golden.Check(t, tc.name+".stderr", names.Replace(errOut))
		})
	}
}

func TestDrawCommands(t *testing.T) {
	snap := appHeap(t, 1)
	dir := t.TempDir()
	t.Run("dot", func(t *testing.T) {
		out := filepath.Join(dir, "g.dot")
		stdout, stderr, code := runCLI("backrefs", snap, "--type", "Foo", "-o", out)
		if code != 0 || stdout != "" || !strings.HasSuffix(stderr, "wrote "+out+" (4 nodes)\n") {
			t.Fatalf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
		}
		dot, _ := os.ReadFile(out)
		want, _, _ := runCLI("backrefs", snap, "--type", "Foo", "-o", "-")
		if string(dot) != want {
			t.Errorf("file and standard output differ:\n%s\n%s", dot, want)
		}
	})
	t.Run("svg", func(t *testing.T) {
		t.Setenv(renderEnv, renderer(t))
		out := filepath.Join(dir, "g.svg")
		stdout, stderr, code := runCLI("refs", snap, "--addr", "0x7f0000001000", "-o", out, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var v struct {
			Output string
			Nodes  int
			Start  struct{ Type string }
		}
		if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.Output != out || v.Nodes != 10 || v.Start.Type != "module" {
			t.Errorf("JSON %s (%v)", stdout, err)
		}
		svg, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "&lt;app.Foo object at 0x...&gt;") {
			t.Errorf("no SVG graph in %s: %v\n%.300s", out, err, svg)
		}
		out = filepath.Join(dir, "chain.svg")
		if _, stderr, code := runCLI("chain", snap, "--type", "Foo", "-o", out); code != 0 {
			t.Errorf("chain -o: exit %d: %s", code, stderr)
		}
	})
	t.Run("no renderer", func(t *testing.T) {
		t.Setenv(renderEnv, filepath.Join(dir, "missing-objgraph-render"))
		out := filepath.Join(dir, "x.svg")
		_, stderr, code := runCLI("refs", snap, "--type", "Foo", "-o", out)
		if code != 1 || !strings.Contains(stderr, "missing-objgraph-render") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Error("a failed drawing left a file behind")
		}
		// The renderer is looked for before the snapshot is read.
		_, stderr, code = runCLI("refs", filepath.Join(dir, "missing.ogs"), "--type", "Foo", "-o", out)
		if code != 1 || !strings.Contains(stderr, "missing-objgraph-render") {
			t.Errorf("missing snapshot: exit %d, stderr %q", code, stderr)
		}
		os.Unsetenv(renderEnv)
		t.Setenv("PATH", dir)
		if _, err := (&cmdEnv{stderr: io.Discard}).findRenderer(); err == nil || !strings.Contains(err.Error(), "go install") {
			t.Errorf("findRenderer: %v", err)
		}
	})
}

func TestDrawUsage(t *testing.T) {
	snap := appHeap(t, 0)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"backrefs", snap, "--type", "Foo"}, 2, "missing -o"},
		{[]string{"backrefs", snap, "-o", "x.svg"}, 2, "exactly one of --type and --addr"},
		{[]string{"refs", snap, "--type", "Foo", "--addr", "0x1", "-o", "x.svg"}, 2, "exactly one of --type and --addr"},
		{[]string{"refs", snap, "--addr", "0xzz", "-o", "x.svg"}, 2, `bad address "0xzz"`},
		{[]string{"refs", snap, "--type", "Foo", "-o", "x.png"}, 2, "PNG output is not supported"},
		{[]string{"refs", snap, "--type", "Foo", "-o", "x.pdf"}, 2, "name it .svg or .dot"},
		{[]string{"refs", snap, "--type", "Foo", "-o", "-", "--json"}, 2, "choose one"},
		{[]string{"refs", snap, "--type", "Foo", "-o", "-", "--max-depth", "-1"}, 2, "0 or more"},
		{[]string{"refs", snap, "--type", "Foo", "-o", "-", "--filter", "!"}, 2, "need a type name"},
		{[]string{"refs", snap, "--type", "Nope", "-o", "-"}, 1, `no object of type "Nope"`},
		{[]string{"refs", snap, "--type", "foo", "-o", "-"}, 1, "did you mean app.Foo, other.Foo?"},
		{[]string{"refs", snap, "--addr", "0x10", "-o", "-"}, 1, "no object at address 0x10"},
		{[]string{"chain", snap}, 2, "exactly one of --type and --addr"},
		{[]string{"chain", snap, "--type", "Foo", "--max-depth", "0"}, 2, "--max-depth must be 1 or more"},
		{[]string{"chain", snap, "--type", "Foo", "-o", "y.png"}, 2, "PNG"},
		{[]string{"count", snap}, 2, "missing TYPE"},
		{[]string{"growth", snap}, 2, "at least two snapshots"},
		{[]string{"growth", snap, "missing.ogs"}, 1, "missing.ogs"},
		{[]string{"newids", "--sort", "size", snap, snap}, 2, "--sort must be"},
		{[]string{"bytype", "-n", "-2", snap, "Foo"}, 2, "--limit"},
		{[]string{"at", snap, "zork"}, 2, `bad address "zork"`},
		{[]string{"leaking"}, 2, "missing SNAPSHOT"},
	} {
		_, errOut, code := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("objgraph %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.stderr)
		}
	}
	for _, cmd := range []string{"count", "growth", "newids", "bytype", "at", "leaking", "chain", "refs", "backrefs"} {
		out, _, code := runCLI(cmd, "--help")
		if code != 0 || !strings.Contains(out, "usage: objgraph "+cmd) || !strings.Contains(out, "--json") {
			t.Errorf("objgraph %s --help: exit %d\n%s", cmd, code, out)
		}
		if !strings.Contains(usageText(), "\t"+cmd+" ") && !strings.Contains(usageText(), "  "+cmd+" ") {
			t.Errorf("the command list in doc.go lacks %s", cmd)
		}
	}
}
