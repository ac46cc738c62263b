package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// TestSnapshotAttach: objgraph snapshot PID of a plain python3 program
// attaches to it (internal/attach holds the tests per interpreter and
// mode), writes the snapshot to -o and prints its path, or with --json an
// object with the path and how the process was reached.
func TestSnapshotAttach(t *testing.T) {
	py := needPython3(t)
	testenv.LookPath(t, "gdb", "attaching needs it (apt-get install gdb)")
	isolate(t)
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	os.WriteFile(app, []byte("import time\nclass Marker: pass\nkeep = [Marker() for _ in range(321)]\nprint('ready', flush=True)\ntime.sleep(600)\n"), 0o644)
	cmd := exec.Command(py, app)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if sc := bufio.NewScanner(out); !sc.Scan() || sc.Text() != "ready" {
		t.Fatal("the program did not start")
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	dst := filepath.Join(dir, "out.ogs")
	stdout, stderr, code := runCLI("snapshot", "-o", dst, pid)
	if code != 0 || stdout != dst+"\n" || stderr != "" {
		t.Fatalf("objgraph snapshot %s: exit %d\nstdout %q\nstderr %q", pid, code, stdout, stderr)
	}
	h, err := heap.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for id := heap.ID(0); int(id) < h.Len(); id++ {
		if h.TypeName(id) == "Marker" {
			n++
		}
	}
	if n != 321 {
		t.Errorf("the snapshot has %d Marker objects, want 321", n)
	}
	// --json says how: by default (auto) and with --fork always in a forked
	// child, with --fork=never in the process; by default through ptrace on
	// x86-64 Linux, else or with --injector gdb through gdb
	auto := "gdb"
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		auto = "ptrace"
	}
	for _, c := range []struct {
		flags    []string
		fork     bool
		injector string
	}{
		{nil, true, auto}, {[]string{"--fork", "always"}, true, auto}, {[]string{"--fork=never"}, false, auto},
		{[]string{"--injector", "gdb"}, true, "gdb"}, {[]string{"--injector=auto", "--fork=never"}, false, auto},
	} {
		stdout, stderr, code = runCLI(append([]string{"snapshot", "--json", "-o", dst, pid}, c.flags...)...)
		var res struct {
			Path    string  `json:"path"`
			Method  string  `json:"method"`
			Stopped float64 `json:"stopped_seconds"`
			Fork    bool    `json:"fork"`
			Child   int     `json:"child_pid"`
			Pause   float64 `json:"fork_pause_seconds"`
			Inj     string  `json:"injector"`
			Steps   [][]any `json:"steps"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); code != 0 || err != nil || res.Path != dst || res.Method != "thread" || res.Stopped <= 0 ||
			res.Fork != c.fork || c.fork && (res.Child <= 0 || res.Pause <= 0) || res.Inj != c.injector || len(res.Steps) == 0 {
			t.Errorf("objgraph snapshot --json %v %s: exit %d, %+v (%v)\nstdout %q\nstderr %q", c.flags, pid, code, res, err, stdout, stderr)
		}
		h, err := heap.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if cp := h.Meta().Capture; cp == nil || (cp.Fork != nil) != c.fork {
			t.Errorf("objgraph snapshot %v: capture %+v, want a fork snapshot: %v", c.flags, cp, c.fork)
		}
	}
	if _, stderr, code := runCLI("snapshot", "--injector", "strace", pid); code != 2 || !strings.HasPrefix(stderr, "objgraph snapshot: --injector must be auto, ptrace or gdb, not \"strace\"\n") {
		t.Errorf("objgraph snapshot --injector strace: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runCLI("snapshot", strconv.Itoa(os.Getpid())); code != 1 || !strings.Contains(stderr, "is not a Python process") {
		t.Errorf("objgraph snapshot of a Go process: exit %d, stderr %q", code, stderr)
	}
}
