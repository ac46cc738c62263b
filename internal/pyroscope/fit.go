package pyroscope

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// Limits a Pyroscope server puts on one profile by default.
const (
	// DefaultMaxSamples is -validation.max-profile-stacktrace-samples: a
	// profile with more samples is refused.
	DefaultMaxSamples = 16_000
	// DefaultMaxBytes keeps a profile, encoded and uncompressed, and its
	// series' labels within -distributor.ingestion-burst-size-mb (2 MiB):
	// a push larger than the burst is refused as over the rate limit, as
	// is one over -validation.max-profile-size-bytes (4 MiB). It leaves
	// 64 KiB for the labels.
	DefaultMaxBytes = 2<<20 - 64<<10
)

// OtherFrame is the frame that stands for the stacks Fit merges: under a
// stack's last kept frame, it holds the values of the stacks below that
// frame that were left out.
const OtherFrame = "(other)"

// FitOptions are the limits Fit fits a profile to. The zero value is
// Pyroscope's defaults.
type FitOptions struct {
	MaxSamples int // at most this many samples; 0 means DefaultMaxSamples
	MaxBytes   int // at most this many bytes, encoded uncompressed; 0 means DefaultMaxBytes
}

// FitResult says what Fit did.
type FitResult struct {
	Stacks  int // distinct stacks in the input profile
	Samples int // samples in the fitted profile
	Merged  int // input stacks merged into OtherFrame frames
	Bytes   int // the fitted profile's size, encoded uncompressed
}

// Fit returns a copy of p that a Pyroscope server with the limits in o
// accepts, with the same totals for every sample type.
//
// Samples with the same stack become one: their labels are left out,
// since Pyroscope stores a series for every value of a sample label (in a
// heap profile, the "type" label is also the stack's last frame). Then,
// while there are more samples than o.MaxSamples, or the profile is
// larger than o.MaxBytes, the stacks of least value are merged. Frames
// are kept heaviest first (by the values of p's default sample type in
// the stacks through them, then by the sum of all values), each as long
// as the samples fit; once one does not, only those that cost no more
// samples are. The values of the stacks left out below a kept frame go to
// one sample whose stack is that frame's with OtherFrame on top. So a flame graph of the result shows
// the heaviest paths as they were and "(other)" for the rest, at the
// depth where they part from what is kept. Every value of p is counted
// once in the result.
//
// Names that are not UTF-8, which the server refuses, have their bad
// bytes replaced by U+FFFD. Fit returns an error when even one sample is
// larger than o.MaxBytes.
func Fit(p *profile.Profile, o FitOptions) (*profile.Profile, FitResult, error) {
	maxSamples := o.MaxSamples
	if maxSamples <= 0 {
		maxSamples = DefaultMaxSamples
	}
	maxBytes := o.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	t := newTrie(p)
	res := FitResult{Stacks: t.stacks}
	for limit := maxSamples; ; {
		out, merged := t.fit(limit)
		var size countingWriter
		if err := out.WriteUncompressed(&size); err != nil {
			return nil, res, err
		}
		if int(size) <= maxBytes {
			res.Samples, res.Merged, res.Bytes = len(out.Sample), merged, int(size)
			return out, res, nil
		}
		if len(out.Sample) <= 1 {
			return nil, res, fmt.Errorf("the profile is %d bytes with one sample, more than the limit of %d", size, maxBytes)
		}
		// Samples cost about the same: aim a tenth under the limit.
		limit = min(len(out.Sample)-1, int(float64(len(out.Sample))*float64(maxBytes)/float64(size)*0.9))
		limit = max(limit, 1)
	}
}

type countingWriter int64

func (w *countingWriter) Write(b []byte) (int, error) {
	*w += countingWriter(len(b))
	return len(b), nil
}

// trie holds p's stacks, root frame first, as a tree of nodes. Node 0 is
// above every root frame; a node's parent comes before it.
type trie struct {
	p        *profile.Profile
	nvals    int
	parent   []int32
	loc      []int32 // index in locs; -1 for node 0
	depth    []int32
	own      []int64 // nvals values per node: those of the samples whose stack ends at the node
	hasOwn   []bool
	key      []weightKey
	childOff []int32 // children of node n: child[childOff[n]:childOff[n+1]]
	child    []int32
	stacks   int
	locs     []*profile.Location // p.Location, and any location a sample has that is not there
}

// weightKey orders nodes: by the default sample type's value in the
// node's subtree, then by the sum of all its values there.
type weightKey struct{ primary, all int64 }

func (a weightKey) less(b weightKey) bool {
	if a.primary != b.primary {
		return a.primary < b.primary
	}
	return a.all < b.all
}

func newTrie(p *profile.Profile) *trie {
	t := &trie{p: p, nvals: len(p.SampleType)}
	t.parent = append(t.parent, -1)
	t.loc = append(t.loc, -1)
	t.depth = append(t.depth, 0)
	t.own = append(t.own, make([]int64, t.nvals)...)
	t.hasOwn = append(t.hasOwn, false)
	t.locs = slices.Clone(p.Location)
	locIndex := make(map[*profile.Location]int32, len(p.Location))
	for i, l := range p.Location {
		locIndex[l] = int32(i)
	}
	type edge struct{ parent, loc int32 }
	nodes := map[edge]int32{}
	for _, s := range p.Sample {
		n := int32(0)
		for i := len(s.Location) - 1; i >= 0; i-- {
			l, ok := locIndex[s.Location[i]]
			if !ok {
				l = int32(len(t.locs))
				t.locs = append(t.locs, s.Location[i])
				locIndex[s.Location[i]] = l
			}
			e := edge{n, l}
			c, ok := nodes[e]
			if !ok {
				c = int32(len(t.parent))
				nodes[e] = c
				t.parent = append(t.parent, n)
				t.loc = append(t.loc, l)
				t.depth = append(t.depth, t.depth[n]+1)
				t.own = append(t.own, make([]int64, t.nvals)...)
				t.hasOwn = append(t.hasOwn, false)
			}
			n = c
		}
		if !t.hasOwn[n] {
			t.hasOwn[n] = true
			t.stacks++
		}
		own := t.own[int(n)*t.nvals : int(n+1)*t.nvals]
		for i := range min(len(own), len(s.Value)) {
			own[i] += s.Value[i]
		}
	}
	// Subtree weights, children after parents.
	primary := 0
	for i, st := range p.SampleType {
		if st.Type == p.DefaultSampleType {
			primary = i
		}
	}
	n := len(t.parent)
	t.key = make([]weightKey, n)
	for i := n - 1; i >= 0; i-- {
		own := t.own[i*t.nvals : (i+1)*t.nvals]
		if t.nvals > 0 {
			t.key[i].primary += own[primary]
		}
		for _, v := range own {
			t.key[i].all += v
		}
		if i > 0 {
			pa := t.parent[i]
			t.key[pa].primary += t.key[i].primary
			t.key[pa].all += t.key[i].all
		}
	}
	// Children lists: a count pass, then a fill pass.
	t.childOff = make([]int32, n+1)
	for i := 1; i < n; i++ {
		t.childOff[t.parent[i]+1]++
	}
	for i := range n {
		t.childOff[i+1] += t.childOff[i]
	}
	t.child = make([]int32, n-1)
	fill := slices.Clone(t.childOff[:n])
	for i := 1; i < n; i++ {
		pa := t.parent[i]
		t.child[fill[pa]] = int32(i)
		fill[pa]++
	}
	return t
}

// candidates is a max-heap of nodes by weight; lighter ones, then deeper
// ones, then later ones, come out last.
type candidates struct {
	t *trie
	n []int32
}

func (c *candidates) Len() int { return len(c.n) }
func (c *candidates) Less(i, j int) bool {
	a, b := c.n[i], c.n[j]
	ka, kb := c.t.key[a], c.t.key[b]
	if ka != kb {
		return kb.less(ka)
	}
	if c.t.depth[a] != c.t.depth[b] {
		return c.t.depth[a] < c.t.depth[b]
	}
	return a < b
}
func (c *candidates) Swap(i, j int) { c.n[i], c.n[j] = c.n[j], c.n[i] }
func (c *candidates) Push(x any)    { c.n = append(c.n, x.(int32)) }
func (c *candidates) Pop() any {
	x := c.n[len(c.n)-1]
	c.n = c.n[:len(c.n)-1]
	return x
}

// fit returns the profile with at most limit samples (limit >= 1), and
// the number of input stacks merged.
func (t *trie) fit(limit int) (*profile.Profile, int) {
	n := len(t.parent)
	kept := make([]bool, n)
	left := make([]int32, n) // children of a kept node not kept
	kept[0] = true
	left[0] = t.childOff[1] - t.childOff[0]
	count := 0
	if t.hasOwn[0] {
		count++
	}
	if left[0] > 0 {
		count++ // the "(other)" sample of everything
	}
	c := &candidates{t: t, n: slices.Clone(t.child[t.childOff[0]:t.childOff[1]])}
	heap.Init(c)
	full := false // a node did not fit: from then on, only those that cost no sample
	for c.Len() > 0 {
		v := heap.Pop(c).(int32)
		kids := t.childOff[v+1] - t.childOff[v]
		delta := 0
		if t.hasOwn[v] {
			delta++
		}
		if kids > 0 {
			delta++ // v's own "(other)", until its children are kept
		}
		if left[t.parent[v]] == 1 {
			delta-- // the parent's "(other)" goes
		}
		if count+delta > limit || full && delta > 0 {
			full = true
			continue
		}
		count += delta
		kept[v] = true
		left[t.parent[v]]--
		left[v] = kids
		for _, k := range t.child[t.childOff[v]:t.childOff[v+1]] {
			heap.Push(c, k)
		}
	}
	// Each node left out gives its values to its nearest kept ancestor's
	// "(other)".
	anc := make([]int32, n)
	other := make([]int64, n*t.nvals)
	merged := 0
	for i := range n {
		if kept[i] {
			anc[i] = int32(i)
			continue
		}
		a := t.parent[i]
		a = anc[a]
		anc[i] = a
		if t.hasOwn[i] {
			merged++
			dst := other[int(a)*t.nvals : int(a+1)*t.nvals]
			for j, v := range t.own[i*t.nvals : (i+1)*t.nvals] {
				dst[j] += v
			}
		}
	}
	b := newBuilder(t)
	for i := range n {
		if !kept[i] {
			continue
		}
		if t.hasOwn[i] {
			b.sample(int32(i), false, t.own[i*t.nvals:(i+1)*t.nvals])
		}
		if left[i] > 0 {
			b.sample(int32(i), true, other[i*t.nvals:(i+1)*t.nvals])
		}
	}
	return b.out, merged
}

// builder makes the fitted profile, with only the locations and functions
// its samples use, renumbered.
type builder struct {
	t     *trie
	out   *profile.Profile
	locs  []*profile.Location // per location of t.locs: its copy; nil until used
	funcs map[*profile.Function]*profile.Function
	maps  map[*profile.Mapping]*profile.Mapping
	other *profile.Location
}

func newBuilder(t *trie) *builder {
	p := t.p
	out := &profile.Profile{
		SampleType:        make([]*profile.ValueType, len(p.SampleType)),
		DefaultSampleType: p.DefaultSampleType,
		Period:            p.Period,
		TimeNanos:         p.TimeNanos,
		DurationNanos:     p.DurationNanos,
		Comments:          utf8All(p.Comments),
	}
	for i, st := range p.SampleType {
		out.SampleType[i] = &profile.ValueType{Type: utf8Str(st.Type), Unit: utf8Str(st.Unit)}
	}
	if p.PeriodType != nil {
		out.PeriodType = &profile.ValueType{Type: utf8Str(p.PeriodType.Type), Unit: utf8Str(p.PeriodType.Unit)}
	}
	return &builder{t: t, out: out, locs: make([]*profile.Location, len(t.locs)),
		funcs: map[*profile.Function]*profile.Function{}, maps: map[*profile.Mapping]*profile.Mapping{}}
}

// sample adds a sample whose stack is node n's, with OtherFrame on top
// when other is set.
func (b *builder) sample(n int32, other bool, values []int64) {
	t := b.t
	stack := make([]*profile.Location, 0, t.depth[n]+1)
	if other {
		stack = append(stack, b.otherLoc())
	}
	for ; n > 0; n = t.parent[n] {
		stack = append(stack, b.loc(t.loc[n]))
	}
	b.out.Sample = append(b.out.Sample, &profile.Sample{Location: stack, Value: slices.Clone(values)})
}

func (b *builder) loc(i int32) *profile.Location {
	if l := b.locs[i]; l != nil {
		return l
	}
	src := b.t.locs[i]
	l := &profile.Location{
		ID:       uint64(len(b.out.Location) + 1),
		Mapping:  b.mapping(src.Mapping),
		Address:  src.Address,
		IsFolded: src.IsFolded,
		Line:     make([]profile.Line, len(src.Line)),
	}
	for j, ln := range src.Line {
		l.Line[j] = profile.Line{Function: b.function(ln.Function), Line: ln.Line, Column: ln.Column}
	}
	b.out.Location = append(b.out.Location, l)
	b.locs[i] = l
	return l
}

func (b *builder) function(f *profile.Function) *profile.Function {
	if f == nil {
		return nil
	}
	if g, ok := b.funcs[f]; ok {
		return g
	}
	g := &profile.Function{ID: uint64(len(b.out.Function) + 1), Name: utf8Str(f.Name),
		SystemName: utf8Str(f.SystemName), Filename: utf8Str(f.Filename), StartLine: f.StartLine}
	b.out.Function = append(b.out.Function, g)
	b.funcs[f] = g
	return g
}

func (b *builder) mapping(m *profile.Mapping) *profile.Mapping {
	if m == nil {
		return nil
	}
	if g, ok := b.maps[m]; ok {
		return g
	}
	g := *m
	g.ID = uint64(len(b.out.Mapping) + 1)
	g.File, g.BuildID = utf8Str(m.File), utf8Str(m.BuildID)
	b.out.Mapping = append(b.out.Mapping, &g)
	b.maps[m] = &g
	return &g
}

func (b *builder) otherLoc() *profile.Location {
	if b.other != nil {
		return b.other
	}
	f := &profile.Function{ID: uint64(len(b.out.Function) + 1), Name: OtherFrame}
	b.out.Function = append(b.out.Function, f)
	var m *profile.Mapping
	if len(b.t.p.Mapping) > 0 {
		m = b.mapping(b.t.p.Mapping[0])
	}
	b.other = &profile.Location{ID: uint64(len(b.out.Location) + 1), Mapping: m, Line: []profile.Line{{Function: f}}}
	b.out.Location = append(b.out.Location, b.other)
	return b.other
}

func utf8Str(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func utf8All(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = utf8Str(s)
	}
	return out
}
