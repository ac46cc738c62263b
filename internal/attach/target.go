package attach

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Target is what attaching needs to know about a process, read from /proc.
type Target struct {
	PID          int
	Exe          string            // the executable, as the process's mount namespace names it
	Minor        int               // Python 3.Minor
	FreeThreaded bool              // a free-threaded build (python3.13t)
	UID, GID     int               // the process's effective user and group
	Libs         []Lib             // libpython and libc, where the process has them
	Symbols      map[string]uint64 // the addresses of the functions gdb calls, those found
}

// Lib is a shared library mapped into the process.
type Lib struct {
	Path string `json:"path"` // its file, from here (through /proc/PID/root)
	Base uint64 `json:"base"` // the address its first byte is mapped at
}

// Python reports the version as "3.N".
func (t Target) Python() string { return "3." + strconv.Itoa(t.Minor) }

// MinMinor and MaxTestedMinor bound the CPython 3 versions attaching is for:
// the agent needs 3.8, and 3.13 is the newest tested.
const (
	MinMinor       = 8
	MaxTestedMinor = 13
)

var (
	libPython = regexp.MustCompile(`/libpython3\.(\d+)(t?)[a-z]*\.so`)
	exePython = regexp.MustCompile(`^python3\.(\d+)(t?)[a-z]*$`)
)

// Inspect reads what process pid is: its owner, and the Python it runs. The
// errors name the cause and the fix.
func Inspect(pid int) (Target, error) {
	t := Target{PID: pid}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return t, fmt.Errorf("no process %d", pid)
	}
	if err != nil {
		return t, fmt.Errorf("process %d: %w", pid, err)
	}
	t.UID, t.GID = -1, -1
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(v); len(f) > 1 {
				t.UID, _ = strconv.Atoi(f[1])
			}
		}
		if v, ok := strings.CutPrefix(line, "Gid:"); ok {
			if f := strings.Fields(v); len(f) > 1 {
				t.GID, _ = strconv.Atoi(f[1])
			}
		}
	}
	if t.UID < 0 || t.GID < 0 {
		return t, fmt.Errorf("process %d: no owner in /proc/%d/status", pid, pid)
	}
	if err := checkPtrace(t); err != nil {
		return t, err
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return t, fmt.Errorf("process %d: reading its executable: %w (%s)", pid, err, ptraceHint(t))
	}
	t.Exe = strings.TrimSuffix(exe, " (deleted)")
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return t, fmt.Errorf("process %d: reading its memory map: %w (%s)", pid, err, ptraceHint(t))
	}
	t.Libs = libs(pid, string(maps))
	t.Symbols = resolve(pid, t.Exe, string(maps))
	var ok bool
	if t.Minor, t.FreeThreaded, ok = pythonOf(t.Exe, string(maps)); !ok {
		return t, fmt.Errorf("process %d (%s) is not a Python process: its executable is not named python3.N and it has no libpython3.N loaded", pid, t.Exe)
	}
	switch {
	case t.FreeThreaded:
		return t, fmt.Errorf("process %d runs a free-threaded build of Python %s (%s), which attaching does not support; start it with objgraph run, or call objgraph_agent.snapshot() in it", pid, t.Python(), t.Exe)
	case t.Minor < MinMinor:
		return t, fmt.Errorf("process %d runs Python %s; the capture agent needs Python 3.%d or later", pid, t.Python(), MinMinor)
	}
	return t, nil
}

// pythonOf tells the Python 3 version a process runs from its executable
// and its memory map: libpython3.N[t].so when it is loaded, else the
// executable's name, python3.N[t].
func pythonOf(exe, maps string) (minor int, freeThreaded, ok bool) {
	m := libPython.FindStringSubmatch(maps)
	if m == nil {
		m = exePython.FindStringSubmatch(filepath.Base(exe))
	}
	if m == nil {
		return 0, false, false
	}
	minor, _ = strconv.Atoi(m[1])
	return minor, m[2] == "t", true
}

var libC = regexp.MustCompile(`/libc(\.so\.6|-[0-9.]+\.so)$`)

// libs returns the mappings at offset 0 of libpython and libc in maps.
func libs(pid int, maps string) []Lib {
	var out []Lib
	seen := map[string]bool{}
	for _, line := range strings.Split(maps, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[2] != "00000000" && strings.Trim(f[2], "0") != "" {
			continue
		}
		path := strings.Join(f[5:], " ")
		if seen[path] || !libPython.MatchString(path) && !libC.MatchString(path) {
			continue
		}
		start, _, _ := strings.Cut(f[0], "-")
		base, err := strconv.ParseUint(start, 16, 64)
		if err != nil {
			continue
		}
		seen[path] = true
		out = append(out, Lib{Path: fmt.Sprintf("/proc/%d/root%s", pid, path), Base: base})
	}
	return out
}

// capSysPtrace is CAP_SYS_PTRACE's bit in the capability sets.
const capSysPtrace = 19

// hasCapPtrace reports whether this process has CAP_SYS_PTRACE in its
// effective set.
func hasCapPtrace() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<capSysPtrace) != 0
		}
	}
	return false
}

// yamaScope returns kernel.yama.ptrace_scope, or -1 without Yama.
func yamaScope() int {
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// checkPtrace refuses, before anything is done to the process, what the
// kernel is sure to refuse.
func checkPtrace(t Target) error {
	capOK := hasCapPtrace()
	switch scope := yamaScope(); {
	case scope >= 3:
		return fmt.Errorf("cannot attach to process %d: ptrace is disabled on this machine (kernel.yama.ptrace_scope = 3, which only a reboot undoes); start the program with objgraph run instead", t.PID)
	case scope == 2 && !capOK:
		return fmt.Errorf("cannot attach to process %d: kernel.yama.ptrace_scope = 2 lets only CAP_SYS_PTRACE attach; run objgraph as root (sudo)", t.PID)
	}
	if euid := os.Geteuid(); euid != t.UID && !capOK {
		return fmt.Errorf("cannot attach to process %d: it belongs to uid %d and you are uid %d without CAP_SYS_PTRACE; run objgraph as that user or as root (sudo)", t.PID, t.UID, euid)
	}
	return nil
}

// ptraceHint says why the kernel may refuse ptrace here, and the fix.
func ptraceHint(t Target) string {
	capOK := hasCapPtrace()
	switch scope := yamaScope(); {
	case scope == 1 && !capOK:
		return "kernel.yama.ptrace_scope = 1 lets only a parent attach to its children: run objgraph as root (sudo), or allow it with sysctl kernel.yama.ptrace_scope=0"
	case !capOK && os.Geteuid() == 0:
		return "objgraph runs as root without CAP_SYS_PTRACE, as in a container started without it: start the container with --cap-add=SYS_PTRACE"
	case !capOK:
		return "the process may have made itself non-dumpable (prctl PR_SET_DUMPABLE 0, or a setuid program): run objgraph as root (sudo)"
	default:
		return "ptrace is refused although objgraph has CAP_SYS_PTRACE: a seccomp profile (a container's) or a security module forbids it; allow ptrace there (docker: --cap-add=SYS_PTRACE --security-opt seccomp=unconfined)"
	}
}
