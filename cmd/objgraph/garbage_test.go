package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/units"
)

// garbagePythons are the interpreters OBJGRAPH_TEST_PYTHONS lists, or the
// machine's python3.
func garbagePythons(t *testing.T) []string {
	if p := strings.Fields(os.Getenv("OBJGRAPH_TEST_PYTHONS")); len(p) > 0 {
		return p
	}
	return []string{needPython3(t)}
}

// cyclesProgram disables gc, makes objects in cycles and drops them, takes
// two snapshots with the agent's defaults, then prints what its own
// gc.collect() returns right after.
const cyclesProgram = `
import gc, sys
gc.disable()
sys.path.insert(0, sys.argv[1])
import objgraph_agent

class Node:
    pass

objgraph_agent.snapshot(sys.argv[2])
for i in range(300):
    a = Node(); b = Node(); a.peer = b; b.peer = a
    l = [i]; l.append(l)
del a, b, l
objgraph_agent.snapshot(sys.argv[3])
print(gc.collect())
`

// TestDefaultSnapshotKeepsGarbage checks, in every interpreter, that a
// snapshot taken with the agent's defaults does not collect: objgraph gc
// finds exactly what the program's gc.collect() returns right after it,
// growth leaves that garbage out, and top counts it and says so.
func TestDefaultSnapshotKeepsGarbage(t *testing.T) {
	agentDir, err := filepath.Abs(filepath.Join("..", "..", "internal", "agent"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "cycles.py")
	if err := os.WriteFile(prog, []byte(cyclesProgram), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, py := range garbagePythons(t) {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			before := filepath.Join(dir, fmt.Sprintf("before-%d.ogs", i))
			after := filepath.Join(dir, fmt.Sprintf("after-%d.ogs", i))
			out, err := exec.Command(py, prog, agentDir, before, after).Output()
			if err != nil {
				t.Fatalf("%s %s: %v", py, prog, err)
			}
			collected, err := strconv.Atoi(strings.TrimSpace(string(out)))
			if err != nil || collected < 900 {
				t.Fatalf("%s: gc.collect() returned %q; want 900 or more (the program's cycles)", py, out)
			}

			stdout, stderr, code := runCLI("gc", "--json", after)
			if code != 0 {
				t.Fatalf("objgraph gc: exit %d: %s", code, stderr)
			}
			var gc struct {
				Collection struct {
					Unreachable int `json:"unreachable"`
				} `json:"collection"`
			}
			if err := json.Unmarshal([]byte(stdout), &gc); err != nil {
				t.Fatalf("objgraph gc --json: %v\n%s", err, stdout)
			}
			if gc.Collection.Unreachable != collected {
				t.Errorf("%s: objgraph gc finds %d unreachable objects, gc.collect() returned %d", py, gc.Collection.Unreachable, collected)
			}

			// growth: the garbage is left out by default, counted with --garbage
			grew := func(args ...string) map[string]int {
				stdout, stderr, code := runCLI(append(append([]string{"growth", "--json", "--limit", "0"}, args...), before, after)...)
				if code != 0 {
					t.Fatalf("objgraph growth: exit %d: %s", code, stderr)
				}
				var g struct {
					Steps []struct {
						Growth []struct {
							Type  string `json:"type"`
							Delta int    `json:"delta"`
						} `json:"growth"`
					} `json:"steps"`
				}
				if err := json.Unmarshal([]byte(stdout), &g); err != nil {
					t.Fatal(err)
				}
				m := map[string]int{}
				for _, r := range g.Steps[0].Growth {
					m[r.Type] = r.Delta
				}
				return m
			}
			if d := grew()["Node"]; d != 0 {
				t.Errorf("%s: growth shows Node +%d; garbage is left out by default", py, d)
			}
			if d := grew("--garbage")["Node"]; d != 600 {
				t.Errorf("%s: growth --garbage shows Node +%d, want +600", py, d)
			}

			// top: counts the garbage and says how much of it there is
			stdout, stderr, code = runCLI("top", "--json", after)
			if code != 0 {
				t.Fatalf("objgraph top: exit %d: %s", code, stderr)
			}
			var top struct {
				Top []struct {
					Type  string `json:"type"`
					Count int    `json:"count"`
				} `json:"top"`
				Garbage *struct {
					Objects int `json:"objects"`
				} `json:"garbage"`
			}
			if err := json.Unmarshal([]byte(stdout), &top); err != nil {
				t.Fatal(err)
			}
			nodes := 0
			for _, r := range top.Top {
				if r.Type == "Node" {
					nodes = r.Count
				}
			}
			if nodes != 600 {
				t.Errorf("%s: top counts %d Node objects, want 600", py, nodes)
			}
			// the garbage counted: tracked objects only, all of them freed
			if top.Garbage == nil || top.Garbage.Objects != collected {
				t.Errorf("%s: top says %+v of what it counts is garbage, want %d objects", py, top.Garbage, collected)
			}
			stdout, _, _ = runCLI("top", after)
			if want := units.Commas(uint64(collected)) + " of the"; !strings.Contains(stdout, want) || !strings.Contains(stdout, "cyclic garbage") {
				t.Errorf("%s: objgraph top does not say how much is garbage:\n%s", py, stdout)
			}
			stdout, _, _ = runCLI("top", "--json", "--no-garbage", after)
			if strings.Contains(stdout, `"garbage"`) {
				t.Errorf("%s: top --no-garbage still reports garbage:\n%s", py, stdout)
			}
		})
	}
}
