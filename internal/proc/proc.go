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
	ppid  int
	pgrp  int
	start uint64 // clock ticks after boot
}

func readStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	// pid (comm) state ppid pgrp ... with comm possibly holding ") ".
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || close < open {
		return stat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[close+1:]))
	if len(f) < 20 {
		return stat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	s := stat{comm: string(b[open+1 : close])}
	s.ppid, _ = strconv.Atoi(f[1])
	s.pgrp, _ = strconv.Atoi(f[2])
	s.start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
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

// Catches reports whether process pid has a handler for signal sig (not the
// default action, not ignored). ok is false when it cannot tell.
func Catches(pid int, sig syscall.Signal) (caught, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		hex, found := strings.CutPrefix(line, "SigCgt:")
		if !found {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil || sig < 1 || sig > 64 {
			return false, false
		}
		return mask&(1<<(uint(sig)-1)) != 0, true
	}
	return false, false
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
