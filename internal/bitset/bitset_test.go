package bitset_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/objgraph-go/objgraph/internal/bitset"
)

func TestSet(t *testing.T) {
	b := bitset.New[uint32](130)
	if len(b) != 3 {
		t.Fatalf("len = %d words, want 3", len(b))
	}
	for _, i := range []uint32{0, 63, 64, 129} {
		if b.Has(i) {
			t.Fatalf("%d in an empty set", i)
		}
		b.Set(i)
		if !b.Has(i) {
			t.Fatalf("%d missing after Set", i)
		}
	}
	if b.Has(1) || b.Has(65) {
		t.Fatal("Set touched a neighbour")
	}
	b.Clear(63)
	if b.Has(63) || !b.Has(0) || !b.Has(64) {
		t.Fatal("Clear removed the wrong bit")
	}
}

func TestTrySet(t *testing.T) {
	b := bitset.New[uint32](256)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range uint32(256) {
				if b.TrySet(i) {
					wins.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 256 {
		t.Fatalf("%d TrySet calls won, want 256", wins.Load())
	}
}
