//go:build linux && amd64

package attach

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// ptraceProgram is a target for what only the ptrace injector does: it
// plants 1234 instances of Planted, prints "ready", does what the mode
// says, and prints its findings as one line of JSON, then exits 0.
//
//   - pipe: the main thread reads up to 100 bytes from descriptor 3 and
//     prints them (read).
//   - float: the main thread and another sum one list of floats over and
//     over until SIGUSR1, counting the sums that differ from the first
//     (main_bad, thread_bad) of how many (main_rounds, thread_rounds).
//   - signals: the main thread sleeps until SIGUSR2; the handlers of
//     SIGUSR1 and SIGWINCH count their runs (usr1_handled, winch_handled),
//     and the wake-up descriptor the times the C handler ran for each
//     (usr1_delivered, winch_delivered). Only the main thread takes them.
const ptraceProgram = `
import json, os, signal, sys, threading, time

class Planted:
    pass

class Stop(Exception):
    pass

def stop(signum, frame):
    raise Stop()

keep = [Planted() for _ in range(1234)]
mode = sys.argv[1]
out = {}
if mode == "pipe":
    print("ready", flush=True)
    out["read"] = os.read(3, 100).decode()
elif mode == "float":
    signal.signal(signal.SIGUSR1, stop)
    xs = [((i * 7919) % 1000003) / 997.0 + 1.0 / (i + 1) for i in range(200000)]
    ref = sum(xs)
    running = [True]
    counts = {"thread_rounds": 0, "thread_bad": 0}

    def worker():
        while running[0]:
            if sum(xs) != ref:
                counts["thread_bad"] += 1
            counts["thread_rounds"] += 1

    th = threading.Thread(target=worker)
    th.start()
    rounds = bad = 0
    try:
        print("ready", flush=True)
        while True:
            if sum(xs) != ref:
                bad += 1
            rounds += 1
    except Stop:
        pass
    running[0] = False
    th.join()
    out.update(counts, main_rounds=rounds, main_bad=bad)
elif mode == "signals":
    counts = {"usr1_handled": 0, "usr1_delivered": 0, "winch_handled": 0, "winch_delivered": 0}

    def count(key):
        return lambda signum, frame: counts.__setitem__(key, counts[key] + 1)

    signal.signal(signal.SIGUSR1, count("usr1_handled"))
    signal.signal(signal.SIGWINCH, count("winch_handled"))
    signal.signal(signal.SIGUSR2, stop)
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)

    def reader():
        # (the signals go to the main thread, whose sleep they interrupt)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH})
        while True:
            b = os.read(r, 100)
            counts["usr1_delivered"] += b.count(bytes([signal.SIGUSR1]))
            counts["winch_delivered"] += b.count(bytes([signal.SIGWINCH]))
            if bytes([signal.SIGUSR2]) in b:
                return

    th = threading.Thread(target=reader)
    th.start()
    try:
        print("ready", flush=True)
        while True:
            time.sleep(600)
    except Stop:
        pass
    th.join()
    out.update(counts)
print(json.dumps(out), flush=True)
`

// ptraceTarget runs ptraceProgram in mode, with extra as its descriptor 3
// when not nil.
func ptraceTarget(t *testing.T, py, mode string, extra *os.File) *target {
	t.Helper()
	cmd := appCommand(t, ptraceProgram, py, mode)
	if extra != nil {
		cmd.ExtraFiles = []*os.File{extra}
	}
	return startReady(t, cmd, py+" app.py "+mode)
}

// result waits for the program's line of JSON and its exit, status 0.
func (p *target) result(t *testing.T) map[string]any {
	t.Helper()
	lines := make(chan string, 1)
	go func() {
		var last string
		for p.out.Scan() {
			last = p.out.Text()
		}
		lines <- last
	}()
	var m map[string]any
	select {
	case last := <-lines:
		if err := json.Unmarshal([]byte(last), &m); err != nil {
			t.Fatalf("the program's last line %q: %v; stderr:\n%s", last, err, p.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the program did not end; stderr:\n%s", p.stderr.String())
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("the program: %v; stderr:\n%s", err, p.stderr.String())
	}
	if s := p.stderr.String(); s != "" {
		t.Errorf("the program's stderr:\n%s", s)
	}
	return m
}

// snapshotPtrace takes a snapshot of p with the ptrace injector and checks
// what every attach must leave.
func snapshotPtrace(t *testing.T, p *target, o Options, check ...bool) *Result {
	t.Helper()
	pid := p.cmd.Process.Pid
	before := tasks(t, pid)
	dst := filepath.Join(t.TempDir(), "attached.ogs")
	o.Injector = InjectPtrace
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	res, err := Snapshot(pid, dst, o)
	if err != nil {
		t.Fatalf("%v; the program's stderr:\n%s", err, p.stderr.String())
	}
	t.Logf("method %s (thread %d in %s), held %+v, steps %+v", res.Method, res.Thread, res.Syscall, res.Stops, res.Steps)
	checkStops(t, res)
	alive(t, pid)
	nothingLeft(t, pid, before)
	if len(check) == 0 || check[0] {
		checkSnapshot(t, dst)
	}
	return res
}

// TestPtrace covers what the ptrace injector meets that gdb does not: the
// thread it borrows or interrupts runs on exactly as before, its blocking
// read restarted, its floating-point registers and its signals its own.
func TestPtrace(t *testing.T) {
	for _, py := range pythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"/"+filepath.Base(py), func(t *testing.T) {
			t.Parallel()
			t.Run("spin-alone", func(t *testing.T) {
				// a main thread in a tight loop and no thread waiting:
				// the pending call, and one thread held once
				p := start(t, py, "spin", 0)
				res := snapshotPtrace(t, p, Options{})
				if res.Method != "pending" || res.Thread != p.cmd.Process.Pid || len(res.Stops) != 1 {
					t.Errorf("method %q on thread %d, %d threads held; want pending on the main thread %d, held once", res.Method, res.Thread, len(res.Stops), p.cmd.Process.Pid)
				}
				if st, code := p.finish(t); code != 7 || st.Planted != 1234 || !st.Enabled {
					t.Errorf("the program afterwards: %+v, exit %d", st, code)
				}
			})
			t.Run("sleep-alone", func(t *testing.T) {
				p := start(t, py, "sleep", 0)
				waitSyscall(t, p.cmd.Process.Pid, 230, 270) // clock_nanosleep, or pselect6 before 3.11
				res := snapshotPtrace(t, p, Options{})
				if res.Method != "thread" || res.Thread != p.cmd.Process.Pid || res.Syscall != "clock_nanosleep" && res.Syscall != "pselect6" || len(res.Stops) != 1 {
					t.Errorf("method %q on thread %d in %q, %d threads held; want the main thread %d borrowed in its sleep, held once", res.Method, res.Thread, res.Syscall, len(res.Stops), p.cmd.Process.Pid)
				}
				if st, code := p.finish(t); code != 7 || st.Planted != 1234 || !st.Enabled {
					t.Errorf("the program afterwards: %+v, exit %d", st, code)
				}
			})
			t.Run("pipe", func(t *testing.T) {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				p := ptraceTarget(t, py, "pipe", r)
				r.Close()
				waitSyscall(t, p.cmd.Process.Pid, 0)
				res := snapshotPtrace(t, p, Options{})
				if res.Method != "thread" || res.Syscall != "read" || res.Thread != p.cmd.Process.Pid {
					t.Errorf("method %q on thread %d in %q; want the main thread borrowed in read", res.Method, res.Thread, res.Syscall)
				}
				const msg = "written after the detach\n"
				if _, err := w.WriteString(msg); err != nil {
					t.Fatal(err)
				}
				if m := p.result(t); m["read"] != msg {
					t.Errorf("the program read %q, want %q", m["read"], msg)
				}
			})
			t.Run("float", func(t *testing.T) {
				// The main thread sums floats in C (builtin sum keeps its
				// running total in a register); the hook overwrites every
				// XMM register and MXCSR's rounding mode while the thread is
				// held, as a call into the process may: the restored state
				// must give the same sums, in it and in the other thread.
				p := ptraceTarget(t, py, "float", nil)
				for i := 0; i < 5; i++ {
					// (the later snapshots are not checked for the agent's
					// strings: those of the earlier attaches may be about)
					res := snapshotPtrace(t, p, Options{hook: clobberXState(t)}, i == 0)
					if !strings.HasPrefix(res.Method, "pending") {
						t.Errorf("method %q, want pending", res.Method)
					}
					time.Sleep(50 * time.Millisecond)
				}
				p.cmd.Process.Signal(syscall.SIGUSR1)
				m := p.result(t)
				t.Logf("%v", m)
				if m["main_bad"] != 0.0 || m["thread_bad"] != 0.0 || m["main_rounds"] == 0.0 || m["thread_rounds"] == 0.0 {
					t.Errorf("sums that differed: %v", m)
				}
			})
			t.Run("signals", func(t *testing.T) {
				// SIGUSR1 comes while the thread is held, before the first
				// call (from the hook), and SIGWINCH every 20 ms throughout:
				// each reaches the program's C handler once, none is lost.
				p := ptraceTarget(t, py, "signals", nil)
				pid := p.cmd.Process.Pid
				var sent atomic.Int32
				stop := make(chan bool)
				done := make(chan bool)
				go func() {
					defer close(done)
					for {
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
							// (once the last is taken: the kernel keeps one
							// pending signal of each kind, and a loaded
							// machine may not run the thread for 20 ms)
							for end := time.Now().Add(5 * time.Second); pendingSig(pid, syscall.SIGWINCH) && time.Now().Before(end); {
								time.Sleep(time.Millisecond)
							}
							syscall.Kill(pid, syscall.SIGWINCH)
							sent.Add(1)
						}
					}
				}()
				time.Sleep(100 * time.Millisecond)
				hooked := 0
				hook := func(tid int) {
					// (once: a second SIGUSR1 while the first is pending
					// would be one, as the kernel keeps one of each)
					if hooked == 0 {
						syscall.Kill(pid, syscall.SIGUSR1)
					}
					hooked++
				}
				snapshotPtrace(t, p, Options{hook: hook})
				if hooked == 0 {
					t.Errorf("the hook was never called")
				}
				time.Sleep(100 * time.Millisecond)
				close(stop)
				<-done
				time.Sleep(200 * time.Millisecond)
				p.cmd.Process.Signal(syscall.SIGUSR2)
				m := p.result(t)
				n := float64(sent.Load())
				// (Python runs a handler once for the signals that came
				// while its main thread waited for the GIL, which the
				// capture holds at times: handled may be fewer)
				wh, _ := m["winch_handled"].(float64)
				if m["usr1_delivered"] != 1.0 || m["usr1_handled"] != 1.0 || m["winch_delivered"] != n || wh < 1 || wh > n {
					t.Errorf("1 SIGUSR1 and %v SIGWINCH sent; the program: %v", n, m)
				}
			})
			t.Run("stop-cont", func(t *testing.T) {
				// SIGSTOP to the process while a thread is held, SIGCONT
				// 200 ms later: the process stops and continues as it
				// would have, the snapshot is taken after
				p := ptraceTarget(t, py, "signals", nil)
				pid := p.cmd.Process.Pid
				hook := func(tid int) {
					syscall.Kill(pid, syscall.SIGSTOP)
					time.AfterFunc(200*time.Millisecond, func() { syscall.Kill(pid, syscall.SIGCONT) })
				}
				res := snapshotPtrace(t, p, Options{hook: hook})
				if res.Stopped < 150*time.Millisecond {
					t.Errorf("the thread was held %v, less than the process was stopped", res.Stopped)
				}
				p.cmd.Process.Signal(syscall.SIGUSR2)
				if m := p.result(t); m["usr1_delivered"] != 0.0 || m["winch_delivered"] != 0.0 {
					t.Errorf("the program: %v", m)
				}
			})
		})
	}
}

// pendingSig reports whether sig is pending for process pid or its main
// thread.
func pendingSig(pid int, sig syscall.Signal) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		for _, k := range []string{"ShdPnd:", "SigPnd:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil && m&(1<<(uint(sig)-1)) != 0 {
					return true
				}
			}
		}
	}
	return false
}

// clobberXState returns a hook that, from the tracer's thread, overwrites
// the held thread's XMM registers and sets MXCSR to round toward zero.
func clobberXState(t *testing.T) func(tid int) {
	return func(tid int) {
		buf := make([]byte, xstateBufferSize)
		iov := syscall.Iovec{Base: &buf[0], Len: uint64(len(buf))}
		if err := ptraceReq(ptraceGetRegSet, tid, ntX86XState, uintptr(unsafe.Pointer(&iov))); err != nil {
			t.Errorf("PTRACE_GETREGSET: %v", err)
			return
		}
		// the legacy region: MXCSR at 24, XMM0-15 at 160
		binary.LittleEndian.PutUint32(buf[24:], binary.LittleEndian.Uint32(buf[24:])|0x6000)
		for i := 160; i < 160+16*16; i++ {
			buf[i] = 0x5a
		}
		if err := ptraceReq(ptraceSetRegSet, tid, ntX86XState, uintptr(unsafe.Pointer(&iov))); err != nil {
			t.Errorf("PTRACE_SETREGSET: %v", err)
		}
	}
}

// TestPtraceTraced: a thread some other tracer holds cannot be seized;
// the error says by whom, and the process runs on.
func TestPtraceTraced(t *testing.T) {
	strace := testenv.LookPath(t, "strace", "the test traces the program with it first (apt-get install strace)")
	py := pythons(t)[0]
	p := start(t, py, "sleep", 1)
	pid := p.cmd.Process.Pid
	s := exec.Command(strace, "-f", "-qq", "-o", "/dev/null", "-p", fmt.Sprint(pid))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); tracerOf(pid, pid) == 0 && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
	}
	_, err := Snapshot(pid, filepath.Join(t.TempDir(), "x.ogs"), Options{Injector: InjectPtrace, Timeout: 10 * time.Second})
	want := fmt.Sprintf("cannot attach to process %d: its thread %d is already traced by process %d (strace), a debugger or strace; detach it and try again", pid, pid, s.Process.Pid)
	if err == nil || err.Error() != want {
		t.Errorf("Snapshot: %v\nwant %s", err, want)
	}
	s.Process.Signal(syscall.SIGINT)
	s.Wait()
	alive(t, pid)
	if st, code := p.finish(t); code != 7 || st.Planted != 1234 || len(st.NewNames) != 0 {
		t.Errorf("the program afterwards: %+v, exit %d", st, code)
	}
}

// TestPtraceInterrupt sends objgraph SIGINT while the thread it borrowed
// waits for the GIL, which another thread holds in one long C call: the
// call is not cut short, the thread is put back and detached, objgraph
// says so and exits 1, and the program runs on to its own end.
func TestPtraceInterrupt(t *testing.T) {
	py := pythons(t)[0]
	bin := buildCLI(t)
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	src := `
import signal, sys, threading, time

class Stop(Exception):
    pass

def stop(signum, frame):
    raise Stop()

signal.signal(signal.SIGUSR1, stop)
def hog():
    time.sleep(0.2)  # (for the main thread to get to its sleep)
    sum(range(3 * 10 ** 8))  # holds the GIL throughout
print("ready", flush=True)
threading.Thread(target=hog).start()
try:
    time.sleep(600)
except Stop:
    pass
print("done", flush=True)
sys.exit(7)
`
	if err := os.WriteFile(app, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startReady(t, exec.Command(py, app), py+" app.py")
	pid := p.cmd.Process.Pid
	waitSyscall(t, pid, 230, 270)
	time.Sleep(400 * time.Millisecond) // (the other thread in its sum)
	cmd := exec.Command(bin, "snapshot", "--injector", "ptrace", "-o", filepath.Join(dir, "x.ogs"), fmt.Sprint(pid))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	// (the borrowed thread is still waiting for the GIL, in the call)
	if tracerOf(pid, pid) != cmd.Process.Pid {
		t.Fatalf("objgraph does not hold the main thread half a second in (tracer %d)", tracerOf(pid, pid))
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	want := fmt.Sprintf("objgraph: interrupted by SIGINT while attached to process %d; its thread was put back as it was and detached first\n", pid)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stderr.String() != want {
		t.Errorf("objgraph snapshot: %v\nstderr %q\nwant %q", err, stderr.String(), want)
	}
	alive(t, pid)
	p.cmd.Process.Signal(syscall.SIGUSR1)
	if !p.out.Scan() || p.out.Text() != "done" {
		t.Errorf("the program did not go on to its end; stderr:\n%s", p.stderr.String())
	}
	if err := p.cmd.Wait(); err == nil || err.(*exec.ExitError).ExitCode() != 7 {
		t.Errorf("the program: %v, want exit status 7; stderr:\n%s", err, p.stderr.String())
	}
}
