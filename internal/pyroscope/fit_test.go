package pyroscope

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// build makes a profile with sample types objects and space (the
// default), from stacks written root first as "a;b;c", each with its
// values and a "type" label.
func build(samples ...struct {
	stack  string
	values []int64
}) *profile.Profile {
	p := &profile.Profile{
		SampleType:        []*profile.ValueType{{Type: "objects", Unit: "count"}, {Type: "space", Unit: "bytes"}},
		DefaultSampleType: "space",
		PeriodType:        &profile.ValueType{Type: "space", Unit: "bytes"},
		Period:            1,
	}
	m := &profile.Mapping{ID: 1, File: "objgraph-heap", HasFunctions: true}
	p.Mapping = []*profile.Mapping{m}
	locs := map[string]*profile.Location{}
	for _, s := range samples {
		frames := strings.Split(s.stack, ";")
		var stack []*profile.Location
		for i := len(frames) - 1; i >= 0; i-- {
			l := locs[frames[i]]
			if l == nil {
				f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: frames[i]}
				p.Function = append(p.Function, f)
				l = &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Line: []profile.Line{{Function: f}}}
				p.Location = append(p.Location, l)
				locs[frames[i]] = l
			}
			stack = append(stack, l)
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: stack, Value: s.values,
			Label: map[string][]string{"type": {frames[len(frames)-1]}}})
	}
	return p
}

type spec = struct {
	stack  string
	values []int64
}

// stacks lists p's samples as "a;b;c=objects/space", sorted.
func stacks(p *profile.Profile) []string {
	var out []string
	for _, s := range p.Sample {
		var names []string
		for i := len(s.Location) - 1; i >= 0; i-- {
			names = append(names, s.Location[i].Line[0].Function.Name)
		}
		out = append(out, fmt.Sprintf("%s=%d/%d", strings.Join(names, ";"), s.Value[0], s.Value[1]))
	}
	slices.Sort(out)
	return out
}

func sums(p *profile.Profile) []int64 {
	out := make([]int64, len(p.SampleType))
	for _, s := range p.Sample {
		for i, v := range s.Value {
			out[i] += v
		}
	}
	return out
}

func TestFit(t *testing.T) {
	p := build(
		spec{"mod;_cache: dict;[*]: Response", []int64{600, 60000}},
		spec{"mod;_cache: dict;[*]: str", []int64{600, 30000}},
		spec{"mod;_cache: dict", []int64{1, 20000}},
		spec{"mod;handlers: list;[*]: function", []int64{3, 400}},
		spec{"mod;handlers: list;[*]: cell", []int64{3, 150}},
		spec{"mod;name: str", []int64{1, 50}},
		spec{"thread;f_locals: dict", []int64{1, 100}},
	)
	for _, tc := range []struct {
		max  int
		want []string
	}{
		{100, []string{ // everything fits
			"mod;_cache: dict;[*]: Response=600/60000",
			"mod;_cache: dict;[*]: str=600/30000",
			"mod;_cache: dict=1/20000",
			"mod;handlers: list;[*]: cell=3/150",
			"mod;handlers: list;[*]: function=3/400",
			"mod;name: str=1/50",
			"thread;f_locals: dict=1/100",
		}},
		{5, []string{ // the lightest stacks under mod merge into one (other); thread's is one sample either way
			"mod;(other)=7/600",
			"mod;_cache: dict;[*]: Response=600/60000",
			"mod;_cache: dict;[*]: str=600/30000",
			"mod;_cache: dict=1/20000",
			"thread;f_locals: dict=1/100",
		}},
		{3, []string{ // keeping _cache would take two more; thread's stack costs none
			"mod;(other)=1208/110600",
			"thread;f_locals: dict=1/100",
		}},
		{2, []string{
			"mod;(other)=1208/110600",
			"thread;f_locals: dict=1/100",
		}},
		{1, []string{"(other)=1209/110700"}},
	} {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			out, res, err := Fit(p, FitOptions{MaxSamples: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			got := stacks(out)
			if !slices.Equal(got, tc.want) {
				t.Errorf("fitted to %d:\n%s\nwant\n%s", tc.max, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !slices.Equal(sums(out), sums(p)) {
				t.Errorf("totals %v, want %v", sums(out), sums(p))
			}
			if res.Stacks != 7 || res.Samples != len(out.Sample) || res.Samples > tc.max {
				t.Errorf("result %+v for %d samples", res, len(out.Sample))
			}
			for _, s := range out.Sample {
				if len(s.Label) != 0 {
					t.Errorf("sample with labels %v", s.Label)
				}
			}
			if err := out.CheckValid(); err != nil {
				t.Errorf("fitted profile: %v", err)
			}
		})
	}
}

// Samples of one stack with different labels are one stack for
// Pyroscope; names that are not UTF-8 are mended.
func TestFitMergesAndMends(t *testing.T) {
	p := build(
		spec{"mod;x: dict", []int64{1, 10}},
		spec{"mod;x: dict", []int64{2, 20}},
		spec{"mod;'\xff': str", []int64{1, 5}},
	)
	p.Sample[1].Label = map[string][]string{"type": {"other"}}
	out, res, err := Fit(p, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mod;'\uFFFD': str=1/5", "mod;x: dict=3/30"}
	if got := stacks(out); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if res.Stacks != 2 || res.Merged != 0 {
		t.Errorf("result %+v", res)
	}
}

// A byte limit below the profile's size merges more stacks.
func TestFitBytes(t *testing.T) {
	p := randomProfile(rand.New(rand.NewPCG(1, 2)), 2000)
	all, res, err := Fit(p, FitOptions{MaxSamples: 1 << 20, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	limit := res.Bytes / 3
	out, res2, err := Fit(p, FitOptions{MaxSamples: 1 << 20, MaxBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Bytes > limit || res2.Samples >= len(all.Sample) || res2.Merged == 0 {
		t.Errorf("fitted to %d bytes: %+v (unfitted %+v)", limit, res2, res)
	}
	var size countingWriter
	if err := out.WriteUncompressed(&size); err != nil || int(size) != res2.Bytes {
		t.Errorf("the fitted profile is %d bytes (%v), Fit says %d", size, err, res2.Bytes)
	}
	if !slices.Equal(sums(out), sums(p)) {
		t.Errorf("totals %v, want %v", sums(out), sums(p))
	}
	if _, _, err := Fit(p, FitOptions{MaxBytes: 10}); err == nil {
		t.Error("a 10-byte limit: no error")
	}
}

// randomProfile has n samples with stacks up to 8 frames deep over a few
// names per depth, so that stacks share prefixes.
func randomProfile(r *rand.Rand, n int) *profile.Profile {
	var specs []spec
	for range n {
		depth := 1 + r.IntN(8)
		var frames []string
		for d := range depth {
			frames = append(frames, fmt.Sprintf("f%d_%d", d, r.IntN(4+d)))
		}
		specs = append(specs, spec{strings.Join(frames, ";"), []int64{1 + r.Int64N(10), r.Int64N(1000)}})
	}
	return build(specs...)
}

// Whatever the limit, the totals are exact, the samples within the limit,
// and every stack is a prefix of an input stack, with (other) on top when
// it is a merge.
func TestFitRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 50 {
		p := randomProfile(r, 1+r.IntN(500))
		prefixes := map[string]bool{}
		for _, s := range stacks(p) {
			frames := strings.Split(s[:strings.IndexByte(s, '=')], ";")
			for j := range frames {
				prefixes[strings.Join(frames[:j+1], ";")] = true
			}
		}
		max := 1 + r.IntN(len(p.Sample))
		out, res, err := Fit(p, FitOptions{MaxSamples: max})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Sample) > max || res.Samples != len(out.Sample) {
			t.Errorf("%d: %d samples, limit %d", i, len(out.Sample), max)
		}
		if !slices.Equal(sums(out), sums(p)) {
			t.Errorf("%d: totals %v, want %v", i, sums(out), sums(p))
		}
		seen := map[string]bool{}
		for _, s := range stacks(out) {
			st := s[:strings.IndexByte(s, '=')]
			if seen[st] {
				t.Errorf("%d: stack %s twice", i, st)
			}
			seen[st] = true
			st = strings.TrimSuffix(strings.TrimSuffix(st, OtherFrame), ";")
			if st != "" && !prefixes[st] {
				t.Errorf("%d: stack %s is no input stack's prefix", i, s)
			}
		}
		if err := out.CheckValid(); err != nil {
			t.Errorf("%d: %v", i, err)
		}
	}
}
