package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// TestMemoryVerdictTorch runs the torch program under Debian's
// python3-torch: 50 float32 tensors of 1 MiB and a view of each, whose
// storages are charged once, to the tensors that own them.
func TestMemoryVerdictTorch(t *testing.T) {
	t.Parallel() // two captures of a heap with torch imported: a few seconds each
	const system = "/usr/bin/python3"
	if _, err := os.Stat(system); err != nil {
		testenv.Missing(t, "%s is not installed: the torch test needs it, with python3-torch", system)
	}
	if err := exec.Command(system, "-c", "import torch").Run(); err != nil {
		testenv.Missing(t, "torch is not installed for %s: apt-get install python3-torch", system)
	}
	first, last := growSnapshots(t, system, "torch")
	m := memoryOf(t, "leaks", first, last)
	if b := bytesOf(t, m, "buffer_growth"); !within(b, 50*mib, 0.05) {
		t.Errorf("buffer_growth %.1f MiB, want 50 MiB ± 5%%", b/mib)
	}
	if m["verdict"] != "buffers" {
		t.Errorf("verdict %v, want buffers", m["verdict"])
	}
	checkTopBuffers(t, last, "Tensor", 50*mib)

	// the leak: 100 new tensors in one list, the 50 owners charged their
	// storages and the 50 views nothing
	out, errOut, code := runCLI("leaks", "--json", first, last)
	if code != 0 {
		t.Fatalf("leaks: exit %d: %s", code, errOut)
	}
	var rep struct {
		Types []struct {
			Type        string
			Count       int
			BufferBytes float64 `json:"buffer_bytes"`
			Groups      []struct {
				Count       int
				BufferBytes float64 `json:"buffer_bytes"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ty := range rep.Types {
		if ty.Type != "Tensor" {
			continue
		}
		found = true
		if ty.Count != 100 || !within(ty.BufferBytes, 50*mib, 0.05) {
			t.Errorf("leaked tensors: %d owning %.1f MiB, want 100 owning 50 MiB ± 5%%", ty.Count, ty.BufferBytes/mib)
		}
		if len(ty.Groups) != 1 || ty.Groups[0].Count != 100 || !within(ty.Groups[0].BufferBytes, 50*mib, 0.05) {
			t.Errorf("the tensors' leak groups are %+v, want one of 100 owning 50 MiB ± 5%%", ty.Groups)
		}
	}
	if !found {
		t.Fatalf("leaks found no Tensor: %s", out)
	}
}
