package gcmod_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/testenv"
	"github.com/objgraph-go/objgraph/internal/units"
)

// cowMeasured is what testdata/cow_parent.py measured: the growth of the
// children's Private_Dirty memory, in bytes.
type cowMeasured struct {
	Collect int64  `json:"collect"` // gc.collect() in a child
	Frozen  int64  `json:"frozen"`  // gc.collect() in a child after gc.freeze() in the parent
	Read    int64  `json:"read"`    // the same child then reading every object of data
	Data    uint64 `json:"data"`    // address of the data list
	Tracked int    `json:"tracked"` // tracked objects when the first child was forked
	Version string `json:"version"`
}

// TestCOWKernel checks PredictCOW against the kernel. A real Python parent
// builds a heap, writes a snapshot of itself, collects (so that nothing
// the capture left behind is garbage for the child to free), and forks; the
// child runs gc.collect() and reports how much its Private_Dirty memory grew:
// the pages the kernel copied for it. The parent then calls gc.freeze() and
// forks again; that child collects, then reads every object of the data.
// The predictions from the snapshot must be within 5% of the measurements.
//
// The collection after gc.freeze() copies nothing of the snapshot's
// objects; what the kernel measures then is the interpreter's own writes
// (its stack, the collector's state: some tens of pages), which no snapshot
// shows. That case is checked against 5% of the collection without
// freezing.
//
// OBJGRAPH_COW_OBJECTS sets the number of tracked objects the parent builds
// (default 300,000), OBJGRAPH_COW_SHAPES the shapes (default nodes,json;
// see testdata/cow_parent.py), GCMOD_PYTHONS more interpreters.
func TestCOWKernel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the test measures copy-on-write with /proc/self/smaps_rollup, which only Linux has")
	}
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		testenv.Missing(t, "the copy-on-write test needs /proc/self/smaps_rollup (Linux 4.14 or later): %v", err)
	}
	agentDir, err := filepath.Abs(filepath.Join("..", "internal", "agent"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(agentDir, "objgraph_agent.py")); err != nil {
		t.Fatalf("the copy-on-write test needs the capture agent: %v", err)
	}
	n := 300_000
	if s := os.Getenv("OBJGRAPH_COW_OBJECTS"); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			t.Fatalf("OBJGRAPH_COW_OBJECTS=%q: want a number of objects, 1000 or more", s)
		}
	}
	shapes := []string{"nodes", "json"}
	if s := os.Getenv("OBJGRAPH_COW_SHAPES"); s != "" {
		shapes = strings.Split(s, ",")
	}
	for _, py := range pythons(t) {
		version, exe := pythonVersion(t, py)
		for _, shape := range shapes {
			t.Run(version+"/"+shape, func(t *testing.T) {
				cowKernel(t, exe, agentDir, shape, n)
			})
		}
	}
}

func cowKernel(t *testing.T, python, agentDir, shape string, n int) {
	snap := filepath.Join(t.TempDir(), shape+".ogs")
	cmd := exec.Command(python, filepath.Join("testdata", "cow_parent.py"), snap, shape, strconv.Itoa(n))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+agentDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s testdata/cow_parent.py: %v\n%s", python, err, stderr.String())
	}
	var m cowMeasured
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("cow_parent.py printed %q: %v", out, err)
	}
	h, err := heap.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gcmod.PredictCOW(h, gcmod.COWOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, ok := h.Lookup(m.Data)
	if !ok {
		t.Fatalf("the data list at %#x is not in the snapshot", m.Data)
	}
	inData := dataObjects(h, data)
	read, err := gcmod.PredictCOW(h, gcmod.COWOptions{Objects: func(id heap.ID) bool { return inData[id] }})
	if err != nil {
		t.Fatal(err)
	}

	off := func(pred uint64, meas int64) float64 { return 100 * (float64(pred) - float64(meas)) / float64(meas) }
	t.Logf("| %s | %s | %s | %s | %s | %s | %+.2f%% | %s | %s | %s | %s | %+.2f%% |",
		m.Version, shape, units.Commas(uint64(rep.Tracked)), units.Commas(uint64(rep.Frozen)), mib(int64(rep.Collect.Bytes)), mib(m.Collect), off(rep.Collect.Bytes, m.Collect),
		mib(int64(rep.CollectFrozen.Bytes)), mib(m.Frozen), mib(int64(read.Read.Bytes)), mib(m.Read), off(read.Read.Bytes, m.Read))

	// gc.get_objects() leaves out the frozen objects.
	if d := rep.Tracked - rep.Frozen - m.Tracked; d > m.Tracked/100 || -d > m.Tracked/100 {
		t.Errorf("the snapshot has %d tracked objects not frozen; the parent had %d at fork", rep.Tracked-rep.Frozen, m.Tracked)
	}
	if e := off(rep.Collect.Bytes, m.Collect); math.Abs(e) > 5 {
		t.Errorf("gc.collect() in the child: predicted %d bytes (%d pages), measured %d: %+.2f%%",
			rep.Collect.Bytes, rep.Collect.Pages, m.Collect, e)
	}
	if d := math.Abs(float64(rep.CollectFrozen.Bytes) - float64(m.Frozen)); d > 0.05*float64(m.Collect) {
		t.Errorf("gc.collect() in the child after gc.freeze(): predicted %d bytes, measured %d: more than 5%% of the %d bytes without gc.freeze()",
			rep.CollectFrozen.Bytes, m.Frozen, m.Collect)
	}
	if e := off(read.Read.Bytes, m.Read); math.Abs(e) > 5 {
		t.Errorf("reading the data in the child: predicted %d bytes (%d pages, %d objects), measured %d: %+.2f%%",
			read.Read.Bytes, read.Read.Pages, read.Read.Objects, m.Read, e)
	}
}

// dataObjects marks what cow_parent.py's walk reads: the objects
// reachable from data through anything but classes (the walk reads
// attributes, never an object's class).
func dataObjects(h *heap.Heap, data heap.ID) []bool {
	in := make([]bool, h.Len())
	in[data] = true
	stack := []heap.ID{data}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range h.Referents(o) {
			if !in[t] && h.Flags(t).Kind() != heap.KindType {
				in[t] = true
				stack = append(stack, t)
			}
		}
	}
	return in
}

func mib(b int64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }
