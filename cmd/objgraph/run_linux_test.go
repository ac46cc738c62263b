package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

// openPTY returns a new pseudo-terminal's two ends.
func openPTY(t *testing.T) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminals: %v", err)
	}
	var unlock int32
	var n uint32
	if err := ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		testenv.Missing(t, "no pseudo-terminals: %v", err)
	}
	if err := ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		testenv.Missing(t, "no pseudo-terminals: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestRunTerminalSignals: ^C, ^\ and a window resize at the terminal reach
// the program once: the terminal signals it directly, and objgraph run,
// which gets them too, does not pass them on a second time.
func TestRunTerminalSignals(t *testing.T) {
	py := needPython3(t)
	root := isolate(t)
	master, term := openPTY(t)
	dir := t.TempDir()
	got, ready := filepath.Join(dir, "got"), filepath.Join(dir, "ready")
	p := startRunWith(t, func(cmd *exec.Cmd) {
		cmd.Stdin = term // the terminal, as fd 0, becomes the session's
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = 0
	}, "-o", dir, "--signal", "none", "--", py, "-c", recorder, "SIGINT,SIGQUIT,SIGWINCH", got, ready, "0.5")
	waitFor(t, "the program's handlers", func() bool { _, err := os.Stat(ready); return err == nil })
	for _, k := range []struct {
		name string
		do   func() error
	}{
		{"SIGINT", func() error { _, err := master.Write([]byte{3}); return err }},   // ^C
		{"SIGQUIT", func() error { _, err := master.Write([]byte{28}); return err }}, // ^\
		{"SIGWINCH", func() error {
			ws := [4]uint16{40, 100, 0, 0}
			return ioctl(master, syscall.TIOCSWINSZ, unsafe.Pointer(&ws))
		}},
	} {
		if err := k.do(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, k.name+" to reach the program", func() bool {
			b, _ := os.ReadFile(got)
			return strings.Contains(string(b), k.name+"\n")
		})
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("objgraph run exited %d, stderr %s", code, p.stderr())
	}
	if b, _ := os.ReadFile(got); string(b) != "SIGINT\nSIGQUIT\nSIGWINCH\n" {
		t.Errorf("the program got\n%s\nwant SIGINT, SIGQUIT and SIGWINCH once each", b)
	}
	noRunsLeft(t, root)
}
