package proc

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	if Alive(cmd.Process.Pid) || Alive(0) || Alive(-1) {
		t.Error("a process that has ended, or no process, is alive")
	}
}

func TestStartTimeAndCatches(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		testenv.Missing(t, "no /proc")
	}
	a, ok := StartTime(os.Getpid())
	if !ok || a == 0 {
		t.Fatalf("StartTime(self) = %d, %v", a, ok)
	}
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	defer cmd.Process.Kill()
	time.Sleep(50 * time.Millisecond)
	if b, ok := StartTime(cmd.Process.Pid); !ok || b < a {
		t.Errorf("StartTime(child) = %d, %v; started before this process (%d)", b, ok, a)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	if caught, ok := Catches(os.Getpid(), syscall.SIGUSR1); !ok || !caught {
		t.Errorf("Catches(self, SIGUSR1) = %v, %v", caught, ok)
	}
	if caught, ok := Catches(cmd.Process.Pid, syscall.SIGUSR1); !ok || caught {
		t.Errorf("Catches(sleep, SIGUSR1) = %v, %v", caught, ok)
	}
}

func TestTree(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		testenv.Missing(t, "no /proc")
	}
	cmd := exec.Command("sh", "-c", "sleep 5; exit 0")
	if err := cmd.Start(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	defer cmd.Process.Kill()
	var tree []Process
	for range 100 {
		tree, _ = Tree(cmd.Process.Pid)
		if len(tree) == 2 && tree[1].Name == "sleep" {
			break // (the shell's child is a copy of the shell until it has run exec)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(tree) != 2 || tree[0].PID != cmd.Process.Pid || tree[1].Name != "sleep" || tree[1].Depth != 1 || tree[1].Args[1] != "5" {
		t.Errorf("Tree(sh) = %+v", tree)
	}
	if tree[1].IsPython() || !(Process{Name: "python3.12"}).IsPython() {
		t.Error("IsPython is wrong")
	}
}

func TestStatusAndState(t *testing.T) {
	pid := os.Getpid()
	st, ok := ReadStatus(pid, 0)
	if !ok || st.Int("Tgid") != pid {
		t.Fatalf("ReadStatus(%d, 0) = %v, %v; want Tgid %d", pid, st, ok, pid)
	}
	thread, ok := ReadStatus(pid, pid)
	if !ok || thread.Int("Pid") != pid {
		t.Errorf("ReadStatus(%d, %d): Pid %q, %v", pid, pid, thread["Pid"], ok)
	}
	// SIGSEGV is caught by the Go runtime, and not blocked
	if in, ok := st.Has("SigCgt", syscall.SIGSEGV); !ok || !in {
		t.Errorf("SigCgt has SIGSEGV: %v, %v; want true, true", in, ok)
	}
	if in, ok := st.Has("SigBlk", syscall.SIGSEGV); !ok || in {
		t.Errorf("SigBlk has SIGSEGV: %v, %v; want false, true", in, ok)
	}
	if _, ok := st.Has("NoSuchSet", syscall.SIGSEGV); ok {
		t.Error("a signal set that is not there was read")
	}
	if ppid, state, ok := Parent(pid); !ok || ppid != os.Getppid() || state == 'Z' {
		t.Errorf("Parent(%d) = %d, %c, %v; want %d", pid, ppid, state, ok, os.Getppid())
	}
	if state, ok := ThreadState(pid, pid); !ok || state == 0 || state == 'Z' {
		t.Errorf("ThreadState(%d, %d) = %q, %v", pid, pid, state, ok)
	}
	if _, ok := ReadStatus(1<<30, 0); ok {
		t.Error("ReadStatus of a process that cannot exist succeeded")
	}
}
