//go:build !(linux && amd64)

package attach

import (
	"errors"
	"time"
)

// ptraceAvailable says whether this build has the ptrace injector: it is
// written for x86-64 Linux only, and gdb injects elsewhere.
const ptraceAvailable = false

func injectPtrace(t Target, loaderText string, deadline time.Time, progress func(string, ...any), hook func(tid int)) (*report, error) {
	return nil, errors.New("the ptrace injector is available on x86-64 Linux only; use --injector gdb")
}

// ptraceError is a failure of the ptrace injector with its cause.
type ptraceError struct {
	cause string
	msg   string
}

func (e *ptraceError) Error() string { return e.msg }
