package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// The conventions every command follows: the flags they share, how they
// read their arguments, and what they say when an argument is not what it
// should be.

// timedSnapshot writes a one-object snapshot taken at t by process pid.
func timedSnapshot(t *testing.T, name string, pid int, at time.Time) string {
	t.Helper()
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.11.7", PID: pid, Time: at})
	d := b.AddObject(heap.Object{Addr: 0x1000, Type: b.AddType("dict", "builtins.dict"), Size: 64, Refcount: 1, Flags: heap.FlagTracked})
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: d})
	return writeSnapshot(t, b, name)
}

func TestTypeFirstArguments(t *testing.T) {
	snap := fixture(t)
	for _, tc := range []struct{ cmd, pyfunc string }{{"count", "count"}, {"bytype", "by_type"}} {
		_, errOut, code := runCLI(tc.cmd, "Foo", snap)
		if code != exitUsage {
			t.Errorf("%s Foo SNAP: exit %d, want %d", tc.cmd, code, exitUsage)
		}
		want := "objgraph " + tc.cmd + " " + snap + " Foo"
		if !strings.Contains(errOut, want) || !strings.Contains(errOut, "objgraph."+tc.pyfunc+"()") {
			t.Errorf("%s Foo SNAP: stderr %q, want the call in this order (%q) and why", tc.cmd, errOut, want)
		}
	}
	// A type that happens to be no file, in the right order, is counted.
	out, _, code := runCLI("count", snap, "Foo")
	if code != 0 || strings.TrimSpace(out) != "3" {
		t.Errorf("count SNAP Foo: exit %d, stdout %q", code, out)
	}
}

func TestDirectoryForSnapshot(t *testing.T) {
	dir := t.TempDir()
	snap := fixture(t)
	for _, args := range [][]string{{"top", dir}, {"growth", dir, snap}, {"newids", snap, dir}, {"leaks", dir, snap}} {
		_, errOut, code := runCLI(args...)
		if code != exitUsage || !strings.Contains(errOut, dir+" is a directory") || !strings.Contains(errOut, filepath.Join(dir, "*.ogs")) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestReversedTimeOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	early := timedSnapshot(t, "early.ogs", 7, t0)
	late := timedSnapshot(t, "late.ogs", 7, t0.Add(time.Minute))
	for _, cmd := range []string{"growth", "newids", "leaks"} {
		_, errOut, code := runCLI(cmd, late, early)
		if code != 0 || !strings.Contains(errOut, early+" was taken before "+late) {
			t.Errorf("%s LATE EARLY: exit %d, stderr %q", cmd, code, errOut)
		}
		_, errOut, _ = runCLI(cmd, early, late)
		if strings.Contains(errOut, "warning") {
			t.Errorf("%s EARLY LATE: stderr %q, want no warning", cmd, errOut)
		}
	}
	other := timedSnapshot(t, "other.ogs", 8, t0.Add(2*time.Minute))
	if _, errOut, _ := runCLI("growth", early, other); !strings.Contains(errOut, "of process 7") || !strings.Contains(errOut, "of process 8") {
		t.Errorf("growth across processes: stderr %q", errOut)
	}
}

func TestFilterMatchingNothing(t *testing.T) {
	snap := fixture(t)
	out := filepath.Join(t.TempDir(), "g.dot")
	_, errOut, code := runCLI("refs", snap, "--type", "dict", "--filter", "!Nope", "--highlight", "Foo", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, `"!Nope" matches no type`) {
		t.Errorf("stderr %q, want a warning for --filter !Nope", errOut)
	}
	if strings.Contains(errOut, `"Foo" matches no type`) {
		t.Errorf("stderr %q warns of a type that is there", errOut)
	}
}

func TestOutputDirectory(t *testing.T) {
	snap := fixture(t)
	missing := filepath.Join(t.TempDir(), "no", "such")
	for _, args := range [][]string{
		{"refs", snap, "--type", "dict", "-o", filepath.Join(missing, "g.dot")},
		{"pprof", snap, "-o", filepath.Join(missing, "p.pb.gz")},
		{"convert", snap, "-o", filepath.Join(missing, "s.json")},
	} {
		_, errOut, code := runCLI(args...)
		if code != exitFail || !strings.Contains(errOut, "directory "+missing+" does not exist") {
			t.Errorf("%v: exit %d, stderr %q", args[:2], code, errOut)
		}
	}
	// objgraph agent --dir makes the directory it is told to write into.
	dir := filepath.Join(t.TempDir(), "new", "dir")
	out, errOut, code := runCLI("agent", "--dir", dir)
	if code != 0 {
		t.Fatalf("agent --dir: exit %d: %s", code, errOut)
	}
	for _, path := range strings.Fields(out) {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("agent --dir %s: %v", dir, err)
		}
	}
}

func TestLimitEverywhere(t *testing.T) {
	snap := fixture(t)
	out, errOut, code := runCLI("dominators", "-n", "1", snap)
	if code != 0 {
		t.Fatalf("dominators -n 1: exit %d: %s", code, errOut)
	}
	long, errLong, code := runCLI("dominators", "--limit", "1", snap)
	if code != 0 || long != out || errLong != errOut {
		t.Errorf("dominators --limit 1 differs from -n 1 (exit %d)", code)
	}
	old, errOld, code := runCLI("dominators", "--top", "1", snap)
	if code != 0 || old != out || !strings.Contains(errOld, "--top is deprecated") {
		t.Errorf("dominators --top 1: exit %d, stderr %q", code, errOld)
	}
	// Every command that lists has -n/--limit.
	for _, name := range []string{"top", "growth", "newids", "leaks", "gc", "cow", "dominators", "bytype", "at", "leaking"} {
		help, _, _ := runCLI(name, "--help")
		if !strings.Contains(help, "-n, --limit") {
			t.Errorf("%s --help has no -n, --limit:\n%s", name, help)
		}
	}
}

func TestTrackedByDefault(t *testing.T) {
	snap := fixture(t) // one untracked str among four tracked objects
	out, _, _ := runCLI("top", snap)
	if strings.Contains(out, " str") {
		t.Errorf("top counts untracked str without --all:\n%s", out)
	}
	out, _, _ = runCLI("top", "--all", snap)
	if !strings.Contains(out, " str") {
		t.Errorf("top --all leaves str out:\n%s", out)
	}
	out, errOut, code := runCLI("count", snap, "str")
	if code != 0 || strings.TrimSpace(out) != "0" || !strings.Contains(errOut, "--all counts its 1 untracked object") {
		t.Errorf("count SNAP str: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, _ = runCLI("count", "--all", snap, "str")
	if strings.TrimSpace(out) != "1" || errOut != "" {
		t.Errorf("count --all SNAP str: stdout %q, stderr %q", out, errOut)
	}
	_, errOut, _ = runCLI("top", "--tracked", snap)
	if !strings.Contains(errOut, "--tracked is deprecated") {
		t.Errorf("top --tracked: stderr %q", errOut)
	}
}

// TestVersionFromBuild builds the command from this checkout with VCS
// stamping and checks that objgraph version names the revision.
func TestVersionFromBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "objgraph")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	if info, _ := exec.Command("go", "version", "-m", bin).Output(); !strings.Contains(string(info), "vcs.revision=") {
		testenv.Missing(t, "the go command stamped no VCS revision into the build (a git worktree is not stamped)")
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The module version the go command derives from the VCS (a
	// pseudo-version holding the revision), or "devel" and the revision.
	if !strings.HasPrefix(string(out), "objgraph ") || !strings.Contains(string(out), string(rev[:12])) {
		t.Errorf("objgraph version = %q, want the revision %s in it", out, rev[:12])
	}
	set := exec.Command("go", "build", "-ldflags=-X main.version=v1.2.3", "-o", bin, ".")
	if b, err := set.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	if out, _ := exec.Command(bin, "version").Output(); string(out) != "objgraph v1.2.3\n" {
		t.Errorf("with -X main.version=v1.2.3: %q", out)
	}
}
