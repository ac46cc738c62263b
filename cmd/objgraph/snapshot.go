package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/proc"
	"github.com/objgraph-go/objgraph/internal/runstate"
)

func init() {
	register(&command{
		name: "snapshot",
		args: "PID",
		summary: "Take a snapshot of a Python process and print its path. For a program started by\n" +
			"'objgraph run', PID is the pid objgraph run printed, objgraph run's own, or that of\n" +
			"the Python process with the agent. The run's signal goes to the Python process that\n" +
			"installed the agent, once it is alive and handling it; before an agent has started\n" +
			"(the command is not Python, Python is still starting, or was started without the\n" +
			"agent), nothing is sent and the error says which. Then it waits for the snapshot\n" +
			"file. Any other CPython 3.8-3.13 process is attached to from outside: on x86-64\n" +
			"Linux objgraph stops one thread of it with ptrace for a few milliseconds\n" +
			"(--injector ptrace, the default there), elsewhere or with --injector gdb, gdb stops\n" +
			"every thread; either runs the agent in it at a safe point (docs/attach.md), which by\n" +
			"default (--fork=auto) walks the heap in a forked child where fork is safe and the\n" +
			"child fits in memory; the snapshot is written to objgraph-PID-TIME.ogs in the\n" +
			"current directory unless -o names a file.",
		bind: withOptions(func(fs *pflag.FlagSet, o *snapshotOptions) {
			fs.StringVarP(&o.out, "output", "o", "", "move the snapshot to this file")
			fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long to wait for the snapshot")
			fs.StringVar(&o.injector, "injector", "auto", "for a process objgraph run did not start: what attaches to it and calls the loader in it; ptrace (objgraph stops one thread, x86-64 Linux only), gdb (gdb stops every thread), or auto: ptrace where available, else gdb")
			forkFlag(fs, &o.fork, "walk the heap in a forked child of the process, whose pause is then one fork(): always (--fork alone), never, or auto: for a process objgraph run started, as the run was told; for any other, where fork is safe and the child fits in memory")
		}, runSnapshot),
	})
}

// snapshotOptions are objgraph snapshot's flags.
type snapshotOptions struct {
	out      string        // file to move the snapshot to
	timeout  time.Duration // how long to wait for the snapshot
	fork     forkMode      // auto, always or never: the heap walked in a forked child
	injector string        // auto, ptrace or gdb: what attaches to a process objgraph run did not start
}

func runSnapshot(c *cmdEnv, o *snapshotOptions, args []string) error {
	out, timeout := o.out, o.timeout
	if err := wantArgs(args, "PID"); err != nil {
		return err
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 0 {
		return usagef("PID must be a process id, not %q", args[0])
	}
	state, r, err := runstate.Find(pid)
	var nr *runstate.NoRunError
	if errors.As(err, &nr) {
		return attachSnapshot(c, o, pid)
	}
	if err != nil {
		return err
	}
	if r.Signal == "NONE" {
		return fmt.Errorf("process %d takes no snapshot on a signal (it was started with --signal none)", pid)
	}
	a, err := state.Agent()
	if errors.Is(err, runstate.ErrNoAgent) {
		return fmt.Errorf("nothing sent to process %d: %w", pid, runstate.Explain(state, r))
	}
	if err == nil {
		err = a.Check()
	}
	if err != nil {
		return fmt.Errorf("nothing sent to process %d: %w", pid, err)
	}
	sig := syscall.Signal(a.Signum)
	if !runstate.IsSnapshotSignal(sig) {
		return fmt.Errorf("nothing sent to process %d: its agent takes snapshots on %s, which objgraph does not send", a.PID, a.Signal)
	}
	pattern := filepath.Join(a.Dir, fmt.Sprintf("objgraph-%d-*.ogs", a.PID))
	before, _ := filepath.Glob(pattern)
	if o.fork != "auto" {
		// the agent takes this snapshot in a forked child or in-process, as
		// the file says (and removes it)
		if err := os.WriteFile(filepath.Join(state.Path, agent.ForkRequestFile), []byte(o.fork), 0o600); err != nil {
			return fmt.Errorf("asking process %d for a snapshot with --fork=%s: %w", a.PID, o.fork, err)
		}
	}
	// the agent's walk says how far it is in this file, made anew for the
	// snapshot asked for here
	progressPath := filepath.Join(state.Path, agent.ProgressFile)
	os.Remove(progressPath)
	if err := syscall.Kill(a.PID, sig); err != nil {
		return fmt.Errorf("signalling process %d: %w", a.PID, err)
	}
	c.progress("sent %s to Python process %d; waiting for the snapshot", a.Signal, a.PID)
	deadline := time.Now().Add(timeout)
	watch := agent.ProgressWatch{Path: progressPath, PID: a.PID}
	for {
		watch.Poll(c.progress)
		now, _ := filepath.Glob(pattern)
		for _, p := range now {
			if slices.Contains(before, p) {
				continue
			}
			// The agent renames a finished file into place: it is complete.
			if out != "" {
				if err := os.Rename(p, out); err != nil {
					return err
				}
				p = out
			}
			if c.json {
				return c.writeJSON(map[string]string{"path": p})
			}
			fmt.Fprintln(c.stdout, p)
			return nil
		}
		if !proc.Alive(a.PID) {
			return fmt.Errorf("Python process %d exited before writing a snapshot", a.PID)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no snapshot from Python process %d after %v (see its standard error for what the agent reported)", a.PID, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
