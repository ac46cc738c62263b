package main

import (
	"fmt"
	"time"

	"github.com/objgraph-go/objgraph/internal/attach"
)

// attachSnapshot takes a snapshot of process pid, which objgraph run did
// not start, from outside through ptrace or gdb (docs/attach.md), and
// prints its path.
func attachSnapshot(c *cmdEnv, o *snapshotOptions, pid int) error {
	dst := o.out
	if dst == "" {
		dst = fmt.Sprintf("objgraph-%d-%s.ogs", pid, time.Now().UTC().Format("20060102T150405"))
	}
	switch attach.Injector(o.injector) {
	case attach.InjectAuto, attach.InjectPtrace, attach.InjectGDB:
	default:
		return usagef("--injector must be auto, ptrace or gdb, not %q", o.injector)
	}
	res, err := attach.Snapshot(pid, dst, attach.Options{Timeout: o.timeout, Progress: c.progress, Fork: attach.ForkMode(o.fork), Injector: attach.Injector(o.injector)})
	if err != nil {
		return err
	}
	if res.Forked {
		c.progress("done: %s stopped for %v in all and held up %v more by the fork capture; its child %d walked the heap in %v and held %d MiB of its own",
			stoppedWhat(res), res.Stopped.Round(time.Millisecond), res.Pause.Round(time.Millisecond), res.Child, res.Capture.Round(time.Millisecond), res.ChildMemory>>20)
	} else {
		if res.NoFork != "" {
			c.progress("the heap was walked in the process, not in a forked child: %s", res.NoFork)
		}
		c.progress("done: %s stopped for %v in all; the capture took %v on a thread of its own",
			stoppedWhat(res), res.Stopped.Round(time.Millisecond), res.Capture.Round(time.Millisecond))
	}
	if c.json {
		m := map[string]any{
			"path":            res.Path,
			"method":          res.Method,
			"injector":        res.Injector,
			"stopped_seconds": res.Stopped.Seconds(),
			"attach_seconds":  res.Attach.Seconds(),
			"load_seconds":    res.Load.Seconds(),
			"capture_seconds": res.Capture.Seconds(),
			"fork":            res.Forked,
		}
		steps := make([][]any, 0, len(res.Steps))
		for _, s := range res.Steps {
			steps = append(steps, []any{s.Name, s.Duration.Seconds()})
		}
		m["steps"] = steps
		if res.Injector == attach.InjectPtrace {
			stops := make([]map[string]any, 0, len(res.Stops))
			for _, s := range res.Stops {
				stops = append(stops, map[string]any{"tid": s.TID, "held_seconds": s.Held.Seconds(), "in_calls_seconds": s.InCalls.Seconds()})
			}
			m["stopped_threads"] = stops
		}
		if res.Forked {
			m["fork_pause_seconds"] = res.Pause.Seconds()
			m["child_pid"] = res.Child
			m["child_private_bytes"] = res.ChildMemory
		} else if res.NoFork != "" {
			m["no_fork"] = res.NoFork
		}
		return c.writeJSON(m)
	}
	fmt.Fprintln(c.stdout, res.Path)
	return nil
}

// stoppedWhat names what the injector stopped: one thread, or the process.
func stoppedWhat(res *attach.Result) string {
	if res.Injector == attach.InjectPtrace {
		return fmt.Sprintf("thread %d of the process was", res.Thread)
	}
	return "the process was"
}
