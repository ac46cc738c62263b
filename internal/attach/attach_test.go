package attach

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// pythons returns the interpreters to test with: those OBJGRAPH_TEST_PYTHONS
// lists, or the machine's python3.
func pythons(t testing.TB) []string {
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

// injectors returns the injectors to test with, each with the Options that
// choose it: ptrace where this build has it, and gdb.
func injectors(t testing.TB) []Options {
	t.Helper()
	var out []Options
	if ptraceAvailable {
		out = append(out, Options{Injector: InjectPtrace})
	}
	gdb := testenv.LookPath(t, "gdb", "attaching needs it (apt-get install gdb)")
	return append(out, Options{Injector: InjectGDB, GDB: gdb})
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
usr2 = [0]
signal.signal(signal.SIGUSR2, lambda signum, frame: usr2.__setitem__(0, usr2[0] + 1))
mode, nthreads = sys.argv[1], int(sys.argv[2])
gc.set_threshold(555, 7, 3)
if "nogc" in mode:
    gc.disable()
keep = [Planted() for _ in range(1234)]
if "big" in mode:
    ballast = [[i] for i in range(300000)]  # a walk that takes a while
running = [True]

def spin_worker():
    while running[0]:
        junk = [str(i) for i in range(50)]

for _ in range(nthreads):
    threading.Thread(target=spin_worker, daemon=True).start()
names_before = sorted(vars())
try:
    print("ready", flush=True)  # (in the try: a SIGUSR1 right after it ends the wait as well)
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
    elif mode.startswith("flock"):
        # a second open file description of one file waits for the first's
        # lock: in flock(2), which is not among the waits a thread is
        # borrowed in, so only the main thread can run the loader
        import fcntl
        f1 = open(sys.argv[0])
        fcntl.flock(f1, fcntl.LOCK_EX)
        f2 = open(sys.argv[0])
        fcntl.flock(f2, fcntl.LOCK_EX)
    elif mode.startswith("read"):
        r, w = os.pipe()
        os.read(r, 1)
except Stop:
    pass
running[0] = False
new_names = sorted(set(vars()) - set(names_before) - {"names_before", "r", "w", "lk", "junk", "fcntl", "f1", "f2", "ballast"})
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

func start(t testing.TB, py, mode string, threads int) *target {
	t.Helper()
	cmd := appCommand(t, program, py, mode, fmt.Sprint(threads))
	return startReady(t, cmd, py+" app.py "+mode)
}

// appCommand writes src as app.py in a directory of its own and returns
// the command that runs it with py and args there, in a bare environment.
func appCommand(t testing.TB, src, py string, args ...string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{app}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8"}
	return cmd
}

// startReady starts cmd and waits for its first line, which must be
// "ready"; what names it in a failure. The program is killed at the end of
// the test.
func startReady(t testing.TB, cmd *exec.Cmd, what string) *target {
	t.Helper()
	p := &target{cmd: cmd}
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
		t.Fatalf("%s: no ready line (%q); stderr:\n%s", what, p.out.Text(), p.stderr.String())
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
func checkSnapshot(t *testing.T, path string) *heap.Heap {
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
	return h
}

// tasks returns the threads of process pid.
func tasks(t *testing.T, pid int) []string {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// children returns the child processes of process pid, zombies included.
func children(t *testing.T, pid int) []string {
	t.Helper()
	var out []string
	for _, task := range tasks(t, pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// nothingLeft checks that the process has no child and, within a few
// seconds (the agent's thread ends once it has written its result), no
// thread but those it had before.
func nothingLeft(t *testing.T, pid int, before []string) {
	t.Helper()
	if c := children(t, pid); len(c) != 0 {
		t.Errorf("process %d has children %v after the snapshot (the agent's, unreaped)", pid, c)
	}
	var now []string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		now = tasks(t, pid)
		if fmt.Sprint(now) == fmt.Sprint(before) {
			return
		}
	}
	t.Errorf("process %d has threads %v after the snapshot, %v before", pid, now, before)
}

func TestSnapshot(t *testing.T) {
	injs := injectors(t)
	cases := []struct {
		mode    string
		threads int
		method  string // how the loader must have run
		signals bool   // SIGUSR2 every millisecond meanwhile, which the program handles
		fork    ForkMode
	}{
		{"spin", 3, "pending", false, ""},                  // the main thread runs Python code; others are busy too
		{"sleep", 2, "thread", false, ""},                  // blocked in time.sleep(600)
		{"sleep-signals", 2, "", true, ""},                 // and interrupted by the signals: either way
		{"lock-nogc", 0, "pending", true, ""},              // blocked in a lock, gc disabled
		{"select-nogc", 1, "thread", false, ""},            // blocked in select
		{"spin-inprocess", 3, "pending", false, ForkNever}, // the heap walked on the agent's thread
		{"sleep-nogc-inprocess", 1, "thread", false, ForkNever},
		{"lock-always", 1, "pending", false, ForkAlways},
	}
	for _, py := range pythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"/"+filepath.Base(py), func(t *testing.T) {
			t.Parallel()
			for _, inj := range injs {
				for _, c := range cases {
					t.Run(string(inj.Injector)+"/"+c.mode, func(t *testing.T) {
						p := start(t, py, c.mode, c.threads)
						if c.method == "thread" {
							// (the main thread gets to its wait after printing
							// "ready", once it has the GIL back)
							waitSyscall(t, p.cmd.Process.Pid, blockingNrs()...)
						}
						before := tasks(t, p.cmd.Process.Pid)
						dst := filepath.Join(t.TempDir(), "attached.ogs")
						stop := make(chan bool)
						if c.signals {
							go func() {
								for {
									select {
									case <-stop:
										return
									case <-time.After(time.Millisecond):
										p.cmd.Process.Signal(syscall.SIGUSR2)
									}
								}
							}()
						}
						var mu sync.Mutex
						var said []string
						o := inj
						o.Timeout, o.Fork = time.Minute, c.fork
						o.Progress = func(format string, a ...any) {
							mu.Lock()
							said = append(said, fmt.Sprintf(format, a...))
							mu.Unlock()
						}
						res, err := Snapshot(p.cmd.Process.Pid, dst, o)
						close(stop)
						if err != nil {
							t.Fatalf("%v; the program's stderr:\n%s", err, p.stderr.String())
						}
						t.Logf("%s: method %s (thread %d in %s), stopped %v (attaching %v), loading %v, capture %v, forked %v (child %d, pause %v, %d bytes; %q)",
							c.mode, res.Method, res.Thread, res.Syscall, res.Stopped, res.Attach, res.Load, res.Capture,
							res.Forked, res.Child, res.Pause, res.ChildMemory, res.NoFork)
						// (auto forks here: fork is safe and the heap is small)
						if wantFork := c.fork != ForkNever; res.Forked != wantFork || res.NoFork != "" {
							t.Errorf("forked %v (%q), want %v", res.Forked, res.NoFork, wantFork)
						}
						if res.Forked && (res.Child <= 0 || res.ChildMemory <= 0 || res.Pause <= 0) {
							t.Errorf("a fork capture without its child's pid, memory or pause: %+v", res)
						}
						nothingLeft(t, p.cmd.Process.Pid, before)
						// what it said while it waited, the walk's progress among it
						for _, line := range said {
							if strings.HasPrefix(line, "walking the heap of process") || strings.HasPrefix(line, "writing the snapshot") {
								if !strings.Contains(line, " objects") || !strings.Contains(line, fmt.Sprintf("process %d", p.cmd.Process.Pid)) {
									t.Errorf("a progress line without its process or counts: %q", line)
								}
							}
						}
						t.Logf("progress: %q", said)
						if res.Target.Symbols["Py_IsFinalizing"] == 0 && res.Target.Symbols["_Py_IsFinalizing"] == 0 {
							t.Errorf("neither of %v found in the dynamic symbols", finalizingSymbols)
						}
						for _, name := range calledSymbols {
							if res.Target.Symbols[name] == 0 {
								t.Errorf("%s not found in the dynamic symbols: gdb looks it up while the process is stopped, and ptrace cannot call it", name)
							}
						}
						if !strings.HasPrefix(res.Method, c.method) {
							t.Errorf("the loader ran by %q, want %q", res.Method, c.method)
						}
						alive(t, p.cmd.Process.Pid)
						if _, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", p.cmd.Process.Pid, res.Dir)); !errors.Is(err, os.ErrNotExist) {
							t.Errorf("the agent's directory %s is left behind (%v)", res.Dir, err)
						}
						h := checkSnapshot(t, dst)
						var f *heap.Fork
						if c := h.Meta().Capture; c != nil {
							f = c.Fork
						}
						if (f != nil) != res.Forked || f != nil && (f.ParentPID != p.cmd.Process.Pid || f.ChildPID != res.Child) {
							t.Errorf("the snapshot's fork metadata %+v, want forked %v, parent %d, child %d", f, res.Forked, p.cmd.Process.Pid, res.Child)
						}
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
						if res.Injector != inj.Injector {
							t.Errorf("injected by %q, want %q", res.Injector, inj.Injector)
						}
						if inj.Injector == InjectPtrace {
							checkStops(t, res)
						}
					})
				}
			}
		})
	}
}

// waitSyscall waits until the main thread of process pid waits in one of
// the system calls nrs.
func waitSyscall(t *testing.T, pid int, nrs ...int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
		if f := strings.Fields(string(b)); len(f) > 0 {
			for _, nr := range nrs {
				if f[0] == strconv.Itoa(nr) {
					return
				}
			}
		}
	}
	t.Fatalf("the main thread of process %d never waited in any of the system calls %v", pid, nrs)
}

// blockingNrs are the system calls a thread is borrowed in.
func blockingNrs() []int {
	var out []int
	for nr := range syscalls {
		if nr != 202 { // futex
			out = append(out, nr)
		}
	}
	return out
}

// checkStops checks what the ptrace injector says it held: threads of the
// process, each once at a time, the last the one that ran or queued the
// loader, for less than the whole injection.
func checkStops(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Stops) == 0 || res.Stops[len(res.Stops)-1].TID != res.Thread {
		t.Fatalf("threads held %+v, the last not the loader's thread %d", res.Stops, res.Thread)
	}
	var total time.Duration
	for _, s := range res.Steps {
		total += s.Duration
	}
	for _, s := range res.Stops {
		if s.Held <= 0 || s.InCalls > s.Held || s.Held > total {
			t.Errorf("thread %d held %v (in calls %v), the injection's steps %v in all", s.TID, s.Held, s.InCalls, total)
		}
	}
	if res.Stopped != res.Stops[len(res.Stops)-1].Held {
		t.Errorf("stopped %v, want the loader's thread's %v", res.Stopped, res.Stops[len(res.Stops)-1].Held)
	}
}

func TestPythonOf(t *testing.T) {
	for _, c := range []struct {
		exe, maps    string
		minor        int
		freeThreaded bool
		ok           bool
	}{
		{"/usr/bin/python3.11", "55d0-55d1 r--p 00000000 08:01 12 /usr/bin/python3.11\n", 11, false, true},
		{"/root/.pyenv/versions/3.12.1/bin/python3.12", "7f00-7f10 r-xp 00000000 08:01 9 /root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0\n", 12, false, true},
		{"/usr/bin/python3.13t", "", 13, true, true},
		{"/opt/uwsgi", "7f00-7f10 r-xp 00000000 08:01 9 /usr/lib/libpython3.13t.so.1.0\n", 13, true, true},
		{"/usr/bin/python3.8d", "", 8, false, true},
		{"/usr/bin/sleep", "7f00-7f10 r-xp 00000000 08:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6\n", 0, false, false},
		{"/usr/bin/python2.7", "", 0, false, false},
	} {
		minor, ft, ok := pythonOf(c.exe, c.maps)
		if minor != c.minor || ft != c.freeThreaded || ok != c.ok {
			t.Errorf("pythonOf(%q, %q) = %d, %v, %v; want %d, %v, %v", c.exe, c.maps, minor, ft, ok, c.minor, c.freeThreaded, c.ok)
		}
	}
}

// TestRefused runs the command as an unprivileged user against a process
// of root's: the kernel would refuse ptrace, so objgraph says why and the
// fix, exits 1, and never touches the process.
func TestRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "TestRefused needs root, to run the command as another user")
	}
	setpriv := testenv.LookPath(t, "setpriv", "util-linux's setpriv runs the command as another user")
	py := pythons(t)[0]
	bin := buildCLI(t)
	for _, inj := range injectors(t) {
		t.Run(string(inj.Injector), func(t *testing.T) { refused(t, setpriv, py, bin, inj.Injector) })
	}
}

func refused(t *testing.T, setpriv, py, bin string, inj Injector) {
	p := start(t, py, "sleep", 1)
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "snapshot", "--injector", string(inj), fmt.Sprint(p.cmd.Process.Pid))
	cmd.Dir = filepath.Dir(bin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("objgraph snapshot as uid 65534: %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	want := fmt.Sprintf("objgraph: cannot attach to process %d: it belongs to uid 0 and you are uid 65534 without CAP_SYS_PTRACE; run objgraph as that user or as root (sudo)\n", p.cmd.Process.Pid)
	if stderr.String() != want || stdout.String() != "" {
		t.Errorf("objgraph snapshot as uid 65534:\nstdout %q\nstderr %q\nwant stderr %q", stdout.String(), stderr.String(), want)
	}
	alive(t, p.cmd.Process.Pid)
	st, code := p.finish(t)
	if code != 7 || !st.Enabled || fmt.Sprint(st.Threshold) != "[555 7 3]" || p.stderr.String() != "" {
		t.Errorf("the program after the refusal: %+v, exit %d, stderr %q", st, code, p.stderr.String())
	}
}

// buildCLI builds objgraph into a directory anyone may read.
func buildCLI(t *testing.T) string {
	t.Helper()
	gobin := testenv.LookPath(t, "go", "the test builds the objgraph command")
	dir, err := os.MkdirTemp("", "objgraph-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "objgraph")
	if out, err := exec.Command(gobin, "build", "-o", bin, "github.com/objgraph-go/objgraph/cmd/objgraph").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestTimeout: a main thread waiting in flock(2) runs no pending call
// before the deadline. Snapshot gives up with the reason, the process runs
// on as before, and the call, when it runs later (the program goes on after
// its SIGUSR1 handler), does nothing.
func TestTimeout(t *testing.T) {
	py := pythons(t)[0]
	for _, inj := range injectors(t) {
		t.Run(string(inj.Injector), func(t *testing.T) { timeoutFlock(t, py, inj) })
	}
}

func timeoutFlock(t *testing.T, py string, o Options) {
	p := start(t, py, "flock", 0)
	waitSyscall(t, p.cmd.Process.Pid, 73) // flock
	o.Timeout = 3 * time.Second
	_, err := Snapshot(p.cmd.Process.Pid, filepath.Join(t.TempDir(), "x.ogs"), o)
	want := fmt.Sprintf("no snapshot from process %d after 3s: its main thread ran no Python code meanwhile; the call queued in it does nothing when it runs", p.cmd.Process.Pid)
	if err == nil || err.Error() != want {
		t.Fatalf("Snapshot: %v, want %q", err, want)
	}
	alive(t, p.cmd.Process.Pid)
	st, code := p.finish(t)
	if code != 7 || !st.Enabled || fmt.Sprint(st.Threshold) != "[555 7 3]" || len(st.NewNames) != 0 || p.stderr.String() != "" {
		t.Errorf("the program after the timeout: %+v, exit %d, stderr %q", st, code, p.stderr.String())
	}
}

func TestUntested(t *testing.T) {
	err := errors.New("attaching to process 42: boom")
	if got := untested(Target{PID: 42, Minor: MaxTestedMinor}, err); got != err {
		t.Errorf("a tested version: %v", got)
	}
	got := untested(Target{PID: 42, Minor: MaxTestedMinor + 1}, err)
	want := fmt.Sprintf("attaching to process 42: boom (process 42 runs Python 3.%d, newer than 3.%d, the newest objgraph attaching was tested on; start the program with objgraph run, or call objgraph_agent.snapshot() in it)", MaxTestedMinor+1, MaxTestedMinor)
	if got == nil || got.Error() != want || !errors.Is(got, err) {
		t.Errorf("an untested version: %v\nwant %s", got, want)
	}
	if untested(Target{Minor: MaxTestedMinor + 1}, nil) != nil {
		t.Error("no error made one")
	}
}

func TestErrors(t *testing.T) {
	_, err := Snapshot(1<<22+1, "x.ogs", Options{GDB: "/nonexistent/gdb"})
	if err == nil || !strings.Contains(err.Error(), "no process") {
		t.Errorf("a pid with no process: %v", err)
	}
	// a process that is not Python: this test's own
	_, err = Snapshot(os.Getpid(), "x.ogs", Options{GDB: "/nonexistent/gdb"})
	if err == nil || !strings.Contains(err.Error(), "is not a Python process") {
		t.Errorf("a process that is not Python: %v", err)
	}
	p := start(t, pythons(t)[0], "sleep", 0)
	t.Setenv("PATH", t.TempDir())
	if _, err := Snapshot(p.cmd.Process.Pid, "x.ogs", Options{Injector: InjectGDB}); !errors.Is(err, ErrNoGDB) {
		t.Errorf("without gdb: %v, want %v", err, ErrNoGDB)
	}
	if _, err := Snapshot(p.cmd.Process.Pid, "x.ogs", Options{Injector: "strace"}); err == nil || err.Error() != `injector "strace" is not auto, ptrace or gdb` {
		t.Errorf("an unknown injector: %v", err)
	}
	// an interpreter older than the agent's 3.8, where the machine has one
	py37 := filepath.Join(os.Getenv("HOME"), ".pyenv/versions/3.7.16/bin/python3")
	if _, err := os.Stat(py37); err == nil {
		p := start(t, py37, "sleep", 0)
		_, err := Snapshot(p.cmd.Process.Pid, "x.ogs", Options{GDB: "/nonexistent/gdb"})
		if want := fmt.Sprintf("process %d runs Python 3.7; the capture agent needs Python 3.8 or later", p.cmd.Process.Pid); err == nil || err.Error() != want {
			t.Errorf("Python 3.7: %v, want %q", err, want)
		}
	}
}

// TestAttachTimeout ends the attach at moments up to and past the one gdb
// attaches: whenever it is cut short, the process runs on, untraced and
// unstopped, and exits as it would have.
func TestAttachTimeout(t *testing.T) {
	py := pythons(t)[0]
	for _, inj := range injectors(t) {
		t.Run(string(inj.Injector), func(t *testing.T) { attachTimeout(t, py, inj) })
	}
}

func attachTimeout(t *testing.T, py string, o Options) {
	p := start(t, py, "sleep", 1)
	for _, d := range []time.Duration{time.Nanosecond, time.Millisecond, 3 * time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
		o.Timeout = d
		_, err := Snapshot(p.cmd.Process.Pid, filepath.Join(t.TempDir(), "x.ogs"), o)
		t.Logf("timeout %v: %v", d, err)
		if err == nil {
			continue // done in time
		}
		if !strings.Contains(err.Error(), "timed out") && !strings.Contains(err.Error(), "no snapshot from process") {
			t.Errorf("timeout %v: %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
		alive(t, p.cmd.Process.Pid)
	}
	st, code := p.finish(t)
	if code != 7 || !st.Enabled || fmt.Sprint(st.Threshold) != "[555 7 3]" || len(st.NewNames) != 0 || p.stderr.String() != "" {
		t.Errorf("the program after the timeouts: %+v, exit %d, stderr %q", st, code, p.stderr.String())
	}
}

// TestForkChild ends the forked child that walks the heap, once with
// SIGKILL (a child that fails) and once by the deadline while it is
// stopped: the error says which, and the process runs on with no child,
// no thread of the agent's and its gc state as before.
func TestForkChild(t *testing.T) {
	py := pythons(t)[0]
	for _, inj := range injectors(t) {
		t.Run(string(inj.Injector), func(t *testing.T) { forkChild(t, py, inj) })
	}
}

func forkChild(t *testing.T, py string, inj Options) {
	for _, c := range []struct {
		name string
		sig  syscall.Signal // sent to the child as soon as it runs
		want string         // the error, with %[1]d the process's pid and %[2]d the child's
	}{
		{"killed", syscall.SIGKILL, "the capture agent's forked child %[2]d of process %[1]d failed: the snapshot's process was ended by signal 9; the process runs on as before"},
		{"stopped", syscall.SIGSTOP, "no snapshot from process %[1]d after 8s: its forked child %[2]d was still walking the heap and was ended (SIGKILL); the process runs on as before"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := start(t, py, "sleep-big", 1)
			pid := p.cmd.Process.Pid
			before := tasks(t, pid)
			done := make(chan error, 1)
			go func() {
				o := inj
				o.Timeout, o.Fork = 8*time.Second, ForkAlways
				_, err := Snapshot(pid, filepath.Join(t.TempDir(), "x.ogs"), o)
				done <- err
			}()
			child := 0
			var err error
		poll:
			for {
				select {
				case err = <-done:
					break poll
				default:
				}
				if child == 0 {
					if kids := children(t, pid); len(kids) > 0 {
						child, _ = strconv.Atoi(kids[0])
						syscall.Kill(child, c.sig)
					}
				}
				time.Sleep(time.Millisecond)
			}
			if child == 0 {
				t.Fatalf("no child seen; Snapshot: %v", err)
			}
			if want := fmt.Sprintf(c.want, pid, child); err == nil || err.Error() != want {
				t.Fatalf("Snapshot: %v\nwant %s", err, want)
			}
			// the agent's thread reaps the child it was waiting for
			for end := time.Now().Add(10 * time.Second); len(children(t, pid)) > 0 && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
			alive(t, pid)
			nothingLeft(t, pid, before)
			st, code := p.finish(t)
			if code != 7 || !st.Enabled || fmt.Sprint(st.Threshold) != "[555 7 3]" || len(st.NewNames) != 0 || len(st.Modules) != 0 || p.stderr.String() != "" {
				t.Errorf("the program afterwards: %+v, exit %d, stderr %q", st, code, p.stderr.String())
			}
		})
	}
}
