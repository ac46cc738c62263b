package main

// Tests of the pytest plugin objgraph agent writes (objgraph_pytest.py):
// real pytest runs it on test files with real leaks, and it analyses with
// a real objgraph binary.

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// pytestPythons are the interpreters to run pytest under: /usr/bin/python3,
// whose pytest .ci/run installs (Debian's python3-pytest), and those of
// OBJGRAPH_TEST_PYTHONS that have pytest.
func pytestPythons(t *testing.T) []string {
	t.Helper()
	const system = "/usr/bin/python3"
	if _, err := os.Stat(system); err != nil {
		testenv.Missing(t, "%s is not installed: the pytest plugin's tests need it, with python3-pytest", system)
	}
	if err := exec.Command(system, "-c", "import pytest").Run(); err != nil {
		testenv.Missing(t, "pytest is not installed for %s: apt-get install python3-pytest", system)
	}
	pythons := []string{system}
	for _, py := range strings.Fields(os.Getenv("OBJGRAPH_TEST_PYTHONS")) {
		if slices.Contains(pythons, py) {
			continue
		}
		if exec.Command(py, "-c", "import pytest").Run() != nil {
			t.Logf("%s has no pytest: not run there", py)
			continue
		}
		pythons = append(pythons, py)
	}
	return pythons
}

// buildObjgraph builds the objgraph command into a new directory and
// returns its path.
func buildObjgraph(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "objgraph")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building objgraph: %v\n%s", err, out)
	}
	return bin
}

// junitCase is a test case of pytest's --junitxml report.
type junitCase struct {
	Name    string `xml:"name,attr"`
	Failure *struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Error *struct {
		Message string `xml:"message,attr"`
	} `xml:"error"`
	Skipped *struct{} `xml:"skipped"`
}

// pytestRun runs pytest with the plugin in dir on the test file name
// holding src, and returns its test cases by name, its output and exit
// status.
func pytestRun(t *testing.T, py, pluginDir, objgraph, name, src string, flags ...string) (map[string]junitCase, string, int) {
	t.Helper()
	dir := t.TempDir()
	for file, text := range map[string]string{"pytest.ini": "[pytest]\n", name: src} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	report := filepath.Join(dir, "report.xml")
	args := append([]string{"-m", "pytest", "-p", "objgraph_pytest", "-p", "no:cacheprovider", "--junitxml", report}, flags...)
	cmd := exec.Command(py, append(args, name)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pluginDir, "OBJGRAPH="+objgraph, "PYTHONDONTWRITEBYTECODE=1")
	out, _ := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	cases := map[string]junitCase{}
	b, err := os.ReadFile(report)
	if err != nil {
		return cases, string(out), code
	}
	var suites struct {
		Cases []junitCase `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("reading pytest's report: %v\n%s", err, b)
	}
	for _, c := range suites.Cases {
		cases[c.Name] = c
	}
	return cases, string(out), code
}

const leakTests = `
_registry = []

class Entry:
    def __init__(self, n):
        self.n = n

def test_leaky():
    _registry.append(Entry(len(_registry)))

def test_clean():
    local = [Entry(i) for i in range(100)]
    assert len(local) == 100
`

const markerTests = `
import pytest

_kept = []
_memo = {}

class Entry:
    pass

class Other:
    pass

@pytest.mark.objgraph
def test_cache_fills_once():
    if "k" not in _memo:
        _memo["k"] = [Entry() for _ in range(50)]

# The same, measured on its first run.
@pytest.mark.objgraph(warmup=0)
def test_cache_without_warmup():
    if "w" not in _memo:
        _memo["w"] = [Entry() for _ in range(50)]

@pytest.mark.objgraph(allow=["test_markers.Entry"])
def test_allowed():
    _kept.append(Entry())

@pytest.mark.objgraph(max_growth=3)
def test_within_max_growth():
    _kept.append(Entry())

@pytest.mark.objgraph(allow=["test_markers.Entry"])
def test_marked_leak():
    _kept.append(Other())

def test_unmarked_leak():
    _kept.append(Entry())

@pytest.mark.objgraph(maxgrowth=1)
def test_misspelt():
    pass
`

// passed is whether a test case ran and passed.
func passed(c junitCase) bool {
	return c.Name != "" && c.Failure == nil && c.Error == nil && c.Skipped == nil
}

func TestPytestPlugin(t *testing.T) {
	pythons := pytestPythons(t)
	objgraph := buildObjgraph(t)
	pluginDir := t.TempDir()
	if _, errOut, code := runCLI("agent", "--dir", pluginDir); code != 0 {
		t.Fatalf("objgraph agent: exit %d: %s", code, errOut)
	}
	for _, py := range pythons {
		t.Run(py, func(t *testing.T) {
			t.Run("leaks", func(t *testing.T) {
				keep := t.TempDir()
				cases, out, code := pytestRun(t, py, pluginDir, objgraph, "test_leak.py", leakTests, "--objgraph-leaks", "--objgraph-dir", keep)
				if code != 1 || len(cases) != 2 {
					t.Fatalf("pytest exited %d with %d test cases, want 1 and 2:\n%s", code, len(cases), out)
				}
				if !passed(cases["test_clean"]) {
					t.Errorf("test_clean did not pass:\n%s", out)
				}
				f := cases["test_leaky"].Failure
				if f == nil {
					t.Fatalf("test_leaky did not fail:\n%s", out)
				}
				for _, want := range []string{
					"test_leak.py::test_leaky left objects alive",
					"test_leak.Entry: +1",
					"suspect: test_leak._registry grew by 1 entry (1 test_leak.Entry)",
					"1 object in list _registry, held as module test_leak -> __dict__ dict -> _registry list -> [*] test_leak.Entry",
					"-_registry->",
				} {
					if !strings.Contains(f.Text, want) {
						t.Errorf("test_leaky's failure lacks %q:\n%s", want, f.Text)
					}
				}
				if strings.Contains(f.Text, "test_clean") {
					t.Errorf("test_leaky's failure names test_clean:\n%s", f.Text)
				}
				// The failing test's snapshots are kept, and say the same.
				before, after := filepath.Join(keep, "test_leak.py_test_leaky-before.ogs"), filepath.Join(keep, "test_leak.py_test_leaky-after.ogs")
				if !strings.Contains(f.Text, "snapshots kept: objgraph leaks "+before+" "+after) {
					t.Errorf("test_leaky's failure does not name the snapshots kept:\n%s", f.Text)
				}
				if kept, _ := filepath.Glob(filepath.Join(keep, "*")); len(kept) != 2 {
					t.Errorf("kept %q, want the two snapshots of test_leaky", kept)
				}
				leaks, errOut, code := runCLI("leaks", "--qualified", before, after)
				if code != 0 || !strings.Contains(leaks, "test_leak.Entry: 1 object") {
					t.Errorf("objgraph leaks on the kept snapshots: exit %d\n%s%s", code, leaks, errOut)
				}
			})
			t.Run("markers", func(t *testing.T) {
				cases, out, code := pytestRun(t, py, pluginDir, objgraph, "test_markers.py", markerTests)
				if code != 1 || len(cases) != 7 {
					t.Fatalf("pytest exited %d with %d test cases, want 1 and 7:\n%s", code, len(cases), out)
				}
				for _, name := range []string{"test_cache_fills_once", "test_allowed", "test_within_max_growth", "test_unmarked_leak"} {
					if !passed(cases[name]) {
						t.Errorf("%s did not pass:\n%s", name, out)
					}
				}
				f := cases["test_marked_leak"].Failure
				if f == nil || !strings.Contains(f.Text, "test_markers.Other: +1") || strings.Contains(f.Text, "test_markers.Entry") {
					t.Errorf("test_marked_leak did not fail for Other alone:\n%s", out)
				}
				f = cases["test_misspelt"].Failure
				if f == nil || !strings.Contains(f.Text, "test_markers.py::test_misspelt: @pytest.mark.objgraph: unknown keyword maxgrowth") {
					t.Errorf("test_misspelt did not fail for its marker's unknown keyword:\n%s", out)
				}
				// Without the warm-up run, the cache's first fill counts.
				f = cases["test_cache_without_warmup"].Failure
				if f == nil || !strings.Contains(f.Text, "test_markers.Entry: +50") || !strings.Contains(f.Text, "after 0 warm-up runs") {
					t.Errorf("test_cache_without_warmup did not fail for its 50 Entry objects:\n%s", out)
				}
			})
			t.Run("no-binary", func(t *testing.T) {
				missing := filepath.Join(t.TempDir(), "objgraph")
				_, out, code := pytestRun(t, py, pluginDir, missing, "test_leak.py", leakTests, "--objgraph-leaks")
				want := "OBJGRAPH names " + missing + ", which is not an executable file"
				if code != 4 || !strings.Contains(out, want) {
					t.Errorf("pytest exited %d, want 4 (usage error) and %q:\n%s", code, want, out)
				}
			})
		})
	}
}
