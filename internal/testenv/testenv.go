// Package testenv holds what the project's tests share about the machine
// they run on.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Missing reports that something a test needs is not on this machine.
// Under CI (CI=true), where .ci/run installs everything the tests need, the
// test fails; elsewhere it is skipped.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// LookPath returns the path of the program name, or reports it Missing
// with need, what needs it or how to install it.
func LookPath(t testing.TB, name, need string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s is not installed: %s", name, need)
	}
	return p
}
