package runstate

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// deadPID returns the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		testenv.Missing(t, "cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

func TestCheckDir(t *testing.T) {
	uid := os.Geteuid()
	base := t.TempDir()
	for _, tc := range []struct {
		name string
		make func(path string)
		uid  int
		want string // "" for no error
	}{
		{"private", func(p string) { os.Mkdir(p, 0o700) }, uid, ""},
		{"stricter", func(p string) { os.Mkdir(p, 0o500) }, uid, ""},
		{"symlink", func(p string) { os.Symlink(t.TempDir(), p) }, uid, "is a symbolic link"},
		{"file", func(p string) { os.WriteFile(p, nil, 0o600) }, uid, "is not a directory"},
		{"group-readable", func(p string) { os.Mkdir(p, 0o700); os.Chmod(p, 0o750) }, uid, "has mode 0750, open to others"},
		{"world-writable", func(p string) { os.Mkdir(p, 0o700); os.Chmod(p, 0o777) }, uid, "has mode 0777"},
		{"another-users", func(p string) { os.Mkdir(p, 0o700) }, uid + 1, "belongs to uid " + strconv.Itoa(uid) + ", not to you (uid " + strconv.Itoa(uid+1) + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(base, tc.name)
			tc.make(p)
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			err = checkDir(p, fi, tc.uid)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("checkDir: %v; want %q", err, tc.want)
			}
		})
	}
}

func TestReadPrivate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("{}"), 0o600)
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, []byte("{}"), 0o600)
	os.Chmod(loose, 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(good, link)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{good, ""},
		{loose, "has mode 0644, open to others"},
		{link, "is a symbolic link; refusing it"},
		{fifo, "is not a regular file"},
		{filepath.Join(dir, "missing"), "no such file"},
	} {
		_, err := readPrivate(tc.path)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("readPrivate(%s): %v; want %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}

func TestWritePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	// A link planted at the temporary name is not followed.
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	os.Symlink(victim, path+".tmp-"+strconv.Itoa(os.Getpid()))
	if err := writePrivate(path, []byte("x")); err == nil {
		t.Error("writePrivate wrote through a planted link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the link's target was changed to %q", b)
	}
	os.Remove(path + ".tmp-" + strconv.Itoa(os.Getpid()))
	if err := writePrivate(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(path); !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want a regular file, 0600", fi.Mode())
	}
}

func TestRoot(t *testing.T) {
	x := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", x)
	if _, err := Root(false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Root(false) with no directory: %v", err)
	}
	root, err := Root(true)
	if err != nil || root != filepath.Join(x, "objgraph") {
		t.Fatalf("Root(true) = %q, %v", root, err)
	}
	if fi, _ := os.Lstat(root); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
	// Without XDG_RUNTIME_DIR, objgraph-UID in the temporary directory.
	tmp := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", tmp)
	if root, err := Root(true); err != nil || root != filepath.Join(tmp, "objgraph-"+strconv.Itoa(os.Geteuid())) {
		t.Errorf("Root(true) = %q, %v", root, err)
	}
	// A link planted there is refused, by Create and Find.
	tmp = t.TempDir()
	t.Setenv("TMPDIR", tmp)
	target := t.TempDir()
	os.Symlink(target, filepath.Join(tmp, "objgraph-"+strconv.Itoa(os.Geteuid())))
	if _, err := Create(); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Create through a link: %v", err)
	}
	var nr *NoRunError
	if _, _, err := Find(os.Getpid()); err == nil || errors.As(err, &nr) {
		t.Errorf("Find through a link: %v, want the refusal", err)
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("Create wrote into the link's target: %v", ents)
	}
}

func TestCreateFind(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	d, err := Create()
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(d.Path); fi.Mode().Perm() != 0o700 {
		t.Errorf("run directory mode %v, want 0700", fi.Mode().Perm())
	}
	var nr *NoRunError
	if _, _, err := Find(os.Getpid()); !errors.As(err, &nr) {
		t.Errorf("Find before run.json: %v, want a NoRunError", err)
	}
	r := Run{Wrapper: os.Getpid(), PID: 1 << 22, Command: "prog", Dir: "/snaps", Signal: "SIGUSR2"}
	if err := d.WriteRun(r); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Agent(); !errors.Is(err, ErrNoAgent) {
		t.Errorf("Agent before the agent wrote: %v", err)
	}
	a := Agent{PID: 1<<22 + 1, Dir: "/snaps", Signal: "SIGUSR2", Signum: int(syscall.SIGUSR2)}
	if err := writePrivate(filepath.Join(d.Path, agent.StateFile), []byte(`{"pid":4194305,"dir":"/snaps","signal":"SIGUSR2","signum":12}`)); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{r.Wrapper, r.PID, a.PID} {
		got, gr, err := Find(pid)
		if err != nil || got.Path != d.Path || gr != r {
			t.Errorf("Find(%d) = %v, %+v, %v", pid, got, gr, err)
		}
	}
	if ga, err := d.Agent(); err != nil || ga != a {
		t.Errorf("Agent() = %+v, %v; want %+v", ga, err, a)
	}
	if err := a.Check(); err == nil || !strings.Contains(err.Error(), "has exited") {
		t.Errorf("Check of a process that is not there: %v", err)
	}
	if _, _, err := Find(1<<22 + 2); !errors.As(err, &nr) {
		t.Errorf("Find(unknown) = %v, want a NoRunError", err)
	}
	// A run whose run.json is open to others is refused, and said so.
	os.Chmod(filepath.Join(d.Path, RunFile), 0o644)
	if _, _, err := Find(r.PID); !errors.As(err, &nr) || nr.Refused == nil || !strings.Contains(err.Error(), "open to others") {
		t.Errorf("Find with a loose run.json: %v", err)
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestCreateRemovesDeadRuns(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dead, err := Create()
	if err != nil {
		t.Fatal(err)
	}
	dead.WriteRun(Run{Wrapper: deadPID(t), PID: 1})
	alive, _ := Create()
	alive.WriteRun(Run{Wrapper: os.Getpid(), PID: 1})
	starting, _ := Create()  // no run.json yet
	abandoned, _ := Create() // no run.json, long ago
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(abandoned.Path, old, old)
	if _, err := Create(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Dir{dead, abandoned} {
		if _, err := os.Stat(d.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the directory of a run that has ended is still there: %s", d.Path)
		}
	}
	for _, d := range []*Dir{alive, starting} {
		if _, err := os.Stat(d.Path); err != nil {
			t.Errorf("a live run's directory was removed: %v", err)
		}
	}
}

func TestSnapshotSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		want string // in the error
	}{
		{"SIGUSR2", "SIGUSR2", ""},
		{"usr1", "SIGUSR1", ""},
		{" sighup ", "SIGHUP", ""},
		{"10", "SIGUSR1", ""},
		{"SIGPOLL", "SIGIO", ""},
		{"none", "NONE", ""},
		{"None", "NONE", ""},
		{"SIGFOO", "", `unknown signal "SIGFOO"`},
		{"", "", `unknown signal ""`},
		{"SIGKILL", "", "SIGKILL cannot take snapshots: it cannot be caught"},
		{"stop", "", "SIGSTOP cannot take snapshots"},
		{"SIGSEGV", "", "reports a fault"},
		{"SIGBUS", "", "reports a fault"},
		{"SIGIOT", "", "SIGABRT cannot take snapshots"},
		{"SIGCHLD", "", "whenever a child process ends"},
		{"SIGTSTP", "", "job control"},
		{"SIGURG", "", "Go runtime"},
		{"9", "", "SIGKILL cannot take snapshots"},
		{"99", "", `unknown signal "99"`},
	} {
		name, _, err := SnapshotSignal(tc.in)
		if name != tc.name || tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("SnapshotSignal(%q) = %q, %v; want %q, %q", tc.in, name, err, tc.name, tc.want)
		}
	}
}

func TestAgentlessFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"python3", "app.py", "-I"}, ""},
		{[]string{"python3", "-I", "app.py"}, "-I"},
		{[]string{"python3", "-u", "-E", "app.py"}, "-E"},
		{[]string{"python3", "-uS", "app.py"}, "-S"},
		{[]string{"python3", "-W", "ignore", "-X", "importtime", "app.py"}, ""},
		{[]string{"python3", "-WIgnore", "-I", "app.py"}, "-I"},
		{[]string{"python3", "-c", "-I"}, ""},
		{[]string{"python3", "-m", "http.server"}, ""},
		{[]string{"python3", "--", "-I"}, ""},
	} {
		if got := agentlessFlag(tc.args); got != tc.want {
			t.Errorf("agentlessFlag(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
