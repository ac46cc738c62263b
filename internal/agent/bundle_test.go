package agent

import (
	"bytes"
	"os"
	"testing"
)

// TestBundleFresh fails when objgraph_agent.py is not the bundle of the
// source package as it is now.
func TestBundleFresh(t *testing.T) {
	want, err := Bundle(os.DirFS(SourceDir))
	if err != nil {
		t.Fatalf("bundling %s: %v", SourceDir, err)
	}
	got, err := os.ReadFile(FileName)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		line := 1 + bytes.Count(got[:commonPrefix(got, want)], []byte("\n"))
		t.Fatalf("%s is stale: it differs from the bundle of %s from line %d on; run go generate ./internal/agent", FileName, SourceDir, line)
	}
	if !bytes.Equal(Source, want) {
		t.Fatalf("the embedded Source differs from %s; rebuild", FileName)
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
