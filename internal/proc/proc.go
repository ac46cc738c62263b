// Package proc answers questions about other processes of this user: whether
// one is alive, when it started, which signals it catches, which processes
// descend from it, and whether a terminal's signals reach it.
//
// Everything but Alive reads /proc and reports "don't know" where there is
// none (ok false, or an error).
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Alive reports whether process pid exists (it may belong to another user).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// stat is what /proc/PID/stat says about a process.
type stat struct {
	comm  string // executable name, at most 15 bytes
	state byte   // R, S, D, Z, T, ...
	ppid  int
	pgrp  int
	start uint64 // clock ticks after boot
}

func readStat(pid int) (stat, error) {
	return readStatFile(fmt.Sprintf("/proc/%d/stat", pid))
}

// readStatFile reads a stat file: a process's, or a thread's
// (/proc/PID/task/TID/stat).
func readStatFile(path string) (stat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return stat{}, err
	}
	// pid (comm) state ppid pgrp ... with comm possibly holding ") ".
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || close < open {
		return stat{}, fmt.Errorf("%s: unexpected format", path)
	}
	f := strings.Fields(string(b[close+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return stat{}, fmt.Errorf("%s: unexpected format", path)
	}
	s := stat{comm: string(b[open+1 : close]), state: f[0][0]}
	s.ppid, _ = strconv.Atoi(f[1])
	s.pgrp, _ = strconv.Atoi(f[2])
	s.start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("%s: start time: %w", path, err)
	}
	return s, nil
}

// StartTime returns when process pid started, in clock ticks after boot, as
// field 22 of /proc/PID/stat has it (the capture agent publishes its own the
// same way). ok is false when it cannot be read.
func StartTime(pid int) (ticks uint64, ok bool) {
	s, err := readStat(pid)
	return s.start, err == nil
}

// Parent returns the parent of process pid and its state (R, S, Z, ...);
// ok is false when it cannot be read.
func Parent(pid int) (ppid int, state byte, ok bool) {
	s, err := readStat(pid)
	return s.ppid, s.state, err == nil
}

// ThreadState returns the state of thread tid of process pid (R, S, D,
// t, ...); ok is false when it cannot be read.
func ThreadState(pid, tid int) (state byte, ok bool) {
	s, err := readStatFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	return s.state, err == nil
}

// Catches reports whether process pid has a handler for signal sig (not the
// default action, not ignored). ok is false when it cannot tell.
func Catches(pid int, sig syscall.Signal) (caught, ok bool) {
	st, ok := ReadStatus(pid, 0)
	if !ok {
		return false, false
	}
	return st.Has("SigCgt", sig)
}

// Status is a status file's fields by name ("TracerPid", "SigCgt", ...),
// their values without surrounding spaces.
type Status map[string]string

// ReadStatus reads the status file of thread tid of process pid, or of the
// process itself when tid is 0; ok is false when it cannot be read.
func ReadStatus(pid, tid int) (st Status, ok bool) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	if tid != 0 {
		path = fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	st = Status{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, found := strings.Cut(line, ":"); found {
			st[k] = strings.TrimSpace(v)
		}
	}
	return st, true
}

// Has reports whether sig is in the signal set named key ("SigCgt":
// caught, "SigBlk": blocked, "SigIgn": ignored); ok is false when there is
// no such set or it cannot be read.
func (st Status) Has(key string, sig syscall.Signal) (in, ok bool) {
	v, found := st[key]
	if !found || sig < 1 || sig > 64 {
		return false, false
	}
	mask, err := strconv.ParseUint(v, 16, 64)
	if err != nil {
		return false, false
	}
	return mask&(1<<(uint(sig)-1)) != 0, true
}

// Int returns the number in the field named key, 0 when there is none.
func (st Status) Int(key string) int {
	n, _ := strconv.Atoi(st[key])
	return n
}

// Process is a process found under another.
type Process struct {
	PID   int
	Name  string   // base name of the executable, or the kernel's short name
	Args  []string // command line
	Depth int      // 0 for the process asked about, 1 for its children, ...
}

// Tree returns process pid and its descendants, parents before children.
func Tree(pid int) ([]Process, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	found := false
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, err := readStat(p)
		if err != nil {
			continue // gone meanwhile
		}
		if p == pid {
			found = true
		}
		children[s.ppid] = append(children[s.ppid], p)
	}
	if !found {
		return nil, fmt.Errorf("no process %d", pid)
	}
	var out []Process
	type item struct{ pid, depth int }
	queue := []item{{pid, 0}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		out = append(out, describe(it.pid, it.depth))
		for _, c := range children[it.pid] {
			queue = append(queue, item{c, it.depth + 1})
		}
	}
	return out, nil
}

func describe(pid, depth int) Process {
	p := Process{PID: pid, Depth: depth}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		p.Args = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil {
		p.Name = filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
	} else if s, err := readStat(pid); err == nil {
		p.Name = s.comm
	}
	return p
}

// IsPython reports whether the process runs a Python interpreter (CPython
// or PyPy), by the name of its executable.
func (p Process) IsPython() bool {
	return strings.HasPrefix(p.Name, "python") || strings.HasPrefix(p.Name, "pypy")
}

// Environ returns the environment process pid started with.
func Environ(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), nil
}
