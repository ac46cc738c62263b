package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
)

// TestPythonSuiteAsyncio reads, with the heap package's reader, the
// snapshot an asyncio program takes from inside a coroutine
// (testdata/asyncio_tasks.py), in each interpreter of testPythons, with
// objgraph_agent.py and with the source package: the program
// exits with its own status before the deadline, the file is read without
// error, and the running coroutine and each waiting task's coroutine refer
// to their frames, each frame written once.
func TestPythonSuiteAsyncio(t *testing.T) {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, py := range testPythons(t) {
		t.Run(py, func(t *testing.T) {
			checkAsyncioSnapshot(t, py, dir)
		})
		t.Run("package/"+py, func(t *testing.T) {
			checkAsyncioSnapshot(t, py, filepath.Join(dir, "src"))
		})
	}
}

// checkAsyncioSnapshot runs testdata/asyncio_tasks.py in py with agentDir
// on PYTHONPATH and checks its snapshot.
func checkAsyncioSnapshot(t *testing.T, py, agentDir string) {
	snap := filepath.Join(t.TempDir(), "tasks.ogs")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "asyncio_tasks.py"), snap)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+agentDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("%s: the program did not exit within the deadline after its snapshot\n%s", py, stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("%s: %v, want exit status 3\n%s", py, err, stderr.String())
	}
	var info struct {
		RunningCoro  uint64   `json:"running_coro"`
		RunningFrame uint64   `json:"running_frame"`
		Coros        []uint64 `json:"coros"`
		Frames       []uint64 `json:"frames"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("program printed %q: %v", out, err)
	}
	h, err := heap.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	coros := append([]uint64{info.RunningCoro}, info.Coros...)
	frames := append([]uint64{info.RunningFrame}, info.Frames...)
	if len(coros) != 26 || len(frames) != len(coros) {
		t.Fatalf("program printed %d coroutines and %d frames, want 26 of each", len(coros), len(frames))
	}
	for i, ca := range coros {
		c, ok := h.Lookup(ca)
		if !ok || h.TypeName(c) != "coroutine" {
			t.Fatalf("coroutine %#x: not in the snapshot as a coroutine", ca)
		}
		f, ok := h.Lookup(frames[i])
		if !ok || h.TypeName(f) != "frame" {
			t.Fatalf("frame %#x: not in the snapshot as a frame", frames[i])
		}
		if !slices.Contains(h.Referents(c), f) {
			t.Errorf("coroutine %#x: no edge to its frame %#x", ca, frames[i])
		}
	}
}
