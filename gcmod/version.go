package gcmod

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a CPython version. The zero value is not a version; see
// ParseVersion.
type Version struct {
	Major, Minor, Patch int
}

// defaultVersion is the version a Runtime follows when Options.Version is
// empty, and the version offline collection assumes when neither its options
// nor the snapshot name one.
var defaultVersion = Version{3, 11, 7}

// ParseVersion reads a version such as "3.11", "3.12.1" or "3.14.0rc2" (what
// follows the last number is ignored). A missing patch level is 0.
func ParseVersion(s string) (Version, error) {
	var v Version
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) < 2 {
		return v, fmt.Errorf("parsing version %q: want major.minor[.patch]", s)
	}
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 || (i < 2 && end != len(p)) {
			return Version{}, fmt.Errorf("parsing version %q: %q is not a number", s, p)
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return Version{}, fmt.Errorf("parsing version %q: %w", s, err)
		}
		*nums[i] = n
	}
	return v, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// less reports whether v comes before major.minor.patch.
func (v Version) less(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major < major
	}
	if v.Minor != minor {
		return v.Minor < minor
	}
	return v.Patch < patch
}

// Collector names the collection algorithm a version uses.
type Collector int

const (
	// Legacy is the generational collector before PEP 442 (CPython before
	// 3.4): an unreachable object with __del__ is uncollectable and goes to
	// gc.garbage with everything it reaches.
	Legacy Collector = iota
	// Generational is the three-generation collector of CPython 3.4 to 3.13
	// and of 3.14.5 and later.
	Generational
	// Incremental is the incremental collector of CPython 3.14.0 to 3.14.4:
	// a young generation and two old spaces scanned a slice at a time.
	Incremental
)

func (c Collector) String() string {
	switch c {
	case Legacy:
		return "legacy"
	case Generational:
		return "generational"
	case Incremental:
		return "incremental"
	}
	return "collector(" + strconv.Itoa(int(c)) + ")"
}

// rules are the version-dependent behaviours.
type rules struct {
	version        Version
	collector      Collector
	thresholds     [3]int
	deferred       bool // 3.12+: a collection the allocation counter asks for runs when the allocating call returns
	lazyDicts      bool // before 3.14: dicts start untracked and are tracked when a container is stored in them
	hasFinal       bool // 3.4+: tp_finalize (PEP 442)
	instanceDicts  bool // before 3.11: an instance's attributes live in a separate __dict__ object
	frameObjects   bool // before 3.11: a call of a Python function makes a gc-aware frame object
	methodFreeList int  // before 3.9: freed bound methods are kept on a free list of 256
	resurrectAll   bool // before 3.9: when a finalizer resurrects one unreachable object, none is freed
}

// Collector is the collection algorithm CPython v uses.
func (v Version) Collector() Collector { return rulesFor(v).collector }

func rulesFor(v Version) rules {
	r := rules{version: v, collector: Generational, thresholds: [3]int{700, 10, 10},
		lazyDicts: true, hasFinal: true}
	switch {
	case v.less(3, 4, 0):
		r.collector = Legacy
		r.hasFinal = false
	case !v.less(3, 14, 0) && v.less(3, 14, 5):
		r.collector = Incremental
	}
	if v.less(3, 11, 0) {
		r.instanceDicts = true
		r.frameObjects = true
	}
	if v.less(3, 9, 0) {
		r.methodFreeList = 256
		r.resurrectAll = true
	}
	if !v.less(3, 12, 0) {
		r.deferred = true
	}
	if !v.less(3, 13, 0) {
		r.thresholds[0] = 2000
	}
	if !v.less(3, 14, 0) {
		r.lazyDicts = false
	}
	if r.collector == Incremental {
		r.thresholds = [3]int{2000, 10, 0}
	}
	return r
}

// The versions the differential tests (fidelity_test.go) prove a Runtime
// against: every scenario gives the same results in a Runtime and in a
// real interpreter of each minor version from oldestVerified to
// newestVerified.
var (
	oldestVerified = Version{3, 7, 0}
	newestVerified = Version{3, 13, 0}
)

// verified reports whether the differential tests prove a Runtime of
// version v (by its minor version).
func verified(v Version) bool {
	return v.Major == 3 && v.Minor >= oldestVerified.Minor && v.Minor <= newestVerified.Minor
}

// UnverifiedError is the error NewRuntime returns for a version the
// differential tests do not prove a Runtime against, unless
// Options.Unverified accepts it.
type UnverifiedError struct {
	Version Version // the version asked for
}

func (e *UnverifiedError) Error() string {
	why := "no interpreter of it has run the differential tests"
	if e.Version.less(3, 7, 0) {
		why = "the differential tests cannot run on it: they need gc.freeze (3.7) to isolate a scenario from the interpreter"
	}
	return fmt.Sprintf("CPython %s is not verified: the Runtime is proven against CPython %d.%d to %d.%d, and %s; set Options.Unverified to follow its rules unproven",
		e.Version, oldestVerified.Major, oldestVerified.Minor, newestVerified.Major, newestVerified.Minor, why)
}
