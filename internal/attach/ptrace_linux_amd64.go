//go:build linux && amd64

package attach

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/objgraph-go/objgraph/internal/proc"
)

// ptraceAvailable says whether this build has the ptrace injector.
const ptraceAvailable = true

// ptrace requests and constants package syscall does not name.
const (
	ptraceGetFPRegs  = 14
	ptraceSetFPRegs  = 15
	ptraceGetRegSet  = 0x4204
	ptraceSetRegSet  = 0x4205
	ptraceSeize      = 0x4206
	ptraceInterrupt  = 0x4207
	ptraceListen     = 0x4208
	ptraceEventStop  = 128
	ntX86XState      = 0x202
	xstateBufferSize = 1 << 16 // far more than any CPU's XSAVE area
	redZone          = 128
	flagDirection    = 0x400
)

// restartCodes are what rax holds when a thread is stopped inside a system
// call it will restart: -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND and
// -ERESTART_RESTARTBLOCK.
var restartCodes = map[int64]bool{-512: true, -513: true, -514: true, -516: true}

const (
	errRestartNoIntr = -513
	errEINTR         = -4
	sysFutex         = 202
)

// ptraceError is a failure of the ptrace injector with the cause gdbError
// knows ("ptrace", "timeout", "uninitialized", "traced", "stopped").
type ptraceError struct {
	cause string
	msg   string
}

func (e *ptraceError) Error() string { return e.msg }

// candidate is a thread the survey found, and what it was doing.
type candidate struct {
	tid     int
	nr      int  // the system call it waits in, -1 if none
	blocked bool // nr is one of syscalls' blocking waits
	state   byte // from /proc/PID/task/TID/stat
	segv    bool // it blocks or ignores SIGSEGV: nothing is called in it
}

// survey reads, without stopping anything, what each thread of process pid
// is doing: the main thread first, then the others by tid. A thread with
// SIGSEGV blocked or ignored is left out, as the end of each call into it
// is a SIGSEGV at address 0.
func survey(pid int) ([]candidate, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, fmt.Errorf("process %d: listing its threads: %w", pid, err)
	}
	var out []candidate
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		c := candidate{tid: tid, nr: -1}
		c.state, _ = proc.ThreadState(pid, tid)
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/syscall", pid, tid)); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				if n, err := strconv.Atoi(f[0]); err == nil {
					c.nr = n
				}
			}
		}
		_, c.blocked = blockingSyscalls[c.nr]
		if c.segv = segvHeld(pid, tid); c.segv {
			c.blocked = false
			if tid != pid {
				continue
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].tid == pid) != (out[j].tid == pid) {
			return out[i].tid == pid
		}
		return out[i].tid < out[j].tid
	})
	return out, nil
}

// segvHeld reports whether thread tid blocks or ignores SIGSEGV (the
// kernel would reset either when a call into it ends), or its status is
// unreadable.
func segvHeld(pid, tid int) bool {
	st, ok := proc.ReadStatus(pid, tid)
	if !ok {
		return true
	}
	for _, k := range []string{"SigBlk", "SigIgn"} {
		if _, present := st[k]; present {
			if in, ok := st.Has(k, syscall.SIGSEGV); !ok || in {
				return true
			}
		}
	}
	return false
}

// blockingSyscalls are the waits a thread may be borrowed in: those of
// gdb_attach.py's BLOCKING.
var blockingSyscalls = func() map[int]bool {
	m := map[int]bool{}
	for nr := range syscalls {
		if nr != sysFutex {
			m[nr] = true
		}
	}
	return m
}()

// tracer holds one thread of the process stopped, from the one OS thread
// every ptrace request about it must come from.
type tracer struct {
	pid, tid int
	mem      *os.File
	saved    syscall.PtraceRegs
	xstate   []byte // the thread's extended state as found (XSAVE area, or FXSAVE's with fpregs)
	fpregs   bool   // xstate came from PTRACE_GETFPREGS
	seized   bool   // attached, not yet detached
	stopped  bool   // it reached its stop, and saved holds its registers
	handled  int    // signals passed on to the thread during calls that have a handler
	held     time.Time
	inCalls  time.Duration
	inCall   func(bool) // told when a call starts and ends
}

func ptraceReq(req, tid int, addr, data uintptr) error {
	_, _, e := syscall.Syscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// wait waits for the thread's next state change, polling until deadline
// when it is not zero.
func (tr *tracer) wait(deadline time.Time) (syscall.WaitStatus, error) {
	for {
		var ws syscall.WaitStatus
		opts := syscall.WALL
		if !deadline.IsZero() {
			opts |= syscall.WNOHANG
		}
		n, err := syscall.Wait4(tr.tid, &ws, opts, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return ws, err
		}
		if n == 0 {
			if time.Now().After(deadline) {
				return ws, errTimeout
			}
			time.Sleep(200 * time.Microsecond)
			continue
		}
		if ws.Exited() || ws.Signaled() {
			tr.seized = false
			return ws, fmt.Errorf("thread %d of process %d exited while objgraph held it", tr.tid, tr.pid)
		}
		return ws, nil
	}
}

var errTimeout = errors.New("timed out")

func event(ws syscall.WaitStatus) int { return int(ws>>16) & 0xff }

func isStopSignal(s syscall.Signal) bool {
	return s == syscall.SIGSTOP || s == syscall.SIGTSTP || s == syscall.SIGTTIN || s == syscall.SIGTTOU
}

// seize attaches to the thread and stops it (PTRACE_SEIZE sends no
// signal; PTRACE_INTERRUPT stops that one thread), then saves its
// registers and extended state.
func (tr *tracer) seize(deadline time.Time) error {
	if err := ptraceReq(ptraceSeize, tr.tid, 0, 0); err != nil {
		if tp := tracerOf(tr.pid, tr.tid); tp > 0 {
			return &ptraceError{"traced", fmt.Sprintf("cannot attach to process %d: its thread %d is already traced by process %d (%s), a debugger or strace; detach it and try again", tr.pid, tr.tid, tp, commOf(tp))}
		}
		if err == syscall.ESRCH {
			return err
		}
		return &ptraceError{"ptrace", fmt.Sprintf("ptrace(PTRACE_SEIZE, %d): %v", tr.tid, err)}
	}
	tr.seized = true
	tr.held = time.Now()
	if err := ptraceReq(ptraceInterrupt, tr.tid, 0, 0); err != nil {
		return fmt.Errorf("ptrace(PTRACE_INTERRUPT, %d): %w", tr.tid, err)
	}
	for {
		ws, err := tr.wait(deadline)
		if err != nil {
			return err
		}
		if !ws.Stopped() {
			continue
		}
		sig := ws.StopSignal()
		if event(ws) == ptraceEventStop {
			if isStopSignal(sig) {
				return &ptraceError{"stopped", fmt.Sprintf("process %d is stopped (by %v); it is left so: send it SIGCONT and try again", tr.pid, sig)}
			}
			break // the stop PTRACE_INTERRUPT asked for
		}
		// a signal that came first goes on to the thread
		if err := ptraceReq(syscall.PTRACE_CONT, tr.tid, 0, uintptr(sig)); err != nil {
			return fmt.Errorf("ptrace(PTRACE_CONT, %d): %w", tr.tid, err)
		}
	}
	if err := syscall.PtraceGetRegs(tr.tid, &tr.saved); err != nil {
		return fmt.Errorf("ptrace(PTRACE_GETREGS, %d): %w", tr.tid, err)
	}
	tr.stopped = true
	buf := make([]byte, xstateBufferSize)
	iov := syscall.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	if err := ptraceReq(ptraceGetRegSet, tr.tid, ntX86XState, uintptr(unsafe.Pointer(&iov))); err == nil {
		tr.xstate = buf[:iov.Len]
	} else {
		buf = buf[:512]
		if err := ptraceReq(ptraceGetFPRegs, tr.tid, 0, uintptr(unsafe.Pointer(&buf[0]))); err != nil {
			tr.xstate = nil
			return fmt.Errorf("ptrace(PTRACE_GETFPREGS, %d): %w", tr.tid, err)
		}
		tr.xstate, tr.fpregs = buf, true
	}
	runtime.KeepAlive(buf)
	return nil
}

// caught reports whether sig has a handler in thread tid (SigCgt), or
// that cannot be told.
func caught(pid, tid int, sig syscall.Signal) bool {
	st, ok := proc.ReadStatus(pid, tid)
	if !ok {
		return true
	}
	in, ok := st.Has("SigCgt", sig)
	return !ok || in
}

// tracerOf returns the process tracing thread tid, 0 if none.
func tracerOf(pid, tid int) int {
	// (TracerPid names the tracing thread; its Tgid, the process)
	st, _ := proc.ReadStatus(pid, tid)
	n := st.Int("TracerPid")
	if n <= 0 {
		return 0
	}
	tracer, _ := proc.ReadStatus(n, 0)
	if g := tracer.Int("Tgid"); g > 0 {
		return g
	}
	return n
}

func commOf(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if s := strings.TrimSpace(string(b)); s != "" {
		return s
	}
	return "unknown"
}

// inSyscall reports whether the thread was stopped inside a blocking wait
// it will restart: the instruction before rip is syscall (0f 05), orig_rax
// one of the waits and rax a restart code.
func (tr *tracer) inSyscall() bool {
	r := &tr.saved
	var insn [2]byte
	if _, err := tr.mem.ReadAt(insn[:], int64(r.Rip-2)); err != nil || insn != [2]byte{0x0f, 0x05} {
		return false
	}
	return blockingSyscalls[int(int64(r.Orig_rax))] && restartCodes[int64(r.Rax)]
}

// call calls the function at fn in the thread with up to six integer
// arguments and returns what it returned (rax). The thread starts at fn
// with the stack pointer below the red zone, aligned as at any function's
// entry (rsp % 16 == 8) under a return address of 0, and orig_rax -1 so
// that the kernel restarts no system call over it; the call ends at the
// SIGSEGV its return to 0 raises. A signal the thread receives meanwhile
// is passed on to it, a group stop is kept (PTRACE_LISTEN) until the
// process is continued. The call is never cut short.
func (tr *tracer) call(fn uint64, args ...uint64) (uint64, error) {
	if fn == 0 {
		return 0, errors.New("calling a function whose address is unknown")
	}
	r := tr.saved
	r.Rip = fn
	dst := []*uint64{&r.Rdi, &r.Rsi, &r.Rdx, &r.Rcx, &r.R8, &r.R9}
	for i, a := range args {
		*dst[i] = a
	}
	sp := (tr.saved.Rsp - redZone - 8) &^ 15
	sp -= 8
	if _, err := tr.mem.WriteAt(make([]byte, 8), int64(sp)); err != nil {
		return 0, fmt.Errorf("writing the return address at %#x: %w", sp, err)
	}
	r.Rsp = sp
	r.Orig_rax = ^uint64(0)
	r.Rax = 0
	r.Eflags &^= flagDirection
	if err := syscall.PtraceSetRegs(tr.tid, &r); err != nil {
		return 0, fmt.Errorf("ptrace(PTRACE_SETREGS, %d): %w", tr.tid, err)
	}
	start := time.Now()
	if tr.inCall != nil {
		tr.inCall(true)
		defer tr.inCall(false)
	}
	defer func() { tr.inCalls += time.Since(start) }()
	req, data := syscall.PTRACE_CONT, 0
	for {
		if err := ptraceReq(req, tr.tid, 0, uintptr(data)); err != nil {
			return 0, fmt.Errorf("ptrace(%#x, %d): %w", req, tr.tid, err)
		}
		req, data = syscall.PTRACE_CONT, 0
		ws, err := tr.wait(time.Time{})
		if err != nil {
			return 0, err
		}
		if !ws.Stopped() {
			continue
		}
		sig := ws.StopSignal()
		if event(ws) == ptraceEventStop {
			if isStopSignal(sig) {
				// the process was stopped meanwhile: this thread stays
				// stopped with it until it is continued
				req = ptraceListen
			}
			continue
		}
		if event(ws) != 0 {
			continue
		}
		if sig == syscall.SIGSEGV {
			var now syscall.PtraceRegs
			if err := syscall.PtraceGetRegs(tr.tid, &now); err != nil {
				return 0, fmt.Errorf("ptrace(PTRACE_GETREGS, %d): %w", tr.tid, err)
			}
			if now.Rip == 0 && now.Rsp == sp+8 {
				return now.Rax, nil
			}
		}
		data = int(sig)
		if caught(tr.pid, tr.tid, sig) {
			tr.handled++
		}
	}
}

// restore puts the registers and the extended state back as they were
// and detaches: a system call the thread was in restarts as before. When
// a signal with a handler reached the thread during the calls, the call
// returns EINTR instead (unless it was one that always restarts,
// -ERESTARTNOINTR), as it would have had the signal come during it: a
// Python program's handler then runs without waiting for the wait to end,
// and a wait that restarts from the kernel's restart block (which a wait
// of the calls' own may have taken over) is not restarted from it.
func (tr *tracer) restore(eintr bool) error {
	if !tr.seized {
		return nil
	}
	if !tr.stopped {
		// Not stopped, or stopped before its registers were read: nothing
		// of it was changed. One in a stop is let go; one that is not can
		// be detached only by the tracer's OS thread ending.
		if err := tr.detach(); err != nil {
			tr.seized = true
			return err
		}
		return nil
	}
	r := tr.saved
	if eintr || tr.handled > 0 && restartCodes[int64(r.Rax)] && int64(r.Rax) != errRestartNoIntr {
		r.Rax = uint64(errEINTR & 0xffffffffffffffff)
	}
	var errs []error
	if err := syscall.PtraceSetRegs(tr.tid, &r); err != nil {
		errs = append(errs, fmt.Errorf("ptrace(PTRACE_SETREGS, %d): %w", tr.tid, err))
	}
	if tr.xstate != nil {
		if tr.fpregs {
			if err := ptraceReq(ptraceSetFPRegs, tr.tid, 0, uintptr(unsafe.Pointer(&tr.xstate[0]))); err != nil {
				errs = append(errs, fmt.Errorf("ptrace(PTRACE_SETFPREGS, %d): %w", tr.tid, err))
			}
		} else {
			iov := syscall.Iovec{Base: &tr.xstate[0], Len: uint64(len(tr.xstate))}
			if err := ptraceReq(ptraceSetRegSet, tr.tid, ntX86XState, uintptr(unsafe.Pointer(&iov))); err != nil {
				errs = append(errs, fmt.Errorf("ptrace(PTRACE_SETREGSET, %d): %w", tr.tid, err))
			}
		}
		runtime.KeepAlive(tr.xstate)
	}
	return errors.Join(append(errs, tr.detach())...)
}

func (tr *tracer) detach() error {
	if !tr.seized {
		return nil
	}
	tr.seized = false
	if err := syscall.PtraceDetach(tr.tid); err != nil {
		return fmt.Errorf("ptrace(PTRACE_DETACH, %d): %w", tr.tid, err)
	}
	return nil
}

func neg(v uint64) bool { return int64(v) < 0 }

// injectPtrace does what gdb_attach.py does, stopping one thread of the
// process only: see docs/attach.md. Its report is gdb_attach.py's.
func injectPtrace(t Target, loaderText string, deadline time.Time, progress func(string, ...any), hook func(tid int)) (rep *report, err error) {
	for _, s := range calledSymbols {
		if t.Symbols[s] == 0 {
			return nil, fmt.Errorf("process %d: %s is not among the dynamic symbols of its executable, libpython or libc, which the ptrace injector calls by address; use --injector gdb", t.PID, s)
		}
	}
	// A SIGINT, SIGTERM or SIGHUP to objgraph while a thread is held waits
	// until the thread has its registers back and is detached; then the
	// snapshot ends with an error saying so (and the directory is removed:
	// the loader, if it ran, finds it gone and does nothing).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer func() {
		signal.Stop(sigs)
		select {
		case s := <-sigs:
			if err == nil {
				name := map[os.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[s]
				err = fmt.Errorf("interrupted by %s while attached to process %d; its thread was put back as it was and detached first", name, t.PID)
			}
		default:
		}
	}()
	type outcome struct {
		rep *report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		// The OS thread is never given back: should anything go wrong
		// before the thread is detached, the goroutine's end ends the OS
		// thread, and the kernel detaches what it traced.
		runtime.LockOSThread()
		rep, err := runPtrace(t, loaderText, deadline, progress, hook)
		if err == nil || rep != nil && rep.detached && !rep.exitThread {
			runtime.UnlockOSThread()
		}
		done <- outcome{rep, err}
	}()
	o := <-done
	return o.rep, o.err
}

func runPtrace(t Target, loaderText string, deadline time.Time, progress func(string, ...any), hook func(tid int)) (*report, error) {
	rep := &report{Method: "", Syscall: -1, Injector: "ptrace"}
	t0 := time.Now()
	last := t0
	step := func(name string) {
		now := time.Now()
		rep.Steps = append(rep.Steps, Step{Name: name, Duration: now.Sub(last)})
		last = now
	}
	cands, err := survey(t.PID)
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 || cands[0].tid != t.PID {
		return nil, fmt.Errorf("process %d: its main thread is gone, or blocks SIGSEGV", t.PID)
	}
	if cands[0].state == 't' || cands[0].state == 'T' {
		return nil, &ptraceError{"stopped", fmt.Sprintf("process %d is stopped (state %c in /proc/%d/stat); it is left so: send it SIGCONT, or detach the debugger, and try again", t.PID, cands[0].state, t.PID)}
	}
	step("survey")
	mem, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", t.PID), os.O_RDWR, 0)
	if err != nil {
		return nil, &ptraceError{"ptrace", fmt.Sprintf("opening /proc/%d/mem: %v", t.PID, err)}
	}
	defer mem.Close()
	var late func(bool)
	{
		var timer *time.Timer
		late = func(start bool) {
			if !start {
				if timer != nil {
					timer.Stop()
				}
				return
			}
			d := time.Until(deadline)
			if d < 0 {
				d = 0
			}
			timer = time.AfterFunc(d, func() {
				progress("past the deadline, objgraph is inside a call into process %d (waiting for the GIL); it detaches once the call returns", t.PID)
			})
		}
	}
	sym := t.Symbols
	fin := sym["Py_IsFinalizing"]
	if fin == 0 {
		fin = sym["_Py_IsFinalizing"]
	}
	hold := func(tr *tracer) {
		rep.Stops = append(rep.Stops, ThreadStop{TID: tr.tid, Held: time.Since(tr.held), InCalls: tr.inCalls})
	}
	// checks runs the first calls: whether the interpreter runs, and
	// whether the thread holds the GIL (then it is not borrowed).
	checks := func(tr *tracer) (holdsGIL bool, err error) {
		v, err := tr.call(sym["Py_IsInitialized"])
		if err != nil {
			return false, err
		}
		if int32(v) == 0 {
			return false, &ptraceError{"uninitialized", "the interpreter is not initialized (still starting, or shutting down)"}
		}
		if fin != 0 {
			if v, err = tr.call(fin); err != nil {
				return false, err
			}
			if int32(v) != 0 {
				return false, &ptraceError{"uninitialized", "the interpreter is shutting down"}
			}
		}
		step("initialized")
		if v, err = tr.call(sym["PyGILState_Check"]); err != nil {
			return false, err
		}
		step("gilcheck")
		return int32(v) != 0, nil
	}
	loader := append([]byte(loaderText), 0)
	size := uint64(len(loader)+4095) &^ 4095
	page := func(tr *tracer) (uint64, error) {
		addr, err := tr.call(sym["mmap"], 0, size, 3, 34, ^uint64(0), 0)
		if err != nil {
			return 0, err
		}
		if neg(addr) {
			return 0, fmt.Errorf("mmap in the process failed: errno %d", -int64(addr))
		}
		if _, err := tr.mem.WriteAt(loader, int64(addr)); err != nil {
			return 0, fmt.Errorf("writing the loader at %#x: %w", addr, err)
		}
		step("mmap")
		return addr, nil
	}
	// done puts tr's thread back (eintr: its wait returns EINTR) and lets it
	// go once the loader's call has been made; the call returned rc, not 0
	// on failure, which refused says.
	done := func(tr *tracer, eintr bool, rc uint64, refused string) (*report, error) {
		err := tr.restore(eintr)
		step("detach")
		hold(tr)
		if err != nil {
			return rep, err
		}
		rep.detached = true
		if int32(rc) != 0 {
			return rep, errors.New(refused)
		}
		return rep, nil
	}
	// timedOut lets tr's thread go, as it was, at the deadline.
	timedOut := func(tr *tracer) (*report, error) {
		tr.restore(false)
		hold(tr)
		rep.detached = true
		return rep, &ptraceError{"timeout", "timed out"}
	}
	fail := func(tr *tracer, err error) (*report, error) {
		if rerr := tr.restore(false); rerr != nil {
			if !tr.stopped {
				// (never stopped, so unchanged: the end of the tracer's
				// OS thread lets it go)
				rep.detached, rep.exitThread = true, true
			} else {
				err = errors.Join(err, rerr)
			}
		} else {
			rep.detached = true
		}
		hold(tr)
		return rep, err
	}
	pending := cands[0]
	for _, c := range cands {
		if !c.blocked {
			continue // (a main thread not waiting is tried last, for a pending call)
		}
		tr := &tracer{pid: t.PID, tid: c.tid, mem: mem, inCall: late}
		err := tr.seize(deadline)
		step("seize")
		if errors.Is(err, syscall.ESRCH) {
			continue // the thread is gone
		}
		if err != nil {
			return fail(tr, seizeError(t, err))
		}
		if hook != nil {
			hook(tr.tid)
		}
		if !tr.inSyscall() {
			if err := tr.restore(false); err != nil {
				return rep, err
			}
			hold(tr)
			if c.tid == t.PID {
				pending.nr = int(int64(tr.saved.Orig_rax))
			}
			continue
		}
		if time.Now().After(deadline) {
			return timedOut(tr)
		}
		holds, err := checks(tr)
		if err != nil {
			return fail(tr, err)
		}
		if holds {
			if err := tr.restore(false); err != nil {
				return rep, err
			}
			hold(tr)
			continue
		}
		addr, err := page(tr)
		if err != nil {
			return fail(tr, err)
		}
		progress("waiting for the GIL in process %d", t.PID)
		st, err := tr.call(sym["PyGILState_Ensure"])
		if err != nil {
			return fail(tr, err)
		}
		rc, err := tr.call(sym["PyRun_SimpleString"], addr)
		if err != nil {
			return fail(tr, err)
		}
		if _, err := tr.call(sym["PyGILState_Release"], st&0xffffffff); err != nil {
			return fail(tr, err)
		}
		step("loader")
		if _, err := tr.call(sym["munmap"], addr, size); err != nil {
			return fail(tr, err)
		}
		step("munmap")
		rep.Method, rep.Thread, rep.Syscall = "thread", c.tid, int(int64(tr.saved.Orig_rax))
		return done(tr, false, rc, "the loader failed to start a thread in the target")
	}
	// No thread waits so: the main thread queues the loader as a pending
	// call, run between two bytecodes. The page stays, as the call may run
	// after the detach.
	if pending.segv {
		return rep, fmt.Errorf("process %d: no thread waits where it can be borrowed, and its main thread blocks or ignores SIGSEGV, which ends each call the ptrace injector makes; use --injector gdb", t.PID)
	}
	tr := &tracer{pid: t.PID, tid: pending.tid, mem: mem, inCall: late}
	err = tr.seize(deadline)
	step("seize")
	if err != nil {
		return fail(tr, seizeError(t, err))
	}
	if hook != nil {
		hook(tr.tid)
	}
	if time.Now().After(deadline) {
		return timedOut(tr)
	}
	if _, err := checks(tr); err != nil {
		return fail(tr, err)
	}
	addr, err := page(tr)
	if err != nil {
		return fail(tr, err)
	}
	rc, err := tr.call(sym["Py_AddPendingCall"], sym["PyRun_SimpleString"], addr)
	if err != nil {
		return fail(tr, err)
	}
	step("pending")
	nr := int64(tr.saved.Orig_rax)
	rep.Method, rep.Thread, rep.Syscall = "pending", tr.tid, int(nr)
	// A main thread waiting in a lock runs pending calls when its wait is
	// interrupted: its futex wait returns EINTR, as after a signal.
	eintr := false
	if tr.inSyscallNr(sysFutex) {
		eintr = true
		rep.Method = "pending+eintr"
	}
	return done(tr, eintr, rc, "Py_AddPendingCall failed (its queue is full)")
}

// inSyscallNr reports whether the thread was stopped in system call nr,
// to be restarted.
func (tr *tracer) inSyscallNr(nr int) bool {
	r := &tr.saved
	var insn [2]byte
	if _, err := tr.mem.ReadAt(insn[:], int64(r.Rip-2)); err != nil || insn != [2]byte{0x0f, 0x05} {
		return false
	}
	return int(int64(r.Orig_rax)) == nr && restartCodes[int64(r.Rax)]
}

func seizeError(t Target, err error) error {
	if errors.Is(err, errTimeout) {
		return &ptraceError{"timeout", "timed out"}
	}
	return err
}
