package main

import (
	"fmt"
	"time"

	"github.com/objgraph-go/objgraph/internal/attach"
)

// attachSnapshot takes a snapshot of process pid, which objgraph run did
// not start, from outside through gdb (docs/attach.md), and prints its path.
func attachSnapshot(c *cmdEnv, o *snapshotOptions, pid int) error {
	dst := o.out
	if dst == "" {
		dst = fmt.Sprintf("objgraph-%d-%s.ogs", pid, time.Now().UTC().Format("20060102T150405"))
	}
	res, err := attach.Snapshot(pid, dst, attach.Options{Timeout: o.timeout, Progress: c.progress, Fork: attach.ForkMode(o.fork)})
	if err != nil {
		return err
	}
	if res.Forked {
		c.progress("done: the process was stopped for %v in all and held up %v more by the fork capture; its child %d walked the heap in %v and held %d MiB of its own",
			res.Stopped.Round(time.Millisecond), res.Pause.Round(time.Millisecond), res.Child, res.Capture.Round(time.Millisecond), res.ChildMemory>>20)
	} else {
		if res.NoFork != "" {
			c.progress("the heap was walked in the process, not in a forked child: %s", res.NoFork)
		}
		c.progress("done: the process was stopped for %v in all; the capture took %v on a thread of its own",
			res.Stopped.Round(time.Millisecond), res.Capture.Round(time.Millisecond))
	}
	if c.json {
		m := map[string]any{
			"path":            res.Path,
			"method":          res.Method,
			"stopped_seconds": res.Stopped.Seconds(),
			"attach_seconds":  res.Attach.Seconds(),
			"load_seconds":    res.Load.Seconds(),
			"capture_seconds": res.Capture.Seconds(),
			"fork":            res.Forked,
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
