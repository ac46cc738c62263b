package runstate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// snapshotSignals are the signals a snapshot may be asked for by: those a
// Python handler can catch and return from, that nothing but a user sends
// to a running program.
var snapshotSignals = []syscall.Signal{
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
	syscall.SIGALRM, syscall.SIGWINCH, syscall.SIGPROF, syscall.SIGVTALRM, syscall.SIGIO,
}

// refusedSignals are the other signals Python knows, with why a snapshot
// may not be asked for by them.
var refusedSignals = map[syscall.Signal]string{
	syscall.SIGKILL: "cannot be caught",
	syscall.SIGSTOP: "cannot be caught",
	syscall.SIGSEGV: "reports a fault, which a handler cannot return from",
	syscall.SIGBUS:  "reports a fault, which a handler cannot return from",
	syscall.SIGFPE:  "reports a fault, which a handler cannot return from",
	syscall.SIGILL:  "reports a fault, which a handler cannot return from",
	syscall.SIGABRT: "is how a process aborts",
	syscall.SIGTRAP: "belongs to debuggers",
	syscall.SIGSYS:  "reports a bad system call",
	syscall.SIGCHLD: "is sent whenever a child process ends",
	syscall.SIGPIPE: "is ignored by Python, which reports broken pipes as errors",
	syscall.SIGCONT: "belongs to job control",
	syscall.SIGTSTP: "belongs to job control",
	syscall.SIGTTIN: "belongs to job control",
	syscall.SIGTTOU: "belongs to job control",
	syscall.SIGXCPU: "reports an exceeded resource limit",
	syscall.SIGXFSZ: "reports an exceeded resource limit",
	syscall.SIGURG:  "is sent for out-of-band socket data, and by the Go runtime to itself",
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
	syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
	syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGCHLD: "SIGCHLD",
	syscall.SIGCONT: "SIGCONT", syscall.SIGSTOP: "SIGSTOP", syscall.SIGTSTP: "SIGTSTP", syscall.SIGTTIN: "SIGTTIN",
	syscall.SIGTTOU: "SIGTTOU", syscall.SIGURG: "SIGURG", syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ",
	syscall.SIGVTALRM: "SIGVTALRM", syscall.SIGPROF: "SIGPROF", syscall.SIGWINCH: "SIGWINCH", syscall.SIGIO: "SIGIO",
	syscall.SIGSYS: "SIGSYS",
}

// aliases are other names Python has for some signals.
var aliases = map[string]syscall.Signal{"SIGIOT": syscall.SIGABRT, "SIGCLD": syscall.SIGCHLD, "SIGPOLL": syscall.SIGIO}

// SnapshotSignal returns the signal a snapshot is to be taken on and its
// name, from a name such as SIGUSR2 or usr2, or a number; "none" (in any
// case) returns "NONE" and 0. The error says which are accepted.
func SnapshotSignal(name string) (string, syscall.Signal, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "NONE" {
		return "NONE", 0, nil
	}
	sig, known := syscall.Signal(0), false
	if num, err := strconv.Atoi(n); err == nil {
		sig, known = syscall.Signal(num), true
	} else {
		if !strings.HasPrefix(n, "SIG") {
			n = "SIG" + n
		}
		if sig, known = aliases[n]; !known {
			for s, sn := range signalNames {
				if sn == n {
					sig, known = s, true
				}
			}
		}
	}
	switch {
	case known && IsSnapshotSignal(sig):
		return SignalName(sig), sig, nil
	case known && refusedSignals[sig] != "":
		return "", 0, fmt.Errorf("%s cannot take snapshots: it %s; use one of %s, or none", SignalName(sig), refusedSignals[sig], signalList())
	}
	return "", 0, fmt.Errorf("unknown signal %q; use one of %s, or none", name, signalList())
}

// IsSnapshotSignal reports whether sig is one SnapshotSignal accepts.
func IsSnapshotSignal(sig syscall.Signal) bool { return slices.Contains(snapshotSignals, sig) }

func signalList() string {
	names := make([]string, len(snapshotSignals))
	for i, s := range snapshotSignals {
		names[i] = SignalName(s)
	}
	return strings.Join(names, ", ")
}

// SignalName returns the conventional name of sig, e.g. SIGTERM, or
// "signal N".
func SignalName(sig syscall.Signal) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return "signal " + strconv.Itoa(int(sig))
}
