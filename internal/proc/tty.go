package proc

import (
	"os"
	"syscall"
	"unsafe"
)

// Terminal is this process's controlling terminal, if it has one.
type Terminal struct{ f *os.File }

// OpenTerminal opens the controlling terminal; it returns nil when there is
// none.
func OpenTerminal() *Terminal {
	f, err := os.OpenFile("/dev/tty", os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	return &Terminal{f}
}

// Close closes the terminal; it may be called on nil.
func (t *Terminal) Close() {
	if t != nil {
		t.f.Close()
	}
}

// Signals reports whether the keyboard signals of the terminal (SIGINT on
// ^C, SIGQUIT on ^\, and SIGWINCH on a resize) reach both this process and
// process pid: when both are in the terminal's foreground process group,
// which the terminal signals as a whole. It may be called on nil.
func (t *Terminal) Signals(pid int) bool {
	if t == nil {
		return false
	}
	var fg int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, t.f.Fd(), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&fg))); e != 0 {
		return false
	}
	child, err := syscall.Getpgid(pid)
	return err == nil && int(fg) == syscall.Getpgrp() && child == syscall.Getpgrp()
}
