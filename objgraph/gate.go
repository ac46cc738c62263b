package objgraph

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A GrowthLimit is one rule of a leak gate: how much a type's objects (or
// all of them) may grow from the first snapshot to the last before the
// gate fails. It is written as a count ("10"), a size ("10MiB", "512KB"),
// or a share of the first count ("5%"), alone for every type or after
// TYPE= for one ("Session=0", "dict=5%", "bytes=1MiB").
type GrowthLimit struct {
	Type    string  // the type the rule is for; "" for every type (a size then bounds all new objects together)
	Count   int     // objects a type may gain; -1 when the rule is not a count
	Bytes   uint64  // bytes the new objects may take; 0 when the rule is not a size
	Percent float64 // growth allowed as a share of the first count, in percent; -1 when not a share
	Spec    string  // the rule as written
}

// ParseGrowthLimit reads one rule of a leak gate.
func ParseGrowthLimit(spec string) (GrowthLimit, error) {
	l := GrowthLimit{Count: -1, Percent: -1, Spec: spec}
	v := strings.TrimSpace(spec)
	if t, rest, ok := strings.Cut(v, "="); ok {
		l.Type, v = strings.TrimSpace(t), strings.TrimSpace(rest)
		if l.Type == "" {
			return l, fmt.Errorf("growth limit %q: no type before =", spec)
		}
	}
	switch {
	case v == "":
		return l, fmt.Errorf("growth limit %q: no limit", spec)
	case strings.HasSuffix(v, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || p < 0 || math.IsInf(p, 0) || math.IsNaN(p) {
			return l, fmt.Errorf("growth limit %q: %q is not a percentage", spec, v)
		}
		l.Percent = p
	default:
		if n, err := strconv.Atoi(v); err == nil {
			if n < 0 {
				return l, fmt.Errorf("growth limit %q: a count cannot be negative", spec)
			}
			l.Count = n
			break
		}
		b, err := parseBytes(v)
		if err != nil {
			return l, fmt.Errorf("growth limit %q: %w", spec, err)
		}
		l.Bytes = b
	}
	return l, nil
}

// byteUnits are the size suffixes ParseGrowthLimit knows, longest first.
var byteUnits = []struct {
	suffix string
	scale  float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

func parseBytes(v string) (uint64, error) {
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(v, u.suffix)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*u.scale >= 1<<63 {
			break
		}
		return uint64(f * u.scale), nil
	}
	return 0, fmt.Errorf("%q is not a count (10), a size (10MiB) or a share (5%%)", v)
}

// A GrowthViolation is a rule a leak report breaks.
type GrowthViolation struct {
	Limit  GrowthLimit
	Type   string // the type that grew too much; "" for a size over all new objects
	Counts []int  // its count in each snapshot
	Delta  int    // its growth from the first snapshot to the last
	Bytes  uint64 // the bytes of its new objects (of all new objects, for Type "")
}

// A WarmUp is a type whose count grew from the first snapshot to the last
// but not at the last step: it filled up and stopped, as a cache or a pool
// does once warm. The gate does not count it.
type WarmUp struct {
	Type   string
	Counts []int
}

// CheckGrowth applies a leak gate's rules to the report. A type's growth is
// its count in the last snapshot minus its count in the first; with three
// snapshots or more, a type whose count did not rise at the last step is a
// warm-up and no rule applies to it. A count rule fails when a type grew by
// more than the count; a share rule when it grew by more than that share of
// its first count; a size rule for one type when its new objects take more
// than the size, and without a type when all the new objects together do.
// Violations come in the order of the rules, then of the report's growth.
func (rep *LeakReport) CheckGrowth(limits []GrowthLimit) (violations []GrowthViolation, warmups []WarmUp) {
	newBytes := map[string]uint64{}
	var total uint64
	for _, list := range [][]LeakType{rep.Types, rep.Garbage} {
		for _, t := range list {
			newBytes[t.Type] += t.Bytes
			total += t.Bytes
		}
	}
	growing := make([]TypeCount, 0, len(rep.Growth))
	for _, g := range rep.Growth {
		if n := len(g.Counts); n >= 3 && g.Counts[n-1] <= g.Counts[n-2] {
			warmups = append(warmups, WarmUp{g.Type, g.Counts})
			continue
		}
		growing = append(growing, g)
	}
	for _, l := range limits {
		if l.Type == "" && l.Bytes > 0 {
			if total > l.Bytes {
				violations = append(violations, GrowthViolation{Limit: l, Bytes: total})
			}
			continue
		}
		for _, g := range growing {
			if l.Type != "" && !sameTypeName(g.Type, l.Type) {
				continue
			}
			v := GrowthViolation{Limit: l, Type: g.Type, Counts: g.Counts, Delta: g.Delta, Bytes: newBytes[g.Type]}
			over := false
			switch {
			case l.Count >= 0:
				over = g.Delta > l.Count
			case l.Percent >= 0:
				over = float64(g.Delta) > l.Percent/100*float64(g.Counts[0])
			default:
				over = v.Bytes > l.Bytes
			}
			if over {
				violations = append(violations, v)
			}
		}
	}
	return violations, warmups
}

// sameTypeName reports whether a report's type name (short, or
// module-qualified) is the one a rule names: the same, or the qualified
// name of a rule's short one.
func sameTypeName(name, rule string) bool {
	return name == rule || strings.HasSuffix(name, "."+rule) && !strings.Contains(rule, ".")
}
