package main

// Tests of the memory verdict against real programs whose memory grows in
// Python objects, in buffers they own, or natively (testdata/memory).

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

const mib = 1 << 20

// memoryPythons are the interpreters of OBJGRAPH_TEST_PYTHONS, or python3.
func memoryPythons(t *testing.T) []string {
	pythons := strings.Fields(os.Getenv("OBJGRAPH_TEST_PYTHONS"))
	if len(pythons) == 0 {
		pythons = []string{testenv.LookPath(t, "python3", "apt-get install -y python3")}
	}
	return pythons
}

// growSnapshots runs testdata/memory/grow.py MODE under py and returns its
// snapshots before and after the growth.
func growSnapshots(t *testing.T, py, mode string) (string, string) {
	t.Helper()
	agent, _ := filepath.Abs("../../internal/agent")
	progs, _ := filepath.Abs("testdata/memory")
	dir := t.TempDir()
	cmd := exec.Command(py, filepath.Join(progs, "grow.py"), mode, dir)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+agent, "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s grow.py %s: %v\n%s", py, mode, err, out)
	}
	return filepath.Join(dir, "1.ogs"), filepath.Join(dir, "2.ogs")
}

// memoryOf runs an analysis command with --json and returns its memory
// document.
func memoryOf(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, errOut, code := runCLI(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	var doc struct {
		Memory map[string]any `json:"memory"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%s --json: %v", args[0], err)
	}
	if doc.Memory == nil {
		t.Fatalf("%s --json has no memory: %s", args[0], out)
	}
	return doc.Memory
}

func bytesOf(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("memory.%s is %v, want a number (memory: %v)", key, m[key], m)
	}
	return v
}

func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

func TestMemoryVerdictRealPrograms(t *testing.T) {
	for _, py := range memoryPythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"/python", func(t *testing.T) {
			first, last := growSnapshots(t, py, "python")
			for _, cmd := range []string{"growth", "leaks"} {
				m := memoryOf(t, cmd, first, last)
				rss, outside := bytesOf(t, m, "rss_growth"), bytesOf(t, m, "outside_python_growth")
				python := bytesOf(t, m, "python_growth")
				// 200,000 dicts with a str each: over 60 MiB on every version
				if python < 60*mib {
					t.Errorf("%s: python_growth %.1f MiB, want over 60", cmd, python/mib)
				}
				// allocator noise: pymalloc's and malloc's free lists, the
				// agent's buffers of the first capture reused
				if math.Abs(outside) > 0.2*rss+4*mib {
					t.Errorf("%s: outside_python_growth %.1f MiB of rss_growth %.1f MiB, want at most 20%% + 4 MiB", cmd, outside/mib, rss/mib)
				}
				if m["verdict"] != "python" {
					t.Errorf("%s: verdict %v, want python", cmd, m["verdict"])
				}
			}
		})
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"/native", func(t *testing.T) {
			first, last := growSnapshots(t, py, "native")
			for _, cmd := range []string{"growth", "leaks"} {
				m := memoryOf(t, cmd, first, last)
				if outside := bytesOf(t, m, "outside_python_growth"); !within(outside, 100*mib, 0.1) {
					t.Errorf("%s: outside_python_growth %.1f MiB, want 100 MiB ± 10%%", cmd, outside/mib)
				}
				if m["verdict"] != "outside" {
					t.Errorf("%s: verdict %v, want outside", cmd, m["verdict"])
				}
				if hints, _ := m["hints"].([]any); !slices.Contains(hints, any("native_profiler")) {
					t.Errorf("%s: hints %v, want native_profiler", cmd, m["hints"])
				}
			}
			out, _, _ := runCLI("leaks", first, last)
			if !strings.Contains(out, "verdict: native") || !strings.Contains(out, "memray") {
				t.Errorf("leaks does not say the growth is native and what to run next:\n%s", out)
			}
		})
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"/bytearray", func(t *testing.T) {
			first, last := growSnapshots(t, py, "bytearray")
			m := memoryOf(t, "growth", first, last)
			// 50 bytearrays of 1 MiB, each with a memoryview that owns nothing
			if b := bytesOf(t, m, "buffer_growth"); !within(b, 50*mib, 0.05) {
				t.Errorf("buffer_growth %.1f MiB, want 50 MiB ± 5%%", b/mib)
			}
			if m["verdict"] != "buffers" {
				t.Errorf("verdict %v, want buffers", m["verdict"])
			}
			checkTopBuffers(t, last, "bytearray", 50*mib)
		})
	}
}

// checkTopBuffers checks that top --buffers charges typ with about want
// bytes of buffers, in buffer_bytes and in bytes.
func checkTopBuffers(t *testing.T, snap, typ string, want float64) {
	t.Helper()
	out, errOut, code := runCLI("top", "--bytes", "--buffers", "--json", "-n", "0", snap)
	if code != 0 {
		t.Fatalf("top: exit %d: %s", code, errOut)
	}
	var doc struct {
		Top []struct {
			Type        string
			Count       int
			Bytes       float64
			BufferBytes float64 `json:"buffer_bytes"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Top) == 0 || doc.Top[0].Type != typ {
		t.Fatalf("top --bytes --buffers: the first type is not %s: %s", typ, out)
	}
	r := doc.Top[0]
	if !within(r.BufferBytes, want, 0.05) || r.Bytes < r.BufferBytes {
		t.Errorf("%s: buffer_bytes %.1f MiB, bytes %.1f MiB; want buffers %.0f MiB ± 5%% within bytes", typ, r.BufferBytes/mib, r.Bytes/mib, want/mib)
	}
}

// TestMemoryVerdictNumpy runs the numpy program under Debian's
// python3-numpy: 50 arrays of 1 MiB and a view of each, whose buffers are
// counted once.
func TestMemoryVerdictNumpy(t *testing.T) {
	const system = "/usr/bin/python3"
	if _, err := os.Stat(system); err != nil {
		testenv.Missing(t, "%s is not installed: the numpy test needs it, with python3-numpy", system)
	}
	if err := exec.Command(system, "-c", "import numpy").Run(); err != nil {
		testenv.Missing(t, "numpy is not installed for %s: apt-get install python3-numpy", system)
	}
	first, last := growSnapshots(t, system, "numpy")
	m := memoryOf(t, "leaks", first, last)
	if b := bytesOf(t, m, "buffer_growth"); !within(b, 50*mib, 0.05) {
		t.Errorf("buffer_growth %.1f MiB, want 50 MiB ± 5%%", b/mib)
	}
	if m["verdict"] != "buffers" {
		t.Errorf("verdict %v, want buffers", m["verdict"])
	}
	checkTopBuffers(t, last, "ndarray", 50*mib)
	// one snapshot: the levels, under the names without _growth
	one := memoryOf(t, "top", last)
	for _, k := range []string{"rss", "python", "buffer", "outside_python"} {
		bytesOf(t, one, k)
	}
	if b := bytesOf(t, one, "buffer"); b < 50*mib {
		t.Errorf("top: buffer %.1f MiB, want at least the arrays' 50 MiB", b/mib)
	}
}

// TestAllocationSites runs a planted leak with tracemalloc tracing under
// every interpreter: leaks names the line that allocated the leaked dicts.
func TestAllocationSites(t *testing.T) {
	agent, _ := filepath.Abs("../../internal/agent")
	prog, _ := filepath.Abs("testdata/memory/alloc.py")
	const want = "alloc.py:15"
	for _, py := range memoryPythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py))), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(py, "-S", prog, dir)
			cmd.Env = append(os.Environ(), "PYTHONPATH="+agent, "PYTHONDONTWRITEBYTECODE=1", "PYTHONTRACEMALLOC=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("alloc.py: %v\n%s", err, out)
			}
			first, last := filepath.Join(dir, "1.ogs"), filepath.Join(dir, "2.ogs")
			out, errOut, code := runCLI("leaks", "--json", first, last)
			if code != 0 {
				t.Fatalf("leaks: exit %d: %s", code, errOut)
			}
			var rep struct {
				Types []struct {
					Type  string
					Count int
					Sites []struct {
						Site  string
						Count int
					} `json:"alloc_sites"`
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, ty := range rep.Types {
				if ty.Type != "dict" {
					continue
				}
				found = true
				// Objects are matched across snapshots by address and type:
				// a new dict at the address of a dict freed since the first
				// snapshot counts as old, so a few of the 500 may escape.
				if len(ty.Sites) == 0 || !strings.HasSuffix(ty.Sites[0].Site, want) || ty.Sites[0].Count < 490 {
					t.Errorf("the leaked dicts' first allocation site is %+v, want %s with (nearly) 500 objects", ty.Sites, want)
				}
			}
			if !found {
				t.Fatalf("leaks found no dict: %s", out)
			}
			text, _, _ := runCLI("leaks", first, last)
			if !strings.Contains(text, "allocated at ") || !strings.Contains(text, want) {
				t.Errorf("leaks does not say where the dicts were allocated:\n%s", text)
			}
			// the allocation view in pprof: the line, with the 500 dicts
			// and their 500 lists (but for one or two made from a block
			// the capture allocated while tracemalloc was stopped)
			prof := filepath.Join(dir, "alloc.pb.gz")
			if _, errOut, code := runCLI("pprof", "--alloc", "-o", prof, last); code != 0 {
				t.Fatalf("pprof --alloc: exit %d: %s", code, errOut)
			}
			top := goTool(t, "-top", "-lines", "-sample_index=objects", prof)
			found = false
			for _, line := range strings.Split(top, "\n") {
				if f := strings.Fields(line); len(f) > 0 && strings.HasSuffix(line, want) {
					n, _ := strconv.Atoi(f[0])
					found = n >= 990 && n <= 1000
				}
			}
			if !found {
				t.Errorf("go tool pprof -top -lines does not give %s (nearly) its 1000 objects:\n%s", want, top)
			}
		})
	}
}
