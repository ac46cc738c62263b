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
	res, err := attach.Snapshot(pid, dst, attach.Options{Timeout: o.timeout, Progress: c.progress})
	if err != nil {
		return err
	}
	c.progress("done: the process was stopped for %v in all; the capture took %v on a thread of its own",
		res.Stopped.Round(time.Millisecond), res.Capture.Round(time.Millisecond))
	if c.json {
		return c.writeJSON(map[string]any{
			"path":            res.Path,
			"method":          res.Method,
			"stopped_seconds": res.Stopped.Seconds(),
			"capture_seconds": res.Capture.Seconds(),
		})
	}
	fmt.Fprintln(c.stdout, res.Path)
	return nil
}
