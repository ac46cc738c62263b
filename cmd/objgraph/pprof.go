package main

import (
	"fmt"
	"io"

	"github.com/google/pprof/profile"
	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/atomicfile"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type pprofOptions struct {
	out        string
	base       string
	qualified  bool
	maxSamples int
	alloc      bool
}

func init() {
	register(&command{
		name: "pprof",
		args: "SNAPSHOT -o OUT.pb.gz",
		summary: "Write a snapshot as a pprof profile, for go tool pprof and the other pprof tools.\n" +
			"Each sample is the objects held in one place: its stack is the shape of their\n" +
			"shortest chain of references from a root (root first, the objects' type last;\n" +
			"each frame names the reference and the type it leads to, as \"_cache: dict\"),\n" +
			"with three values, objects/count, space/bytes (own sizes) and retained/bytes,\n" +
			"and a \"type\" label. Retained values overlap along a chain: read them per\n" +
			"sample. With --base, the profile is SNAPSHOT minus OLD, as pprof's -base\n" +
			"computes it: what grew is positive. Profiles of two snapshots also compare\n" +
			"with go tool pprof -diff_base OLD.pb.gz NEW.pb.gz.",
		bind: withOptions(func(fs *pflag.FlagSet, o *pprofOptions) {
			fs.StringVarP(&o.out, "output", "o", "", "write the profile to this file (- for standard output); a new file gets mode 0600")
			fs.StringVar(&o.base, "base", "", "subtract the profile of this earlier snapshot of the same process")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.BoolVar(&o.alloc, "alloc", false, "the allocation view: stacks are the tracebacks tracemalloc recorded for each object's allocation (snapshots taken while it traced)")
			fs.IntVar(&o.maxSamples, "max-samples", 100_000, "at most this many samples: deeper chains are cut short")
		}, runPprof),
	})
}

// heapProfile loads a snapshot, and a base snapshot when base is set, and
// returns its profile (minus the base's) and the snapshots' descriptions.
func (c *cmdEnv) heapProfile(path, base string, alloc bool, opts objgraph.ProfileOptions) (*profile.Profile, []report.Snapshot, error) {
	h, err := c.loadHeap(path)
	if err != nil {
		return nil, nil, err
	}
	snaps := []report.Snapshot{c.summarize(path, h)}
	if h.Len() > 1_000_000 {
		c.progress("computing the profile of %s objects", units.Commas(uint64(h.Len())))
	}
	build := objgraph.Profile
	if alloc {
		build = objgraph.AllocProfile
	}
	p := build(h, opts)
	if p == nil {
		return nil, nil, fmt.Errorf("%s has no allocation tracebacks: take the snapshot while tracemalloc traces (PYTHONTRACEMALLOC=1, or objgraph run with it set)", path)
	}
	p.Comments = append(p.Comments, "snapshot: "+path)
	if base == "" {
		return p, snaps, nil
	}
	h = nil
	bh, err := c.loadHeap(base)
	if err != nil {
		return nil, nil, err
	}
	snaps = append(snaps, c.summarize(base, bh))
	bp := build(bh, opts)
	if bp == nil {
		return nil, nil, fmt.Errorf("%s has no allocation tracebacks: take the snapshot while tracemalloc traces (PYTHONTRACEMALLOC=1)", base)
	}
	d, err := objgraph.DiffProfile(p, bp)
	if err != nil {
		return nil, nil, fmt.Errorf("subtracting %s from %s: %w", base, path, err)
	}
	d.Comments = append(d.Comments, "minus snapshot: "+base)
	return d, snaps, nil
}

func runPprof(c *cmdEnv, o *pprofOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	if o.out == "" {
		return usagef("name the output with -o OUT.pb.gz")
	}
	if o.out == "-" && c.json {
		return usagef("-o - and --json both write to standard output: choose one")
	}
	if o.maxSamples < 1 {
		return usagef("--max-samples must be 1 or more")
	}
	if err := checkOutput(o.out); err != nil {
		return err
	}
	p, snaps, err := c.heapProfile(args[0], o.base, o.alloc, objgraph.ProfileOptions{Qualified: o.qualified, MaxSamples: o.maxSamples})
	if err != nil {
		return err
	}
	if o.out == "-" {
		err = p.Write(c.stdout)
	} else {
		err = atomicfile.Write(o.out, outputMode, func(w io.Writer) error { return p.Write(w) })
	}
	if err != nil {
		return err
	}
	var objects, bytes int64
	for _, s := range p.Sample {
		objects += s.Value[0]
		bytes += s.Value[1]
	}
	if c.json {
		r := &report.ProfileFile{Snapshot: snaps[0], Output: o.out, Samples: len(p.Sample), Objects: objects, Bytes: bytes}
		if len(snaps) > 1 {
			r.Base = &snaps[1]
		}
		return c.write(r)
	}
	if o.out != "-" {
		fmt.Fprintf(c.stderr, "objgraph: wrote %s: %s, %s objects, %s; view it with\n\tgo tool pprof -http=localhost: %s\n",
			o.out, units.Commas(uint64(len(p.Sample)))+" samples", signedCommas(objects), signedBytes(bytes), o.out)
	}
	return nil
}

func signedCommas(n int64) string {
	if n < 0 {
		return "-" + units.Commas(uint64(-n))
	}
	return units.Commas(uint64(n))
}

func signedBytes(n int64) string {
	if n < 0 {
		return "-" + units.Bytes(uint64(-n))
	}
	return units.Bytes(uint64(n))
}
