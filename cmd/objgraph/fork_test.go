package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// TestSnapshotFork takes snapshots of a program started by objgraph run
// in a forked child of the program: asked for once (objgraph snapshot
// --fork), and for every snapshot (objgraph run --fork). The files are
// complete when objgraph snapshot prints them, hold the program's objects,
// and say in their metadata that a child took them.
func TestSnapshotFork(t *testing.T) {
	py := needPython3(t)
	isolate(t)
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog.py")
	os.WriteFile(prog, []byte(`import os, sys, threading, time
class Marker: pass
m = [Marker() for _ in range(7)]
ev = threading.Event()
threading.Thread(target=ev.wait, daemon=True).start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
# the agent's children, zombies included, until its reaper has waited for them
def children():
    kids = []
    for tid in os.listdir("/proc/self/task"):
        with open("/proc/self/task/%s/children" % tid) as f:
            kids += f.read().split()
    return kids
end = time.time() + 10
while children() and time.time() < end:
    time.sleep(0.01)
if children():
    sys.exit("children of the agent's were left unreaped: %s" % children())
`), 0o600)
	for _, tc := range []struct {
		name     string
		runArgs  []string
		snapArgs []string
		fork     bool // the snapshot must be a fork snapshot
	}{
		{"snapshot--fork", nil, []string{"--fork"}, true},
		{"snapshot--fork-always", []string{"--fork=never"}, []string{"--fork", "always"}, true},
		{"run--fork", []string{"--fork"}, nil, true},
		{"run--fork-always", []string{"--fork", "always"}, nil, true},
		{"snapshot--fork-never", []string{"--fork=always"}, []string{"--fork=never"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready, stop := filepath.Join(dir, tc.name+".ready"), filepath.Join(dir, tc.name+".stop")
			args := append(append([]string{"-o", dir}, tc.runArgs...), "--", py, prog, ready, stop)
			p := startRun(t, args...)
			waitFor(t, "the program to start", func() bool { _, err := os.Stat(ready); return err == nil })
			b, _ := os.ReadFile(ready)
			pyPID, _ := strconv.Atoi(string(b))
			for i := 0; i < 2; i++ {
				want := filepath.Join(dir, fmt.Sprintf("%s-%d.ogs", tc.name, i))
				cli := append([]string{"snapshot", strconv.Itoa(p.pid), "-o", want, "--timeout", "60s"}, tc.snapArgs...)
				out, errOut, code := runCLI(cli...)
				if code != 0 || strings.TrimSpace(out) != want {
					t.Fatalf("snapshot: exit %d, stdout %q, stderr %s", code, out, errOut)
				}
				h, err := heap.ReadFile(want)
				if err != nil {
					t.Fatal(err)
				}
				c := h.Meta().Capture
				if c == nil {
					t.Fatalf("snapshot %s says nothing of its capture", want)
				}
				if !tc.fork {
					if c.Fork != nil {
						t.Errorf("snapshot %s was taken in a forked child: %+v", want, *c.Fork)
					}
				} else if c.Fork == nil {
					t.Fatalf("snapshot %s was not taken in a forked child: capture %+v", want, c)
				} else if c.Fork.ParentPID != pyPID || c.Fork.ChildPID == pyPID || c.Fork.ChildPID == 0 {
					t.Errorf("fork capture of %d: parent %d, child %d", pyPID, c.Fork.ParentPID, c.Fork.ChildPID)
				}
				if c.Fork != nil && (c.Fork.ChildPrivateBytes <= 0 || c.Fork.EstimateBytes <= 0) {
					t.Errorf("the child's memory is not reported: %+v", *c.Fork)
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
			}
			os.WriteFile(stop, nil, 0o600)
			if code := p.wait(t); code != 0 {
				t.Errorf("objgraph run exited %d, stderr %s", code, p.stderr())
			}
		})
	}
}

// TestRunForkFlag runs objgraph run on a real program with each form of
// --fork that --help names, and reads whether its snapshot at exit was
// taken in a forked child; a value --fork does not take is a usage error.
func TestRunForkFlag(t *testing.T) {
	py := needPython3(t)
	isolate(t)
	_, errOut, code := runCLI("run", "--fork=sometimes", "--", py, "-c", "pass")
	if code != 2 || !strings.Contains(errOut, `invalid argument "sometimes" for "--fork" flag: "sometimes" is not always, never or auto`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	help, _, _ := runCLI("run", "--help")
	if !strings.Contains(help, "--fork auto|always|never[=always]") || !strings.Contains(help, "(default auto)") {
		t.Errorf("objgraph run --help does not show --fork's values and default:\n%s", help)
	}
	for _, c := range []struct {
		flags []string
		fork  bool
	}{
		{nil, false}, // auto: the heap is small
		{[]string{"--fork"}, true},
		{[]string{"--fork=always"}, true},
		{[]string{"--fork", "always"}, true},
		{[]string{"--fork=never"}, false},
		{[]string{"--fork", "never"}, false},
		{[]string{"--fork=auto"}, false},
		{[]string{"--fork", "auto"}, false},
	} {
		t.Run(strings.Join(append([]string{"run"}, c.flags...), " "), func(t *testing.T) {
			dir := t.TempDir()
			args := append(append([]string{"run", "-o", dir, "--signal", "none", "--at-exit"}, c.flags...),
				"--", py, "-c", "import sys; m = [object() for _ in range(100)]; sys.exit(3)")
			_, errOut, code := runCLI(args...)
			if code != 3 {
				t.Fatalf("exit %d, want the program's 3; stderr:\n%s", code, errOut)
			}
			snaps, _ := filepath.Glob(filepath.Join(dir, "objgraph-*.ogs"))
			if len(snaps) != 1 {
				t.Fatalf("snapshots %v, want the one at exit; stderr:\n%s", snaps, errOut)
			}
			h, err := heap.ReadFile(snaps[0])
			if err != nil {
				t.Fatal(err)
			}
			cp := h.Meta().Capture
			if cp == nil || (cp.Fork != nil) != c.fork {
				t.Errorf("capture %+v, want a fork snapshot: %v", cp, c.fork)
			}
		})
	}
}
