package agent

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// testPythons returns the interpreters the agent's suites run in: each
// one OBJGRAPH_TEST_PYTHONS lists (paths separated by spaces or newlines),
// every one of which must be there, or the machine's python3.
func testPythons(t *testing.T) []string {
	pythons := strings.Fields(os.Getenv("OBJGRAPH_TEST_PYTHONS"))
	if len(pythons) == 0 {
		pythons = []string{testenv.LookPath(t, "python3", "the capture agent's tests need it")}
	}
	return pythons
}

// runSuite runs the agent's unittest suites (test_*.py) in py, with env
// added to the environment.
func runSuite(t *testing.T, py string, env ...string) {
	if _, err := exec.LookPath(py); err != nil {
		t.Fatalf("OBJGRAPH_TEST_PYTHONS names %s: %v", py, err)
	}
	cmd := exec.Command(py, "-m", "unittest", "discover", "-s", ".", "-p", "test_*.py")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -m unittest: %v\n%s", py, err, out)
	}
	t.Logf("%s", out)
}

// TestPythonSuite runs the agent's own unittest suites (test_*.py) against
// objgraph_agent.py: the snapshot checks against gc.get_objects(),
// sys.getrefcount, gc.get_referents and tracemalloc in the live process,
// and the agent's conduct in a host process. It runs in each
// interpreter of testPythons.
func TestPythonSuite(t *testing.T) {
	t.Parallel() // with TestPackageFormSuite: each suite is one Python process at a time
	for _, py := range testPythons(t) {
		t.Run(py, func(t *testing.T) {
			runSuite(t, py)
		})
	}
}

// TestPackageFormSuite runs the same suite against the agent's source
// package (src/objgraph_agent) instead of the bundle made from it, in the
// first interpreter of testPythons: the two forms must behave the same.
func TestPackageFormSuite(t *testing.T) {
	t.Parallel()
	runSuite(t, testPythons(t)[0], "OBJGRAPH_AGENT_FORM=package")
}
