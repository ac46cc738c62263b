package main

// Tests of leaks and dominators: real leaking Python programs captured with
// the agent (testdata/leaks), and golden output on hand-built heaps.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/golden"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// captureLeak runs testdata/leaks/prog.py with the capture agent and
// returns the paths of the three snapshots it writes into dir.
func captureLeak(py, prog, dir string) ([]string, error) {
	agent, _ := filepath.Abs("../../internal/agent")
	if _, err := os.Stat(filepath.Join(agent, "objgraph_agent.py")); err != nil {
		return nil, fmt.Errorf("the capture agent is missing: %v", err)
	}
	leaks, _ := filepath.Abs("testdata/leaks")
	cmd := exec.Command(py, filepath.Join(leaks, prog+".py"), dir)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+agent+string(os.PathListSeparator)+leaks, "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", prog, err, out)
	}
	return []string{filepath.Join(dir, "1.ogs"), filepath.Join(dir, "2.ogs"), filepath.Join(dir, "3.ogs")}, nil
}

// capture runs a leak program once, for every test that asks.
type capture struct {
	once  sync.Once
	snaps []string
	err   error
}

// The tests read leaks --json into the typed result it is written from.
type (
	leaksReport    = report.Leaks
	leakTypeReport = report.LeakType
)

// subsequence reports whether want appears in got in order, not
// necessarily next to each other.
func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestLeakPrograms(t *testing.T) {
	dir := t.TempDir() // removed once every parallel subtest is done
	captures := map[string]*capture{}
	leaksOf := func(t *testing.T, prog string) []string {
		py := testenv.LookPath(t, "python3", "apt-get install -y python3")
		c := captures[prog]
		c.once.Do(func() {
			d := filepath.Join(dir, prog)
			if c.err = os.Mkdir(d, 0o755); c.err == nil {
				c.snaps, c.err = captureLeak(py, prog, d)
			}
		})
		if c.err != nil {
			t.Fatal(c.err)
		}
		return c.snaps
	}
	cases := []struct {
		prog    string
		typ     string   // the leaking type; 30 of its objects leak between one snapshot and the next
		count   int      // leaked objects of typ, from the first snapshot to the last
		first   bool     // typ retains the most of all types
		garbage bool     // the leak is garbage no root reaches
		root    string   // prefix of the group's root
		types   []string // types along the example chain, in order
		edges   []string // reference names along it, in order
	}{
		{"module_cache", "Page", 60, true, false, "module __main__",
			[]string{"module", "dict", "dict", "Page"}, []string{"__dict__", "_pages"}},
		{"callbacks", "Connection", 60, false, false, "module __main__",
			[]string{"module", "dict", "Bus", "list", "function", "tuple", "cell", "Connection"},
			[]string{"__dict__", "bus", "listeners", "__closure__", "cell_contents"}},
		{"callbacks", "function", 60, true, false, "module __main__",
			[]string{"Bus", "list", "function"}, []string{"listeners"}},
		{"class_registry", "Plugin", 60, true, false, "module __main__",
			[]string{"module", "dict", "type", "dict", "list", "Plugin"}, []string{"Plugin", "__dict__", "registry"}},
		{"instance_memo", "Result", 60, true, false, "module __main__",
			[]string{"Service", "dict", "Result"}, []string{"service", "_memo"}},
		{"lru_cache", "Fragment", 60, true, false, "",
			[]string{"_lru_cache_wrapper", "dict", "Fragment"}, []string{"cache"}},
		{"thread_local", "Job", 60, true, false, "local worker: worker",
			[]string{"list", "Job"}, nil},
		{"gc_cycles", "Node", 120, false, true, "garbage",
			[]string{"Node", "Node", "Node"}, []string{"peer", "peer"}},
		{"tracebacks", "Request", 60, false, false, "module __main__",
			[]string{"list", "ValueError", "traceback", "frame", "Request"}, []string{"errors"}},
		{"tracebacks", "ValueError", 60, true, false, "module __main__",
			[]string{"module", "dict", "list", "ValueError"}, []string{"__dict__", "errors"}},
		{"logging_handlers", "RequestHandler", 60, true, false, "module __main__",
			[]string{"Logger", "list", "RequestHandler"}, []string{"log", "handlers"}},
	}
	for _, tc := range cases {
		captures[tc.prog] = &capture{}
	}
	captures["logger_per_request"] = &capture{}
	captures["weak_holders"] = &capture{}
	// The first suspect is the container the program fills: its path from
	// a root names it, all 60 of its new entries are the leaked objects,
	// and its entries grew at each snapshot.
	suspects := []struct {
		prog, path, name, entry string
	}{
		{"module_cache", "_pages dict", "__main__._pages", "Page"},
		{"callbacks", "bus Bus → listeners list", "__main__.bus.listeners", "function"},
		{"class_registry", "Plugin type → __dict__ dict → registry list", "__main__.Plugin.registry", "Plugin"},
		{"instance_memo", "service Service → _memo dict", "__main__.service._memo", "Result"},
		{"lru_cache", "local MainThread: run: step", "", "Fragment"},
		{"thread_local", "local worker: worker: history", "", "Job"},
		{"tracebacks", "errors list", "__main__.errors", "ValueError"},
		{"logging_handlers", "log Logger → handlers list", "__main__.log.handlers", "RequestHandler"},
	}
	// The 80 cycles gc_cycles planted (two Nodes each, collector
	// disabled) are one shape of cycle in gc's report, not 80 lines.
	t.Run("gc-shapes/gc_cycles", func(t *testing.T) {
		t.Parallel()
		snaps := leaksOf(t, "gc_cycles")
		out, errOut, code := runCLI("gc", "--json", snaps[2])
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep report.GC
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Shapes) != 1 || rep.Shapes[0].Cycles != 80 || rep.Collection.Groups != 80 {
			t.Fatalf("%d shapes (first of %d cycles) for %d groups; want 1 shape of the 80 planted cycles", len(rep.Shapes), rep.Shapes[0].Cycles, rep.Collection.Groups)
		}
		if sh := rep.Shapes[0].Shape; len(sh) != 2 || sh[0].Type != "__main__.Node" || sh[0].Edge != "peer" {
			t.Errorf("shape %+v, want Node -peer-> Node -peer->", sh)
		}
	})
	// growth keeps objgraph's order, and says which rows the callback
	// list's leak carries.
	t.Run("growth-explained/callbacks", func(t *testing.T) {
		t.Parallel()
		snaps := leaksOf(t, "callbacks")
		out, errOut, code := runCLI(append([]string{"growth", "--json"}, snaps...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep report.Growth
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		held := map[string]string{}
		for _, row := range rep.Steps[len(rep.Steps)-1].Growth {
			held[row.Type] = row.HeldThrough
		}
		for _, typ := range []string{"Connection", "cell"} {
			if want := "the function leak (__main__.bus.listeners)"; held[typ] != want {
				t.Errorf("%s held through %q, want %q", typ, held[typ], want)
			}
		}
		if held["function"] != "" {
			t.Errorf("function, the leak itself, is held through %q", held["function"])
		}
	})
	// Weak references keep nothing alive, and snapshots keep them apart
	// from the references: the Items a list keeps are held, and retained,
	// through the list alone, whatever weak containers also track them.
	t.Run("strong-only/weak_holders", func(t *testing.T) {
		t.Parallel()
		snaps := leaksOf(t, "weak_holders")
		out, errOut, code := runCLI(append([]string{"leaks", "--json"}, snaps...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep leaksReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(rep.Types, func(x leakTypeReport) bool { return x.Type == "Item" })
		if i < 0 {
			t.Fatalf("no Item leak:\n%s", out)
		}
		item := rep.Types[i]
		if len(item.Groups) != 1 || !strings.Contains(report.ChainLine(item.Groups[0].Root, item.Groups[0].Shape), "keep list → [*] Item") {
			t.Errorf("Items held as %+v, want one group, through the keep list", item.Groups)
		}
		// Releasing the Items frees them and their payloads: the weak
		// containers hold neither.
		var bytearrays uint64
		for _, t := range rep.Types {
			if t.Type == "bytearray" {
				bytearrays = t.Bytes
			}
		}
		if item.Retained < item.Bytes+bytearrays || bytearrays == 0 {
			t.Errorf("Items retain %d, want at least their own %d and their payloads' %d", item.Retained, item.Bytes, bytearrays)
		}
		s := rep.Suspects[0]
		if s.Name != "__main__.keep" || s.NewEntries != 60 {
			t.Errorf("first suspect %q with %d new entries, want __main__.keep with 60", s.Name, s.NewEntries)
		}
		for _, hop := range item.Groups[0].Chain {
			if strings.Contains(hop.QualType, "weakref") || strings.HasPrefix(hop.Type, "Weak") || hop.Type == "KeyedRef" {
				t.Errorf("the chain to an Item goes through %s", hop.QualType)
			}
		}
		// The weak containers are in the snapshot as weak references:
		// each Item is the referent of one from the WeakSet, the
		// WeakValueDictionary, the WeakKeyDictionary, the WeakMethod, the
		// proxy and the finalizer.
		h, err := heap.ReadFile(snaps[len(snaps)-1])
		if err != nil {
			t.Fatal(err)
		}
		items, weakTo := 0, 0
		for id := range h.All() {
			if h.TypeName(id) == "Item" {
				items++
				if len(h.WeakReferrers(id)) >= 6 {
					weakTo++
				}
			}
		}
		if items == 0 || weakTo != items {
			t.Errorf("%d of %d Items are the referents of 6 weak references or more", weakTo, items)
		}
	})
	// chain --type picks an object of the leak, not the first of the type
	// in the snapshot: a library's logger made at import time.
	t.Run("pick/logger_per_request", func(t *testing.T) {
		t.Parallel()
		snaps := leaksOf(t, "logger_per_request")
		out, errOut, code := runCLI("chain", "--json", snaps[0], snaps[2], "--type", "Logger")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(errOut, "60 new since") || !strings.Contains(errOut, "one of 60 held as") {
			t.Errorf("stderr %q, want the pick among the 60 new loggers", errOut)
		}
		var ch report.ChainTo
		if err := json.Unmarshal([]byte(out), &ch); err != nil {
			t.Fatal(err)
		}
		hops := ch.Chain
		if len(hops) < 2 || hops[len(hops)-1].Edge == nil || !strings.HasPrefix(*hops[len(hops)-1].Edge, "'app.request-") {
			t.Errorf("chain %+v, want it to end at a request's logger, by its name in the manager's dict", hops)
		}
	})
	for _, tc := range suspects {
		t.Run("suspect/"+tc.prog, func(t *testing.T) {
			t.Parallel()
			snaps := leaksOf(t, tc.prog)
			out, errOut, code := runCLI(append([]string{"leaks", "--json"}, snaps...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var rep leaksReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Suspects) == 0 {
				t.Fatalf("no suspects:\n%s", out)
			}
			s := rep.Suspects[0]
			if !strings.Contains(s.Path, tc.path) || s.Name != tc.name {
				t.Errorf("first suspect %q (%q), want its path to hold %q and its name %q", s.Path, s.Name, tc.path, tc.name)
			}
			if s.NewEntries != 60 || len(s.Types) != 1 || s.Types[0].Type != tc.entry || s.Types[0].Count != 60 {
				t.Errorf("new entries %d of types %+v, want 60 %s", s.NewEntries, s.Types, tc.entry)
			}
			if c := s.EntryCounts; len(c) != 3 || c[1]-c[0] != 30 || c[2]-c[1] != 30 {
				t.Errorf("entry counts %v, want +30 at each snapshot", c)
			}
			if s.RetainedBytes < 60*s.Example.Size || s.Example.Type != tc.entry {
				t.Errorf("frees %d bytes, example %s of %d bytes", s.RetainedBytes, s.Example.Type, s.Example.Size)
			}
		})
	}
	for _, tc := range cases {
		t.Run(tc.prog+"/"+tc.typ, func(t *testing.T) {
			t.Parallel()
			snaps := leaksOf(t, tc.prog)
			out, errOut, code := runCLI(append([]string{"leaks", "--json"}, snaps...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var rep leaksReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			types := rep.Types
			if tc.garbage {
				types = rep.Garbage
			}
			i := slices.IndexFunc(types, func(x leakTypeReport) bool { return x.Type == tc.typ })
			if i < 0 {
				t.Fatalf("%s is not among the leaking types:\n%s", tc.typ, out)
			}
			lt := types[i]
			if lt.Count != tc.count {
				t.Errorf("%d %s objects leak, want %d", lt.Count, tc.typ, tc.count)
			}
			if tc.first && i != 0 {
				t.Errorf("%s comes %d in the report, want first", tc.typ, i+1)
			}
			if n := len(lt.Counts); n != 3 || lt.Counts[2]-lt.Counts[0] < tc.count || lt.Counts[1]-lt.Counts[0] < tc.count/2 {
				t.Errorf("%s counts %v: want 3 snapshots, growing by %d", tc.typ, lt.Counts, tc.count)
			}
			g := lt.Groups[0]
			if g.Count != tc.count || !strings.HasPrefix(g.Root.String(), tc.root) {
				t.Errorf("largest group: %d objects held from %q; want %d from %q…", g.Count, g.Root, tc.count, tc.root)
			}
			var chainTypes, chainEdges []string
			for _, hop := range g.Chain {
				chainTypes = append(chainTypes, hop.Type)
				if hop.Edge != nil {
					chainEdges = append(chainEdges, *hop.Edge)
				}
			}
			if !subsequence(chainTypes, tc.types) || !subsequence(chainEdges, tc.edges) || chainTypes[len(chainTypes)-1] != tc.typ {
				t.Errorf("example chain: types %q, edges %q; want types %q and edges %q along it, ending at %s",
					chainTypes, chainEdges, tc.types, tc.edges, tc.typ)
			}
		})
	}
}

func TestLeaksGolden(t *testing.T) {
	snaps := []string{appHeap(t, 0), appHeap(t, 1), appHeap(t, 2)}
	names := strings.NewReplacer(snaps[0], "SNAP0", snaps[1], "SNAP1", snaps[2], "SNAP2")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"leaks", []string{"leaks", snaps[0], snaps[1], snaps[2]}, 0},
		{"leaks-two", []string{"leaks", "--groups", "1", snaps[0], snaps[1]}, 0},
		{"leaks-json", []string{"leaks", "--json", snaps[0], snaps[1], snaps[2]}, 0},
		{"leaks-fail", []string{"leaks", "--fail-on-growth", "1", snaps[0], snaps[2]}, 1},
		{"leaks-pass", []string{"leaks", "--fail-on-growth", "2", "-n", "1", snaps[0], snaps[2]}, 0},
		{"dominators", []string{"dominators", "-n", "6", snaps[2]}, 0},
		{"dominators-json", []string{"dominators", "--json", "-n", "3", snaps[2]}, 0},
		{"dominators-no-external", []string{"dominators", "--no-external", "-n", "3", snaps[2]}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errOut)
			}
			golden.Check(t, tc.name+".stdout", names.Replace(out))
			golden.Check(t, tc.name+".stderr", names.Replace(errOut))
		})
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"leaks", snaps[0]}, "give at least two snapshots"},
		{[]string{"leaks", "--groups", "-1", snaps[0], snaps[1]}, "--limit, --groups and --suspects"},
		{[]string{"dominators", "--limit", "0", snaps[0]}, "--limit must be 1 or more"},
		{[]string{"pprof", snaps[0]}, "-o OUT.pb.gz"},
		{[]string{"ui", "--http", "nocolon", snaps[0]}, "give host:port"},
	} {
		if _, errOut, code := runCLI(tc.args...); code != 2 || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("objgraph %q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.stderr)
		}
	}
}

// snapshotPID is the process id a snapshot was taken of.
func snapshotPID(t *testing.T, path string) int {
	t.Helper()
	h, err := heap.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return h.Meta().PID
}

// TestLeaksSeriesWarnings: snapshots of two processes, or out of order,
// give a warning (addresses only identify objects within one process).
func TestLeaksSeriesWarnings(t *testing.T) {
	const (
		gcCycles = "../../testdata/snapshots/gc_cycles.ogs"
		leak2    = "../../testdata/snapshots/cache_leak-2.ogs"
	)
	for _, tc := range []struct {
		args []string
		want string // "" for no warning
	}{
		{[]string{cacheLeak1, leak2, cacheLeak3}, ""},
		{[]string{cacheLeak1, gcCycles}, "is of process " + fmt.Sprint(snapshotPID(t, cacheLeak1)) + " and " + gcCycles + " of process"},
		{[]string{cacheLeak3, cacheLeak1}, cacheLeak1 + " was taken before " + cacheLeak3},
		{[]string{cacheLeak1, cacheLeak3, leak2}, leak2 + " was taken before " + cacheLeak3},
	} {
		_, errOut, code := runCLI(append([]string{"leaks", "-n", "1"}, tc.args...)...)
		if code != 0 {
			t.Errorf("leaks %q: exit %d: %s", tc.args, code, errOut)
		}
		if tc.want == "" && strings.Contains(errOut, "warning") || tc.want != "" && !strings.Contains(errOut, tc.want) {
			t.Errorf("leaks %q: stderr %q, want %q", tc.args, errOut, tc.want)
		}
	}
}

// TestDominatorsNothingReachable: a heap whose objects no root reaches
// lists them as unreachable, and no empty table.
func TestDominatorsNothingReachable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cycle.json")
	cycle := `{"format":"objgraph-snapshot","version":1,"types":[{"name":"Node"}],` +
		`"objects":[{"addr":"0x10","type":0,"edges":[[1,"next"]]},{"addr":"0x20","type":0,"edges":[[0,"next"]]}],"roots":[]}`
	if err := os.WriteFile(path, []byte(cycle), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI("dominators", "--no-external", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"no object is reachable from a root", "unreachable from every root (2 objects", "2      0  Node"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "held by:") {
		t.Errorf("an empty table was printed:\n%s", out)
	}
}
