package pyroscope

import (
	"context"
	"fmt"
	"maps"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// SnapshotOptions say how PushSnapshot names, stamps and fits the profile
// of a snapshot. The zero value names it after the program, labels it
// with the snapshot's pid, host and Python version, stamps it with the
// snapshot's time and fits it to Pyroscope's default limits.
type SnapshotOptions struct {
	Service string                  // service name; "" means ServiceName of the snapshot's meta
	Labels  map[string]string       // labels on top of the snapshot's own (SnapshotLabels), replacing those of the same key
	Now     bool                    // stamp the profile with the present time, not the snapshot's
	Fit     FitOptions              // the server's limits
	Profile objgraph.ProfileOptions // how the profile is made, as objgraph pprof makes it
	Clock   func() time.Time        // the present; nil means time.Now
}

// Stored is what PushSnapshot pushed.
type Stored struct {
	Name         Name      // the series
	Time         time.Time // the time the profile is stored at
	SnapshotTime time.Time // the snapshot's capture time; zero when it has none
	StampedNow   bool      // Time is the present, not the snapshot's time (Now, or a snapshot without one)
	Objects      int64     // the profile's objects, summed
	Bytes        int64     // the profile's own sizes, summed
	FitResult
}

// WindowError is a push the server refused for the time the profile was
// stamped with: outside its ingestion window, which by default starts an
// hour before the present (-validation.reject-older-than) and ends ten
// minutes after it (-validation.reject-newer-than).
type WindowError struct {
	Time   time.Time     // the time the profile was stamped with
	Age    time.Duration // how long before the push that was
	Server *ServerError
}

func (e *WindowError) Error() string {
	detail := "the server refused its time"
	// The server says "(profile timestamp: T, the ingestion window starts
	// at A and ends at B)".
	if i := strings.Index(e.Server.Message, "the ingestion window"); i >= 0 {
		detail = strings.TrimSuffix(e.Server.Message[i:], ")")
	}
	when := approx(e.Age) + " ago"
	if e.Age < 0 {
		when = approx(-e.Age) + " ahead of this machine's clock"
	}
	return fmt.Sprintf("the snapshot was taken at %s (%s), outside the server's ingestion window: %s",
		e.Time.UTC().Format("2006-01-02 15:04:05 UTC"), when, detail)
}

func (e *WindowError) Unwrap() error { return e.Server }

// approx says d in the largest unit it has two of: 3 days, 5 hours, 12
// minutes, 40 seconds.
func approx(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "days"}, {time.Hour, "hours"}, {time.Minute, "minutes"}} {
		if d >= 2*u.d {
			return fmt.Sprintf("%d %s", d/u.d, u.name)
		}
	}
	return fmt.Sprintf("%d seconds", d/time.Second)
}

// PushSnapshot pushes the heap profile of h (objgraph.Profile, as
// objgraph pprof writes it) to the server, fitted to o.Fit, under the
// service o.Service with the labels of SnapshotLabels and o.Labels,
// stamped with the snapshot's time, or the present with o.Now or when the
// snapshot has no time. A profile the server refuses for its time is a
// *WindowError.
func (c *Client) PushSnapshot(ctx context.Context, h *heap.Heap, o SnapshotOptions) (Stored, error) {
	meta := h.Meta()
	name := Name{Service: o.Service, Labels: SnapshotLabels(meta)}
	if name.Service == "" {
		name.Service = ServiceName(meta)
	}
	maps.Copy(name.Labels, o.Labels)
	if err := name.Check(); err != nil {
		return Stored{}, err
	}
	clock := o.Clock
	if clock == nil {
		clock = time.Now
	}
	st := Stored{Name: name, SnapshotTime: meta.Time, Time: meta.Time}
	if o.Now || meta.Time.IsZero() {
		st.Time, st.StampedNow = clock(), true
	}
	p, res, err := Fit(objgraph.Profile(h, o.Profile), o.Fit)
	if err != nil {
		return Stored{}, err
	}
	st.FitResult = res
	for _, s := range p.Sample {
		st.Objects += s.Value[0]
		st.Bytes += s.Value[1]
	}
	if err := c.Push(ctx, name, st.Time, p); err != nil {
		if se, ok := err.(*ServerError); ok && se.OutsideWindow() {
			return Stored{}, &WindowError{Time: st.Time, Age: clock().Sub(st.Time), Server: se}
		}
		return Stored{}, err
	}
	return st, nil
}

// SnapshotLabels are the labels of a snapshot's profile from its meta:
// pid, host and python_version, those it has.
func SnapshotLabels(m *heap.Meta) map[string]string {
	ls := map[string]string{}
	if m.PID > 0 {
		ls["pid"] = strconv.Itoa(m.PID)
	}
	if v := labelValue(m.Host); v != "" {
		ls["host"] = v
	}
	if v := labelValue(m.Version); v != "" {
		ls["python_version"] = v
	}
	return ls
}

// labelValue is s with what CheckLabel refuses in a value taken out.
func labelValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ',' || r == '}' {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.TrimSpace(s)
	if len(s) > maxLabelValue {
		s = s[:maxLabelValue]
	}
	return s
}

// DefaultService is the service name of a snapshot whose program has no
// name ServiceName can use.
const DefaultService = "python"

// ServiceName is the service name of a snapshot's profile when none is
// given: the name of the program's script from its command line (app for
// python3 /srv/app.py, the module for python3 -m pkg.mod), made of the
// characters a service name may have, or DefaultService (python3 -c, a
// redacted command line).
func ServiceName(m *heap.Meta) string {
	if s := cleanService(programName(m.Argv)); s != "" {
		return s
	}
	return DefaultService
}

// programName finds the script or module in a Python command line, with
// or without the interpreter first (sys.orig_argv, or sys.argv before
// Python 3.10).
func programName(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	if !strings.HasPrefix(path.Base(argv[0]), "python") {
		return scriptName(argv[0])
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-c" || strings.HasPrefix(a, "-c") && !strings.HasPrefix(a, "--"):
			return ""
		case a == "-m":
			if i+1 < len(argv) {
				return argv[i+1]
			}
			return ""
		case strings.HasPrefix(a, "-m") && !strings.HasPrefix(a, "--"):
			return a[2:]
		case a == "-W" || a == "-X" || a == "--check-hash-based-pycs":
			i++ // the option's argument
		case a == "--":
			if i+1 < len(argv) {
				return scriptName(argv[i+1])
			}
			return ""
		case a == "-" || !strings.HasPrefix(a, "-"):
			return scriptName(a)
		}
	}
	return ""
}

// scriptName is the name of a script from its path: app for /srv/app.py,
// pkg for pkg/__main__.py.
func scriptName(a string) string {
	if a == "" || a == "-" || strings.HasPrefix(a, "<") { // "<str of N>" when redacted
		return ""
	}
	base := strings.TrimSuffix(path.Base(a), ".py")
	if base == "__main__" {
		base = path.Base(path.Dir(a))
	}
	return base
}

// cleanService replaces what a service name may not have by _.
func cleanService(s string) string {
	b := []rune{}
	for _, r := range s {
		if isNameRune(r) || r == '-' || r == '.' {
			b = append(b, r)
		} else {
			b = append(b, '_')
		}
	}
	return strings.Trim(string(b), "._-")
}
