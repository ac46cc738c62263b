package gcmod

// Copy-on-write prediction: the pages a child process forked from the
// snapshot's process writes to, and so makes the kernel copy, when it
// collects and when it reads the objects it shares with its parent.

import (
	"cmp"
	"fmt"
	mathbits "math/bits"
	"slices"
	"strings"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/radix"
	"github.com/objgraph-go/objgraph/internal/units"
)

// COWOptions configure PredictCOW. The zero value predicts a full
// collection (gc.collect()) and a read of every object, with the snapshot's
// page size.
type COWOptions struct {
	PageSize    int                // bytes per page, a power of two; 0 means the snapshot's, or 4096 when it records none
	Generations int                // the child's collection visits the youngest 1, 2 or 3 generations, as gc.collect(Generations-1); 0 means 3
	Objects     func(heap.ID) bool // count only the writes to the objects it accepts (say, those the child reads); nil counts every object
}

// PageCost is a set of pages a child writes to. Each page written is copied
// by the kernel the first time, whatever the number of writes.
type PageCost struct {
	Objects int    // objects written to
	Pages   int    // distinct pages written to
	Bytes   uint64 // Pages × the page size: the memory the child stops sharing
}

// Share is the part of the costs a group of objects (a type, a root) accounts
// for. Each page is split evenly among the objects written to on it, so the
// shares of all groups add up to the cost.
type Share struct {
	Objects      int     // objects of the group counted
	Collected    int     // of which the child's collection visits
	CollectPages float64 // the group's share of the pages of Collect
	ReadPages    float64 // the group's share of the pages of Read
}

// TypeCost is the share of one type.
type TypeCost struct {
	Type heap.TypeID // the type
	Name string      // its module-qualified name
	Share
}

// RootCost is the share of the objects attributed to one root: those
// closer to it, in references, than to any other root; at equal distance
// module roots come first, then the others in snapshot order.
type RootCost struct {
	Kind heap.RootKind // what the root is; 0 for the objects no root reaches
	Name string        // the module name, or the root's name; "" when Kind is 0
	Share
}

// COWReport is what a child forked at the moment of the snapshot would copy.
type COWReport struct {
	PageSize    int // bytes per page
	HeaderSize  int // bytes of GC header (PyGC_Head) before each gc-aware object: the snapshot's, or two pointers when it records none
	Generations int // generations the child's collection visits, youngest first

	Objects  int // objects counted
	Tracked  int // of which tracked by the collector
	Frozen   int // of which tracked and in the permanent generation (gc.freeze)
	Immortal int // of which immortal: reading them writes nothing

	Memory        PageCost // the pages holding the objects' starts and the tracked objects' GC headers: what the child shares
	Collect       PageCost // gc.collect() in the child: the pages of the GC headers of the tracked objects it visits
	CollectFrozen PageCost // the same when the parent calls gc.freeze() right before fork
	Read          PageCost // the child reads every object once: the pages of the reference counts, the objects' first word
	Both          PageCost // Collect and Read together
	BothFrozen    PageCost // CollectFrozen and Read together

	Types []TypeCost // the types of the objects counted, largest share first
	Roots []RootCost // the roots with objects counted, largest share first; Kind 0 for the objects no root reaches, if any
}

// PredictCOW predicts, from a snapshot of a process, the pages a child
// process forked at that moment writes to, which the kernel then copies:
//
//   - a collection in the child writes into the GC header of every tracked
//     object it visits (update_refs stores the object's count there, and
//     the list moves rewrite the links of neighbours that are visited too);
//     the header is the HeaderSize bytes before the object, so the page
//     written is that of the address minus HeaderSize. Objects in the
//     permanent generation (gc.freeze) are never visited. Immortal tracked
//     objects (3.12+) are visited once: the collection moves them out of
//     its lists, which writes their header;
//   - after gc.freeze() in the parent every tracked object is in the
//     permanent generation, and the collection writes none of them;
//   - reading an object takes a reference to it and gives it back, which
//     writes its reference count, the first word of the object, except for
//     immortal objects.
//
// What the interpreter writes on its own (its stack, the collector's state,
// the objects the child makes) is not in a snapshot and not counted: some
// tens of pages. A collection that finds garbage also writes to the
// garbage and to what it refers to while freeing it; take the snapshot
// after gc.collect(), or see Unreachable. Addresses and the page size are
// the snapshot's; the pages are those of a child forked while the parent
// still holds the objects where the snapshot saw them.
func PredictCOW(h *heap.Heap, opts COWOptions) (*COWReport, error) {
	m := h.Meta()
	ps := opts.PageSize
	if ps == 0 {
		ps = m.PageSize
	}
	if ps == 0 {
		ps = 4096
	}
	if ps < 0 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("predicting copy-on-write: page size %d is not a power of two", ps)
	}
	gens := opts.Generations
	if gens == 0 {
		gens = 3
	}
	if gens < 1 || gens > 3 {
		return nil, fmt.Errorf("predicting copy-on-write: %d generations; want 1 to 3", gens)
	}
	hdr := m.GCHeaderSize
	if hdr == 0 {
		hdr = 2 * m.PointerSize
	}
	if hdr == 0 {
		hdr = 16
	}
	rep := &COWReport{PageSize: ps, HeaderSize: hdr, Generations: gens}
	p := cowPass{h: h, hdr: uint64(hdr), shift: uint(mathbits.Len(uint(ps)) - 1)}
	p.owners()
	p.gather(rep, opts, gens)
	p.measure(rep)
	p.attribute(rep)
	return rep, nil
}

// What the prediction needs of each object, packed in one word so that the
// objects can be sorted by address with it: the type id in the high 32
// bits, the root group plus one (0 for none) in the next 24, and flags.
const (
	cowTracked   = 1 << 0 // tracked by the collector
	cowCollected = 1 << 1 // visited by the child's collection (tracked, not frozen, in a collected generation)
	cowRead      = 1 << 2 // written to when read (not immortal)

	cowGroupShift = 8
	cowGroupMask  = 1<<24 - 1
	cowTypeShift  = 32
)

// cowPass is the state of one prediction.
type cowPass struct {
	h     *heap.Heap
	hdr   uint64
	shift uint // log2 of the page size

	// The objects counted, in address order: their addresses and their
	// packed facts.
	addr []uint64
	info []uint64

	owner []int32    // root group of each object by id, -1 when no root reaches it; nil after gather
	roots []RootCost // the root groups, the last one for the objects no root reaches
}

func (p *cowPass) headerPage(i int) uint64 {
	a := p.addr[i]
	if a < p.hdr {
		return 0
	}
	return (a - p.hdr) >> p.shift
}

func (p *cowPass) objectPage(i int) uint64 { return p.addr[i] >> p.shift }

// gather counts the objects and lists those counted, with their facts, in
// address order.
func (p *cowPass) gather(rep *COWReport, opts COWOptions, gens int) {
	h := p.h
	n := h.Len()
	p.addr = make([]uint64, 0, n)
	p.info = make([]uint64, 0, n)
	for id := range h.All() {
		if opts.Objects != nil && !opts.Objects(id) {
			continue
		}
		f := h.Flags(id)
		var info uint64
		rep.Objects++
		if f.Tracked() {
			rep.Tracked++
			info |= cowTracked
			switch {
			case f.Permanent():
				rep.Frozen++
			case f.Generation() < gens:
				info |= cowCollected
			}
		}
		if f.Immortal() {
			rep.Immortal++
		} else {
			info |= cowRead
		}
		info |= uint64(h.Type(id))<<cowTypeShift | uint64(p.owner[id]+1)<<cowGroupShift
		p.addr = append(p.addr, h.Addr(id))
		p.info = append(p.info, info)
	}
	p.owner = nil
	radix.SortByKey(p.addr, p.info)
}

// measure counts the pages of each cost. The page of an object's header and
// the page of its start both grow with its address, so, over the objects in
// address order, each cost's pages come in order, and two costs' pages
// merge like sorted lists.
func (p *cowPass) measure(rep *COWReport) {
	header := func(flag uint64) pageStream {
		return pageStream{p: p, flag: flag, page: (*cowPass).headerPage}
	}
	start := func(flag uint64) pageStream {
		return pageStream{p: p, flag: flag, page: (*cowPass).objectPage}
	}
	none := pageStream{p: p}
	ps := uint64(rep.PageSize)
	cost := func(objects, pages int) PageCost {
		return PageCost{Objects: objects, Pages: pages, Bytes: uint64(pages) * ps}
	}
	var collected, read, either int
	for _, info := range p.info {
		if info&cowCollected != 0 {
			collected++
		}
		if info&cowRead != 0 {
			read++
		}
		if info&(cowCollected|cowRead) != 0 {
			either++
		}
	}
	// After gc.freeze() in the parent, every tracked object is frozen and
	// the child's collection visits none.
	rep.Memory = cost(len(p.addr), unionPages(start(0), header(cowTracked)))
	rep.Collect = cost(collected, unionPages(header(cowCollected), none))
	rep.CollectFrozen = cost(0, 0)
	rep.Read = cost(read, unionPages(start(cowRead), none))
	rep.Both = cost(either, unionPages(header(cowCollected), start(cowRead)))
	rep.BothFrozen = rep.Read
}

// pageStream yields the pages of the objects whose facts have all the bits
// of flag (every object for 0), in address order; a zero flag with a nil
// page function yields nothing.
type pageStream struct {
	p    *cowPass
	flag uint64
	page func(*cowPass, int) uint64
	i    int
}

func (s *pageStream) next() (uint64, bool) {
	if s.page == nil {
		return 0, false
	}
	for s.i < len(s.p.info) {
		i := s.i
		s.i++
		if s.p.info[i]&s.flag == s.flag {
			return s.page(s.p, i), true
		}
	}
	return 0, false
}

// unionPages counts the distinct pages of two streams, each in
// non-decreasing order.
func unionPages(a, b pageStream) int {
	pa, okA := a.next()
	pb, okB := b.next()
	n := 0
	var last uint64
	for okA || okB {
		var pg uint64
		if okA && (!okB || pa <= pb) {
			pg = pa
			pa, okA = a.next()
		} else {
			pg = pb
			pb, okB = b.next()
		}
		if n == 0 || pg != last {
			n++
			last = pg
		}
	}
	return n
}

// attribute splits Collect and Read among types and roots.
func (p *cowPass) attribute(rep *COWReport) {
	h := p.h
	types := make([]Share, h.NumTypes())
	roots := make([]Share, len(p.roots))
	group := func(info uint64) *Share {
		g := int(info >> cowGroupShift & cowGroupMask)
		if g == 0 {
			g = len(roots) // no root: the last group
		}
		return &roots[g-1]
	}
	for _, info := range p.info {
		t, r := &types[info>>cowTypeShift], group(info)
		t.Objects++
		r.Objects++
		if info&cowCollected != 0 {
			t.Collected++
			r.Collected++
		}
	}
	// Walk the objects written to in address order, page by page, and add
	// to each object's type and root an equal part of its page.
	split := func(flag uint64, page func(*cowPass, int) uint64, add func(*Share, float64)) {
		var on []uint64 // the facts of the objects written to on the current page
		var cur uint64
		flush := func() {
			x := 1 / float64(len(on))
			for _, info := range on {
				add(&types[info>>cowTypeShift], x)
				add(group(info), x)
			}
			on = on[:0]
		}
		for i, info := range p.info {
			if info&flag == 0 {
				continue
			}
			if pg := page(p, i); len(on) == 0 || pg != cur {
				if len(on) > 0 {
					flush()
				}
				cur = pg
			}
			on = append(on, info)
		}
		if len(on) > 0 {
			flush()
		}
	}
	split(cowCollected, (*cowPass).headerPage, func(s *Share, x float64) { s.CollectPages += x })
	split(cowRead, (*cowPass).objectPage, func(s *Share, x float64) { s.ReadPages += x })

	for t, s := range types {
		if s.Objects > 0 {
			rep.Types = append(rep.Types, TypeCost{Type: heap.TypeID(t), Name: h.TypeQualName(heap.TypeID(t)), Share: s})
		}
	}
	slices.SortStableFunc(rep.Types, func(a, b TypeCost) int { return byShare(a.Share, b.Share, a.Name, b.Name) })
	for g, s := range roots {
		if s.Objects > 0 {
			r := p.roots[g]
			r.Share = s
			rep.Roots = append(rep.Roots, r)
		}
	}
	slices.SortStableFunc(rep.Roots, func(a, b RootCost) int { return byShare(a.Share, b.Share, a.Label(), b.Label()) })
}

// byShare orders shares largest first: by the pages of both costs, then
// by objects, then by name.
func byShare(a, b Share, an, bn string) int {
	if c := cmp.Compare(b.CollectPages+b.ReadPages, a.CollectPages+a.ReadPages); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Objects, a.Objects); c != 0 {
		return c
	}
	return cmp.Compare(an, bn)
}

// owners attributes every object to a root: a breadth-first search from
// all roots at once, module roots first, so that an object belongs to the
// root it is fewest references away from, and at equal distance to the
// root searched first. Roots of one kind and name form one group. The last
// group is for the objects no root reaches. Past 2^24-2 groups, which no
// real process has, the remaining roots share the last of them.
func (p *cowPass) owners() {
	h := p.h
	p.owner = make([]int32, h.Len())
	for i := range p.owner {
		p.owner[i] = -1
	}
	type key struct {
		kind heap.RootKind
		name string
	}
	groups := map[key]int32{}
	queue := make([]heap.ID, 0, h.Len())
	visit := func(r heap.Root) {
		k := key{r.Kind, r.Name}
		g, ok := groups[k]
		switch {
		case ok:
		case len(p.roots) < cowGroupMask-1:
			g = int32(len(p.roots))
			groups[k] = g
			p.roots = append(p.roots, RootCost{Kind: r.Kind, Name: r.Name})
		default:
			g = int32(len(p.roots) - 1)
		}
		if p.owner[r.Target] < 0 {
			p.owner[r.Target] = g
			queue = append(queue, r.Target)
		}
	}
	for _, r := range h.Roots() {
		if r.Kind == heap.RootModule {
			visit(r)
		}
	}
	for _, r := range h.Roots() {
		if r.Kind != heap.RootModule {
			visit(r)
		}
	}
	for i := 0; i < len(queue); i++ {
		o := queue[i]
		g := p.owner[o]
		for _, t := range h.Referents(o) {
			if p.owner[t] < 0 {
				p.owner[t] = g
				queue = append(queue, t)
			}
		}
	}
	p.roots = append(p.roots, RootCost{})
}

// Advice is the report in plain words: whether calling gc.freeze() in the
// parent right before fork pays, and how much; what reading the objects
// still copies; and which types and roots account for most of it.
func (rep *COWReport) Advice() string {
	var b strings.Builder
	say := func(format string, args ...any) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, format, args...)
	}
	mem := rep.Memory.Bytes
	collection := "a full collection"
	if rep.Generations < 3 {
		collection = fmt.Sprintf("gc.collect(%d)", rep.Generations-1)
	}
	saved := rep.Collect.Bytes - min(rep.CollectFrozen.Bytes, rep.Collect.Bytes)
	switch {
	case rep.Tracked == 0:
		say("The snapshot has no tracked objects: collections in a child copy none of its pages, and gc.freeze() would change nothing.")
	case rep.Collect.Pages == 0 && rep.Frozen > 0:
		say("The tracked objects are frozen already (gc.freeze()): collections in a child copy none of their pages.")
	case rep.Collect.Pages == 0:
		say("The collection visits none of the snapshot's objects: it copies none of their pages.")
	case saved >= 1<<20 || float64(saved) >= 0.05*float64(mem):
		say("Freezing pays: %s in a child copies %s (%s, %s of the %s of pages the objects are on),",
			collection, units.Bytes(rep.Collect.Bytes), cowPages(rep.Collect.Pages), cowPercent(rep.Collect.Bytes, mem), units.Bytes(mem))
		if rep.CollectFrozen.Pages == 0 {
			say("and none of it once the parent calls gc.freeze() right before fork:")
		} else {
			say("and %s once the parent calls gc.freeze() right before fork:", units.Bytes(rep.CollectFrozen.Bytes))
		}
		say("%s saved in every child that collects.", units.Bytes(saved))
		say("Call gc.disable() early in the parent, gc.freeze() right before fork, and gc.enable() in the child.")
		if top := topShares(rep, func(s Share) float64 { return s.CollectPages }); top != "" {
			say("The GC headers written are mostly those of %s.", top)
		}
	default:
		say("Freezing saves little: %s in a child copies only %s (%s).",
			collection, units.Bytes(rep.Collect.Bytes), cowPages(rep.Collect.Pages))
	}
	if rep.Read.Pages == 0 {
		return b.String()
	}
	if rep.Read.Bytes < 1<<20 && float64(rep.Read.Bytes) < 0.05*float64(mem) {
		say("Reading every object would copy only %s more.", units.Bytes(rep.Read.Bytes))
		return b.String()
	}
	say("Freezing does not stop reference counting: a child that reads every object copies %s (%s of the objects' pages) whether or not the parent froze them",
		units.Bytes(rep.Read.Bytes), cowPercent(rep.Read.Bytes, mem))
	if rep.Both.Pages > rep.BothFrozen.Pages {
		say("(%s if it collects as well, %s after gc.freeze()).", units.Bytes(rep.Both.Bytes), units.Bytes(rep.BothFrozen.Bytes))
	} else {
		say("(the same if it collects as well).")
	}
	if top := topShares(rep, func(s Share) float64 { return s.ReadPages }); top != "" {
		say("The counts written are mostly those of %s.", top)
	}
	say("Data the children only read is shared for good when it is not held in many objects: in multiprocessing.shared_memory or multiprocessing.Array, or in one flat buffer (array.array, bytes, a NumPy array) instead of many small objects.")
	return b.String()
}

// topShares names the types with the largest shares by key (up to three,
// each but the first with 5% or more) and the root with the largest:
// "Node (40%), dict (30%), held by module __main__ (70%)"; "" when nothing
// has a share.
func topShares(rep *COWReport, key func(Share) float64) string {
	var total float64
	for _, t := range rep.Types {
		total += key(t.Share)
	}
	if total == 0 {
		return ""
	}
	types := slices.Clone(rep.Types)
	slices.SortStableFunc(types, func(a, b TypeCost) int { return cmp.Compare(key(b.Share), key(a.Share)) })
	var parts []string
	for i, t := range types[:min(3, len(types))] {
		if i > 0 && key(t.Share) < 0.05*total {
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%.0f%%)", strings.TrimPrefix(t.Name, "builtins."), 100*key(t.Share)/total))
	}
	s := strings.Join(parts, ", ")
	var best *RootCost
	for i := range rep.Roots {
		if r := &rep.Roots[i]; r.Kind != 0 && (best == nil || key(r.Share) > key(best.Share)) {
			best = r
		}
	}
	if best != nil && key(best.Share) > 0 {
		s += fmt.Sprintf(", held by %s (%.0f%%)", best.Label(), 100*key(best.Share)/total)
	}
	return s
}

// Label names the root for people: "module json", "local MainThread:
// handle: request", or "objects no root reaches" for Kind 0.
func (r RootCost) Label() string {
	if r.Kind == 0 {
		return "objects no root reaches"
	}
	return r.Kind.String() + " " + r.Name
}

// cowPercent is n as a part of total: "42%".
func cowPercent(n, total uint64) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(total))
}

// cowPages is "1 page" or "15,512 pages".
func cowPages(n int) string {
	if n == 1 {
		return "1 page"
	}
	return units.Commas(uint64(n)) + " pages"
}
