package main

// Tests of objgraph push and objgraph run --push against a real Pyroscope
// server (internal/pyroscope/pyroscopetest).

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/pyroscope/pyroscopetest"
)

func TestPushUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{cacheLeak3}, "name the server with --pyroscope URL"},
		{[]string{"--pyroscope", "http://127.0.0.1:4040"}, "missing SNAPSHOT"},
		{[]string{"--pyroscope", "localhost:4040", cacheLeak3}, "want http://HOST:PORT"},
		{[]string{"--pyroscope", "http://127.0.0.1:4040", "--label", "env", cacheLeak3}, `label "env": want KEY=VALUE`},
		{[]string{"--pyroscope", "http://127.0.0.1:4040", "--label", "my-env=x", cacheLeak3}, `character '-' at byte 2`},
		{[]string{"--pyroscope", "http://127.0.0.1:4040", "--service", "my app", cacheLeak3}, `character ' ' at byte 2`},
		{[]string{"--pyroscope", "http://127.0.0.1:4040", "--max-samples", "0", cacheLeak3}, "--max-samples must be 1 or more"},
	} {
		_, errOut, code := runCLI(append([]string{"push"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("push %q: exit %d, stderr %q; want exit 2 saying %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestPushUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	out, errOut, code := runCLI("push", "--pyroscope", "http://"+addr, "--json", cacheLeak1, cacheLeak3)
	if code != exitFail {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
	}
	for _, want := range []string{cacheLeak1 + ": not pushed: no answer from the Pyroscope server at http://" + addr, "connection refused", "the other 1 snapshot(s) not pushed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not say %q", errOut, want)
		}
	}
	var res []pushed
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 2 || res[0].Error == "" || res[1].Error == "" {
		t.Errorf("--json: %v, %q", err, out)
	}
}

func TestPush(t *testing.T) {
	s := pyroscopetest.Start(t)

	// An old snapshot: said so, not pushed.
	_, errOut, code := runCLI("push", "--pyroscope", s.URL, oldSnapshot(t))
	if code != exitFail || !strings.Contains(errOut, "outside the server's ingestion window") || !strings.Contains(errOut, "--now pushes it stamped with the present time") {
		t.Fatalf("an old snapshot: exit %d, stderr %q", code, errOut)
	}

	// With --now: stored, with the snapshot's labels and totals.
	out, errOut, code := runCLI("push", "--pyroscope", s.URL, "--now", "--service", "leaky", "--label", "env=ci", "--json", cacheLeak1, cacheLeak3)
	if code != 0 {
		t.Fatalf("--now: exit %d, stderr %s", code, errOut)
	}
	var res []pushed
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 2 {
		t.Fatalf("--json: %v, %q", err, out)
	}
	r := res[1]
	h3, err := heap.ReadFile(cacheLeak3)
	if err != nil {
		t.Fatal(err)
	}
	m := h3.Meta()
	wantName := fmt.Sprintf("leaky{env=ci,host=%s,pid=%d,python_version=%s}", m.Host, m.PID, m.Version)
	if r.Snapshot != cacheLeak3 || r.Name != wantName || !r.StampedNow ||
		r.SnapshotTime == nil || r.SnapshotTime.Year() != 2026 || r.Time == nil || time.Since(*r.Time) > time.Minute {
		t.Errorf("reported %+v", r)
	}
	// The snapshot's totals: every object and its size.
	var bytes int64
	for id := range h3.Len() {
		bytes += int64(h3.Size(heap.ID(id)))
	}
	if r.Objects != int64(h3.Len()) || r.Bytes != bytes {
		t.Errorf("reported %d objects and %d bytes, the snapshot has %d and %d", r.Objects, r.Bytes, h3.Len(), bytes)
	}
	start, end := r.Time.Add(-time.Minute), r.Time.Add(time.Minute)
	var objects int64
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		f, err := s.SelectMergeStacktraces("memory:objects:count:space:bytes", `{service_name="leaky",env="ci"}`, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if objects = f.Total; objects == res[0].Objects+r.Objects || time.Now().After(deadline) {
			break
		}
	}
	if objects != res[0].Objects+r.Objects {
		t.Errorf("stored %d objects, pushed %d + %d", objects, res[0].Objects, r.Objects)
	}

	// Without --json, a line per snapshot on stderr.
	_, errOut, code = runCLI("push", "--pyroscope", s.URL, "--now", "--service", "leaky", cacheLeak1)
	if code != 0 || !strings.Contains(errOut, "objgraph: pushed "+cacheLeak1+" to "+s.URL+" as "+fmt.Sprintf("leaky{host=%s,pid=%d,python_version=%s}", m.Host, snapshotPID(t, cacheLeak1), m.Version)+" at ") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// objgraph run --push pushes each snapshot the program takes, at its time,
// labelled with the Python process's pid and this machine's host name.
func TestRunPush(t *testing.T) {
	py := needPython3(t)
	isolate(t)
	s := pyroscopetest.Start(t)
	dir := t.TempDir()
	// A snapshot there before the run is not pushed.
	old, err := os.ReadFile(cacheLeak1)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "objgraph-1-20260101-000000-1.ogs"), old, 0o600)
	script := filepath.Join(t.TempDir(), "leaky_app.py")
	os.WriteFile(script, []byte("class Leak: pass\nkeep = [Leak() for _ in range(321)]\nprint('done')\n"), 0o644)
	before := time.Now()
	out, errOut, code := runCLI("run", "-o", dir, "--at-exit", "--signal", "none", "--push", s.URL, "--", py, script)
	if code != 0 || strings.TrimSpace(out) != "done" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if n := strings.Count(errOut, "objgraph: pushed "); n != 1 || !strings.Contains(errOut, " as leaky_app{") {
		t.Fatalf("%d snapshots pushed, want the one at exit:\n%s", n, errOut)
	}
	host, _ := os.Hostname()
	sel := `{service_name="leaky_app",host="` + host + `"}`
	var f pyroscopetest.Flamegraph
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		f, err = s.SelectMergeStacktraces("memory:objects:count:space:bytes", sel, before.Add(-time.Second), time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if f.Total != 0 || time.Now().After(deadline) {
			break
		}
	}
	if f.Total == 0 {
		t.Fatalf("nothing stored for %s", sel)
	}
	if got := f.Self("[*]: Leak"); got != 321 {
		t.Errorf("stored %d Leak objects held by the list, want 321", got)
	}
}

// oldSnapshot writes a small snapshot taken 30 days ago and returns its
// path.
func oldSnapshot(t *testing.T) string {
	t.Helper()
	b := heap.NewBuilder()
	b.SetMeta(heap.Meta{Runtime: "CPython", Version: "3.11.7", PID: 4242, Time: time.Now().AddDate(0, 0, -30)})
	tMod := b.AddType("module", "builtins.module")
	m := b.AddObject(heap.Object{Addr: 0x1000, Type: tMod, Size: 72, Refcount: 1, Flags: heap.FlagTracked.WithKind(heap.KindModule), Label: "app"})
	b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "app", Target: m})
	return writeSnapshot(t, b, "old.ogs")
}
