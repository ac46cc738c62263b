package main

// Tests of allocation sites against real programs run with tracemalloc
// tracing, on every interpreter of OBJGRAPH_TEST_PYTHONS.

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// TestRunTraceAlloc runs a program under objgraph run --trace-alloc 3: the
// object its first line makes has a traceback, and one made three calls
// deep has three frames, innermost first, with their functions.
func TestRunTraceAlloc(t *testing.T) {
	prog, _ := filepath.Abs("testdata/memory/traced_run.py")
	for _, py := range memoryPythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py))), func(t *testing.T) {
			root := isolate(t)
			dir := t.TempDir()
			t.Setenv("PYTHONTRACEMALLOC", "")
			_, errOut, code := runCLI("run", "-o", dir, "--at-exit", "--signal", "none", "--trace-alloc", "3", "--", py, prog)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			snaps, _ := filepath.Glob(filepath.Join(dir, "objgraph-*.ogs"))
			if len(snaps) != 1 {
				t.Fatalf("snapshots %v, want one", snaps)
			}
			h, err := heap.ReadFile(snaps[0])
			if err != nil {
				t.Fatal(err)
			}
			mem, err := h.Meta().ProcessMemory()
			if err != nil || mem == nil || mem.Tracemalloc == nil || mem.Tracemalloc.Frames != 3 {
				t.Errorf("the snapshot's memory is %+v (%v), want tracemalloc with 3 frames", mem, err)
			}
			var first, deep []heap.Frame
			for id := range h.All() {
				tb, ok := h.AllocTraceback(id)
				if !ok || h.TypeName(id) != "dict" {
					continue
				}
				fr := h.Traceback(tb)
				if len(fr) == 0 || !strings.HasSuffix(fr[0].File, "traced_run.py") {
					continue
				}
				switch fr[0].Line {
				case 1:
					first = fr
				case 13:
					deep = fr
				}
			}
			if first == nil {
				t.Errorf("no dict allocated at traced_run.py:1 has a traceback: tracing did not start before the first line")
			}
			var got []string
			for _, f := range deep {
				got = append(got, f.Function)
			}
			if strings.Join(got, " ") != "inner middle outer" {
				t.Errorf("the dict made three calls deep has frames %+v, want inner, middle and outer", deep)
			}
			noRunsLeft(t, root)
		})
	}
}

func TestRunTraceAllocUsage(t *testing.T) {
	for _, n := range []string{"-1", "65536"} {
		if _, errOut, code := runCLI("run", "--trace-alloc", n, "--", "python3", "-c", "pass"); code != 2 || !strings.Contains(errOut, "--trace-alloc") {
			t.Errorf("--trace-alloc %s: exit %d, %s; want 2 and a message naming the flag", n, code, errOut)
		}
	}
}

// TestAllocationSitesThreeSnapshots plants a leak over three snapshots:
// the capture stops tracemalloc during its walk, which forgets its traces,
// so the dicts leaked before the second snapshot keep their site in the
// third only through what the agent kept. tracemalloc traces again at the
// end, with the frames it had.
func TestAllocationSitesThreeSnapshots(t *testing.T) {
	agent, _ := filepath.Abs("../../internal/agent")
	prog, _ := filepath.Abs("testdata/memory/alloc3.py")
	const want = "alloc3.py:17"
	bin := ""
	for i, py := range memoryPythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py))), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(py, "-S", prog, dir)
			cmd.Env = append(os.Environ(), "PYTHONPATH="+agent, "PYTHONDONTWRITEBYTECODE=1", "PYTHONTRACEMALLOC=5")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("alloc3.py: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != "True 5" {
				t.Errorf("after the snapshots tracemalloc is tracing, frames: %q, want True 5", got)
			}
			snaps := []string{filepath.Join(dir, "1.ogs"), filepath.Join(dir, "2.ogs"), filepath.Join(dir, "3.ogs")}
			js, errOut, code := runCLI(append([]string{"leaks", "--json"}, snaps...)...)
			if code != 0 {
				t.Fatalf("leaks: exit %d: %s", code, errOut)
			}
			type site struct {
				Site     string
				Function string
				Count    int
			}
			var rep struct {
				Suspects []struct {
					Name  string
					Sites []site `json:"alloc_sites"`
				}
				Types []struct {
					Type  string
					Sites []site `json:"alloc_sites"`
				}
			}
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatal(err)
			}
			// (a few of the 600 escape the match by address, see leaks.md)
			good := func(s []site) bool {
				return len(s) > 0 && strings.HasSuffix(s[0].Site, want) && s[0].Function == "handle" && s[0].Count >= 590
			}
			if len(rep.Suspects) == 0 || rep.Suspects[0].Name != "__main__.sessions" || !good(rep.Suspects[0].Sites) {
				t.Errorf("the first suspect is not __main__.sessions with its 600 dicts allocated at %s in handle: %s", want, js)
			}
			found := false
			for _, ty := range rep.Types {
				if ty.Type == "dict" {
					found = true
					if !good(ty.Sites) {
						t.Errorf("the leaked dicts' first allocation site is %+v, want %s handle with (nearly) 600 objects", ty.Sites, want)
					}
				}
			}
			if !found {
				t.Errorf("leaks found no dict: %s", js)
			}
			text, _, _ := runCLI("leaks", snaps[0], snaps[2])
			if !strings.Contains(text, "   allocated at ") || !strings.Contains(text, want+" handle: ") {
				t.Errorf("leaks does not say where the suspect's entries were allocated:\n%s", text)
			}
			if i > 0 {
				return
			}
			// ui offers the allocation view beside the heap view
			if bin == "" {
				bin = buildCommands(t)
			}
			addr := startUI(t, bin, snaps[2])
			index := waitPage(t, "http://"+addr+"/")
			if !strings.Contains(index, `href="/ui/"`) || !strings.Contains(index, `href="/alloc/ui/"`) {
				t.Errorf("the page at / does not link both views:\n%s", index)
			}
			top := waitPage(t, "http://"+addr+"/alloc/ui/top?si=objects")
			if !strings.Contains(top, `"Name":"handle"`) {
				t.Errorf("the allocation view's top table has no row for handle:\n%.3000s", top)
			}
			resp, err := http.Get("http://" + addr + "/ui/top?si=objects")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "sessions") {
				t.Errorf("the heap view is not at /ui/ (%s)", resp.Status)
			}
		})
	}
}
