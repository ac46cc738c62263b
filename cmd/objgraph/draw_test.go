package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBuildRendererConcurrent runs first uses of the renderer build at
// once, with a build that writes its output slowly: every caller gets the
// same path, the file there is one whole build, and nothing else is left
// in the cache directory.
func TestBuildRendererConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	const n = 8
	whole := bytes.Repeat([]byte("objgraph-render\n"), 4096)
	build := func(out string) error {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
		if err != nil {
			return err // two builds wrote to one file
		}
		defer f.Close()
		for i := 0; i < len(whole); i += 8192 {
			if _, err := f.Write(whole[i : i+8192]); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	var wg sync.WaitGroup
	paths := make([]string, n)
	errs := make([]error, n)
	stderrs := make([]bytes.Buffer, n)
	for i := range n {
		wg.Go(func() { paths[i], errs[i] = buildRenderer(&stderrs[i], dir, "objgraph-render", build) })
	}
	wg.Wait()
	want := filepath.Join(dir, "objgraph-render")
	for i := range n {
		if errs[i] != nil || paths[i] != want {
			t.Errorf("build %d: %q, %v; want %q", i, paths[i], errs[i], want)
		}
	}
	if got, err := os.ReadFile(want); err != nil || !bytes.Equal(got, whole) {
		t.Errorf("%s: %d bytes (%v), want the %d of one build", want, len(got), err, len(whole))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("cache directory holds %v, want only objgraph-render", ents)
	}
	// The first build is announced; later ones, quick from the build
	// cache, are not.
	if s := stderrs[0].String(); !strings.Contains(s, "objgraph: building objgraph-render (first use") {
		t.Errorf("first build: stderr %q", s)
	}
	var again bytes.Buffer
	if _, err := buildRenderer(&again, dir, "objgraph-render", func(out string) error { return os.WriteFile(out, whole, 0o755) }); err != nil || again.Len() != 0 {
		t.Errorf("later build: %v, stderr %q", err, again.String())
	}
}

// TestBuildRendererFails leaves nothing behind when the build fails.
func TestBuildRendererFails(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	_, err := buildRenderer(new(bytes.Buffer), dir, "objgraph-render", func(out string) error {
		os.WriteFile(out, []byte("half"), 0o755)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err %v, want %v", err, boom)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a failed build left %v behind", ents)
	}
}
