package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

var snapshotOpts struct {
	out     string
	timeout time.Duration
}

func init() {
	register(&command{
		name: "snapshot",
		args: "PID",
		summary: "Take a snapshot of a program started by 'objgraph run': send it the run's signal\n" +
			"and wait for the snapshot file; print its path.",
		flags: func(fs *pflag.FlagSet) {
			snapshotOpts.out, snapshotOpts.timeout = "", 0
			fs.StringVarP(&snapshotOpts.out, "output", "o", "", "move the snapshot to this file")
			fs.DurationVar(&snapshotOpts.timeout, "timeout", 2*time.Minute, "how long to wait for the snapshot")
		},
		run: runSnapshot,
	})
}

// runState is what 'objgraph run' records about a program it started, so
// that 'objgraph snapshot PID' knows the signal and the directory.
type runState struct {
	PID    int    `json:"pid"`
	Dir    string `json:"dir"`
	Signal string `json:"signal"`
}

func runStatePath(pid int) string {
	return filepath.Join(os.TempDir(), "objgraph-run-"+strconv.Itoa(pid)+".json")
}

func writeRunState(s runState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(runStatePath(s.PID), b, 0o600)
}

var signalsByName = map[string]syscall.Signal{
	"SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2, "SIGHUP": syscall.SIGHUP,
	"SIGQUIT": syscall.SIGQUIT, "SIGWINCH": syscall.SIGWINCH, "SIGPROF": syscall.SIGPROF,
}

func runSnapshot(c *cmdEnv, args []string) error {
	if err := wantArgs(args, "PID"); err != nil {
		return err
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 0 {
		return usagef("PID must be a process id, not %q", args[0])
	}
	b, err := os.ReadFile(runStatePath(pid))
	if err != nil {
		return fmt.Errorf("process %d was not started by 'objgraph run' (no %s); start it with objgraph run, or call objgraph_agent.snapshot() in it", pid, runStatePath(pid))
	}
	var st runState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("reading %s: %w", runStatePath(pid), err)
	}
	sig, ok := signalsByName[st.Signal]
	if !ok {
		return fmt.Errorf("process %d takes no snapshot on a signal (it was started with --signal %s)", pid, st.Signal)
	}
	pattern := filepath.Join(st.Dir, fmt.Sprintf("objgraph-%d-*.ogs", pid))
	before, _ := filepath.Glob(pattern)
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signalling process %d: %w", pid, err)
	}
	c.progress("sent %s to %d; waiting for the snapshot", st.Signal, pid)
	deadline := time.Now().Add(snapshotOpts.timeout)
	for {
		now, _ := filepath.Glob(pattern)
		for _, p := range now {
			if slices.Contains(before, p) {
				continue
			}
			// The agent renames a finished file into place: it is complete.
			if snapshotOpts.out != "" {
				if err := os.Rename(p, snapshotOpts.out); err != nil {
					return err
				}
				p = snapshotOpts.out
			}
			if c.json {
				return c.writeJSON(map[string]string{"path": p})
			}
			fmt.Fprintln(c.stdout, p)
			return nil
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("process %d exited before writing a snapshot", pid)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no snapshot from process %d after %v (see its standard error for what the agent reported)", pid, snapshotOpts.timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
