package agent

import (
	"os/exec"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// TestPythonSuite runs the agent's own unittest suite (test_agent.py) in the
// machine's python3: the snapshot checks against gc.get_objects(),
// sys.getrefcount and gc.get_referents in the live process.
func TestPythonSuite(t *testing.T) {
	py := testenv.LookPath(t, "python3", "the capture agent's tests need it")
	cmd := exec.Command(py, "-m", "unittest", "discover", "-s", ".", "-p", "test_*.py")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
