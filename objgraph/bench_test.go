package objgraph_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/memstat"
	"github.com/objgraph-go/objgraph/internal/synth"
	"github.com/objgraph-go/objgraph/objgraph"
)

// chainDepth is the number of references from the module to the target in
// the chain benchmarks.
const chainDepth = 17

// chainScript builds in Python the heap that chainHeap builds in Go, and
// times objgraph.find_backref_chain on it: three calls, the median printed
// in seconds on standard output.
const chainScript = `
import gc, sys, time, objgraph

N = int(sys.argv[1])
DEPTH = int(sys.argv[2])

class Target:
    pass

# The chain: module __main__ -> its dict -> head -> DEPTH-3 more lists -> Target.
node = [Target()]
for _ in range(DEPTH - 3):
    node = [node]
head = node
# Filler up to N tracked objects: lists that refer to two others each, held
# by one pool list.
n = N - len(gc.get_objects())
pool = [[] for _ in range(n)]
for i, l in enumerate(pool):
    l.append(pool[(i * 7919 + 1) % n])
    l.append(pool[(i * 104729 + 3) % n])
del l

def run():
    t = head
    for _ in range(DEPTH - 3):
        t = t[0]
    target = t[0]
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        chain = objgraph.find_backref_chain(target, objgraph.is_proper_module)
        times.append(time.perf_counter() - t0)
    return chain, sorted(times)

chain, times = run()
if len(chain) - 1 != DEPTH or type(chain[-1]) is not Target:
    sys.exit("unexpected chain: %s" % [type(o).__name__ for o in chain])
print(len(gc.get_objects()), times[1])
`

// chainHeap is the heap of chainScript: n objects, a module whose dict
// holds a pool list of lists that refer to two others each, and a chain of
// chainDepth references from the module to a Target.
func chainHeap(n int) (*heap.Heap, heap.ID) {
	b := heap.NewBuilder()
	tMod := b.AddType("module", "builtins.module")
	tDict := b.AddType("dict", "builtins.dict")
	tList := b.AddType("list", "builtins.list")
	tTarget := b.AddType("Target", "__main__.Target")
	addr := uint64(0x7f0000000000)
	add := func(t heap.TypeID, flags heap.Flags, label string) heap.ID {
		addr += 0x40
		return b.AddObject(heap.Object{Addr: addr, Type: t, Size: 56, Refcount: 1, Flags: flags | heap.FlagTracked, Label: label})
	}
	mod := add(tMod, heap.Flags(0).WithKind(heap.KindModule), "__main__")
	globals := add(tDict, 0, "9 items")
	b.AddEdge(mod, globals, "__dict__")
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "__main__", Target: mod})
	prev := add(tList, 0, "1 items")
	b.AddEdge(globals, prev, "head")
	for range chainDepth - 3 {
		l := add(tList, 0, "1 items")
		b.AddIndexEdge(prev, l, 0)
		prev = l
	}
	target := add(tTarget, 0, "<__main__.Target object>")
	b.AddIndexEdge(prev, target, 0)
	pool := add(tList, 0, "pool")
	b.AddEdge(globals, pool, "pool")
	first := heap.ID(int(pool) + 1)
	m := n - int(first)
	for i := range m {
		add(tList, 0, "2 items")
		b.AddIndexEdge(pool, first+heap.ID(i), i)
	}
	for i := range m {
		l := first + heap.ID(i)
		b.AddIndexEdge(l, first+heap.ID((i*7919+1)%m), 0)
		b.AddIndexEdge(l, first+heap.ID((i*104729+3)%m), 1)
	}
	h, err := b.Build()
	if err != nil {
		panic(err)
	}
	return h, target
}

var chain5M struct {
	sync.Once
	h       *heap.Heap
	target  heap.ID
	reverse time.Duration
}

// pythonChain runs chainScript once per process and returns the median time
// of objgraph.find_backref_chain, or why it could not.
var pythonChain = sync.OnceValues(func() (time.Duration, error) {
	py := "/usr/bin/python3"
	if _, err := os.Stat("/usr/lib/python3/dist-packages/objgraph.py"); err != nil {
		return 0, fmt.Errorf("objgraph for %s is not installed (apt-get install python3-objgraph)", py)
	}
	dir, err := os.MkdirTemp("", "objgraph-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "chain.py")
	if err := os.WriteFile(script, []byte(chainScript), 0o644); err != nil {
		return 0, err
	}
	cmd := exec.Command(py, script, "5000000", strconv.Itoa(chainDepth))
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %s", py, err, stderr.String())
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return 0, fmt.Errorf("%s printed %q", py, out)
	}
	s, err := strconv.ParseFloat(f[1], 64)
	return time.Duration(s * float64(time.Second)), err
})

// BenchmarkFindBackrefChain5M finds a chain of 17 references from a module
// to an object among 5M objects, and runs Python's objgraph.find_backref_chain
// on the same heap built in a live /usr/bin/python3, for comparison. Metrics:
// python-s (objgraph's time, the median of three calls), reverse-index-s
// (the one-off cost of the heap's reverse index, built before the timed
// loop), speedup (python-s over the Go time per search) and
// speedup-cold (python-s over one search plus the reverse index).
func BenchmarkFindBackrefChain5M(b *testing.B) {
	chain5M.Do(func() {
		chain5M.h, chain5M.target = chainHeap(5_000_000)
		t := time.Now()
		chain5M.h.BuildReverse()
		chain5M.reverse = time.Since(t)
	})
	h, target := chain5M.h, chain5M.target
	b.ReportAllocs()
	b.ResetTimer()
	var chain []heap.ID
	for b.Loop() {
		chain = objgraph.FindBackrefChain(h, target, objgraph.IsProperModule(h), objgraph.ChainOptions{})
	}
	b.StopTimer()
	if len(chain) != chainDepth+1 || chain[len(chain)-1] != target {
		b.Fatalf("chain of %d objects", len(chain))
	}
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(chain5M.reverse.Seconds(), "reverse-index-s")
	py, err := pythonChain()
	if err != nil {
		b.Logf("no Python comparison: %v", err)
		return
	}
	b.ReportMetric(py.Seconds(), "python-s")
	b.ReportMetric(py.Seconds()/per, "speedup")
	b.ReportMetric(py.Seconds()/(per+chain5M.reverse.Seconds()), "speedup-cold")
}

// TestChainScriptShape checks, on a small heap, that chainHeap has the
// chain the benchmark expects.
func TestChainScriptShape(t *testing.T) {
	h, target := chainHeap(1000)
	chain := objgraph.FindBackrefChain(h, target, objgraph.IsProperModule(h), objgraph.ChainOptions{})
	if len(chain) != chainDepth+1 || h.TypeName(chain[0]) != "module" {
		t.Fatalf("chain of %d objects from %s", len(chain), h.TypeName(chain[0]))
	}
	if h.Len() != 1000 || h.NumEdges() < 2900 {
		t.Errorf("%d objects, %d edges", h.Len(), h.NumEdges())
	}
}

// deepShapes are the heaps of the deep benchmarks (see synth.Deep): "list"
// is a linked list of instances, each with a __dict__ and a str
// (synth.LinkedList: 3 objects per node), "tree" a tree of instances, each
// level a node with a str name and a list of a leaf and the next level
// (synth.DeepTree: 4 objects per level). The sizes are the nodes of the
// list, the levels of the tree.
var deepShapes = []struct {
	name  string
	build func(int) (*synth.Deep, error)
}{{"list", synth.LinkedList}, {"tree", synth.DeepTree}}

// benchDeep runs f, an analysis that computes the dominator tree and the
// retainer chains itself, over a heap built in memory once, and reports
// the process's peak RSS during the runs: the heap itself and what the
// analysis holds. (A heap built in memory holds more than one read from a
// snapshot: its columns grew by appending.)
func benchDeep(b *testing.B, build func(int) (*synth.Deep, error), n int, f func(*heap.Heap)) {
	d, err := build(n)
	if err != nil {
		b.Fatal(err)
	}
	h := d.Heap
	h.BuildReverse()
	b.ReportAllocs()
	memstat.Loop(b, func() { f(h) })
	b.ReportMetric(float64(h.Len()), "objects")
}

// BenchmarkProfileDeep computes the pprof profile of deep heaps, dominator
// tree and retainer chains included.
func BenchmarkProfileDeep(b *testing.B) {
	for _, shape := range deepShapes {
		for _, n := range []int{5_000, 80_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%dk", shape.name, n/1000), func(b *testing.B) {
				benchDeep(b, shape.build, n, func(h *heap.Heap) {
					if p := objgraph.Profile(h, objgraph.ProfileOptions{}); len(p.Sample) == 0 {
						b.Fatal("no samples")
					}
				})
			})
		}
	}
}

// BenchmarkLeaksDeep finds the leaks of deep heaps against the census of
// the same shape of size 1: every object but the first node's (or level's)
// and the module's and class's is new.
func BenchmarkLeaksDeep(b *testing.B) {
	for _, shape := range deepShapes {
		old, err := shape.build(1)
		if err != nil {
			b.Fatal(err)
		}
		census := objgraph.NewCensus(old.Heap)
		for _, n := range []int{5_000, 80_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%dk", shape.name, n/1000), func(b *testing.B) {
				benchDeep(b, shape.build, n, func(h *heap.Heap) {
					if rep := objgraph.FindLeaks(census, h, nil, objgraph.LeakOptions{}); len(rep.Types) == 0 {
						b.Fatal("no leaks")
					}
				})
			})
		}
	}
}
