package objgraph_test

// Comparison with Python's objgraph on snapshots of a real process: a
// Python program builds a small object graph, takes a snapshot with the
// capture agent (internal/agent/objgraph_agent.py), and runs objgraph's
// functions at the same moment; the test runs ours on the snapshot and
// compares.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/testenv"
	"github.com/objgraph-go/objgraph/objgraph"
)

const agentPath = "../internal/agent/objgraph_agent.py"

// needPython returns a python3 that has objgraph ($OBJGRAPH_TEST_PYTHON
// first, if set). Under CI (CI=true) a missing one fails the test; elsewhere
// the test is skipped.
func needPython(t *testing.T) string {
	t.Helper()
	pys := []string{"/usr/bin/python3", "python3"}
	if env := os.Getenv("OBJGRAPH_TEST_PYTHON"); env != "" {
		pys = []string{env}
	}
	for _, py := range pys {
		if err := exec.Command(py, "-c", "import objgraph").Run(); err == nil {
			return py
		}
	}
	testenv.Missing(t, "no python3 with objgraph: apt-get install python3 python3-objgraph")
	return ""
}

// needAgent skips the test while the capture agent does not exist yet.
// $OBJGRAPH_AGENT names another objgraph_agent.py to test with.
func needAgent(t *testing.T) string {
	t.Helper()
	p := agentPath
	if env := os.Getenv("OBJGRAPH_AGENT"); env != "" {
		p = env
	}
	p, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no capture agent to take a snapshot of a live process with: %v", err)
	}
	return p
}

// liveScript builds the object graph, takes two snapshots with the agent
// and prints, as JSON, what objgraph says about the process at the moment
// of the first (typestats, counts, by_type, chains) and get_new_ids between
// the two.
const liveScript = `
import gc, json, sys
import objgraph, objgraph_agent

class Foo:
    pass

class Bar:
    def __init__(self, x):
        self.x = x

class Leaky:
    pass

cache = {}
for i in range(7):
    cache["k%d" % i] = Foo()
holder = [Bar(cache), Bar([1, 2, 3])]
deep = {"a": [[Foo()]]}
cycle = [[]]
cycle[0].append(cycle)

def facts():
    # Locals of a running function are not objects the collector tracks, so
    # nothing here adds a reference to the objects above. objgraph looks at
    # the heap just before the snapshot, and what it finds is kept in a str,
    # which the collector does not track either: the snapshot sees the same
    # tracked objects. Calling everything once first fills caches.
    warm = [Foo()]
    json.dumps([objgraph.typestats(warm), objgraph.typestats(warm, shortnames=False),
                objgraph.count("Foo", warm), objgraph.count("__main__.Foo", warm), objgraph.by_type("Bar", warm)])
    del warm
    while gc.collect():
        pass
    gc.disable()
    objs = gc.get_objects()  # the list leaves itself out
    before = json.dumps({
        "live": [id(o) for o in objs],
        "typestats": objgraph.typestats(objs),
        "typestats_long": objgraph.typestats(objs, shortnames=False),
        "count_foo": objgraph.count("Foo", objs),
        "count_main_foo": objgraph.count("__main__.Foo", objs),
        "by_type_bar": [id(o) for o in objgraph.by_type("Bar", objs)],
    })
    del objs
    objgraph_agent.snapshot(sys.argv[1], collect=False)  # collected above; a collection would untrack tuples
    out = json.loads(before)
    target = deep["a"][0][0]
    out["target"] = id(target)
    out["backref_chain"] = [id(o) for o in objgraph.find_backref_chain(target, objgraph.is_proper_module)]
    out["ref_chain"] = [id(o) for o in objgraph.find_ref_chain(holder, lambda o: type(o) is Foo)]
    out["holder"] = id(holder)

    objgraph.get_new_ids(limit=0)
    leaks.extend(Leaky() for _ in range(5))
    objgraph_agent.snapshot(sys.argv[2])
    out["new_leaky"] = sorted(objgraph.get_new_ids(limit=0)["Leaky"])
    return out

leaks = []
json.dump(facts(), sys.stdout)
`

type liveFacts struct {
	Live          []uint64       `json:"live"`
	Typestats     map[string]int `json:"typestats"`
	TypestatsLong map[string]int `json:"typestats_long"`
	CountFoo      int            `json:"count_foo"`
	CountMainFoo  int            `json:"count_main_foo"`
	ByTypeBar     []uint64       `json:"by_type_bar"`
	Target        uint64         `json:"target"`
	BackrefChain  []uint64       `json:"backref_chain"`
	RefChain      []uint64       `json:"ref_chain"`
	Holder        uint64         `json:"holder"`
	NewLeaky      []uint64       `json:"new_leaky"`
}

func readSnapshot(t *testing.T, path string) *heap.Heap {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := heap.ReadAny(f, heap.ReadOptions{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAgainstPython(t *testing.T) {
	agent := needAgent(t)
	py := needPython(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "live.py")
	if err := os.WriteFile(script, []byte(liveScript), 0o644); err != nil {
		t.Fatal(err)
	}
	snap1, snap2 := filepath.Join(dir, "one.ogs"), filepath.Join(dir, "two.ogs")
	cmd := exec.Command(py, script, snap1, snap2)
	path := filepath.Dir(agent)
	if pp := os.Getenv("PYTHONPATH"); pp != "" {
		path += string(os.PathListSeparator) + pp
	}
	cmd.Env = append(os.Environ(), "PYTHONPATH="+path)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("%s: %v\n%s", py, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var want liveFacts
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	h := readSnapshot(t, snap1)

	compareObjects(t, h, want.Live)
	compareStats(t, "typestats()", objgraph.Typestats(h, objgraph.StatsOptions{}), want.Typestats)
	compareStats(t, "typestats(shortnames=False)", objgraph.Typestats(h, objgraph.StatsOptions{Qualified: true}), want.TypestatsLong)
	if n := objgraph.Count(h, "Foo", objgraph.StatsOptions{}); n != want.CountFoo {
		t.Errorf("count('Foo') = %d, objgraph says %d", n, want.CountFoo)
	}
	if n := objgraph.Count(h, "__main__.Foo", objgraph.StatsOptions{}); n != want.CountMainFoo {
		t.Errorf("count('__main__.Foo') = %d, objgraph says %d", n, want.CountMainFoo)
	}
	var bars []uint64
	for _, id := range objgraph.ByType(h, "Bar", objgraph.StatsOptions{}) {
		bars = append(bars, h.Addr(id))
	}
	slices.Sort(bars)
	slices.Sort(want.ByTypeBar)
	if !slices.Equal(bars, want.ByTypeBar) {
		t.Errorf("by_type('Bar') = %#x, objgraph says %#x", bars, want.ByTypeBar)
	}

	target, ok := objgraph.At(h, want.Target)
	if !ok {
		t.Fatalf("the target %#x is not in the snapshot", want.Target)
	}
	chain := addrs(h, objgraph.FindBackrefChain(h, target, objgraph.IsProperModule(h), objgraph.ChainOptions{}))
	if !slices.Equal(chain, want.BackrefChain) {
		t.Errorf("find_backref_chain = %s\nobjgraph says        %s", describeAddrs(h, chain), describeAddrs(h, want.BackrefChain))
	}
	holder, ok := objgraph.At(h, want.Holder)
	if !ok {
		t.Fatalf("the holder %#x is not in the snapshot", want.Holder)
	}
	isFoo := func(id heap.ID) bool { return objgraph.TypeName(h, id, true) == "__main__.Foo" }
	chain = addrs(h, objgraph.FindRefChain(h, holder, isFoo, objgraph.ChainOptions{}))
	if !slices.Equal(chain, want.RefChain) {
		t.Errorf("find_ref_chain = %s\nobjgraph says   %s", describeAddrs(h, chain), describeAddrs(h, want.RefChain))
	}

	h2 := readSnapshot(t, snap2)
	n := objgraph.GetNewIDs(h, h2, objgraph.SortByDeltas, objgraph.StatsOptions{})
	if !slices.Equal(n.Addrs["Leaky"], want.NewLeaky) {
		t.Errorf("get_new_ids()['Leaky'] = %#x, objgraph says %#x", n.Addrs["Leaky"], want.NewLeaky)
	}
}

func addrs(h *heap.Heap, ids []heap.ID) []uint64 {
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = h.Addr(id)
	}
	return out
}

func describeAddrs(h *heap.Heap, addrs []uint64) string {
	s := ""
	for _, a := range addrs {
		if id, ok := h.Lookup(a); ok {
			s += fmt.Sprintf("%#x(%s) ", a, h.TypeName(id))
		} else {
			s += fmt.Sprintf("%#x(?) ", a)
		}
	}
	return s
}

// compareStats reports every type whose count differs.
func compareStats(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	var diffs []string
	for name, n := range want {
		if got[name] != n {
			diffs = append(diffs, fmt.Sprintf("%s: ours %d, objgraph %d", name, got[name], n))
		}
	}
	for name, n := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: ours %d, objgraph 0", name, n))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s differs from objgraph's in %d types:\n%v", what, len(diffs), diffs)
	}
}

// compareObjects reports the gc-tracked objects of the snapshot that the
// process did not list just before the capture, and those it listed that the
// snapshot lacks, by type: the first are most likely the capture agent's own
// objects, which a snapshot must leave out.
func compareObjects(t *testing.T, h *heap.Heap, live []uint64) {
	t.Helper()
	alive := make(map[uint64]bool, len(live))
	for _, a := range live {
		alive[a] = true
	}
	extra := map[string]int{}
	n := 0
	for id := range h.All() {
		if !h.Flags(id).Listed() { // gc.get_objects() leaves frozen objects out
			continue
		}
		if !alive[h.Addr(id)] {
			extra[h.TypeQualName(h.Type(id))]++
			n++
		}
		delete(alive, h.Addr(id))
	}
	if n > 0 {
		t.Errorf("the snapshot holds %d gc-tracked objects that gc.get_objects() did not list just before the capture "+
			"(the capture agent's own objects, which it must leave out?): %v", n, extra)
	}
	if len(alive) > 0 {
		var missing []string
		for a := range alive {
			missing = append(missing, fmt.Sprintf("%#x", a))
		}
		sort.Strings(missing)
		if len(missing) > 10 {
			missing = append(missing[:10], "…")
		}
		t.Errorf("the snapshot lacks %d objects that gc.get_objects() listed as tracked just before the capture: %v", len(alive), missing)
	}
}
