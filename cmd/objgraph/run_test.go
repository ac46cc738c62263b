package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

func needPython3(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, "python3", "objgraph run's tests need it")
}

func TestAgentCommand(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI("agent", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join(dir, agent.FileName)
	if strings.TrimSpace(out) != path {
		t.Errorf("printed %q, want %q", out, path)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != string(agent.Source) {
		t.Fatalf("written agent differs from the embedded one (%v)", err)
	}
}

func TestRunAtExit(t *testing.T) {
	py := needPython3(t)
	dir := t.TempDir()
	// A sitecustomize of the program's own must still run.
	own := t.TempDir()
	os.WriteFile(filepath.Join(own, "sitecustomize.py"), []byte("import builtins\nbuiltins.OWN_SITE = 1\n"), 0o644)
	t.Setenv("PYTHONPATH", own)
	prog := `
import builtins
assert builtins.OWN_SITE == 1
class Leak: pass
keep = [Leak() for _ in range(123)]
print("done")
`
	out, errOut, code := runCLI("run", "-o", dir, "--at-exit", "--signal", "none", "--", py, "-c", prog)
	if code != 0 || strings.TrimSpace(out) != "done" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "objgraph-*.ogs"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v, want one", snaps)
	}
	h, err := heap.ReadFile(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for id := range h.All() {
		if h.TypeName(id) == "Leak" {
			n++
		}
	}
	if n != 123 {
		t.Errorf("the at-exit snapshot has %d Leak objects, want 123", n)
	}
}

func TestRunExitStatus(t *testing.T) {
	py := needPython3(t)
	_, errOut, code := runCLI("run", "-o", t.TempDir(), "--", py, "-c", "import sys; sys.exit(3)")
	if code != 1 || !strings.Contains(errOut, "exited with status 3") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runCLI("run"); code != 2 || !strings.Contains(errOut, "missing PROGRAM") {
		t.Errorf("no program: exit %d, stderr %q", code, errOut)
	}
}

func TestSnapshotCommand(t *testing.T) {
	py := needPython3(t)
	dir := t.TempDir()
	// Run the program in the background through the CLI entry point.
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	ready := filepath.Join(dir, "ready")
	prog := "import time, pathlib\nclass Marker: pass\nm = [Marker() for _ in range(7)]\npathlib.Path(" + strconvQuote(ready) + ").touch()\ntime.sleep(30)\n"
	go func() {
		_, e, code := runCLI("run", "-o", dir, "--", py, "-c", prog)
		done <- result{code, e}
	}()
	var pid int
	for i := 0; i < 200 && pid == 0; i++ {
		if _, err := os.Stat(ready); err == nil {
			matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "objgraph-run-*.json"))
			for _, m := range matches {
				var p int
				if _, err := fmt.Sscanf(filepath.Base(m), "objgraph-run-%d.json", &p); err == nil && processHasArg(p, ready) {
					pid = p
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the program started by objgraph run did not come up")
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	want := filepath.Join(dir, "taken.ogs")
	out, errOut, code := runCLI("snapshot", strconv.Itoa(pid), "-o", want, "--timeout", "60s")
	if code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("snapshot: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	h, err := heap.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for id := range h.All() {
		if h.TypeName(id) == "Marker" {
			n++
		}
	}
	if n != 7 {
		t.Errorf("snapshot has %d Marker objects, want 7", n)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	<-done
	if _, errOut, code := runCLI("snapshot", "999999999"); code != 1 || !strings.Contains(errOut, "not started by 'objgraph run'") {
		t.Errorf("unknown pid: exit %d, stderr %q", code, errOut)
	}
}

func strconvQuote(s string) string { return strconv.Quote(s) }

// processHasArg reports whether process pid's command line mentions s.
func processHasArg(pid int, s string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), s)
}
