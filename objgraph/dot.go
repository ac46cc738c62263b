package objgraph

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// GraphOptions shape the graphs of ShowRefs, ShowBackrefs and ShowChain.
// The zero value draws as objgraph does by default: three levels, ten
// references per object, short type names.
type GraphOptions struct {
	MaxDepth       int                             // levels drawn beyond the start objects; 0 means 3, negative means none
	ExtraIgnore    []heap.ID                       // objects never drawn
	Filter         func(heap.ID) bool              // when set, only objects it accepts are drawn beyond the start objects
	TooMany        int                             // references drawn per object, the rest summed up in one node; 0 means 10, negative means no limit
	Highlight      func(heap.ID) bool              // objects it accepts are filled blue
	ExtraInfo      func(heap.ID) string            // when set, a line it returns is added to each label
	Refcounts      bool                            // reference counts in labels: "dict [3]"
	Qualified      bool                            // module-qualified type names in labels (objgraph's shortnames=False)
	ExtraNodeAttrs func(heap.ID) map[string]string // extra DOT attributes per node, written in name order
	Weak           bool                            // also draw weak references, dashed and labelled "(weak)", from a weak reference object to its referent
	Forward        bool                            // ShowChain only: draw references from each chain's first object, not back-references to its last (objgraph's backrefs=False)
}

// ShowRefs writes to w, in the DOT language, the graph of the objects
// reachable from objs, breadth first, as objgraph.show_refs: start objects
// have a red font, fill darkens with depth, modules are green, highlighted
// objects blue, objects with __del__ carry a red "__del__" marker, and an
// object with more than TooMany references shows the rest as one
// "N more references" node. Edges are labelled with the snapshot's names
// for them (dict keys, attributes, indexes). It returns the number of objects
// drawn.
func ShowRefs(w io.Writer, h *heap.Heap, objs []heap.ID, opts GraphOptions) (int, error) {
	g := newGrapher(h, &opts, false)
	return g.draw(w, objs, resolveDepth(opts.MaxDepth, 3), nil)
}

// ShowBackrefs writes to w, in the DOT language, the graph of the objects
// that refer to objs, directly or not, as objgraph.show_backrefs. It looks
// as ShowRefs' graphs do, except that truncation nodes read
// "N more backreferences", and that it stops at modules held by
// sys.modules, whose referrers would only clutter the graph. A referrer with
// several references to one object gets one edge for each. It returns the
// number of objects drawn, and builds the heap's reverse index on first use.
func ShowBackrefs(w io.Writer, h *heap.Heap, objs []heap.ID, opts GraphOptions) (int, error) {
	g := newGrapher(h, &opts, true)
	return g.draw(w, objs, resolveDepth(opts.MaxDepth, 3), IsProperModule(h))
}

// ShowChain writes to w the graph of one or more chains from FindBackrefChain
// or FindRefChain, as objgraph.show_chain: the back-reference graph of the
// chains' last objects (with opts.Forward, the reference graph of their
// first objects), as deep as the longest chain and showing only objects on
// some chain. opts.MaxDepth is ignored; opts.Filter, if set, narrows the
// graph further. Empty chains are skipped; when all are empty it returns an
// error.
func ShowChain(w io.Writer, h *heap.Heap, chains [][]heap.ID, opts GraphOptions) (int, error) {
	in := bitset.New[heap.ID](h.Len())
	longest := 0
	var starts []heap.ID
	for _, c := range chains {
		if len(c) == 0 {
			continue
		}
		for _, id := range c {
			in.Set(id)
		}
		longest = max(longest, len(c))
		if opts.Forward {
			starts = append(starts, c[0])
		} else {
			starts = append(starts, c[len(c)-1])
		}
	}
	if longest == 0 {
		return 0, errors.New("showing chains: no chain to show")
	}
	filter := opts.Filter
	opts.Filter = func(id heap.ID) bool { return in.Has(id) && (filter == nil || filter(id)) }
	g := newGrapher(h, &opts, !opts.Forward)
	var cull func(heap.ID) bool
	if !opts.Forward {
		cull = IsProperModule(h)
	}
	return g.draw(w, starts, longest-1, cull)
}

// resolveDepth turns a MaxDepth option into a depth.
func resolveDepth(d, def int) int {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// grapher draws one graph.
type grapher struct {
	h        *heap.Heap
	opts     *GraphOptions
	backrefs bool
	tooMany  int
	b        strings.Builder
}

func newGrapher(h *heap.Heap, opts *GraphOptions, backrefs bool) *grapher {
	tooMany := opts.TooMany
	switch {
	case tooMany == 0:
		tooMany = 10
	case tooMany < 0:
		tooMany = math.MaxInt
	}
	return &grapher{h: h, opts: opts, backrefs: backrefs, tooMany: tooMany}
}

// draw walks breadth first from starts, as objgraph's _show_graph, writing
// the graph to w in one piece. Objects deeper than maxDepth are not
// expanded, nor those cull accepts.
func (g *grapher) draw(w io.Writer, starts []heap.ID, maxDepth int, cull func(heap.ID) bool) (int, error) {
	h := g.h
	for _, id := range starts {
		if int(id) >= h.Len() {
			return 0, fmt.Errorf("drawing graph: object id %d out of range (%d objects)", id, h.Len())
		}
	}
	ignore := bitset.New[heap.ID](h.Len())
	for _, id := range g.opts.ExtraIgnore {
		if int(id) < h.Len() {
			ignore.Set(id)
		}
	}
	seen := bitset.New[heap.ID](h.Len())
	type entry struct {
		id    heap.ID
		depth int
	}
	var queue []entry
	b := &g.b
	b.WriteString("digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n")
	for _, id := range starts {
		fmt.Fprintf(b, "  %s[fontcolor=red];\n", nodeID(h, id))
		if !seen.Has(id) {
			seen.Set(id)
			queue = append(queue, entry{id, 0})
		}
	}
	for i := 0; i < len(queue); i++ {
		target, depth := queue[i].id, queue[i].depth
		g.node(target, depth, maxDepth)
		if depth >= maxDepth || (cull != nil && cull(target)) {
			continue
		}
		n, skipped := 0, 0
		excluded := func(neighbour heap.ID) bool {
			return ignore.Has(neighbour) || (g.opts.Filter != nil && !g.opts.Filter(neighbour))
		}
		// edge draws a reference between target and neighbour, the way the
		// graph goes, unless it has too many already: named name, or the
		// weak reference's label and dash
		edge := func(neighbour heap.ID, name string, weak bool) bool {
			if n >= g.tooMany {
				skipped++
				return false
			}
			src, dst := target, neighbour
			if g.backrefs {
				src, dst = neighbour, target
			}
			attrs := " [label=" + dotString(true, weakLabel) + ",style=dashed]"
			if !weak {
				attrs = edgeAttrs(h, src, name)
			}
			fmt.Fprintf(b, "  %s -> %s%s;\n", nodeID(h, src), nodeID(h, dst), attrs)
			n++
			return true
		}
		follow := func(neighbour heap.ID) {
			if !seen.Has(neighbour) {
				seen.Set(neighbour)
				queue = append(queue, entry{neighbour, depth + 1})
			}
		}
		visit := func(neighbour heap.ID, lo, hi int) {
			if excluded(neighbour) {
				return
			}
			drawn := false
			for e := lo; e < hi; e++ {
				if g.backrefs && h.EdgeTarget(e) != target {
					continue
				}
				if edge(neighbour, h.EdgeName(e), false) {
					drawn = true
				}
			}
			if drawn {
				follow(neighbour)
			}
		}
		if g.backrefs {
			refs := h.Referrers(target)
			for j, src := range refs {
				if j > 0 && refs[j-1] == src {
					continue // one visit per referrer covers all its references
				}
				lo, hi := h.EdgeRange(src)
				visit(src, lo, hi)
			}
		} else {
			lo, hi := h.EdgeRange(target)
			for e := lo; e < hi; e++ {
				visit(h.EdgeTarget(e), e, e+1)
			}
		}
		if g.opts.Weak {
			weak := h.WeakReferents(target)
			if g.backrefs {
				weak = h.WeakReferrers(target)
			}
			for _, neighbour := range weak {
				if !excluded(neighbour) && edge(neighbour, "", true) {
					follow(neighbour)
				}
			}
		}
		if skipped > 0 {
			g.tooManyNode(target, skipped, depth+1, maxDepth)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return len(queue), err
}

// node writes an object's label, fill and markers.
func (g *grapher) node(id heap.ID, depth, maxDepth int) {
	h, b := g.h, &g.b
	nid := nodeID(h, id)
	fmt.Fprintf(b, "  %s[label=%s%s];\n", nid, dotString(true, g.label(id)...), g.extraAttrs(id))
	hue, sat, val := gradient([3]float64{0, 0, 1}, [3]float64{0, 0, .3}, depth, maxDepth)
	if h.Flags(id).Kind() == heap.KindModule {
		hue, sat = .3, 1
	}
	if g.opts.Highlight != nil && g.opts.Highlight(id) {
		hue, sat, val = .6, .6, 0.5+val*0.5
	}
	fmt.Fprintf(b, "  %s[fillcolor=%s];\n", nid, dotString(false, hsv(hue, sat, val)))
	if val < 0.5 {
		fmt.Fprintf(b, "  %s[fontcolor=white];\n", nid)
	}
	if h.Flags(id).HasDel() {
		fmt.Fprintf(b, "  %s->%s_has_a_del[color=red,style=dotted,len=0.25,weight=10];\n", nid, nid)
		fmt.Fprintf(b, "  %s_has_a_del[label=%s,shape=doublecircle,height=0.25,color=red,fillcolor=%s,fontsize=6];\n",
			nid, dotString(true, "__del__"), dotString(false, "0,.5,1"))
	}
}

// tooManyNode writes the node that sums up references not drawn.
func (g *grapher) tooManyNode(id heap.ID, skipped, depth, maxDepth int) {
	b := &g.b
	nid := nodeID(g.h, id)
	hue, sat, val := gradient([3]float64{0, 1, 1}, [3]float64{0, 1, .3}, depth, maxDepth)
	label := fmt.Sprintf("%d more references", skipped)
	edge := nid + "->too_many_" + nid
	if g.backrefs {
		label = fmt.Sprintf("%d more backreferences", skipped)
		edge = "too_many_" + nid + "->" + nid
	}
	fmt.Fprintf(b, "  %s[color=red,style=dotted,len=0.25,weight=10];\n", edge)
	fmt.Fprintf(b, "  too_many_%s[label=%s,shape=box,height=0.25,color=red,fillcolor=%s,fontsize=6];\n",
		nid, dotString(true, label), dotString(false, hsv(hue, sat, val)))
	fmt.Fprintf(b, "  too_many_%s[fontcolor=white];\n", nid)
}

// label is the lines of an object's label: type name (and refcount), short
// label, and the lines of the extra info.
func (g *grapher) label(id heap.ID) []string {
	h := g.h
	name := TypeName(h, id, g.opts.Qualified)
	if g.opts.Refcounts {
		if h.Flags(id).Immortal() {
			name += " [immortal]"
		} else {
			name += " [" + strconv.FormatUint(h.Refcount(id), 10) + "]"
		}
	}
	lines := []string{name}
	if l := h.Label(id); l != "" {
		lines = append(lines, l)
	}
	if g.opts.ExtraInfo != nil {
		lines = append(lines, strings.Split(g.opts.ExtraInfo(id), "\n")...)
	}
	return lines
}

// extraAttrs are the ExtraNodeAttrs of an object, each preceded by ", ".
func (g *grapher) extraAttrs(id heap.ID) string {
	if g.opts.ExtraNodeAttrs == nil {
		return ""
	}
	attrs := g.opts.ExtraNodeAttrs(id)
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		name := k
		if !isIdentifier(k) || isDOTKeyword(k) {
			name = dotString(false, k)
		}
		fmt.Fprintf(&b, ", %s=%s", name, dotString(isLabelAttr(k), strings.Split(attrs[k], "\n")...))
	}
	return b.String()
}

// isLabelAttr reports whether a node attribute is text graphviz draws as a
// label, with escapes such as \n.
func isLabelAttr(name string) bool {
	switch name {
	case "label", "xlabel", "headlabel", "taillabel":
		return true
	}
	return false
}

// weakLabel labels a weak reference in a drawing.
const weakLabel = "(weak)"

// nodeID is the DOT id of an object: "o" and its decimal address, as
// objgraph names nodes by id().
func nodeID(h *heap.Heap, id heap.ID) string {
	return "o" + strconv.FormatUint(h.Addr(id), 10)
}

// edgeAttrs are the attributes of a reference named name from src, with
// objgraph's weights: 10 for structural references (an instance's
// __dict__, a frame's, method's or function's attributes), 2 for names that
// are identifiers (dict keys, instance attributes), none otherwise.
func edgeAttrs(h *heap.Heap, src heap.ID, name string) string {
	switch {
	case name == "":
		return ""
	case name == "__dict__" || isIdentifier(name) && structural(h, src):
		return " [label=" + dotString(true, name) + ",weight=10]"
	case isIdentifier(name):
		return " [label=" + dotString(true, name) + ",weight=2]"
	}
	return " [label=" + dotString(true, name) + "]"
}

// structural reports whether the references of an object are its own
// parts rather than contents: frames, functions and methods.
func structural(h *heap.Heap, id heap.ID) bool {
	switch h.Flags(id).Kind() {
	case heap.KindFrame, heap.KindFunction:
		return true
	}
	return h.TypeName(id) == "method"
}

// isIdentifier reports whether s is an ASCII identifier, as objgraph tests
// dict keys.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// isDOTKeyword reports whether s is one of DOT's keywords, which are IDs only
// when quoted; graphviz matches them without regard to case.
func isDOTKeyword(s string) bool {
	switch strings.ToLower(s) {
	case "node", "edge", "graph", "digraph", "subgraph", "strict":
		return true
	}
	return false
}

// gradient interpolates between two HSV colours by depth/maxDepth.
func gradient(start, end [3]float64, depth, maxDepth int) (h, s, v float64) {
	if maxDepth == 0 {
		return start[0], start[1], start[2]
	}
	f := float64(depth) / float64(maxDepth)
	return start[0]*(1-f) + end[0]*f, start[1]*(1-f) + end[1]*f, start[2]*(1-f) + end[2]*f
}

// hsv spells a colour as graphviz reads it, with numbers as C's %g writes
// them (what objgraph writes).
func hsv(h, s, v float64) string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	return g(h) + "," + g(s) + "," + g(v)
}

// dotString quotes text as one DOT string: the lines given, joined by
// graphviz's \n line breaks. Every string in the graphs goes through it. It
// escapes quotes and backslashes, and writes "&" as "&amp;" (graphviz
// decodes entities such as "&lt;" in strings). Newlines within a line, bytes
// that are not UTF-8 and characters that are not printable, which would
// break graphviz or the SVG it writes, are spelled out as Python's repr
// does: \n, \x00, \t, \u2028.
//
// A string must not end in an escaped backslash: some graphviz versions
// misread `\\"` as an escaped quote and fail on the whole file (objgraph's
// bug #30). For a label (label is true) a final backslash is followed by a
// \n line break, which draws nothing; for other attributes it is written as
// the entity &#92;.
func dotString(label bool, lines ...string) string {
	var b strings.Builder
	b.WriteByte('"')
	for n, s := range lines {
		if n > 0 {
			b.WriteString(`\n`)
		}
		last := n == len(lines)-1
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				fmt.Fprintf(&b, `\\x%02x`, s[i])
			case r == '"':
				b.WriteString(`\"`)
			case r == '\\' && last && i+1 == len(s) && label:
				b.WriteString(`\\\n`)
			case r == '\\' && last && i+1 == len(s):
				b.WriteString(`&#92;`)
			case r == '\\':
				b.WriteString(`\\`)
			case r == '&':
				b.WriteString("&amp;")
			case r == '\n':
				b.WriteString(`\\n`)
			case r == '\t':
				b.WriteString(`\\t`)
			case r == '\r':
				b.WriteString(`\\r`)
			case r == ' ' || unicode.IsPrint(r):
				b.WriteString(s[i : i+size])
			case r < 0x100:
				fmt.Fprintf(&b, `\\x%02x`, r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\\U%08x`, r)
			}
			i += size
		}
	}
	b.WriteByte('"')
	return b.String()
}
