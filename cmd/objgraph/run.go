package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/atomicfile"
	"github.com/objgraph-go/objgraph/internal/proc"
	"github.com/objgraph-go/objgraph/internal/runstate"
)

// runSummary is the help text of objgraph run.
const runSummary = `Run PROGRAM with the capture agent in its Python processes, and take snapshots as
asked: on a signal (--signal, default SIGUSR2), every DURATION counted from the end
of the previous snapshot (--every), and when the program exits (--at-exit).
Snapshots are named objgraph-PID-TIME-N.ogs, PID being the Python process's.
With --push URL, each is also pushed to a Grafana Pyroscope server, as objgraph push
pushes it. With --trace-alloc N, tracemalloc traces the program's allocations
from before its first line, keeping N frames each, as PYTHONTRACEMALLOC=N does:
snapshots then record where each object was allocated (objgraph leaks lists the
sites, objgraph pprof --alloc writes the allocation view), at tracemalloc's cost
(the program runs slower and each allocation takes more memory).

'objgraph snapshot PID' takes one now, PID being the pid printed at the start, also
when PROGRAM is a wrapper that starts Python (a shell script, bash -c, uv run): it
signals the Python process that installed the agent, and nothing before one has.

PROGRAM gets the signals objgraph run gets: HUP, INT, QUIT, TERM, USR1, USR2, WINCH,
ALRM, CONT and ABRT. The snapshot signal goes to the Python process with the agent
instead (or nowhere, with a note, while there is none), and INT, QUIT and WINCH are
not passed on when they came from the terminal, which sends them to PROGRAM too.
objgraph run exits with PROGRAM's status, 128+N when signal N ended it, 127 when
PROGRAM is not found and 126 when it cannot be run; before PROGRAM starts, 2 for a
usage error (such as a --signal no snapshot can be taken on) and 1 for a failure.
What objgraph run and the agent share is kept in a private directory of the run's
under $XDG_RUNTIME_DIR/objgraph, or else objgraph-UID in the temporary directory,
and removed when the run ends. Example:
  objgraph run -o snaps --every 30s -- python3 app.py --port 8000`

// runOptions are objgraph run's flags.
type runOptions struct {
	dir    string        // snapshot directory
	atExit bool          // a snapshot when the program exits
	signal string        // snapshot signal, as given
	every  time.Duration // from the end of one snapshot to the next; 0 for none
	redact bool          // leave str and bytes contents out
	fork   forkMode      // auto, always or never: snapshots in a forked child
	push   string        // Pyroscope server to push every snapshot to; "" for none
	trace  int           // tracemalloc frames to keep per allocation; 0 for no tracing
}

// maxTraceFrames is the most frames tracemalloc keeps per traceback.
const maxTraceFrames = 65535

func init() {
	register(&command{
		name:    "run",
		args:    "-- PROGRAM [ARGS...]",
		summary: runSummary,
		noJSON:  true,
		bind: withOptions(func(fs *pflag.FlagSet, o *runOptions) {
			fs.StringVarP(&o.dir, "output", "o", ".", "directory for the snapshots")
			fs.BoolVar(&o.atExit, "at-exit", false, "take a snapshot when the program exits")
			fs.StringVar(&o.signal, "signal", "SIGUSR2", `take a snapshot on this signal ("none" for none)`)
			fs.DurationVar(&o.every, "every", 0, "take a snapshot this long after the previous one ends (e.g. 30s; 0 for never)")
			fs.BoolVar(&o.redact, "redact", false, "leave the contents of str and bytes out of snapshots")
			forkFlag(fs, &o.fork, "take snapshots in a forked child, so that the program's pause is one fork(): always (--fork alone), never, or auto (when the heap is large)")
			fs.StringVar(&o.push, "push", "", "push every snapshot to the Grafana Pyroscope server at this URL")
			fs.IntVar(&o.trace, "trace-alloc", 0, "start tracemalloc before the program's first line, keeping `N` frames per allocation (PYTHONTRACEMALLOC=N), so that snapshots record allocation sites; 0 for none")
		}, runRun),
	})
	register(&command{
		name:    "agent",
		args:    "",
		summary: "Write objgraph_agent.py, the capture module, for programs that import it themselves,\nand objgraph_pytest.py beside it, the pytest plugin that fails tests which leave\nobjects alive (pytest -p objgraph_pytest --objgraph-leaks, with DIR on PYTHONPATH).",
		bind: withOptions(func(fs *pflag.FlagSet, o *agentOptions) {
			fs.StringVar(&o.dir, "dir", ".", "directory to write objgraph_agent.py and objgraph_pytest.py into")
		}, runAgent),
	})
}

// agentOptions are objgraph agent's flags.
type agentOptions struct {
	dir string // directory to write the agent into
}

func runAgent(c *cmdEnv, o *agentOptions, args []string) error {
	if err := wantArgs(args); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.dir, agent.FileName)
	if err := writeAgent(path); err != nil {
		return err
	}
	plugin := filepath.Join(o.dir, agent.PytestFileName)
	if err := atomicfile.Write(plugin, 0o644, func(w io.Writer) error {
		_, err := w.Write(agent.PytestSource)
		return err
	}); err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(map[string]string{"path": path, "pytest_plugin": plugin})
	}
	fmt.Fprintln(c.stdout, path)
	fmt.Fprintln(c.stdout, plugin)
	return nil
}

func writeAgent(path string) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(agent.Source)
		return err
	})
}

// siteHook is imported by Python at start-up, from the directory run puts
// first on PYTHONPATH: it installs the agent from the OBJGRAPH_AGENT_*
// variables, then imports the sitecustomize module it shadows, if any.
const siteHook = `import os, sys
try:
    import objgraph_agent
    objgraph_agent._autostart_from_env()
except Exception as e:
    sys.stderr.write("objgraph: the capture agent did not start: %r\n" % (e,))
_here = os.path.dirname(os.path.abspath(__file__))
_saved = sys.path[:]
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_ours = sys.modules.pop("sitecustomize", None)
try:
    import sitecustomize
except ImportError:
    pass
finally:
    sys.path[:] = _saved
    sys.modules["sitecustomize"] = _ours  # the import system expects this module there
`

// forwarded are the signals objgraph run passes on to the program: those
// a program may handle, or that would end objgraph run and leave the
// program behind. (SIGURG and SIGPROF are the Go runtime's own; SIGTSTP,
// SIGTTIN and SIGTTOU stop objgraph run, the terminal stops the program.)
var forwarded = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2,
	syscall.SIGWINCH, syscall.SIGALRM, syscall.SIGCONT, syscall.SIGABRT,
}

func runRun(c *cmdEnv, o *runOptions, args []string) error {
	if len(args) == 0 {
		return usagef("missing PROGRAM: objgraph run [flags] -- python3 prog.py [args...]")
	}
	if o.every < 0 {
		return usagef("--every must not be negative")
	}
	if o.trace < 0 || o.trace > maxTraceFrames {
		return usagef("--trace-alloc: %d frames is not between 0 and %d", o.trace, maxTraceFrames)
	}
	sigName, sig, err := runstate.SnapshotSignal(o.signal)
	if err != nil {
		return usagef("--signal: %v", err)
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("snapshot directory: %w", err)
	}
	// Catch the signals from now on: one that came before the program
	// starts, or after it ends but before the state directory is gone,
	// would end objgraph run (before the program starts, it is passed on
	// once it has). Signals ignored when objgraph run started (nohup, a
	// background job) stay ignored, by the program too.
	catch := slices.Clone(forwarded)
	if sig != 0 && !slices.Contains(catch, sig) && sig != syscall.SIGPROF {
		catch = append(catch, sig)
	}
	sigs := make(chan os.Signal, 16)
	for _, s := range catch {
		if !signal.Ignored(s) {
			signal.Notify(sigs, s)
		}
	}
	defer signal.Stop(sigs)
	// The run's private directory holds the agent's import directory and
	// the files objgraph snapshot reads. Without one, the program still
	// runs, with snapshots on a signal sent to its Python process.
	state, err := runstate.Create()
	var site string
	if err == nil {
		defer state.Remove()
		site = filepath.Join(state.Path, "site")
		err = os.Mkdir(site, 0o700)
	} else {
		fmt.Fprintf(c.stderr, "objgraph: %v: 'objgraph snapshot' will not find this run\n", err)
		state = nil
		site, err = os.MkdirTemp("", "objgraph-run-*")
		if err == nil {
			defer os.RemoveAll(site)
		}
	}
	if err != nil {
		return err
	}
	if err := writeAgent(filepath.Join(site, agent.FileName)); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(site, "sitecustomize.py"), []byte(siteHook), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(args[0], args[1:]...)
	stderr := c.stderr
	if _, ok := stderr.(*os.File); !ok {
		// exec copies the program's output into it from a goroutine of its
		// own, while messages below go there too.
		stderr = &lockedWriter{w: stderr}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, stderr
	if o.push != "" {
		rp, err := startRunPusher(c, stderr, dir, o.push)
		if err != nil {
			return err
		}
		defer rp.finish() // once the program has ended: its last snapshots too
	}
	pythonPath := site
	if old := os.Getenv("PYTHONPATH"); old != "" {
		pythonPath += string(os.PathListSeparator) + old
	}
	atExit := "0"
	if o.atExit {
		atExit = "1"
	}
	redact := "0"
	if o.redact {
		redact = "1"
	}
	var fork string
	switch o.fork {
	case "auto":
		fork = "auto"
	case "always":
		fork = "1"
	case "never":
		fork = "0"
	}
	cmd.Env = append(os.Environ(),
		"PYTHONPATH="+pythonPath,
		agent.EnvDir+"="+dir,
		agent.EnvSignal+"="+sigName,
		agent.EnvEvery+"="+strconv.FormatFloat(o.every.Seconds(), 'f', -1, 64),
		agent.EnvAtExit+"="+atExit,
		agent.EnvRedact+"="+redact,
		agent.EnvFork+"="+fork)
	if state != nil {
		cmd.Env = append(cmd.Env, agent.EnvState+"="+state.Path)
	}
	if o.trace > 0 {
		// Python reads it before it runs any code, site's included.
		cmd.Env = append(cmd.Env, "PYTHONTRACEMALLOC="+strconv.Itoa(o.trace))
	}

	if err := cmd.Start(); err != nil {
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return exitError{code, fmt.Sprintf("starting %s: %v", args[0], err)}
	}
	pid := cmd.Process.Pid
	run := runstate.Run{Wrapper: os.Getpid(), PID: pid, Command: args[0], Dir: dir, Signal: sigName}
	if state != nil {
		if err := state.WriteRun(run); err != nil {
			fmt.Fprintf(stderr, "objgraph: %v: 'objgraph snapshot' will not find this run\n", err)
			state = nil
		}
	}
	line := fmt.Sprintf("objgraph: running %s as pid %d; snapshots go to %s", args[0], pid, dir)
	if sig != 0 && state != nil {
		line += fmt.Sprintf(" (objgraph snapshot %d takes one)", pid)
	}
	fmt.Fprintln(stderr, line)

	tty := proc.OpenTerminal()
	defer tty.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			s1 := s.(syscall.Signal)
			switch {
			case (s1 == syscall.SIGINT || s1 == syscall.SIGQUIT || s1 == syscall.SIGWINCH) && tty.Signals(pid):
				// The terminal sent it to the program as well.
			case s1 == sig:
				if err := toAgent(state, run, sig); err != nil {
					fmt.Fprintf(stderr, "objgraph: %s not passed on: %v\n", sigName, err)
				}
			default:
				cmd.Process.Signal(s1)
			}
		case err := <-done:
			return exitStatus(args[0], pid, err)
		}
	}
}

// lockedWriter serializes the writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// toAgent sends the snapshot signal to the Python process that installed
// the agent, if one has: to the program, before that, it could be fatal.
func toAgent(state *runstate.Dir, r runstate.Run, sig syscall.Signal) error {
	if state == nil {
		return errors.New("this run has no state directory; send it to the Python process")
	}
	a, err := state.Agent()
	if errors.Is(err, runstate.ErrNoAgent) {
		return runstate.Explain(state, r)
	}
	if err == nil {
		err = a.Check()
	}
	if err != nil {
		return err
	}
	return syscall.Kill(a.PID, sig)
}

// exitStatus turns how the program ended into objgraph run's exit status:
// the program's own, or 128+N after signal N, as shells do. Only a signal
// is reported, and not SIGINT or SIGPIPE, which are how programs are
// usually stopped.
func exitStatus(name string, pid int, err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return exitError{code: ee.ExitCode()}
	}
	s := ws.Signal()
	var msg string
	if s != syscall.SIGINT && s != syscall.SIGPIPE {
		msg = fmt.Sprintf("%s (pid %d) was ended by %s", name, pid, runstate.SignalName(s))
		if ws.CoreDump() {
			msg += " (core dumped)"
		}
	}
	return exitError{128 + int(s), msg}
}
