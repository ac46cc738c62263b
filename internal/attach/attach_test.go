package attach

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// pythons returns the interpreters to test with: those OBJGRAPH_TEST_PYTHONS
// lists, or the machine's python3.
func pythons(t *testing.T) []string {
	t.Helper()
	ps := strings.Fields(os.Getenv("OBJGRAPH_TEST_PYTHONS"))
	if len(ps) == 0 {
		ps = []string{testenv.LookPath(t, "python3", "attaching is tested on a running Python program")}
	}
	for _, py := range ps {
		if _, err := exec.LookPath(py); err != nil {
			t.Fatalf("OBJGRAPH_TEST_PYTHONS names %s: %v", py, err)
		}
	}
	return ps
}

// program is the target: it never heard of objgraph. It plants 1234
// instances of Planted, sets its own gc thresholds (and with "nogc" in the
// mode disables gc), starts busy threads, prints "ready" and blocks as the
// mode says until SIGUSR1; then it prints its gc state, names and modules
// as JSON and exits with status 7.
const program = `
import gc, json, os, select, signal, sys, threading, time

class Planted:
    pass

class Stop(Exception):
    pass

def usr1(signum, frame):
    raise Stop()

signal.signal(signal.SIGUSR1, usr1)
mode, nthreads = sys.argv[1], int(sys.argv[2])
gc.set_threshold(555, 7, 3)
if "nogc" in mode:
    gc.disable()
keep = [Planted() for _ in range(1234)]
running = [True]

def spin_worker():
    while running[0]:
        junk = [str(i) for i in range(50)]

for _ in range(nthreads):
    threading.Thread(target=spin_worker, daemon=True).start()
names_before = sorted(vars())
print("ready", flush=True)
try:
    if mode.startswith("sleep"):
        time.sleep(600)
    elif mode.startswith("spin"):
        while True:
            junk = [i for i in range(100)]
    elif mode.startswith("lock"):
        lk = threading.Lock()
        lk.acquire()
        lk.acquire()
    elif mode.startswith("select"):
        r, w = os.pipe()
        select.select([r], [], [])
    elif mode.startswith("read"):
        r, w = os.pipe()
        os.read(r, 1)
except Stop:
    pass
running[0] = False
new_names = sorted(set(vars()) - set(names_before) - {"names_before", "r", "w", "lk", "junk"})
print(json.dumps({"enabled": gc.isenabled(), "threshold": list(gc.get_threshold()), "planted": len(keep),
                  "new_names": new_names, "modules": sorted(m for m in sys.modules if "objgraph" in m)}), flush=True)
sys.exit(7)
`

// target is a running program.
type target struct {
	cmd    *exec.Cmd
	out    *bufio.Scanner
	stderr strings.Builder
}

func start(t *testing.T, py, mode string, threads int) *target {
	t.Helper()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &target{cmd: exec.Command(py, app, mode, fmt.Sprint(threads))}
	p.cmd.Dir = dir
	p.cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8"}
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	p.out = bufio.NewScanner(out)
	if !p.out.Scan() || p.out.Text() != "ready" {
		t.Fatalf("%s app.py %s: no ready line (%q); stderr:\n%s", py, mode, p.out.Text(), p.stderr.String())
	}
	return p
}

// state is what the program prints at the end.
type state struct {
	Enabled   bool     `json:"enabled"`
	Threshold []int    `json:"threshold"`
	Planted   int      `json:"planted"`
	NewNames  []string `json:"new_names"`
	Modules   []string `json:"modules"`
}

// finish stops the program with SIGUSR1 and returns what it printed and its
// exit status.
func (p *target) finish(t *testing.T) (state, int) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatalf("the program is gone: %v; stderr:\n%s", err, p.stderr.String())
	}
	var st state
	lines := make(chan string, 1)
	go func() {
		var last string
		for p.out.Scan() {
			last = p.out.Text()
		}
		lines <- last
	}()
	select {
	case last := <-lines:
		if err := json.Unmarshal([]byte(last), &st); err != nil {
			t.Fatalf("the program's last line %q: %v; stderr:\n%s", last, err, p.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the program did not end after SIGUSR1; stderr:\n%s", p.stderr.String())
	}
	err := p.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return st, code
}

// alive checks that the process runs: not stopped, not traced.
func alive(t *testing.T, pid int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok && (strings.Contains(v, "stopped") || strings.Contains(v, "tracing stop")) {
			t.Errorf("process %d is %s", pid, strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok && strings.TrimSpace(v) != "0" {
			t.Errorf("process %d is still traced by %s", pid, strings.TrimSpace(v))
		}
	}
}

// checkSnapshot checks the planted count and that nothing of the loader's
// or the agent's is in the snapshot.
func checkSnapshot(t *testing.T, path string) {
	t.Helper()
	h, err := heap.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	planted := 0
	for id := heap.ID(0); int(id) < h.Len(); id++ {
		qual := h.TypeQualName(h.Type(id))
		if qual == "__main__.Planted" {
			planted++
		}
		if strings.HasPrefix(qual, "objgraph_agent.") || strings.HasPrefix(qual, "_objgraph_attach.") {
			t.Errorf("the snapshot holds %#x, an instance of the agent's %s", h.Addr(id), qual)
		}
		// (the program never names these; its importers' caches may list
		// an objgraph module installed on the machine)
		if l := h.Label(id); strings.Contains(l, "objgraph_agent") || strings.Contains(l, "_objgraph_attach") || strings.Contains(l, "objgraph-attach") {
			t.Errorf("the snapshot holds %#x, a %s of the loader's or the agent's: %s", h.Addr(id), h.TypeName(id), l)
		}
	}
	if planted != 1234 {
		t.Errorf("the snapshot holds %d instances of Planted, want 1234", planted)
	}
}

func TestSnapshot(t *testing.T) {
	gdb := testenv.LookPath(t, "gdb", "attaching needs it (apt-get install gdb)")
	cases := []struct {
		mode    string
		threads int
		method  string // how the loader must have run
	}{
		{"spin", 3, "pending"},       // the main thread runs Python code; others are busy too
		{"sleep", 2, "thread"},       // blocked in time.sleep(600)
		{"lock-nogc", 0, "pending"},  // blocked in a lock, gc disabled
		{"select-nogc", 1, "thread"}, // blocked in select
	}
	for _, py := range pythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"/"+filepath.Base(py), func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.mode, func(t *testing.T) {
					p := start(t, py, c.mode, c.threads)
					dst := filepath.Join(t.TempDir(), "attached.ogs")
					res, err := Snapshot(p.cmd.Process.Pid, dst, Options{GDB: gdb, Timeout: time.Minute})
					if err != nil {
						t.Fatalf("%v; the program's stderr:\n%s", err, p.stderr.String())
					}
					t.Logf("%s: method %s (thread %d in %s), stopped %v (attaching %v), loading %v, capture %v",
						c.mode, res.Method, res.Thread, res.Syscall, res.Stopped, res.Attach, res.Load, res.Capture)
					if !strings.HasPrefix(res.Method, c.method) {
						t.Errorf("the loader ran by %q, want %q", res.Method, c.method)
					}
					alive(t, p.cmd.Process.Pid)
					if _, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", p.cmd.Process.Pid, res.Dir)); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("the agent's directory %s is left behind (%v)", res.Dir, err)
					}
					checkSnapshot(t, dst)
					st, code := p.finish(t)
					if code != 7 {
						t.Errorf("the program exited with %d, want its own 7", code)
					}
					wantEnabled := !strings.Contains(c.mode, "nogc")
					if st.Enabled != wantEnabled || fmt.Sprint(st.Threshold) != "[555 7 3]" {
						t.Errorf("the program's gc: enabled %v, thresholds %v; want %v, [555 7 3]", st.Enabled, st.Threshold, wantEnabled)
					}
					if st.Planted != 1234 || len(st.NewNames) != 0 || len(st.Modules) != 0 {
						t.Errorf("the program after the snapshot: %+v; want 1234 planted, no new names in __main__, no objgraph module", st)
					}
					if s := p.stderr.String(); s != "" {
						t.Errorf("the program's stderr:\n%s", s)
					}
				})
			}
		})
	}
}
