package objgraph

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// A Suspect is a container that grew: an object that was there in the
// first snapshot and now holds objects that were not. It is what a user
// fixes — the registry, the cache, the list of callbacks — where the
// per-type sections of a leak report name what it holds.
type Suspect struct {
	Container heap.ID   // the object that grew: a dict, list, set, instance, module, frame, …
	Name      string    // a Python-like name for it when its chain allows one ("__main__._registry"), else ""
	Root      Root      // where Chain starts
	Chain     []heap.ID // a shortest chain from a root to Container
	Edges     []string  // names of the references along Chain
	Entries   int       // its entries now: references to other objects, dict keys not counted
	New       int       // entries to objects new since the first snapshot
	// Counts is, for each snapshot in order, how many of the container's
	// present entries were there: a registry that only grows counts
	// 100 → 300 → 600, one that was filled once and kept stays flat.
	Counts  []int
	Types   []TypeCount // the types of the new entries, most first (Counts holds one number: the count)
	Objects int         // objects releasing the new entries would free
	Freed   uint64      // and their bytes: the group's retained size (see GroupSizer)
	// FreedTypes counts the objects releasing the new entries frees by
	// type, most first (Counts holds one number: the count).
	FreedTypes []TypeCount
	Example    heap.ID // a new entry: the one that retains most
	Key        string  // the name of the reference to Example ("'/item/100'", "[7]", an attribute)
	// Sites are where the new entries (the new keys, when no value is
	// new) were allocated, at most 5, most objects first; nil when cur has
	// no allocation tracebacks.
	Sites []AllocSite
}

// SuspectOptions tune FindSuspects. The zero value finds the 10 suspects
// that would free the most.
type SuspectOptions struct {
	Qualified  bool          // module-qualified type names
	Limit      int           // suspects to return, most freed first; 0 means 10, -1 all
	Dominators *heap.DomTree // cur's dominator tree, if already computed
	Retainers  *Retainers    // cur's retainer chains, if already computed
}

// keyEdge is the name the agent gives a reference from a dict to a key.
const keyEdge = "<key>"

// FindSuspects finds the containers of cur that hold objects absent from
// the first snapshot, and ranks them by what releasing those objects would
// free. cur is the last snapshot of a series of one process; first is the
// census of the first, between those of the ones taken in between, in
// order.
//
// A container is an object present in first (same address and type) that
// a root reaches and that refers to new objects a root reaches; objects
// new since first that hang below other new objects are charged to the old
// container above them, so a dict of new lists is one suspect, not one per
// list. What releasing the new entries frees is measured for the most
// promising containers only: those whose entries' dominator sizes sum
// highest, four times as many as are asked for, at least 32.
func FindSuspects(first *Census, between []*Census, cur *heap.Heap, opts SuspectOptions) []Suspect {
	dt, r := treesOf(cur, opts.Dominators, opts.Retainers)
	limit := opts.Limit
	if limit == 0 {
		limit = 10
	}
	n := cur.Len()
	byAddr, addrs := idsByAddr(cur)
	isNew := bitset.New[heap.ID](n)
	for _, id := range absentFrom(first, cur, byAddr, addrs) {
		isNew.Set(id)
	}
	byAddr, addrs = nil, nil

	// The containers: old, reachable objects with new, reachable referents.
	seen := bitset.New[heap.ID](n)
	var containers []heap.ID
	for id := range cur.All() {
		if !isNew.Has(id) || !dt.Reachable(id) {
			continue
		}
		for _, p := range cur.Referrers(id) {
			if !isNew.Has(p) && dt.Reachable(p) && seen.TrySet(p) {
				containers = append(containers, p)
			}
		}
	}
	slices.Sort(containers)

	type cand struct {
		s        Suspect
		members  []heap.ID // every new referent, keys too
		estimate uint64
	}
	cands := make([]cand, 0, len(containers))
	inGroup := map[heap.ID]bool{}
	for _, p := range containers {
		var c cand
		c.s.Container = p
		var keys []heap.ID
		var values []heap.ID
		lo, hi := cur.EdgeRange(p)
		// The example: the new value that retains most; when only keys
		// are new (a set-like dict), the new key that does.
		bestValue, bestValueRet, bestKey, bestKeyRet := -1, uint64(0), -1, uint64(0)
		for e := lo; e < hi; e++ {
			to := cur.EdgeTarget(e)
			key := cur.EdgeName(e) == keyEdge
			if !key {
				c.s.Entries++
			}
			if !isNew.Has(to) || !dt.Reachable(to) {
				continue
			}
			ret := dt.Retained(to)
			if key {
				keys = append(keys, to)
				if bestKey < 0 || ret > bestKeyRet {
					bestKey, bestKeyRet = e, ret
				}
				continue
			}
			values = append(values, to)
			if bestValue < 0 || ret > bestValueRet {
				bestValue, bestValueRet = e, ret
			}
		}
		entries, example := values, bestValue
		if len(entries) == 0 {
			entries, example = keys, bestKey
		}
		c.members = append(slices.Clip(values), keys...)
		c.s.New = len(dedup(entries))
		c.s.Example, c.s.Key = cur.EdgeTarget(example), cur.EdgeName(example)
		// The estimate: the dominator sizes of the members that no other
		// member dominates directly.
		clear(inGroup)
		for _, m := range c.members {
			inGroup[m] = true
		}
		for m := range inGroup {
			if !inGroup[dt.IDom(m)] {
				c.estimate += dt.Retained(m)
			}
		}
		cands = append(cands, c)
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(b.estimate, a.estimate) })
	measure := len(cands)
	if limit > 0 {
		measure = min(len(cands), max(4*limit, 32))
	}
	cands = cands[:measure]

	gs := NewGroupSizer(cur, dt)
	censuses := append(append([]*Census{first}, between...), nil) // nil: cur itself
	for i := range cands {
		s := &cands[i].s
		freed := map[string]int{}
		s.Objects, s.Freed = gs.FreedEach(cands[i].members, func(id heap.ID) { freed[TypeName(cur, id, opts.Qualified)]++ })
		s.FreedTypes = sortedCounts(freed)
		s.Chain = r.Chain(s.Container)
		s.Root = r.Root(s.Container)
		s.Edges = ChainEdges(cur, s.Chain)
		s.Name = pythonName(cur, s.Chain, s.Edges)
		s.Types = entryTypes(cur, s.Container, isNew, dt, opts.Qualified)
		if cur.NumTracebacks() > 0 {
			s.Sites = TopAllocSites(cur, newEntries(cur, s.Container, isNew, dt), 5)
		}
		s.Counts = make([]int, len(censuses))
		for k, c := range censuses {
			s.Counts[k] = presentEntries(c, cur, s.Container)
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.s.Freed, a.s.Freed); c != 0 {
			return c
		}
		if c := cmp.Compare(b.s.New, a.s.New); c != 0 {
			return c
		}
		return cmp.Compare(a.s.Container, b.s.Container)
	})
	if limit > 0 && len(cands) > limit {
		cands = cands[:limit]
	}
	out := make([]Suspect, len(cands))
	for i, c := range cands {
		out[i] = c.s
	}
	return out
}

func dedup(ids []heap.ID) []heap.ID {
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}

// entryTypes counts the types of the container's new entries (its new
// keys, when no value is new), most first.
func entryTypes(h *heap.Heap, p heap.ID, isNew bitset.Set[heap.ID], dt *heap.DomTree, qualified bool) []TypeCount {
	counts := map[string]int{}
	keys := map[string]int{}
	lo, hi := h.EdgeRange(p)
	for e := lo; e < hi; e++ {
		to := h.EdgeTarget(e)
		if !isNew.Has(to) || !dt.Reachable(to) {
			continue
		}
		if h.EdgeName(e) == keyEdge {
			keys[TypeName(h, to, qualified)]++
		} else {
			counts[TypeName(h, to, qualified)]++
		}
	}
	if len(counts) == 0 {
		counts = keys
	}
	return sortedCounts(counts)
}

// newEntries lists the container's new entries (its new keys, when no
// value is new), each once.
func newEntries(h *heap.Heap, p heap.ID, isNew bitset.Set[heap.ID], dt *heap.DomTree) []heap.ID {
	var values, keys []heap.ID
	lo, hi := h.EdgeRange(p)
	for e := lo; e < hi; e++ {
		to := h.EdgeTarget(e)
		if !isNew.Has(to) || !dt.Reachable(to) {
			continue
		}
		if h.EdgeName(e) == keyEdge {
			keys = append(keys, to)
		} else {
			values = append(values, to)
		}
	}
	if len(values) == 0 {
		values = keys
	}
	slices.Sort(values)
	return slices.Compact(values)
}

// sortedCounts lists counts by type name, most first.
func sortedCounts(counts map[string]int) []TypeCount {
	out := make([]TypeCount, 0, len(counts))
	for name, n := range counts {
		out = append(out, TypeCount{Type: name, Counts: []int{n}, Delta: n})
	}
	slices.SortFunc(out, func(a, b TypeCount) int {
		if c := cmp.Compare(b.Delta, a.Delta); c != 0 {
			return c
		}
		return cmp.Compare(a.Type, b.Type)
	})
	return out
}

// presentEntries counts the entries of container p of cur (dict keys not
// counted) whose objects census c has at the same address with the same
// type; a nil c is cur itself.
func presentEntries(c *Census, cur *heap.Heap, p heap.ID) int {
	lo, hi := cur.EdgeRange(p)
	n := 0
	var same []uint32
	if c != nil {
		same = typeMap(c, cur)
	}
	for e := lo; e < hi; e++ {
		if cur.EdgeName(e) == keyEdge {
			continue
		}
		to := cur.EdgeTarget(e)
		if c == nil || c.has(cur.Addr(to), same[cur.Type(to)]) {
			n++
		}
	}
	return n
}

// has reports whether the census holds an object of type index t at addr.
func (c *Census) has(addr uint64, t uint32) bool {
	i, ok := slices.BinarySearch(c.addr, addr)
	return ok && c.typ[i] == t
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pythonName spells a chain as a Python expression when it starts at a
// module and goes through attributes, dict keys and indexes only:
// "__main__._registry", "app.handlers['x'][3]". It returns "" otherwise.
func pythonName(h *heap.Heap, chain []heap.ID, edges []string) string {
	if len(chain) == 0 {
		return ""
	}
	var mod string
	for _, root := range h.Roots() {
		if root.Target == chain[0] && root.Kind == heap.RootModule {
			mod = root.Name
			break
		}
	}
	if mod == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(mod)
	for i, e := range edges {
		switch {
		case e == "__dict__" && i+1 < len(edges) && (identifier.MatchString(edges[i+1]) || isKeyName(edges[i+1])):
			// obj.__dict__['x'] and obj.x name the same thing
		case identifier.MatchString(e):
			b.WriteString("." + e)
		case isKeyName(e) && i > 0 && edges[i-1] == "__dict__" && identifier.MatchString(strings.Trim(e, "'")):
			b.WriteString("." + strings.Trim(e, "'"))
		case isKeyName(e) || strings.HasPrefix(e, "["):
			if strings.HasPrefix(e, "[") {
				b.WriteString(e)
			} else {
				b.WriteString("[" + e + "]")
			}
		default:
			return ""
		}
	}
	return b.String()
}

// isKeyName reports whether an edge name is a dict key's repr, as the agent
// names the reference from a dict to a value.
func isKeyName(e string) bool {
	if len(e) < 2 {
		return false
	}
	switch e[0] {
	case '\'', '"':
		return e[len(e)-1] == e[0]
	}
	return e[0] >= '0' && e[0] <= '9' || e[0] == '-' || e[0] == '('
}
