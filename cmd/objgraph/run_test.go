package main

import (
	"bufio"
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
	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

func needPython3(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, "python3", "objgraph run's tests need it")
}

func TestAgentCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	out, errOut, code := runCLI("agent", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path, plugin := filepath.Join(dir, agent.FileName), filepath.Join(dir, agent.PytestFileName)
	if want := path + "\n" + plugin + "\n"; out != want {
		t.Errorf("printed %q, want %q", out, want)
	}
	for file, src := range map[string][]byte{path: agent.Source, plugin: agent.PytestSource} {
		b, err := os.ReadFile(file)
		if err != nil || string(b) != string(src) {
			t.Fatalf("written %s differs from the embedded one (%v)", file, err)
		}
	}
}

func TestRunAtExit(t *testing.T) {
	py := needPython3(t)
	root := isolate(t)
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
	noRunsLeft(t, root)
}

// The tests that signal objgraph run run it as a process of its own: this
// test binary, started with OBJGRAPH_TEST_AS_CLI=1, is the objgraph command.
func init() {
	if os.Getenv("OBJGRAPH_TEST_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
}

// isolate gives the test a state directory of its own, through
// XDG_RUNTIME_DIR, and returns the directory objgraph run keeps runs in.
func isolate(t *testing.T) string {
	t.Helper()
	x := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", x)
	return filepath.Join(x, "objgraph")
}

// noRunsLeft fails the test when a run left its directory behind in root.
func noRunsLeft(t *testing.T, root string) {
	t.Helper()
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		t.Errorf("left behind in the state directory: %s", e.Name())
	}
}

// runProc is objgraph run running as a process.
type runProc struct {
	cmd  *exec.Cmd
	pid  int // the program's, as objgraph run printed it
	mu   sync.Mutex
	errb strings.Builder // standard error so far
	done chan struct{}   // closed when objgraph run has ended
	code int
}

// startRun starts objgraph run with args, in a session of its own (so with
// no terminal), and returns once it has printed the program's pid.
func startRun(t *testing.T, args ...string) *runProc {
	t.Helper()
	return startRunWith(t, nil, args...)
}

// startRunWith is startRun with setup changing the command before it starts.
func startRunWith(t *testing.T, setup func(*exec.Cmd), args ...string) *runProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &runProc{done: make(chan struct{})}
	p.cmd = exec.Command(exe, append([]string{"run"}, args...)...)
	p.cmd.Env = append(os.Environ(), "OBJGRAPH_TEST_AS_CLI=1")
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if setup != nil {
		setup(p.cmd)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pids := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.errb.WriteString(line + "\n")
			p.mu.Unlock()
			var pid int
			if i := strings.Index(line, " as pid "); i >= 0 && p.pid == 0 {
				fmt.Sscanf(line[i:], " as pid %d", &pid)
				p.pid = pid
				pids <- pid
			}
		}
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.code = 128 + int(ws.Signal())
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			// objgraph run leads a process group of its own, and whatever
			// it started is in it.
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	select {
	case <-pids:
	case <-p.done:
		t.Fatalf("objgraph run ended before starting the program (exit %d): %s", p.code, p.stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("objgraph run did not start the program: %s", p.stderr())
	}
	return p
}

func (p *runProc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

// wait waits for objgraph run to end and returns its exit status.
func (p *runProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(60 * time.Second):
		t.Fatalf("objgraph run did not end: %s", p.stderr())
		return -1
	}
}

// waitFor polls until cond holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	py := needPython3(t)
	root := isolate(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string // in standard error after the "running" line; "" for nothing
	}{
		{"ok", []string{py, "-c", "pass"}, 0, ""},
		{"status-3", []string{py, "-c", "import sys; sys.exit(3)"}, 3, ""},
		{"status-7", []string{py, "-c", "import sys; sys.exit(7)"}, 7, ""},
		{"SIGKILL", []string{py, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"}, 128 + 9, "was ended by SIGKILL"},
		{"SIGTERM", []string{py, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"}, 128 + 15, "was ended by SIGTERM"},
		{"not-found", []string{"objgraph-no-such-program"}, 127, "starting objgraph-no-such-program"},
		{"not-executable", []string{os.DevNull}, 126, "starting " + os.DevNull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(append([]string{"run", "-o", t.TempDir(), "--"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
			_, after, _ := strings.Cut(errOut, "\n")
			if tc.code == 126 || tc.code == 127 {
				after = errOut // nothing started, nothing said about it
			}
			if tc.stderr == "" && after != "" || !strings.Contains(after, tc.stderr) {
				t.Errorf("stderr %q, want %q after the first line", errOut, tc.stderr)
			}
			noRunsLeft(t, root)
		})
	}
	if _, errOut, code := runCLI("run"); code != 2 || !strings.Contains(errOut, "missing PROGRAM") {
		t.Errorf("no program: exit %d, stderr %q", code, errOut)
	}
}

func TestRunSignalFlag(t *testing.T) {
	py := needPython3(t)
	isolate(t)
	for _, tc := range []struct {
		signal string
		code   int
		stderr string
	}{
		{"SIGFOO", 2, `unknown signal "SIGFOO"`},
		{"KILL", 2, "SIGKILL cannot take snapshots: it cannot be caught"},
		{"SIGSTOP", 2, "SIGSTOP cannot take snapshots"},
		{"SIGSEGV", 2, "SIGSEGV cannot take snapshots: it reports a fault"},
		{"SIGCHLD", 2, "SIGCHLD cannot take snapshots"},
		{"9", 2, "SIGKILL cannot take snapshots"},
		{"usr1", 0, ""},
		{"none", 0, ""},
	} {
		t.Run(tc.signal, func(t *testing.T) {
			ran := filepath.Join(t.TempDir(), "ran")
			_, errOut, code := runCLI("run", "-o", t.TempDir(), "--signal", tc.signal, "--", py, "-c", "open("+strconv.Quote(ran)+", 'w')")
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut, tc.code, tc.stderr)
			}
			if _, err := os.Stat(ran); (err == nil) != (tc.code == 0) {
				t.Errorf("the program ran: %v, want %v", err == nil, tc.code == 0)
			}
			if tc.code == 2 && !strings.Contains(errOut, "use one of SIGUSR1, SIGUSR2") {
				t.Errorf("the error does not list the signals to use: %q", errOut)
			}
		})
	}
}

// recorder is a Python program that records the signals it gets, one name
// a line, into argv[2], handling those named in argv[1] (comma-separated);
// it creates argv[3] once its handlers are in place, and ends when it has
// had each signal once, argv[4] seconds later if given.
const recorder = `
import signal, sys, time
names = sys.argv[1].split(",")
out = open(sys.argv[2], "a", buffering=1)
got = set()
def record(signum, frame):
    got.add(signum)
    out.write(signal.Signals(signum).name + "\n")
for n in names:
    signal.signal(getattr(signal, n), record)
open(sys.argv[3], "w").close()
while len(got) < len(names):
    time.sleep(0.01)
time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)  # for any second delivery
`

func TestRunForwardsSignals(t *testing.T) {
	py := needPython3(t)
	root := isolate(t)
	dir := t.TempDir()
	names := []string{"SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGALRM", "SIGCONT", "SIGABRT"}
	sigs := []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2,
		syscall.SIGWINCH, syscall.SIGALRM, syscall.SIGCONT, syscall.SIGABRT}
	got, ready := filepath.Join(dir, "got"), filepath.Join(dir, "ready")
	// With --signal none, SIGUSR2 is the program's like any other.
	p := startRun(t, "-o", dir, "--signal", "none", "--", py, "-c", recorder, strings.Join(names, ","), got, ready)
	waitFor(t, "the program's handlers", func() bool { _, err := os.Stat(ready); return err == nil })
	for i, s := range sigs {
		if err := p.cmd.Process.Signal(s); err != nil {
			t.Fatalf("sending %s to objgraph run: %v (stderr %s)", names[i], err, p.stderr())
		}
		waitFor(t, names[i]+" to reach the program", func() bool {
			b, _ := os.ReadFile(got)
			return strings.Contains(string(b), names[i]+"\n")
		})
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("objgraph run exited %d, stderr %s", code, p.stderr())
	}
	b, _ := os.ReadFile(got)
	if want := strings.Join(names, "\n") + "\n"; string(b) != want {
		t.Errorf("the program got\n%s\nwant each once, in order:\n%s", b, want)
	}
	noRunsLeft(t, root)
}

func TestRunSnapshotSignal(t *testing.T) {
	py := needPython3(t)
	root := isolate(t)
	dir := t.TempDir()
	ready, stop := filepath.Join(dir, "ready"), filepath.Join(dir, "stop")
	// A shell starts Python half a second late: the snapshot signal sent to
	// objgraph run meanwhile is not passed on (it would end the shell), and
	// once Python has the agent it goes there.
	prog := "import os, time\nopen(" + strconv.Quote(ready) + ", 'w')\nwhile not os.path.exists(" + strconv.Quote(stop) + "): time.sleep(0.01)\n"
	p := startRun(t, "-o", dir, "--", "sh", "-c", `sleep 0.5; "$0" -c "$1"; exit $?`, py, prog)
	if err := p.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the note that SIGUSR2 was not passed on", func() bool {
		return strings.Contains(p.stderr(), "SIGUSR2 not passed on: no capture agent")
	})
	waitFor(t, "the program to start", func() bool { _, err := os.Stat(ready); return err == nil })
	if err := p.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a snapshot", func() bool { m, _ := filepath.Glob(filepath.Join(dir, "objgraph-*.ogs")); return len(m) == 1 })
	os.WriteFile(stop, nil, 0o600)
	if code := p.wait(t); code != 0 {
		t.Errorf("objgraph run exited %d, stderr %s", code, p.stderr())
	}
	noRunsLeft(t, root)
}

func TestSnapshotCommand(t *testing.T) {
	py := needPython3(t)
	isolate(t)
	dir := t.TempDir()
	ready, stop := filepath.Join(dir, "ready"), filepath.Join(dir, "stop")
	prog := filepath.Join(dir, "prog.py")
	os.WriteFile(prog, []byte(`import os, sys, time
class Marker: pass
m = [Marker() for _ in range(7)]
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
`), 0o600)
	for _, tc := range []struct {
		name    string
		command []string
	}{
		{"python", []string{py, prog, ready, stop}},
		// The program is a shell that runs Python (and does not exec it).
		{"shell", []string{"sh", "-c", `"$0" "$@"; exit $?`, py, prog, ready, stop}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(ready)
			os.Remove(stop)
			p := startRun(t, append([]string{"-o", dir, "--"}, tc.command...)...)
			waitFor(t, "the program to start", func() bool { _, err := os.Stat(ready); return err == nil })
			b, _ := os.ReadFile(ready)
			pyPID, _ := strconv.Atoi(string(b))
			// The pid objgraph run printed, objgraph run's own and Python's
			// all do.
			for i, pid := range []int{p.pid, p.cmd.Process.Pid, pyPID} {
				want := filepath.Join(dir, fmt.Sprintf("taken-%d.ogs", i))
				out, errOut, code := runCLI("snapshot", strconv.Itoa(pid), "-o", want, "--timeout", "60s")
				if code != 0 || strings.TrimSpace(out) != want {
					t.Fatalf("snapshot %d: exit %d, stdout %q, stderr %s", pid, code, out, errOut)
				}
				h, err := heap.ReadFile(want)
				if err != nil {
					t.Fatal(err)
				}
				if h.Meta().PID != pyPID {
					t.Errorf("snapshot %d is of process %d, want Python's, %d", pid, h.Meta().PID, pyPID)
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
	if _, errOut, code := runCLI("snapshot", "999999999"); code != 1 || errOut != "objgraph: no process 999999999\n" {
		t.Errorf("unknown pid: exit %d, stderr %q", code, errOut)
	}
}

// TestSnapshotWithoutAgent: when no agent has started, snapshot says what is
// in the way and sends nothing.
func TestSnapshotWithoutAgent(t *testing.T) {
	py := needPython3(t)
	isolate(t)
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	sleeper := "import time\nopen(" + strconv.Quote(ready) + ", 'w')\ntime.sleep(60)\n"
	for _, tc := range []struct {
		name    string
		command []string
		want    string
	}{
		{"not-python", []string{"sh", "-c", "touch " + ready + "; exec sleep 60"}, "runs no Python process"},
		{"isolated", []string{py, "-I", "-c", sleeper}, "was started with -I, which ignores PYTHONPATH"},
		{"no-environment", []string{"env", "-i", py, "-c", sleeper}, "was started without the agent: its environment lacks OBJGRAPH_AGENT_STATE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(ready)
			p := startRun(t, append([]string{"-o", dir, "--"}, tc.command...)...)
			waitFor(t, "the program to start", func() bool { _, err := os.Stat(ready); return err == nil })
			_, errOut, code := runCLI("snapshot", strconv.Itoa(p.pid))
			if code != 1 || !strings.Contains(errOut, "nothing sent to process") || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
			time.Sleep(100 * time.Millisecond)
			select {
			case <-p.done:
				t.Fatalf("the program ended: objgraph run exited %d, stderr %s", p.code, p.stderr())
			default:
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			if code := p.wait(t); code != 128+15 {
				t.Errorf("after SIGTERM, objgraph run exited %d, want 143; stderr %s", code, p.stderr())
			}
		})
	}
}

// TestSnapshotRightAfterStart: 'objgraph snapshot PID' as soon as objgraph
// run has printed the pid finds the agent not started yet, or takes a
// snapshot; it never ends the program with a signal it has no handler for.
func TestSnapshotRightAfterStart(t *testing.T) {
	py := needPython3(t)
	isolate(t)
	dir := t.TempDir()
	taken := 0
	const runs = 12
	for i := range runs {
		p := startRun(t, "-o", dir, "--", py, "-c", "import time; time.sleep(0.4)")
		time.Sleep(time.Duration(i) * 25 * time.Millisecond) // before and after the agent starts
		_, errOut, code := runCLI("snapshot", strconv.Itoa(p.pid), "--timeout", "60s", "-o", filepath.Join(dir, fmt.Sprintf("s%d.ogs", i)))
		switch {
		case code == 0:
			taken++
		case code != 1 || !strings.Contains(errOut, "nothing sent to process"):
			t.Errorf("run %d: snapshot exited %d, stderr %q", i, code, errOut)
		}
		if code := p.wait(t); code != 0 {
			t.Fatalf("run %d: the program did not survive: objgraph run exited %d, stderr %s", i, code, p.stderr())
		}
	}
	t.Logf("%d of %d snapshots taken, the others refused before the agent started", taken, runs)
}

// TestRunStateIsPrivate: objgraph run keeps nothing at a predictable name in
// the shared temporary directory, and refuses a state directory there that
// is a link, another user's, or open to others.
func TestRunStateIsPrivate(t *testing.T) {
	py := needPython3(t)
	// The interpreter itself: a pyenv shim is slow with a new TMPDIR.
	if b, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		py = strings.TrimSpace(string(b))
	}
	uid := os.Geteuid()
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, at string) // makes the state directory's name taken
		want  string
	}{
		{"symlink", func(t *testing.T, at string) {
			if err := os.Symlink(t.TempDir(), at); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link; refusing it"},
		{"open-to-others", func(t *testing.T, at string) {
			os.Mkdir(at, 0o700)
			os.Chmod(at, 0o777)
		}, "has mode 0777, open to others; refusing it"},
		{"another-users", func(t *testing.T, at string) {
			if uid != 0 {
				testenv.Missing(t, "root, to make a directory of another user here (internal/runstate tests the check too)")
			}
			os.Mkdir(at, 0o700)
			if err := os.Chown(at, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "belongs to uid 65534, not to you"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("XDG_RUNTIME_DIR", "")
			t.Setenv("TMPDIR", tmp)
			planted := filepath.Join(tmp, "objgraph-"+strconv.Itoa(uid))
			tc.plant(t, planted)
			before, _ := os.ReadDir(planted) // through the link, if one
			// The program lists the temporary directory while objgraph run runs it.
			list := "import os, sys\nfor n in sorted(os.listdir(sys.argv[1])):\n" +
				"    p = os.path.join(sys.argv[1], n)\n" +
				"    print(n, 'link' if os.path.islink(p) else 'dir' if os.path.isdir(p) else 'file')\n"
			out, errOut, code := runCLI("run", "-o", t.TempDir(), "--", py, "-c", list, tmp)
			if code != 0 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "'objgraph snapshot' will not find this run") {
				t.Errorf("exit %d, stderr %q; want 0 and %q", code, errOut, tc.want)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				name, kind, _ := strings.Cut(line, " ")
				if kind == "file" || kind == "link" && name != filepath.Base(planted) {
					t.Errorf("objgraph run made %s %s in the temporary directory", kind, name)
				}
			}
			if after, _ := os.ReadDir(planted); len(after) != len(before) {
				t.Errorf("objgraph run wrote into the planted directory: %v", after)
			}
			if _, errOut, code := runCLI("snapshot", "12345"); code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("snapshot: exit %d, stderr %q; want it to refuse the directory", code, errOut)
			}
		})
	}
}
