// Package runstate keeps what 'objgraph run', the capture agent inside the
// program and 'objgraph snapshot' tell one another: one private directory per
// run, holding run.json (written by objgraph run: its pid, the program's pid,
// the snapshot directory and signal) and agent.json (written by the agent once
// its signal handler is installed: the pid to signal).
//
// The runs' directories live in a directory of the user's own:
// $XDG_RUNTIME_DIR/objgraph when XDG_RUNTIME_DIR is set, else
// os.TempDir()/objgraph-UID. Every directory must be a real directory (not a
// link), owned by the user and closed to everyone else (mode 0700); every
// file a regular file, not a link, owned by the user, mode 0600. State that
// is not so is refused, never followed or repaired: in a shared /tmp it may
// have been planted by someone else.
package runstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/proc"
)

// RunFile is the name of the file objgraph run writes in a run's directory.
const RunFile = "run.json"

// NoRunError is returned by Find when no run has the pid.
type NoRunError struct {
	Refused error // why some run's files were not read, or nil
}

func (e *NoRunError) Error() string {
	if e.Refused != nil {
		return "no run has this process (" + e.Refused.Error() + ")"
	}
	return "no run has this process"
}

// ErrNoAgent is returned by Dir.Agent when no agent has published its pid.
var ErrNoAgent = errors.New("no capture agent has started")

// Run is what objgraph run records about a program it started.
type Run struct {
	Wrapper int    `json:"wrapper"` // pid of objgraph run itself
	PID     int    `json:"pid"`     // pid of the program it started
	Command string `json:"command"` // the program, as given
	Dir     string `json:"dir"`     // snapshot directory
	Signal  string `json:"signal"`  // snapshot signal, e.g. SIGUSR2, or NONE
}

// Agent is what the capture agent publishes (agent.StateFile) once its
// signal handler is in place.
type Agent struct {
	PID    int    `json:"pid"`    // the Python process that installed the agent
	Dir    string `json:"dir"`    // where it writes snapshots
	Signal string `json:"signal"` // its snapshot signal, e.g. SIGUSR2
	Signum int    `json:"signum"` // the same, as a number
	Start  uint64 `json:"start"`  // its start time (proc.StartTime); 0 if unknown
}

// Check reports an error when the agent's process is not there any more, or
// no longer catches its signal (so that the signal would kill it).
func (a Agent) Check() error {
	if !proc.Alive(a.PID) {
		return fmt.Errorf("the Python process %d that ran the capture agent has exited", a.PID)
	}
	if start, ok := proc.StartTime(a.PID); ok && a.Start != 0 && start != a.Start {
		return fmt.Errorf("the Python process %d that ran the capture agent has exited (another process has its pid now)", a.PID)
	}
	if caught, ok := proc.Catches(a.PID, syscall.Signal(a.Signum)); ok && !caught {
		return fmt.Errorf("Python process %d no longer handles %s (the program replaced the agent's handler); sending it could end the process", a.PID, a.Signal)
	}
	return nil
}

// Root returns the directory the runs' directories are in, after checking
// that it is private; with create, it makes it when missing.
func Root(create bool) (string, error) {
	var root string
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) {
		root = filepath.Join(x, "objgraph")
	} else {
		root = filepath.Join(os.TempDir(), "objgraph-"+strconv.Itoa(os.Geteuid()))
	}
	if create {
		if err := os.Mkdir(root, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("state directory: %w", err)
		}
	}
	fi, err := os.Lstat(root)
	if err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	if err := checkDir(root, fi, os.Geteuid()); err != nil {
		return "", err
	}
	return root, nil
}

// checkDir reports an error unless fi, of path, is a directory owned by uid
// that nobody else may enter.
func checkDir(path string, fi fs.FileInfo, uid int) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("state directory %s is a symbolic link; refusing it (remove it)", path)
	case !fi.IsDir():
		return fmt.Errorf("state directory %s is not a directory; refusing it (remove it)", path)
	}
	return checkOwner(path, fi, uid, "state directory")
}

func checkOwner(path string, fi fs.FileInfo, uid int, what string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s %s: cannot tell its owner", what, path)
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("%s %s belongs to uid %d, not to you (uid %d); refusing it (remove it, or set XDG_RUNTIME_DIR)", what, path, st.Uid, uid)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("%s %s has mode %04o, open to others; refusing it (remove it, or chmod go= it)", what, path, m)
	}
	return nil
}

// Dir is one run's directory.
type Dir struct {
	Path string
}

// Create makes a new run directory under Root, after removing those of runs
// whose objgraph run is gone (killed, so that it could not remove its own),
// and those that got no run.json and are over an hour old.
func Create() (*Dir, error) {
	root, err := Root(true)
	if err != nil {
		return nil, err
	}
	for _, d := range list(root) {
		r, err := d.Run()
		switch {
		case err == nil && !proc.Alive(r.Wrapper):
			d.Remove()
		case errors.Is(err, fs.ErrNotExist):
			if fi, err := os.Lstat(d.Path); err == nil && time.Since(fi.ModTime()) > time.Hour {
				d.Remove()
			}
		}
	}
	path, err := os.MkdirTemp(root, "run-")
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &Dir{Path: path}, nil
}

// list returns the run directories under root that pass the checks.
func list(root string) []*Dir {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []*Dir
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "run-") {
			continue
		}
		path := filepath.Join(root, e.Name())
		if fi, err := os.Lstat(path); err == nil && checkDir(path, fi, os.Geteuid()) == nil {
			out = append(out, &Dir{Path: path})
		}
	}
	return out
}

// Remove removes the directory and everything in it.
func (d *Dir) Remove() error { return os.RemoveAll(d.Path) }

// WriteRun writes run.json.
func (d *Dir) WriteRun(r Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writePrivate(filepath.Join(d.Path, RunFile), b)
}

// Run reads run.json.
func (d *Dir) Run() (Run, error) {
	var r Run
	err := readJSON(filepath.Join(d.Path, RunFile), &r)
	return r, err
}

// Agent reads what the capture agent published; ErrNoAgent when it has
// not.
func (d *Dir) Agent() (Agent, error) {
	var a Agent
	err := readJSON(filepath.Join(d.Path, agent.StateFile), &a)
	if errors.Is(err, fs.ErrNotExist) {
		return a, ErrNoAgent
	}
	if err == nil && a.PID <= 0 {
		err = fmt.Errorf("%s: no pid", filepath.Join(d.Path, agent.StateFile))
	}
	return a, err
}

// Find returns the run in which pid is objgraph run, the program it
// started, or the Python process that published the agent; a *NoRunError
// when there is none.
// It returns an error, and looks no further, when the state directory fails
// the checks.
func Find(pid int) (*Dir, Run, error) {
	root, err := Root(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Run{}, &NoRunError{}
	}
	if err != nil {
		return nil, Run{}, err
	}
	var refused error // a run directory whose files fail the checks
	for _, d := range list(root) {
		r, err := d.Run()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && refused == nil { // not a run starting up
				refused = err
			}
			continue
		}
		if r.Wrapper == pid || r.PID == pid {
			return d, r, nil
		}
		if a, err := d.Agent(); err == nil && a.PID == pid {
			return d, r, nil
		}
	}
	return nil, Run{}, &NoRunError{Refused: refused}
}

// writePrivate creates path, mode 0600, through a new file next to it that
// is created exclusively and without following links, then renamed into
// place.
func writePrivate(path string, b []byte) (err error) {
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// readPrivate reads path, which must be a regular file of the user's, mode
// 0600 or stricter, and not a link.
func readPrivate(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("state file %s is a symbolic link; refusing it", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("state file %s is not a regular file; refusing it", path)
	}
	if err := checkOwner(path, fi, os.Geteuid(), "state file"); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, 1<<16))
}

func readJSON(path string, v any) error {
	b, err := readPrivate(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
