package pyroscope_test

// Tests against a real Pyroscope server (see package pyroscopetest): what
// is pushed is stored with the snapshot's totals, at the snapshot's time,
// and the server's limits (samples, ingestion window) are met on purpose.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/pyroscope"
	"github.com/objgraph-go/objgraph/internal/pyroscope/pyroscopetest"
	"github.com/objgraph-go/objgraph/internal/synth"
	"github.com/objgraph-go/objgraph/objgraph"
)

// cacheLeak3 is a bundled snapshot of a program whose module-level cache
// keeps every Response, taken long before any test runs: outside any
// server's ingestion window.
const cacheLeak3 = "../../testdata/snapshots/cache_leak-3.ogs"

func readSnapshot(t *testing.T, path string) *heap.Heap {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := heap.ReadAny(f, heap.ReadOptions{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// totals are the objects and bytes of every object of h.
func totals(h *heap.Heap) (objects, bytes int64) {
	for id := range h.Len() {
		bytes += int64(h.Size(heap.ID(id)))
	}
	return int64(h.Len()), bytes
}

// Profile type IDs of a heap profile in Pyroscope: objgraph's three sample
// types, under the name Pyroscope gives memory profiles.
const (
	objectsType  = "memory:objects:count:space:bytes"
	spaceType    = "memory:space:bytes:space:bytes"
	retainedType = "memory:retained:bytes:space:bytes"
)

// stored returns the flame graph of the profiles of type typ matching
// selector between start and end, waiting for the push to be visible.
func stored(t *testing.T, s *pyroscopetest.Server, typ, selector string, start, end time.Time) pyroscopetest.Flamegraph {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		f, err := s.SelectMergeStacktraces(typ, selector, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if f.Total != 0 || time.Now().After(deadline) {
			return f
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServer runs the tests that need a server on one.
func TestServer(t *testing.T) {
	s := pyroscopetest.Start(t)
	t.Run("snapshot", func(t *testing.T) { testPushSnapshot(t, s) })
	t.Run("samples limit", func(t *testing.T) { testPushSamplesLimit(t, s) })
	t.Run("refused", func(t *testing.T) { testPushRefused(t, s) })
}

func testPushSnapshot(t *testing.T, s *pyroscopetest.Server) {
	c := &pyroscope.Client{URL: s.URL}
	ctx := context.Background()
	h := readSnapshot(t, cacheLeak3)
	objects, bytes := totals(h)

	t.Run("old snapshot", func(t *testing.T) {
		// the bundled snapshot, as if taken 30 days earlier
		old := readSnapshot(t, cacheLeak3)
		taken := old.Meta().Time.AddDate(0, 0, -30)
		old.Meta().Time = taken
		_, err := c.PushSnapshot(ctx, old, pyroscope.SnapshotOptions{Service: "old"})
		var we *pyroscope.WindowError
		if !errors.As(err, &we) {
			t.Fatalf("pushing a snapshot of %s: %v, want a *WindowError", taken, err)
		}
		if !we.Time.Equal(taken) || we.Age < 24*time.Hour {
			t.Errorf("window error for time %s, age %s; the snapshot's time is %s", we.Time, we.Age, taken)
		}
		msg := err.Error()
		for _, want := range []string{taken.UTC().Format("2006-01-02 15:04:05 UTC"), "outside the server's ingestion window", "the ingestion window starts at"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
	})

	t.Run("old snapshot stamped now", func(t *testing.T) {
		before := time.Now()
		st, err := c.PushSnapshot(ctx, h, pyroscope.SnapshotOptions{Now: true, Labels: map[string]string{"env": "test"}})
		if err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		if !st.StampedNow || st.Time.Before(before) || st.Time.After(after) {
			t.Errorf("stamped %s (now %v), want the present", st.Time, st.StampedNow)
		}
		if st.Name.Service != "cache_leak" {
			t.Errorf("service %q, want the script's name, cache_leak", st.Name.Service)
		}
		m := h.Meta()
		want := map[string]string{"host": m.Host, "pid": fmt.Sprint(m.PID), "python_version": m.Version, "env": "test"}
		if fmt.Sprint(st.Name.Labels) != fmt.Sprint(want) {
			t.Errorf("labels %v, want %v", st.Name.Labels, want)
		}
		if st.Objects != objects || st.Bytes != bytes {
			t.Errorf("pushed %d objects and %d bytes, the snapshot has %d and %d", st.Objects, st.Bytes, objects, bytes)
		}
		types, err := s.ProfileTypes(before.Add(-time.Minute), after.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, pt := range types {
			ids = append(ids, pt.ID)
		}
		for _, id := range []string{objectsType, spaceType, retainedType} {
			if !slices.Contains(ids, id) {
				t.Errorf("profile types %q lack %s", ids, id)
			}
		}
		sel := fmt.Sprintf(`{service_name="cache_leak",host=%q,pid="%d",python_version=%q,env="test"}`, m.Host, m.PID, m.Version)
		start, end := st.Time.Add(-time.Minute), st.Time.Add(time.Minute)
		if f := stored(t, s, objectsType, sel, start, end); f.Total != objects {
			t.Errorf("stored %d objects, the snapshot has %d", f.Total, objects)
		}
		f := stored(t, s, spaceType, sel, start, end)
		if f.Total != bytes {
			t.Errorf("stored %d bytes, the snapshot has %d", f.Total, bytes)
		}
		// The leak's retainer path is in the stored stacks.
		for _, name := range []string{"_cache: dict", "[*]: Response"} {
			if !slices.Contains(f.Names, name) {
				t.Errorf("stored stacks have no frame %q", name)
			}
		}
		p := objgraph.Profile(h, objgraph.ProfileOptions{})
		var retained int64
		for _, s := range p.Sample {
			retained += s.Value[2]
		}
		if f := stored(t, s, retainedType, sel, start, end); f.Total != retained {
			t.Errorf("stored %d retained bytes, the profile has %d", f.Total, retained)
		}
	})

	t.Run("snapshot time", func(t *testing.T) {
		// The same snapshot, as if taken ten minutes ago: it is stored at
		// that time, not at the time of the push.
		fresh := readSnapshot(t, cacheLeak3)
		taken := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
		fresh.Meta().Time = taken
		st, err := c.PushSnapshot(ctx, fresh, pyroscope.SnapshotOptions{Service: "fresh"})
		if err != nil {
			t.Fatal(err)
		}
		if st.StampedNow || !st.Time.Equal(taken) {
			t.Errorf("stored at %s (now %v), want the snapshot's time %s", st.Time, st.StampedNow, taken)
		}
		sel := `{service_name="fresh"}`
		if f := stored(t, s, objectsType, sel, taken.Add(-time.Second), taken.Add(time.Second)); f.Total != objects {
			t.Errorf("around the snapshot's time: %d objects stored, want %d", f.Total, objects)
		}
		if f, err := s.SelectMergeStacktraces(objectsType, sel, taken.Add(2*time.Second), time.Now().Add(time.Minute)); err != nil || f.Total != 0 {
			t.Errorf("after the snapshot's time: %d objects stored (%v), want none", f.Total, err)
		}
	})
}

// A heap whose profile has more stacks than the server takes: refused as
// it is, stored once fitted, with the totals exact.
func testPushSamplesLimit(t *testing.T, s *pyroscopetest.Server) {
	c := &pyroscope.Client{URL: s.URL}
	ctx := context.Background()
	var b bytes.Buffer
	if err := synth.Write(&b, synth.Options{Objects: 30_000, Seed: 1, Shape: synth.Python}); err != nil {
		t.Fatal(err)
	}
	h, err := heap.ReadAny(&b, heap.ReadOptions{Name: "synth"})
	if err != nil {
		t.Fatal(err)
	}
	p := objgraph.Profile(h, objgraph.ProfileOptions{})
	var objects, bytes int64
	for _, s := range p.Sample {
		objects += s.Value[0]
		bytes += s.Value[1]
	}

	// As it is: one sample per stack, more than the server's limit.
	all, res, err := pyroscope.Fit(p, pyroscope.FitOptions{MaxSamples: 1 << 30, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples <= pyroscope.DefaultMaxSamples || res.Merged != 0 {
		t.Fatalf("the synthetic heap's profile has %d stacks (%d merged), want more than %d", res.Samples, res.Merged, pyroscope.DefaultMaxSamples)
	}
	name := pyroscope.Name{Service: "synth", Labels: map[string]string{"fit": "no"}}
	err = c.Push(ctx, name, time.Now(), all)
	var se *pyroscope.ServerError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "exceeds the samples count limit") {
		t.Fatalf("pushing %d samples: %v, want the server's samples limit", res.Samples, err)
	}

	st, err := c.PushSnapshot(ctx, h, pyroscope.SnapshotOptions{Service: "synth", Now: true, Labels: map[string]string{"fit": "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Samples > pyroscope.DefaultMaxSamples || st.Merged == 0 || st.Stacks != res.Samples {
		t.Errorf("fitted to %d samples of %d stacks, %d merged; want at most %d", st.Samples, st.Stacks, st.Merged, pyroscope.DefaultMaxSamples)
	}
	sel := `{service_name="synth",fit="yes"}`
	start, end := st.Time.Add(-time.Minute), st.Time.Add(time.Minute)
	if f := stored(t, s, objectsType, sel, start, end); f.Total != objects {
		t.Errorf("stored %d objects, the profile has %d", f.Total, objects)
	}
	f := stored(t, s, spaceType, sel, start, end)
	if f.Total != bytes {
		t.Errorf("stored %d bytes, the profile has %d", f.Total, bytes)
	}
	if f.Self(pyroscope.OtherFrame) == 0 {
		t.Errorf("no %s frame with bytes of its own in the stored stacks", pyroscope.OtherFrame)
	}
}

// More labels than the server takes (30 by default, its own four
// included): its message is passed on.
func testPushRefused(t *testing.T, s *pyroscopetest.Server) {
	h := readSnapshot(t, cacheLeak3)
	fitted, _, err := pyroscope.Fit(objgraph.Profile(h, objgraph.ProfileOptions{}), pyroscope.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for i := range 30 {
		labels[fmt.Sprintf("l%d", i)] = "v"
	}
	c := &pyroscope.Client{URL: s.URL}
	err = c.Push(context.Background(), pyroscope.Name{Service: "x", Labels: labels}, time.Now(), fitted)
	var se *pyroscope.ServerError
	if !errors.As(err, &se) || se.Status/100 != 4 || !strings.Contains(se.Message, "label") {
		t.Fatalf("push with 30 labels: %v, want the server's refusal", err)
	}
}

// A port nothing listens on: the error says why, without the URL's
// password.
func TestPushUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := objgraph.Profile(readSnapshot(t, cacheLeak3), objgraph.ProfileOptions{})
	c := &pyroscope.Client{URL: "http://user:secret@" + addr}
	err = c.Push(context.Background(), pyroscope.Name{Service: "x"}, time.Now(), p)
	var ue *pyroscope.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("push to a closed port: %v, want an *UnreachableError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "connection refused") || strings.Contains(msg, "secret") || !strings.Contains(msg, addr) {
		t.Errorf("error %q: want the address and the cause, without the password", msg)
	}
}
