package gcmod_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/heap"
)

// TestRecordedCollect checks offline collection of the recorded snapshots
// against what the program's own gc.collect() returned, as the README
// claims for gc_cycles.ogs. The expected files record the snapshot's name
// and the number collect() returned, not the objects, so the number is
// what is compared.
func TestRecordedCollect(t *testing.T) {
	files, err := filepath.Glob("../testdata/snapshots/*.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no ../testdata/snapshots/*.expected.json")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Snapshot  string `json:"snapshot"`
				Collected *int   `json:"collected"`
			}
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatalf("reading %s: %v", file, err)
			}
			if want.Snapshot == "" || want.Collected == nil {
				t.Fatalf("%s records no snapshot or no collected count", file)
			}
			h, err := heap.ReadFile(filepath.Join(filepath.Dir(file), want.Snapshot))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := gcmod.Unreachable(h, gcmod.UnreachableOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Unreachable != *want.Collected || len(rep.Objects) != *want.Collected {
				t.Errorf("offline collection of %s finds %d unreachable objects (%d listed), gc.collect() returned %d", want.Snapshot, rep.Unreachable, len(rep.Objects), *want.Collected)
			}
		})
	}
}
