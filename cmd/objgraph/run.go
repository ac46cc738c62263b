package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/atomicfile"
)

var runOpts struct {
	dir    string
	atExit bool
	signal string
	every  time.Duration
	redact bool
}

var agentOpts struct{ dir string }

func init() {
	register(&command{
		name: "run",
		args: "-- PROGRAM [ARGS...]",
		summary: "Run a Python program with objgraph_agent importable and snapshots taken as asked:\n" +
			"on a signal (default SIGUSR2: kill -USR2 PID), every DURATION, and when it exits.\n" +
			"Snapshots are named objgraph-PID-TIME-N.ogs. Example:\n" +
			"  objgraph run -o snaps --every 30s -- python3 app.py --port 8000",
		flags: func(fs *pflag.FlagSet) {
			runOpts.dir, runOpts.signal, runOpts.every, runOpts.atExit, runOpts.redact = ".", "SIGUSR2", 0, false, false
			fs.StringVarP(&runOpts.dir, "output", "o", ".", "directory for the snapshots")
			fs.BoolVar(&runOpts.atExit, "at-exit", false, "take a snapshot when the program exits")
			fs.StringVar(&runOpts.signal, "signal", "SIGUSR2", `take a snapshot on this signal ("none" for none)`)
			fs.DurationVar(&runOpts.every, "every", 0, "take a snapshot this often (e.g. 30s; 0 for never)")
			fs.BoolVar(&runOpts.redact, "redact", false, "leave the contents of str and bytes out of snapshots")
		},
		run: runRun,
	})
	register(&command{
		name:    "agent",
		args:    "",
		summary: "Write objgraph_agent.py, the capture module, for programs that import it themselves.",
		flags: func(fs *pflag.FlagSet) {
			agentOpts.dir = "."
			fs.StringVar(&agentOpts.dir, "dir", ".", "directory to write objgraph_agent.py into")
		},
		run: runAgent,
	})
}

func runAgent(c *cmdEnv, args []string) error {
	if err := wantArgs(args); err != nil {
		return err
	}
	path := filepath.Join(agentOpts.dir, agent.FileName)
	if err := writeAgent(path); err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(map[string]string{"path": path})
	}
	fmt.Fprintln(c.stdout, path)
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

func runRun(c *cmdEnv, args []string) error {
	if len(args) == 0 {
		return usagef("missing PROGRAM: objgraph run [flags] -- python3 prog.py [args...]")
	}
	if runOpts.every < 0 {
		return usagef("--every must not be negative")
	}
	sig := strings.ToUpper(runOpts.signal)
	if sig != "NONE" && !strings.HasPrefix(sig, "SIG") {
		sig = "SIG" + sig
	}
	dir, err := filepath.Abs(runOpts.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("snapshot directory: %w", err)
	}
	site, err := os.MkdirTemp("", "objgraph-run-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(site)
	if err := writeAgent(filepath.Join(site, agent.FileName)); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(site, "sitecustomize.py"), []byte(siteHook), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	pythonPath := site
	if old := os.Getenv("PYTHONPATH"); old != "" {
		pythonPath += string(os.PathListSeparator) + old
	}
	atExit := "0"
	if runOpts.atExit {
		atExit = "1"
	}
	redact := "0"
	if runOpts.redact {
		redact = "1"
	}
	cmd.Env = append(os.Environ(),
		"PYTHONPATH="+pythonPath,
		agent.EnvDir+"="+dir,
		agent.EnvSignal+"="+sig,
		agent.EnvEvery+"="+strconv.FormatFloat(runOpts.every.Seconds(), 'f', -1, 64),
		agent.EnvAtExit+"="+atExit,
		agent.EnvRedact+"="+redact)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", args[0], err)
	}
	if err := writeRunState(runState{PID: cmd.Process.Pid, Dir: dir, Signal: sig}); err != nil {
		fmt.Fprintf(c.stderr, "objgraph: %v: 'objgraph snapshot %d' will not work\n", err, cmd.Process.Pid)
	}
	defer os.Remove(runStatePath(cmd.Process.Pid))
	fmt.Fprintf(c.stderr, "objgraph: running %s as pid %d; snapshots go to %s", args[0], cmd.Process.Pid, dir)
	if sig != "NONE" {
		fmt.Fprintf(c.stderr, " (objgraph snapshot %d takes one)", cmd.Process.Pid)
	}
	fmt.Fprintln(c.stderr)
	// Pass interrupts on to the program and wait for it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			cmd.Process.Signal(s)
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return fmt.Errorf("%s exited with status %d", args[0], ee.ExitCode())
			}
			return err
		}
	}
}
