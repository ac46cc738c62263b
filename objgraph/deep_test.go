package objgraph_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/synth"
	"github.com/objgraph-go/objgraph/objgraph"
)

// frames are the names of a sample's frames, root first.
func frames(s *profile.Sample) []string {
	var names []string
	for i := len(s.Location) - 1; i >= 0; i-- {
		names = append(names, s.Location[i].Line[0].Function.Name)
	}
	return names
}

// TestProfileBoundsStacks checks that stacks longer than MaxFrames keep
// their frames nearest the root and nearest the object, with one frame for
// the rest, whose number the sample's "elided frames" label gives.
func TestProfileBoundsStacks(t *testing.T) {
	b := newBuilder()
	mod := b.obj("module", 72)
	prev := mod
	for range 300 {
		x := b.obj("Node", 10)
		b.b.AddEdge(prev, x, "next")
		b.b.AddEdge(x, b.obj("str", 1), "name")
		prev = x
	}
	b.b.AddRoot(heap.Root{Kind: heap.RootModule, Name: "m", Target: mod})
	h := b.build(t)
	for _, tc := range []struct {
		maxFrames, maxSamples int
		head, tail            int // frames kept
	}{
		{0, 0, 32, 31},
		{10, 0, 5, 4},
		{1, 0, 1, 1}, // 3 frames at least
		{7, 40, 3, 3},
	} {
		t.Run(fmt.Sprintf("MaxFrames %d MaxSamples %d", tc.maxFrames, tc.maxSamples), func(t *testing.T) {
			full := objgraph.Profile(h, objgraph.ProfileOptions{MaxFrames: 1 << 30, MaxSamples: tc.maxSamples})
			p := objgraph.Profile(h, objgraph.ProfileOptions{MaxFrames: tc.maxFrames, MaxSamples: tc.maxSamples})
			if err := p.CheckValid(); err != nil {
				t.Fatal(err)
			}
			if len(p.Sample) != len(full.Sample) {
				t.Fatalf("%d samples, %d without the bound", len(p.Sample), len(full.Sample))
			}
			elided := 0
			for i, s := range p.Sample {
				got, want := frames(s), frames(full.Sample[i])
				n := s.NumLabel["elided frames"]
				if len(want) <= tc.head+tc.tail+1 {
					if strings.Join(got, " / ") != strings.Join(want, " / ") || n != nil {
						t.Fatalf("sample %d: stack %q (elided %v), want %q", i, got, n, want)
					}
					continue
				}
				elided++
				k := len(want) - tc.head - tc.tail
				wantCut := append(append(append([]string{}, want[:tc.head]...), "… elided frames …"), want[len(want)-tc.tail:]...)
				if strings.Join(got, " / ") != strings.Join(wantCut, " / ") || len(n) != 1 || n[0] != int64(k) {
					t.Fatalf("sample %d: stack %q, %v elided; want %q, %d elided", i, got, n, wantCut, k)
				}
				if s.Value[0] != full.Sample[i].Value[0] || s.Label["type"][0] != full.Sample[i].Label["type"][0] {
					t.Fatalf("sample %d: values %v, type %v; want %v, %v", i, s.Value, s.Label["type"], full.Sample[i].Value, full.Sample[i].Label["type"])
				}
			}
			if elided == 0 {
				t.Error("no stack was long enough to bound")
			}
		})
	}
}

// allocated is the number of bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestProfileMemoryOnDeepShapes checks that the profile of a heap as deep
// as it is large, a linked list of instances or a deep tree, with every
// object in a sample of its own, allocates memory in proportion to its
// objects: at most 4 KiB per object (a sample and a stack of at most 64
// frames each, about 1.8 KiB), and not much more than twice as much for
// twice the depth. (With stacks as long as the chains, the list of 2,000
// nodes took 1.8 GB, 300 KB per object, and the list of 4,000 8.4 GB.)
func TestProfileMemoryOnDeepShapes(t *testing.T) {
	for _, shape := range []struct {
		name  string
		build func(int) (*synth.Deep, error)
	}{{"linked list", synth.LinkedList}, {"deep tree", synth.DeepTree}} {
		t.Run(shape.name, func(t *testing.T) {
			var bytes [2]uint64
			for i, n := range []int{2000, 4000} {
				d, err := shape.build(n)
				if err != nil {
					t.Fatal(err)
				}
				h := d.Heap
				opts := objgraph.ProfileOptions{MaxSamples: 1 << 30, Dominators: heap.Dominators(h, heap.DominatorOptions{}), Retainers: objgraph.FindRetainers(h)}
				var p *profile.Profile
				bytes[i] = allocated(func() { p = objgraph.Profile(h, opts) })
				longest := 0
				for _, s := range p.Sample {
					longest = max(longest, len(s.Location))
				}
				t.Logf("depth %d, %d objects: %d samples, %d bytes, stacks of at most %d frames", n, h.Len(), len(p.Sample), bytes[i], longest)
				if longest > 64 || bytes[i] > 4096*uint64(h.Len()) {
					t.Errorf("depth %d, %d objects: %d bytes, stacks of %d frames", n, h.Len(), bytes[i], longest)
				}
			}
			if bytes[1] > bytes[0]*5/2 {
				t.Errorf("twice the depth allocates %d bytes instead of %d", bytes[1], bytes[0])
			}
		})
	}
}

// TestProfileDeepShapes runs Profile at its defaults on a linked list of
// 200,000 instances and a tree 200,000 levels deep: every stack within 64
// frames, every object counted once, in at most 1.5 KiB per object.
func TestProfileDeepShapes(t *testing.T) {
	for _, build := range []func(int) (*synth.Deep, error){synth.LinkedList, synth.DeepTree} {
		d, err := build(200_000)
		if err != nil {
			t.Fatal(err)
		}
		h := d.Heap
		opts := objgraph.ProfileOptions{Dominators: heap.Dominators(h, heap.DominatorOptions{}), Retainers: objgraph.FindRetainers(h)}
		var p *profile.Profile
		bytes := allocated(func() { p = objgraph.Profile(h, opts) })
		var objects, retained int64
		for _, s := range p.Sample {
			if len(s.Location) > 64 {
				t.Fatalf("a stack of %d frames: %q", len(s.Location), frames(s))
			}
			objects += s.Value[0]
			if f := frames(s); len(f) == 1 && f[0] == "module __main__" {
				retained = s.Value[2]
			}
		}
		if objects != int64(h.Len()) || uint64(retained) != h.TotalSize() || len(p.Sample) > 100_000 {
			t.Errorf("%d objects of %d, the module retains %d of %d, %d samples", objects, h.Len(), retained, h.TotalSize(), len(p.Sample))
		}
		if bytes > 1536*uint64(h.Len()) {
			t.Errorf("%d objects: %d bytes allocated", h.Len(), bytes)
		}
	}
}

// TestLeaksDeepList checks the report on a linked list of 20,000 leaked
// instances: the chains longer than 64 hops make one group per type, whose
// shape ends in "…", and retained sizes are those of the dominator tree.
func TestLeaksDeepList(t *testing.T) {
	const n = 20_000
	old, err := synth.LinkedList(1) // the same module, class and first node
	if err != nil {
		t.Fatal(err)
	}
	d, err := synth.LinkedList(n)
	if err != nil {
		t.Fatal(err)
	}
	h := d.Heap
	var rep *objgraph.LeakReport
	bytes := allocated(func() { rep = objgraph.FindLeaks(objgraph.NewCensus(old.Heap), h, nil, objgraph.LeakOptions{}) })
	if rep.New != 3*(n-1) || len(rep.Types) != 3 {
		t.Fatalf("%d new objects in %d types, want %d in 3", rep.New, len(rep.Types), 3*(n-1))
	}
	per := uint64(0)
	for _, id := range []heap.ID{d.Nodes[1], d.Nodes[1] + 1, d.Nodes[1] + 2} { // a node, its dict and its str
		per += h.Size(id)
	}
	for _, lt := range rep.Types {
		if lt.Count != n-1 {
			t.Errorf("%s: %d objects", lt.Type, lt.Count)
		}
		cut := 0
		for _, g := range lt.Groups {
			if len(g.Shape) > 66 {
				t.Errorf("%s: a shape of %d steps", lt.Type, len(g.Shape))
			}
			if last := g.Shape[len(g.Shape)-1]; last.Edge == "…" {
				cut++
				if last.Type != lt.Type || g.Count < n-100 {
					t.Errorf("%s: the cut group ends in %v and has %d objects", lt.Type, last, g.Count)
				}
			}
		}
		if cut != 1 || len(lt.Groups) > 40 {
			t.Errorf("%s: %d groups, %d of them cut", lt.Type, len(lt.Groups), cut)
		}
	}
	// The first new node retains every new object; the list's dicts
	// retain all but that node, its strs retain only themselves.
	if node := rep.Types[0]; node.Type != "Node" || node.Retained != (n-1)*per {
		t.Errorf("%s retains %d, want %d", node.Type, node.Retained, (n-1)*per)
	}
	if bytes > 2048*uint64(h.Len()) {
		t.Errorf("%d objects: %d bytes allocated", h.Len(), bytes)
	}
}
