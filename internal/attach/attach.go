// Package attach takes a heap snapshot of a running CPython process that
// was started without objgraph, through ptrace (or gdb); docs/attach.md
// has the design and why each step is safe for the process.
package attach

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/proc"
)

//go:embed gdb_attach.py
var gdbScript []byte

//go:embed boot.py
var bootSource []byte

// Options are what Snapshot takes; the zero value is the default.
type Options struct {
	Timeout  time.Duration                 // for the whole snapshot; 0 means 2 minutes
	GDB      string                        // gdb's path; "" looks for gdb on $PATH
	Progress func(format string, a ...any) // told what is being waited for; nil for none
	Fork     ForkMode                      // whether the capture runs in a forked child; "" is ForkAuto
	Injector Injector                      // what stops the process and calls into it; "" is InjectAuto

	hook func(tid int) // tests: called with the thread the ptrace injector holds, before its first call
}

// Injector says what attaches to the process and calls the loader in it.
type Injector string

const (
	// InjectAuto is InjectPtrace on x86-64 Linux, InjectGDB elsewhere.
	InjectAuto Injector = "auto"
	// InjectPtrace stops one thread of the process, from objgraph itself.
	InjectPtrace Injector = "ptrace"
	// InjectGDB has gdb stop every thread and make the calls.
	InjectGDB Injector = "gdb"
)

// Step is one step of an injection and how long it took.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"-"`
}

// ThreadStop says how long the ptrace injector held one thread of the
// process out of its own code.
type ThreadStop struct {
	TID     int           // the thread
	Held    time.Duration // from the stop to the detach
	InCalls time.Duration // of which running calls into the process
}

// ForkMode says where the process's heap is walked.
type ForkMode string

const (
	// ForkAuto walks it in a forked child where fork is safe and the
	// child fits in the memory the process may use, else in the process.
	ForkAuto ForkMode = "auto"
	// ForkAlways walks it in a forked child, or fails saying why not.
	ForkAlways ForkMode = "always"
	// ForkNever walks it in the process, on the agent's thread.
	ForkNever ForkMode = "never"
)

// Result says how a snapshot was taken.
type Result struct {
	Path        string        // where the snapshot is now
	Dir         string        // the agent's private directory, as the process names it; removed on return
	Target      Target        // the process
	Method      string        // "thread" (a blocked thread ran the loader) or "pending" (the main thread, between bytecodes)
	Thread      int           // the thread that ran or will run the loader
	Syscall     string        // the system call that thread was waiting in, "" if none
	Injector    Injector      // what attached: InjectPtrace or InjectGDB
	Stopped     time.Duration // with gdb: how long every thread of the process was stopped; with ptrace: how long the thread that ran or queued the loader was held (no other thread was stopped)
	Attach      time.Duration // of which attaching (with gdb: ptrace and reading the symbols; with ptrace: stopping the thread)
	Stops       []ThreadStop  // with ptrace: each thread held, in order (those tried and found unfit too)
	Steps       []Step        // the injection's steps, in order, and how long each took
	Load        time.Duration // in the process: reading the agent and finding the loader's own objects
	Capture     time.Duration // in the process: the snapshot itself (with a fork, until the child was done)
	Forked      bool          // the heap was walked in a forked child of the process
	NoFork      string        // with ForkAuto, why it was walked in the process ("" when forked, or never asked)
	Child       int           // the forked child's pid
	Pause       time.Duration // with a fork: how long the capture held the process's GIL before the fork returned
	ChildMemory int64         // with a fork: the memory the child held alone at the end (Private_Dirty), in bytes
}

// ErrNoGDB is returned when gdb cannot be found.
var ErrNoGDB = errors.New("gdb is not installed; attaching to a process that objgraph run did not start needs it (apt-get install gdb), or start the program with objgraph run")

// report is what gdb_attach.py writes.
type report struct {
	Method         string  `json:"method"`
	Error          string  `json:"error"`
	Cause          string  `json:"cause"`
	Thread         int     `json:"thread"`
	Syscall        int     `json:"syscall"`
	AttachSeconds  float64 `json:"attach_seconds"`
	StoppedSeconds float64 `json:"stopped_seconds"`
	StepTimes      [][]any `json:"steps"` // [name, seconds]: gdb_attach.py's steps

	Injector   Injector     `json:"-"`
	Steps      []Step       `json:"-"`
	Stops      []ThreadStop `json:"-"`
	detached   bool         // the ptrace injector let go of every thread it held, unchanged
	exitThread bool         // one of them by ending the tracer's OS thread
}

// syscalls names the system calls gdb_attach.py reports.
var syscalls = map[int]string{
	0: "read", 7: "poll", 17: "pread64", 19: "readv", 23: "select", 34: "pause",
	35: "nanosleep", 43: "accept", 45: "recvfrom", 47: "recvmsg", 61: "wait4",
	128: "rt_sigtimedwait", 130: "rt_sigsuspend", 202: "futex", 230: "clock_nanosleep", 232: "epoll_wait",
	247: "waitid", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait", 288: "accept4",
	299: "recvmmsg", 441: "epoll_pwait2",
}

// Snapshot takes a heap snapshot of process pid and writes it to dst.
func Snapshot(pid int, dst string, o Options) (res *Result, err error) {
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	t, err := Inspect(pid)
	if err != nil {
		return nil, err
	}
	inj := o.Injector
	switch inj {
	case "", InjectAuto:
		inj = InjectGDB
		if ptraceAvailable {
			inj = InjectPtrace
		}
	case InjectPtrace, InjectGDB:
	default:
		return nil, fmt.Errorf("injector %q is not auto, ptrace or gdb", inj)
	}
	gdb := o.GDB
	if inj == InjectGDB && gdb == "" {
		p, err := exec.LookPath("gdb")
		if err != nil {
			return nil, ErrNoGDB
		}
		gdb = p
	}
	if t.Minor > MaxTestedMinor {
		progress("process %d runs Python %s, newer than 3.%d, the newest attaching was tested on; attaching through %s (PEP 768's remote debugging interface is not used)", pid, t.Python(), MaxTestedMinor, inj)
		defer func() { err = untested(t, err) }()
	}
	dir, inside, err := makeDir(t)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res = &Result{Target: t, Dir: inside, Injector: inj}
	progress("attaching to process %d (Python %s) with %s", pid, t.Python(), inj)
	mode := o.Fork
	switch mode {
	case "":
		mode = ForkAuto
	case ForkAuto, ForkAlways, ForkNever:
	default:
		return nil, fmt.Errorf("fork mode %q is not auto, always or never", mode)
	}
	var rep *report
	if inj == InjectPtrace {
		rep, err = injectPtrace(t, loader(inside, mode), deadline, progress, o.hook)
		var pe *ptraceError
		if rep != nil && rep.detached && errors.As(err, &pe) {
			rep.Error, rep.Cause, err = pe.msg, pe.cause, nil
		}
	} else {
		rep, err = runGDB(gdb, t, loader(inside, mode), deadline, progress)
	}
	if err != nil {
		return nil, err
	}
	res.Method, res.Thread = rep.Method, rep.Thread
	res.Syscall = syscalls[rep.Syscall]
	if inj == InjectPtrace {
		res.Steps, res.Stops = rep.Steps, rep.Stops
		for _, s := range rep.Stops {
			if s.TID == rep.Thread || rep.Thread == 0 {
				res.Stopped = s.Held
			}
		}
		for _, s := range rep.Steps {
			if s.Name == "seize" && res.Attach == 0 {
				res.Attach = s.Duration
			}
		}
	} else {
		res.Stopped = seconds(rep.StoppedSeconds)
		res.Attach = seconds(rep.AttachSeconds)
		for _, s := range rep.StepTimes {
			if len(s) == 2 {
				name, _ := s[0].(string)
				d, _ := s[1].(float64)
				res.Steps = append(res.Steps, Step{Name: name, Duration: seconds(d)})
			}
		}
	}
	if rep.Error != "" {
		return nil, injectError(t, inj, rep)
	}
	what := "the process"
	if inj == InjectPtrace {
		what = fmt.Sprintf("thread %d", rep.Thread)
	}
	if strings.HasPrefix(res.Method, "pending") {
		progress("%s of process %d was stopped for %v; waiting for its main thread to run Python code (a safe point)", what, pid, res.Stopped.Round(time.Millisecond))
	} else {
		progress("%s of process %d was stopped for %v; thread %d (in %s) started the capture", what, pid, res.Stopped.Round(time.Millisecond), res.Thread, res.Syscall)
	}
	if err := wait(t, dir, deadline, timeout, res, progress); err != nil {
		return nil, err
	}
	progress("writing %s", dst)
	if err := copyFile(filepath.Join(dir, "snapshot.ogs"), dst); err != nil {
		return nil, err
	}
	res.Path = dst
	return res, nil
}

// untested adds to an error from a process whose Python is newer than
// those attaching was tested on that it is.
func untested(t Target, err error) error {
	if err == nil || t.Minor <= MaxTestedMinor {
		return err
	}
	return fmt.Errorf("%w (process %d runs Python %s, newer than 3.%d, the newest objgraph attaching was tested on; start the program with objgraph run, or call objgraph_agent.snapshot() in it)", err, t.PID, t.Python(), MaxTestedMinor)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// makeDir makes a new private directory for the agent in the process's
// own /tmp, through /proc/PID/root, owned by the process's user: its path
// from here, and as the process sees it.
func makeDir(t Target) (dir, inside string, err error) {
	root := fmt.Sprintf("/proc/%d/root", t.PID)
	base := "/tmp"
	if env, err := proc.Environ(t.PID); err == nil {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "TMPDIR="); ok && filepath.IsAbs(v) {
				if fi, err := os.Stat(root + v); err == nil && fi.IsDir() {
					base = filepath.Clean(v)
				}
			}
		}
	}
	dir, err = os.MkdirTemp(root+base, "objgraph-attach-")
	if err != nil {
		return "", "", fmt.Errorf("making a directory for the agent in process %d's %s: %w", t.PID, base, err)
	}
	if err := os.Lchown(dir, t.UID, t.GID); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("giving %s to uid %d: %w", dir, t.UID, err)
	}
	for name, b := range map[string][]byte{agent.FileName: agent.Source, "boot.py": bootSource} {
		if err := writeOwned(filepath.Join(dir, name), b, t); err != nil {
			os.RemoveAll(dir)
			return "", "", err
		}
	}
	return dir, strings.TrimPrefix(dir, root), nil
}

func writeOwned(path string, b []byte, t Target) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chown(t.UID, t.GID)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// loader is the text the interpreter runs at the safe point, in __main__'s
// namespace: it binds no name there, starts a thread that runs boot.py
// from dir (as the process sees it) in a namespace of its own, and returns.
// Its first object, the list "m", tells boot.py which objects are newer.
func loader(dir string, fork ForkMode) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	boot := q(dir + "/boot.py")
	// (read with os.open and os.read, the descriptor closed at once: a file
	// object left to the collector would be a ResourceWarning on the
	// program's stderr under -W default, and one kept would hold the path)
	inner := "try:\n _o = __import__(\"os\")\n _d = _o.open(" + boot + ", _o.O_RDONLY)\n try:\n  _s = _o.read(_d, 1 << 22)\n finally:\n  _o.close(_d)\n del _o, _d\n exec(compile(_s, " + boot + ", \"exec\"), {\"__name__\": \"_objgraph_attach\", \"_loader\": globals()})\nexcept BaseException:\n pass\n"
	// The code the thread runs is compiled here, after "m", and not by
	// exec from text: exec keeps the parser's objects until the code ends.
	return "try:\n    (lambda g: __import__(\"_thread\").start_new_thread(exec, (compile(" + q(inner) + ", \"<objgraph attach>\", \"exec\"), g)))({\"m\": [], \"d\": " + q(dir) + ", \"f\": " + q(string(fork)) + "})\nexcept Exception:\n    pass\n"
}

// runGDB runs gdb_attach.py in gdb and returns its report.
func runGDB(gdb string, t Target, loaderText string, deadline time.Time, progress func(string, ...any)) (*report, error) {
	work, err := os.MkdirTemp("", "objgraph-gdb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	script := filepath.Join(work, "gdb_attach.py")
	params := filepath.Join(work, "params.json")
	repPath := filepath.Join(work, "report.json")
	pb, _ := json.Marshal(map[string]any{"pid": t.PID, "exe": fmt.Sprintf("/proc/%d/exe", t.PID), "loader": loaderText, "report": repPath, "libs": libsToRead(t), "symbols": t.Symbols})
	if err := os.WriteFile(script, gdbScript, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(params, pb, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(gdb, "-nx", "-q", "-batch", "-iex", "set auto-load off", "-iex", "set debuginfod enabled off", "-x", script)
	cmd.Env = append(os.Environ(), "OBJGRAPH_ATTACH_PARAMS="+params)
	// Its own process group: a Ctrl-C at the terminal must not reach gdb in
	// the middle of a call into the process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting gdb: %w", err)
	}
	defer in.Close()
	phases := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "phase: "); ok {
				phases <- p
			}
		}
		io.Copy(io.Discard, out)
		close(phases)
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	// Until gdb is told to go on, it makes no call into the process, and
	// ending it is safe: on SIGTERM it detaches and exits. Once told, it is
	// left to finish, as a call cut short would leave the thread half way.
	told, timedOut := false, false
wait:
	for {
		select {
		case p, ok := <-phases:
			switch {
			case !ok:
				break wait
			case p == "attached" && !told:
				told = true
				if timedOut {
					io.WriteString(in, "stop\n")
				} else {
					io.WriteString(in, "go\n")
				}
			case p == "waiting for the GIL":
				progress("waiting for the GIL in process %d", t.PID)
			}
		case <-timer.C:
			timedOut = true
			if !told {
				cmd.Process.Signal(syscall.SIGTERM)
				break
			}
			progress("past the deadline, gdb is inside a call into process %d (waiting for the GIL); it detaches once the call returns", t.PID)
		}
	}
	err = cmd.Wait()
	if timedOut && !told {
		return nil, errAttachTimeout(t, InjectGDB)
	}
	b, rerr := os.ReadFile(repPath)
	if rerr != nil {
		if err == nil {
			err = rerr
		}
		return nil, fmt.Errorf("gdb failed: %w: %s", err, strings.TrimSpace(lastLine(stderr.String())))
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("reading gdb's report: %w", err)
	}
	return &rep, nil
}

// libsToRead returns the libraries whose symbols gdb must read: none when
// every function it calls was found.
func libsToRead(t Target) []Lib {
	for _, s := range calledSymbols {
		if t.Symbols[s] == 0 {
			return t.Libs
		}
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func errAttachTimeout(t Target, inj Injector) error {
	return fmt.Errorf("attaching to process %d timed out; %s detached from it before calling into it, and the process runs on as before", t.PID, inj)
}

// injectError turns what the injector reported into an error with the fix.
func injectError(t Target, inj Injector, rep *report) error {
	switch {
	case rep.Cause == "ptrace":
		return fmt.Errorf("cannot attach to process %d: ptrace refused (%s); %s", t.PID, strings.TrimSuffix(rep.Error, "."), ptraceHint(t))
	case rep.Cause == "timeout":
		return errAttachTimeout(t, inj)
	case rep.Cause == "traced" || rep.Cause == "stopped":
		return errors.New(rep.Error)
	case rep.Cause == "uninitialized":
		return fmt.Errorf("process %d: %s; try again once it runs", t.PID, rep.Error)
	case strings.Contains(rep.Error, "No symbol"):
		return fmt.Errorf("process %d (%s) is not a CPython process gdb can call into: %s", t.PID, t.Exe, rep.Error)
	}
	return fmt.Errorf("attaching to process %d: %s", t.PID, rep.Error)
}

// wait waits for the loader's result in dir. With a fork capture, the
// result comes once the child has written the file and been reaped; a
// child still walking at the deadline is ended, and the process runs on.
func wait(t Target, dir string, deadline time.Time, timeout time.Duration, res *Result, progress func(string, ...any)) error {
	claimed := false
	child := 0
	watch := agent.ProgressWatch{Path: filepath.Join(dir, agent.ProgressFile), PID: t.PID}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "result"))
		if err == nil {
			return parseResult(t, string(b), res)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if !claimed {
			if _, err := os.Stat(filepath.Join(dir, "claimed")); err == nil {
				claimed = true
				progress("capturing in process %d", t.PID)
			}
		}
		if child == 0 {
			if b, err := os.ReadFile(filepath.Join(dir, "child")); err == nil {
				if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
					child = n
					progress("process %d forked process %d, which walks its heap while the process runs on", t.PID, child)
				}
			}
		}
		if claimed {
			watch.Poll(progress)
		}
		if !proc.Alive(t.PID) {
			return fmt.Errorf("process %d exited before writing a snapshot", t.PID)
		}
		if time.Now().After(deadline) {
			if child != 0 {
				if endChild(t.PID, child) {
					return fmt.Errorf("no snapshot from process %d after %v: its forked child %d was still walking the heap and was ended (SIGKILL); the process runs on as before", t.PID, timeout, child)
				}
				return fmt.Errorf("no snapshot from process %d after %v: its forked child %d is done but the agent has not said so yet", t.PID, timeout, child)
			}
			if claimed {
				return fmt.Errorf("no snapshot from process %d after %v: the capture had started and is left to fail harmlessly", t.PID, timeout)
			}
			return fmt.Errorf("no snapshot from process %d after %v: its main thread ran no Python code meanwhile; the call queued in it does nothing when it runs", t.PID, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// endChild kills child, the process the agent forked in process parent to
// walk its heap, if it is still that: a child of parent's that has not
// exited. The agent's thread in parent then reaps it.
func endChild(parent, child int) bool {
	ppid, state, ok := proc.Parent(child)
	if !ok || state == 'Z' || ppid != parent {
		return false
	}
	return syscall.Kill(child, syscall.SIGKILL) == nil
}

// parseResult reads what boot.py wrote: "ok", the file, the load and
// capture times, the loader's counts, and how the heap was walked ("fork
// CHILD PAUSE MEMORY" or "inprocess WHY"); or "childerror", the child's
// pid and its failure; or "error" and the exception.
func parseResult(t Target, s string, res *Result) error {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	switch {
	case len(lines) >= 4 && lines[0] == "ok":
		l, _ := strconv.ParseFloat(lines[2], 64)
		c, _ := strconv.ParseFloat(lines[3], 64)
		res.Load, res.Capture = seconds(l), seconds(c)
		if len(lines) >= 6 {
			how, rest, _ := strings.Cut(lines[5], " ")
			switch how {
			case "fork":
				f := strings.Fields(rest)
				if len(f) == 3 {
					res.Forked = true
					res.Child, _ = strconv.Atoi(f[0])
					p, _ := strconv.ParseFloat(f[1], 64)
					res.Pause = seconds(p)
					res.ChildMemory, _ = strconv.ParseInt(f[2], 10, 64)
				}
			case "inprocess":
				res.NoFork = rest
			}
		}
		return nil
	case len(lines) >= 3 && lines[0] == "childerror":
		return fmt.Errorf("the capture agent's forked child %s of process %d failed: %s; the process runs on as before", lines[1], t.PID, strings.Join(lines[2:], " "))
	case len(lines) >= 2 && lines[0] == "error":
		return fmt.Errorf("the capture agent failed in process %d: %s", t.PID, strings.Join(lines[1:], " "))
	}
	return fmt.Errorf("process %d: unreadable result from the capture agent: %q", t.PID, s)
}

// copyFile copies src to dst through a new file next to dst, renamed into
// place when complete.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("reading the snapshot: %w", err)
	}
	defer in.Close()
	tmp := fmt.Sprintf("%s.tmp-%d", dst, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(f, in); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if err = os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}
