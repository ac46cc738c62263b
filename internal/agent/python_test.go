package agent

import (
	"os"
	"os/exec"
	"testing"
)

// TestPythonSuite runs the agent's own unittest suite (test_agent.py) in the
// machine's python3: the snapshot checks against gc.get_objects(),
// sys.getrefcount and gc.get_referents in the live process.
func TestPythonSuite(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is not installed; the capture agent's tests need it (.ci/run installs it)")
		}
		t.Skip("python3 is not installed")
	}
	cmd := exec.Command(py, "-m", "unittest", "discover", "-s", ".", "-p", "test_*.py")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
