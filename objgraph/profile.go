package objgraph

import (
	"cmp"
	"math"
	"slices"

	"github.com/google/pprof/profile"

	"github.com/objgraph-go/objgraph/heap"
)

// ProfileOptions tune Profile. The zero value gives at most 100,000
// samples of at most 64 frames each, and short type names.
type ProfileOptions struct {
	Qualified  bool          // module-qualified type names in frames
	MaxSamples int           // at most this many samples; 0 means 100,000
	MaxFrames  int           // at most this many frames per stack: the half nearest the root, one elided-frames frame, the rest nearest the object; 0 means 64, less than 3 means 3
	Dominators *heap.DomTree // h's dominator tree, if already computed
	Retainers  *Retainers    // h's retainer chains, if already computed
}

// elidedFrame stands for the frames left out of the middle of a stack
// longer than ProfileOptions.MaxFrames; the sample's numeric label
// elidedLabel says how many.
const (
	elidedFrame = "… elided frames …"
	elidedLabel = "elided frames"
)

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
// and shrinks by a third until the samples fit.
//
// A stack has at most opts.MaxFrames frames (64 by default): a longer one,
// as the objects of a long linked list get, keeps the frames nearest the
// root and those nearest the object, half and half, with one
// "… elided frames …" frame between them, and its sample has a numeric
// label "elided frames" with the number of frames left out. Samples whose
// chains differ only in the frames left out share a stack. So a profile
// takes time and memory in proportion to the objects and the samples,
// whatever the depth of the heap.
//
// The profile's names do not depend on addresses, so profiles of two
// snapshots of one process compare with pprof's -diff_base.
func Profile(h *heap.Heap, opts ProfileOptions) *profile.Profile {
	limit := opts.MaxSamples
	if limit <= 0 {
		limit = 100_000
	}
	maxFrames := opts.MaxFrames
	if maxFrames <= 0 {
		maxFrames = 64
	}
	maxFrames = max(maxFrames, 3)
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
	sh := newShapes(h, r)
	samples := &sampleSet{index: map[sampleKey]uint32{}}
	for depth := r.maxDepth(); ; depth = depth * 2 / 3 {
		if depth == 0 {
			limit = math.MaxInt // the roots, and a sample per type under each
		}
		visited, ok := sh.cut(dt, depth, limit, samples)
		if ok {
			break
		}
		sh.reset(r.Order()[:visited])
		samples.reset()
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
	keys := slices.Clone(samples.keys)
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
	st := newStacker(sh, b, maxFrames, opts.Qualified)
	for _, k := range keys {
		a := samples.aggs[samples.index[k]]
		typ := typeName(h, k.typ, opts.Qualified)
		stack, elided := st.stack(k, typ)
		s := &profile.Sample{
			Location: stack,
			Value:    []int64{a.count, a.bytes, a.retained},
			Label:    map[string][]string{"type": {typ}},
		}
		if elided > 0 {
			s.NumLabel = map[string][]int64{elidedLabel: {int64(elided)}}
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

// stacker spells the stacks of samples, with at most maxFrames frames each.
// Frames are looked up once per shape, and a stack that is too long is
// built from its two ends, so that a stack costs at most maxFrames steps
// whatever the depth of its shape.
type stacker struct {
	sh         *shapes
	b          *profileBuilder
	qualified  bool
	head, tail int      // frames kept nearest the root and nearest the object, in a stack too long
	loc        []uint32 // shape -> index of its frame's location in b.p.Location + 1; 0 = not looked up yet
	anchor     []uint32 // shape -> its ancestor at depth head-1, or itself when not as deep
}

func newStacker(sh *shapes, b *profileBuilder, maxFrames int, qualified bool) *stacker {
	head := maxFrames / 2
	st := &stacker{sh: sh, b: b, qualified: qualified, head: head, tail: maxFrames - head - 1,
		loc: make([]uint32, len(sh.nodes)), anchor: make([]uint32, len(sh.nodes))}
	// A shape's parent comes before it (see shapes.intern).
	for i, n := range sh.nodes {
		st.anchor[i] = uint32(i)
		if n.depth >= uint32(head) {
			st.anchor[i] = st.anchor[n.parent]
		}
	}
	return st
}

// frame is the location of the last step of shape sh.
func (st *stacker) frame(sh uint32) *profile.Location {
	if l := st.loc[sh]; l != 0 {
		return st.b.p.Location[l-1]
	}
	s := st.sh
	n := s.nodes[sh]
	typ := typeName(s.h, n.typ, st.qualified)
	var name string
	switch {
	case n.parent != noShape:
		name = frameName(ShapeStep{Edge: s.edges[n.edge], Type: typ})
	case s.roots[n.root].IsExternal():
		name = s.roots[n.root].String() + ": " + typ
	default:
		name = s.roots[n.root].String()
	}
	l := st.b.loc(name)
	st.loc[sh] = uint32(l.ID) // IDs are indexes + 1
	return l
}

// stack is the stack of the sample with key k, whose type is named typ,
// leaf first, and the number of frames left out of its middle.
func (st *stacker) stack(k sampleKey, typ string) (stack []*profile.Location, elided int) {
	s := st.sh
	// Leaf first, the frames are: with a cut, the type and "…"; then a
	// frame per step of the shape, up to the root's.
	var extra []*profile.Location
	if k.cut {
		extra = []*profile.Location{st.b.loc(typ), st.b.loc("…")}
	}
	total := len(extra) + int(s.nodes[k.prefix].depth) + 1
	if total <= st.head+st.tail+1 {
		stack = make([]*profile.Location, 0, total)
		stack = append(stack, extra...)
		for n := k.prefix; n != noShape; n = s.nodes[n].parent {
			stack = append(stack, st.frame(n))
		}
		return stack, 0
	}
	stack = make([]*profile.Location, 0, st.head+st.tail+1)
	stack = append(stack, extra[:min(len(extra), st.tail)]...)
	n := k.prefix
	for len(stack) < st.tail {
		stack = append(stack, st.frame(n))
		n = s.nodes[n].parent
	}
	elided = total - st.head - st.tail
	stack = append(stack, st.b.loc(elidedFrame))
	for n := st.anchor[k.prefix]; n != noShape; n = s.nodes[n].parent {
		stack = append(stack, st.frame(n))
	}
	return stack, elided
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

// sampleSet is the samples of a profile, each key's sums in aggs at its
// index.
type sampleSet struct {
	index map[sampleKey]uint32
	keys  []sampleKey // in the order added
	aggs  []sampleAgg
}

func (ss *sampleSet) reset() {
	clear(ss.index)
	ss.keys, ss.aggs = ss.keys[:0], ss.aggs[:0]
}

// cut sums up the reachable objects of the heap into samples by the shapes
// of their chains, with the chains cut at depth hops: an object further
// from its root counts under the shape of its chain's first depth hops,
// and its type. It stops, returning ok false, as soon as there are more
// than limit samples, when it has computed the shapes of the first visited
// objects of the retainers' order. Every shape it makes has objects, so
// the samples are the shapes plus the keys of the objects past the cut.
func (s *shapes) cut(dt *heap.DomTree, depth uint32, limit int, samples *sampleSet) (visited int, ok bool) {
	h, r := s.h, s.r
	// In breadth-first order, the object before each on its chain comes
	// first.
	for i, v := range r.Order() {
		sh := s.step(v, depth)
		s.of[v] = sh
		k := sampleKey{prefix: sh &^ past, typ: h.Type(v), cut: sh&past != 0}
		j, found := samples.index[k]
		if !found {
			if len(samples.keys) >= limit {
				return i + 1, false
			}
			j = uint32(len(samples.keys))
			samples.index[k] = j
			samples.keys = append(samples.keys, k)
			samples.aggs = append(samples.aggs, sampleAgg{})
		}
		a := &samples.aggs[j]
		a.count++
		a.bytes += int64(h.Size(v))
		a.retained += int64(dt.Retained(v))
	}
	return len(r.Order()), true
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
