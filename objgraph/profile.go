package objgraph

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/objgraph-go/objgraph/heap"
)

// ProfileOptions tune Profile. The zero value gives at most 100,000
// samples and short type names.
type ProfileOptions struct {
	Qualified  bool          // module-qualified type names in frames
	MaxSamples int           // at most this many samples; 0 means 100,000
	Dominators *heap.DomTree // h's dominator tree, if already computed
	Retainers  *Retainers    // h's retainer chains, if already computed
}

// Profile sample types, in order.
var profileSampleTypes = []*profile.ValueType{
	{Type: "objects", Unit: "count"},
	{Type: "space", Unit: "bytes"},
	{Type: "retained", Unit: "bytes"},
}

// Profile describes the objects of h a root reaches as a pprof profile, so
// that pprof's views (top, flame graph, graph, diffs between profiles)
// work on heaps. Each sample is the set of objects whose shortest retainer
// chains have one shape (see ShapeStep), and its stack is that shape: the
// root at the bottom of the stack (the top of a flame graph), the object's
// type at the top. Frames are named after the reference that leads to the
// object and its type ("_cache: dict", "[*]: Response"), so that pprof
// does not merge objects held in different places; the root's frame is
// the root itself ("module __main__"). Each sample has three values: the
// objects' count, their own sizes (space) and their retained sizes, and a
// "type" label.
//
// Retained sizes overlap: a dict's retained size includes the objects in
// it, which have samples of their own, so the retained total of a frame in
// a flame graph counts some objects more than once. Read retained values
// per sample, or at the leaves.
//
// When the heap has more distinct shapes than opts.MaxSamples, chains are
// cut short: the hops past some depth are replaced by one "…" frame and
// the frame of the object's type. The depth starts at the longest chain's
// and shrinks by a third until the samples fit. The
// profile's names do not depend on addresses, so profiles of two snapshots
// of one process compare with pprof's -diff_base.
func Profile(h *heap.Heap, opts ProfileOptions) *profile.Profile {
	limit := opts.MaxSamples
	if limit <= 0 {
		limit = 100_000
	}
	dt := opts.Dominators
	if dt == nil {
		dt = heap.Dominators(h, heap.DominatorOptions{})
	}
	r := opts.Retainers
	if r == nil {
		r = FindRetainers(h)
	}
	// The deepest chain first; when that makes too many samples, shallower
	// cuts until the samples fit.
	var sh *shapes
	var samples map[sampleKey]*sampleAgg
	for depth := r.maxDepth(); ; depth = depth * 2 / 3 {
		if depth == 0 {
			limit = math.MaxInt // the roots, and a sample per type under each
		}
		sh = newShapes(h, r)
		if samples = sh.cut(dt, depth, limit); samples != nil {
			break
		}
	}
	type key = sampleKey
	p := &profile.Profile{
		SampleType:        profileSampleTypes,
		DefaultSampleType: "space",
		PeriodType:        &profile.ValueType{Type: "space", Unit: "bytes"},
		Period:            1,
		TimeNanos:         h.Meta().Time.UnixNano(),
		Comments:          []string{"objgraph heap profile: each stack is a shortest chain of references from a root, root first"},
	}
	// One mapping that says the functions are already known, so that
	// pprof neither looks for a binary nor demangles the names.
	m := &profile.Mapping{ID: 1, File: "objgraph-heap", HasFunctions: true}
	p.Mapping = []*profile.Mapping{m}
	b := &profileBuilder{p: p, m: m, funcs: map[string]*profile.Function{}, locs: map[string]*profile.Location{}}
	keys := make([]key, 0, len(samples))
	for k := range samples {
		keys = append(keys, k)
	}
	// A stable order: by shape, then type.
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		if c := cmp.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		return cmp.Compare(boolInt(a.cut), boolInt(b.cut))
	})
	for _, k := range keys {
		a := samples[k]
		root, steps := sh.steps(k.prefix, opts.Qualified)
		var stack []*profile.Location // leaf first
		typ := typeName(h, k.typ, opts.Qualified)
		if k.cut {
			stack = append(stack, b.loc(typ), b.loc("…"))
		}
		for i := len(steps) - 1; i >= 1; i-- {
			stack = append(stack, b.loc(frameName(steps[i])))
		}
		rootFrame := root
		if strings.HasPrefix(root, "held from outside") {
			rootFrame = root + ": " + steps[0].Type
		}
		stack = append(stack, b.loc(rootFrame))
		p.Sample = append(p.Sample, &profile.Sample{
			Location: stack,
			Value:    []int64{a.count, a.bytes, a.retained},
			Label:    map[string][]string{"type": {typ}},
		})
	}
	return p
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sampleKey identifies a sample: the shape of its objects' chains, or, for
// objects past the cut, the shape at the cut and their type.
type sampleKey struct {
	prefix uint32
	typ    heap.TypeID
	cut    bool
}

type sampleAgg struct {
	count, bytes, retained int64
}

// cut sums up the reachable objects of the heap by the shapes of their
// chains, with the chains cut at depth hops: an object further from its
// root counts under the shape of its chain's first depth hops, and its
// type. It returns nil as soon as there are more than limit samples. Every
// shape it makes has objects, so the samples are the shapes plus the keys
// of the objects past the cut.
func (s *shapes) cut(dt *heap.DomTree, depth uint32, limit int) map[sampleKey]*sampleAgg {
	const past = 1 << 31 // in s.of: the object is past the cut, under this shape
	h, r := s.h, s.r
	samples := map[sampleKey]*sampleAgg{}
	add := func(k sampleKey, id heap.ID) bool {
		a := samples[k]
		if a == nil {
			if len(samples) >= limit {
				return false
			}
			a = &sampleAgg{}
			samples[k] = a
		}
		a.count++
		a.bytes += int64(h.Size(id))
		a.retained += int64(dt.Retained(id))
		return true
	}
	for _, v := range r.Order() {
		p, e := r.Parent(v)
		var k sampleKey
		switch {
		case p == heap.NoID:
			sh := s.intern(shapeKey{noShape, s.rootIndex(s.rootDesc(v)), uint32(h.Type(v)), 1})
			s.of[v] = sh
			k = sampleKey{prefix: sh, typ: h.Type(v)}
		case s.of[p]&past != 0:
			s.of[v] = s.of[p]
			k = sampleKey{prefix: s.of[p] &^ past, typ: h.Type(v), cut: true}
		case s.nodes[s.of[p]].depth >= depth:
			s.of[v] = s.of[p] | past
			k = sampleKey{prefix: s.of[p], typ: h.Type(v), cut: true}
		default:
			ps := s.of[p]
			sh := s.intern(shapeKey{ps, s.classOf(e, s.nodes[ps].data), uint32(h.Type(v)), 0})
			s.of[v] = sh
			k = sampleKey{prefix: sh, typ: h.Type(v)}
		}
		if !add(k, v) {
			return nil
		}
	}
	return samples
}

// frameName names the frame of one hop of a chain.
func frameName(s ShapeStep) string {
	if s.Edge == "" {
		return s.Type
	}
	return s.Edge + ": " + s.Type
}

// profileBuilder interns functions and locations by name.
type profileBuilder struct {
	p     *profile.Profile
	m     *profile.Mapping
	funcs map[string]*profile.Function
	locs  map[string]*profile.Location
}

func (b *profileBuilder) loc(name string) *profile.Location {
	if l, ok := b.locs[name]; ok {
		return l
	}
	f := &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: name}
	b.p.Function = append(b.p.Function, f)
	l := &profile.Location{ID: uint64(len(b.p.Location) + 1), Mapping: b.m, Line: []profile.Line{{Function: f}}}
	b.p.Location = append(b.p.Location, l)
	b.funcs[name], b.locs[name] = f, l
	return l
}

// DiffProfile returns the profile of cur minus the profile of base, as
// pprof's -base flag computes it: samples with the same stack and label
// cancel out, what grew has positive values, what shrank negative ones.
func DiffProfile(cur, base *profile.Profile) (*profile.Profile, error) {
	base = base.Copy()
	base.Scale(-1)
	return profile.Merge([]*profile.Profile{cur, base})
}
