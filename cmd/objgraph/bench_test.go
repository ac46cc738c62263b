package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/memstat"
	"github.com/objgraph-go/objgraph/internal/synth"
)

// BenchmarkLeaks10M runs objgraph leaks end to end, reading included, on
// two snapshots of a Python-shaped synthetic heap (synth.Python): 10M
// objects, then the same heap after 100,000 Session objects (each with a
// dict and a 4 KB buffer) leaked into a cache, 10.3M objects.
func BenchmarkLeaks10M(b *testing.B) {
	o := synth.Options{Objects: 10_000_000, EdgesPerObj: 3, Seed: 1, Shape: synth.Python}
	old, err := synth.File(o)
	if err != nil {
		b.Fatal(err)
	}
	o.Leak = 100_000
	cur, err := synth.File(o)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	memstat.Loop(b, func() {
		if code := run([]string{"leaks", old, cur}, nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	})
}

// writeDeep writes a heap of synth's deep shapes to a snapshot in dir.
func writeDeep(b *testing.B, dir, name string, build func(int) (*synth.Deep, error), n int) string {
	d, err := build(n)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, name+".ogs")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := heap.Write(f, d.Heap, heap.EncoderOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkDeep1M runs objgraph dominators, pprof and leaks end to end,
// reading included, on snapshots as deep as they are large: a linked list
// of 1M instances (synth.LinkedList, 3M objects) and a tree of instances
// 1M levels deep (synth.DeepTree, 4M objects); leaks against a list of
// one.
func BenchmarkDeep1M(b *testing.B) {
	dir := b.TempDir()
	one := writeDeep(b, dir, "list1", synth.LinkedList, 1)
	list := writeDeep(b, dir, "list", synth.LinkedList, 1_000_000)
	tree := writeDeep(b, dir, "tree", synth.DeepTree, 1_000_000)
	out := filepath.Join(dir, "out.pb.gz")
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"list/dominators", []string{"dominators", list}},
		{"list/pprof", []string{"pprof", list, "-o", out}},
		{"list/leaks", []string{"leaks", one, list}},
		{"tree/dominators", []string{"dominators", tree}},
		{"tree/pprof", []string{"pprof", tree, "-o", out}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			memstat.Loop(b, func() {
				if code := run(bc.args, nil, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			})
		})
	}
}
