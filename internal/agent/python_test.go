package agent

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// TestPythonSuite runs the agent's own unittest suite (test_agent.py): the
// snapshot checks against gc.get_objects(), sys.getrefcount and
// gc.get_referents in the live process. It runs in the machine's python3,
// or in each interpreter OBJGRAPH_TEST_PYTHONS lists (paths separated by
// spaces or newlines), every one of which must be there.
func TestPythonSuite(t *testing.T) {
	pythons := strings.Fields(os.Getenv("OBJGRAPH_TEST_PYTHONS"))
	if len(pythons) == 0 {
		pythons = []string{testenv.LookPath(t, "python3", "the capture agent's tests need it")}
	}
	for _, py := range pythons {
		t.Run(py, func(t *testing.T) {
			if _, err := exec.LookPath(py); err != nil {
				t.Fatalf("OBJGRAPH_TEST_PYTHONS names %s: %v", py, err)
			}
			cmd := exec.Command(py, "-m", "unittest", "discover", "-s", ".", "-p", "test_*.py")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s -m unittest: %v\n%s", py, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
