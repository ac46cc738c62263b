package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// TestRedactedSnapshotsHoldNoSecret plants a secret in a real Python
// program, takes redacted snapshots, and looks for any part of it in the
// files and in what every command prints or writes.
func TestRedactedSnapshotsHoldNoSecret(t *testing.T) {
	py := testenv.LookPath(t, "python3", "the redaction test runs the capture agent")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, agent.FileName), agent.Source, 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
	// the parts that must not appear anywhere: long enough to be the
	// secret's, not any word of the tool's own output
	needles := []string{secret[8:20], secret[20:], "4eC39Hq"}
	// the program that plants it, shared with the agent's own redaction test
	prog := filepath.Join("..", "..", "internal", "agent", "testdata", "plant_secret.py")
	old, cur := filepath.Join(dir, "old.ogs"), filepath.Join(dir, "new.ogs")
	cmd := exec.Command(py, prog, secret, old, cur, "--password="+secret)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", py, err, out)
	}
	check := func(what string, data []byte) {
		t.Helper()
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				t.Errorf("%s holds part of the secret (%q)", what, n)
			}
		}
	}
	for _, f := range []string{old, cur} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(f, b)
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	for _, args := range [][]string{
		{"convert", cur, "--to", "json", "-o", out("snap.json")},
		{"top", cur, "--limit", "0"},
		{"top", cur, "--json", "--qualified"},
		{"count", cur, "str"},
		{"bytype", cur, "User", "--json"},
		{"bytype", cur, "dict"},
		{"growth", old, cur},
		{"newids", old, cur, "--json"},
		{"leaking", cur},
		{"chain", cur, "--type", "User"},
		{"chain", cur, "--type", "User", "--json"},
		{"gc", cur, "--json"},
		{"cow", cur},
		{"leaks", old, cur},
		{"leaks", old, cur, "--json"},
		{"dominators", cur, "--json"},
		{"backrefs", cur, "--type", "User", "-o", out("back.dot")},
		{"refs", cur, "--type", "Tagged", "-o", out("refs.dot")},
		{"pprof", cur, "-o", out("heap.pb.gz")},
	} {
		stdout, stderr, code := runCLI(args...)
		if code != 0 {
			t.Errorf("objgraph %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
			continue
		}
		check("objgraph "+strings.Join(args, " "), []byte(stdout+stderr))
	}
	for _, name := range []string{"snap.json", "back.dot", "refs.dot"} {
		b, err := os.ReadFile(out(name))
		if err != nil {
			t.Fatal(err)
		}
		check(name, b)
	}
	f, err := os.Open(out("heap.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	check("heap.pb.gz", prof)
	// the structure stays: the cache's keys are there by length
	js, _ := os.ReadFile(out("snap.json"))
	if !bytes.Contains(js, []byte("str of 32")) {
		t.Errorf("snap.json: no redacted key names (<str of 32>)")
	}
}
