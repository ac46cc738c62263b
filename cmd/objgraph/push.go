package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/pyroscope"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// pushSummary is the help text of objgraph push.
const pushSummary = `Push the heap profile of each snapshot (the profile objgraph pprof writes) to a
Grafana Pyroscope server, through its ingest API (POST URL/ingest, format=pprof),
as the profile types memory:objects, memory:space and memory:retained of the
service --service, labelled with the snapshot's pid, host and python_version and
each --label. Compare snapshots over time and across hosts in Pyroscope or Grafana.

A profile is stored at the time its snapshot was taken. Pyroscope refuses a
profile older than its ingestion window (an hour, by default): such a snapshot is
not pushed, and --now pushes it stamped with the present time instead.
Pyroscope also refuses a profile with more than 16,000 samples or larger than its
burst size (2 MiB): the stacks of least bytes are merged, under the frame where
they part from the stacks kept, into an "(other)" frame, so the totals stay exact
(--max-samples, --max-bytes for a server with other limits). Samples carry no
labels, which Pyroscope would make a series of: the type is the stack's last frame.

A password in the URL (https://USER:PASSWORD@HOST) is sent as basic auth and never
printed. Example:
  objgraph push --pyroscope http://localhost:4040 --label env=prod heap-*.ogs`

// pushOptions are objgraph push's flags.
type pushOptions struct {
	url        string   // the server's base URL
	service    string   // the service name; "" for the program's
	labels     []string // KEY=VALUE, as given
	now        bool     // stamp the profiles with the present time
	tenant     string   // X-Scope-OrgID
	maxSamples int      // the server's samples limit
	maxBytes   int      // the server's size limit
	qualified  bool     // module-qualified type names
}

func init() {
	register(&command{
		name:    "push",
		args:    "--pyroscope URL SNAPSHOT...",
		summary: pushSummary,
		bind: withOptions(func(fs *pflag.FlagSet, o *pushOptions) {
			fs.StringVar(&o.url, "pyroscope", "", "the Pyroscope server's URL, e.g. http://localhost:4040 (required)")
			fs.StringVar(&o.service, "service", "", "the service name (default: the program's script or module from the snapshot's command line, else python)")
			fs.StringArrayVar(&o.labels, "label", nil, "a label KEY=VALUE on every profile (repeat for more); it replaces the snapshot's label of the same KEY")
			fs.BoolVar(&o.now, "now", false, "stamp the profiles with the present time, not the snapshots' (for a snapshot older than the server's ingestion window)")
			fs.StringVar(&o.tenant, "tenant", "", "the tenant of a multi-tenant server (the X-Scope-OrgID header)")
			fs.IntVar(&o.maxSamples, "max-samples", pyroscope.DefaultMaxSamples, "at most this many samples a profile: the server's -validation.max-profile-stacktrace-samples")
			fs.IntVar(&o.maxBytes, "max-bytes", pyroscope.DefaultMaxBytes, "at most this many bytes a profile, uncompressed: under the server's -distributor.ingestion-burst-size-mb and -validation.max-profile-size-bytes")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
		}, runPush),
	})
}

// pushed is one snapshot's line of objgraph push --json.
type pushed struct {
	Snapshot     string            `json:"snapshot"`
	Service      string            `json:"service,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Name         string            `json:"name,omitempty"`          // the ingest API's name parameter
	Time         *time.Time        `json:"time,omitempty"`          // the time the profile is stored at
	SnapshotTime *time.Time        `json:"snapshot_time,omitempty"` // when the snapshot was taken
	StampedNow   bool              `json:"stamped_now,omitempty"`   // time is the push's, not the snapshot's
	Objects      int64             `json:"objects"`
	Bytes        int64             `json:"bytes"`
	Stacks       int               `json:"stacks"`  // the profile's distinct stacks
	Samples      int               `json:"samples"` // the samples pushed
	Merged       int               `json:"merged"`  // stacks merged into (other) frames
	ProfileBytes int               `json:"profile_bytes"`
	Error        string            `json:"error,omitempty"`
}

func runPush(c *cmdEnv, o *pushOptions, args []string) error {
	if o.url == "" {
		return usagef("name the server with --pyroscope URL")
	}
	if len(args) == 0 {
		return usagef("missing SNAPSHOT")
	}
	if o.maxSamples < 1 {
		return usagef("--max-samples must be 1 or more")
	}
	if o.maxBytes < 1024 {
		return usagef("--max-bytes must be 1024 or more")
	}
	if o.service != "" {
		if err := pyroscope.CheckService(o.service); err != nil {
			return usagef("--service: %v", err)
		}
	}
	labels := map[string]string{}
	for _, l := range o.labels {
		k, v, err := pyroscope.ParseLabel(l)
		if err != nil {
			return usagef("--label: %v", err)
		}
		labels[k] = v
	}
	p := &pusher{
		client: &pyroscope.Client{URL: o.url, Tenant: o.tenant},
		opts: pyroscope.SnapshotOptions{Service: o.service, Labels: labels, Now: o.now,
			Fit:     pyroscope.FitOptions{MaxSamples: o.maxSamples, MaxBytes: o.maxBytes},
			Profile: objgraph.ProfileOptions{Qualified: o.qualified}},
		env: c,
	}
	if err := pyroscope.CheckURL(o.url); err != nil {
		return usagef("--pyroscope: %v", err)
	}
	var results []pushed
	failed := 0
	for i, path := range args {
		r, err := p.push(path)
		results = append(results, r)
		if err == nil {
			if !c.json {
				fmt.Fprintln(c.stderr, "objgraph: "+describePush(r, o.url))
			}
			continue
		}
		failed++
		fmt.Fprintf(c.stderr, "objgraph: %s\n", err)
		var ue *pyroscope.UnreachableError
		if errors.As(err, &ue) && i+1 < len(args) {
			fmt.Fprintf(c.stderr, "objgraph: the other %d snapshot(s) not pushed\n", len(args)-i-1)
			for _, rest := range args[i+1:] {
				results = append(results, pushed{Snapshot: rest, Error: "not pushed: no answer from the server"})
			}
			failed += len(args) - i - 1
			break
		}
	}
	if c.json {
		if err := c.writeJSON(results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return exitError{code: exitFail}
	}
	return nil
}

// pusher pushes snapshots to one server.
type pusher struct {
	client *pyroscope.Client
	opts   pyroscope.SnapshotOptions
	env    *cmdEnv
}

// push pushes one snapshot, and says what it stored, or why not: the
// error names the snapshot.
func (p *pusher) push(path string) (pushed, error) {
	r := pushed{Snapshot: path}
	fail := func(err error) (pushed, error) {
		r.Error = err.Error()
		return r, fmt.Errorf("%s: not pushed: %w", path, err)
	}
	h, err := p.env.loadHeap(path)
	if err != nil {
		return fail(err)
	}
	if h.Len() > 1_000_000 {
		p.env.progress("computing the profile of %s objects", units.Commas(uint64(h.Len())))
	}
	st, err := p.client.PushSnapshot(context.Background(), h, p.opts)
	var we *pyroscope.WindowError
	if errors.As(err, &we) && !p.opts.Now {
		err = fmt.Errorf("%w; --now pushes it stamped with the present time", err)
	}
	if err != nil {
		return fail(err)
	}
	r.Service, r.Labels, r.Name = st.Name.Service, st.Name.Labels, st.Name.String()
	r.Time, r.StampedNow = &st.Time, st.StampedNow
	if !st.SnapshotTime.IsZero() {
		r.SnapshotTime = &st.SnapshotTime
	}
	r.Objects, r.Bytes = st.Objects, st.Bytes
	r.Stacks, r.Samples, r.Merged, r.ProfileBytes = st.Stacks, st.Samples, st.Merged, st.FitResult.Bytes
	return r, nil
}

// describePush is the line that says what was pushed.
func describePush(r pushed, url string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pushed %s to %s as %s at %s", r.Snapshot, redactURL(url), r.Name, r.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	if r.StampedNow {
		if r.SnapshotTime != nil {
			fmt.Fprintf(&b, " (taken %s)", r.SnapshotTime.UTC().Format("2006-01-02 15:04:05 UTC"))
		} else {
			b.WriteString(" (the snapshot has no time)")
		}
	}
	fmt.Fprintf(&b, ": %s objects, %s, %s samples", units.Commas(uint64(r.Objects)), units.Bytes(uint64(r.Bytes)), units.Commas(uint64(r.Samples)))
	if r.Merged > 0 {
		fmt.Fprintf(&b, " (%s of %s stacks merged into %s frames)", units.Commas(uint64(r.Merged)), units.Commas(uint64(r.Stacks)), pyroscope.OtherFrame)
	}
	return b.String()
}

// redactURL is u with any password replaced by xxxxx.
func redactURL(u string) string {
	if v, err := url.Parse(u); err == nil {
		return v.Redacted()
	}
	return u
}

// runPusher pushes the snapshots objgraph run's program writes to a
// directory: those that appear after it starts, checked every second and
// once more when finish is called.
type runPusher struct {
	p       *pusher
	dir     string
	url     string
	w       io.Writer // where to say what was pushed
	seen    map[string]bool
	stop    chan struct{}
	done    sync.WaitGroup
	stopped sync.Once
}

// startRunPusher starts pushing the new snapshots in dir to the server at
// the URL server, saying so on w.
func startRunPusher(c *cmdEnv, w io.Writer, dir, server string) (*runPusher, error) {
	rp := &runPusher{p: &pusher{client: &pyroscope.Client{URL: server}, env: c}, dir: dir, url: server, w: w,
		seen: map[string]bool{}, stop: make(chan struct{})}
	if err := pyroscope.CheckURL(server); err != nil {
		return nil, usagef("--push: %v", err)
	}
	for _, name := range rp.snapshots() {
		rp.seen[name] = true // there before the program
	}
	rp.done.Add(1)
	go func() {
		defer rp.done.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				rp.pushNew()
			case <-rp.stop:
				rp.pushNew()
				return
			}
		}
	}()
	return rp, nil
}

// snapshots lists the snapshot files in the directory, as the agent names
// them (it writes each under another name and renames it when complete).
func (rp *runPusher) snapshots() []string {
	entries, err := os.ReadDir(rp.dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "objgraph-") && strings.HasSuffix(n, ".ogs") && e.Type().IsRegular() {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

func (rp *runPusher) pushNew() {
	for _, name := range rp.snapshots() {
		if rp.seen[name] {
			continue
		}
		rp.seen[name] = true
		r, err := rp.p.push(filepath.Join(rp.dir, name))
		if err != nil {
			fmt.Fprintf(rp.w, "objgraph: %v\n", err)
			continue
		}
		fmt.Fprintln(rp.w, "objgraph: "+describePush(r, rp.url))
	}
}

// finish pushes the snapshots not pushed yet, and stops.
func (rp *runPusher) finish() {
	rp.stopped.Do(func() { close(rp.stop) })
	rp.done.Wait()
}
