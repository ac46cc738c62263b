package report

// The results about one object: at, chain, and the drawings of refs,
// backrefs and chain -o.

import (
	"fmt"
	"io"
	"strings"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/objgraph"
)

// Ref is a reference to or from an object.
type Ref struct {
	Edge   string `json:"edge"`   // its name, "" when unnamed
	Object Object `json:"object"` // the object at its other end
}

// At describes one object: what it is, the roots that hold it, what it
// refers to and what refers to it.
type At struct {
	Snapshot  Snapshot        `json:"snapshot"`
	Object    Object          `json:"object"`
	Roots     []objgraph.Root `json:"roots"`     // the snapshot's roots that hold it
	Referents []Ref           `json:"referents"` // what it refers to, as many as asked
	Referrers []Ref           `json:"referrers"` // what refers to it, as many as asked

	// Weak references, which keep nothing alive: the referent of a weak
	// reference object (at most one), and the weak reference objects
	// whose referent it is, as many as asked.
	WeakReferents []Ref `json:"weak_referents"`
	WeakReferrers []Ref `json:"weak_referrers"`

	referents, referrers, weakReferrers int // in all
}

// NewAt describes object id of h, listing n referents and n referrers (0:
// all).
func NewAt(snap Snapshot, h *heap.Heap, id heap.ID, n int) *At {
	var refs, back []Ref
	for to, name := range h.Edges(id) {
		refs = append(refs, Ref{name, Describe(h, to)})
	}
	srcs := h.Referrers(id)
	for i, src := range srcs {
		if i > 0 && srcs[i-1] == src {
			continue
		}
		for _, name := range objgraph.EdgeNames(h, src, id) {
			back = append(back, Ref{name, Describe(h, src)})
		}
	}
	weakTo, weakFrom := []Ref{}, []Ref{}
	for _, to := range h.WeakReferents(id) {
		weakTo = append(weakTo, Ref{"", Describe(h, to)})
	}
	for _, src := range h.WeakReferrers(id) {
		weakFrom = append(weakFrom, Ref{"", Describe(h, src)})
	}
	r := &At{Snapshot: snap, Object: Describe(h, id), Roots: objgraph.RootsOf(h, id),
		Referents: append([]Ref{}, limit(refs, n)...), Referrers: append([]Ref{}, limit(back, n)...),
		WeakReferents: weakTo, WeakReferrers: append([]Ref{}, limit(weakFrom, n)...),
		referents: len(refs), referrers: len(back), weakReferrers: len(weakFrom)}
	if r.Roots == nil {
		r.Roots = []objgraph.Root{}
	}
	return r
}

func (r *At) WriteText(w io.Writer) error {
	d := r.Object
	rc := fmt.Sprint(d.Refcount)
	if d.Immortal {
		rc = "immortal"
	}
	fmt.Fprintf(w, "%s %s (%s), %d bytes, refcount %s\n", d.Address, Escape(d.Type), Escape(d.QualType), d.Size, rc)
	if d.Tracked {
		fmt.Fprintf(w, "gc-tracked, generation %d", *d.Gen)
	} else {
		fmt.Fprint(w, "not tracked by gc (objgraph.at would not find it)")
	}
	if d.Kind != "" {
		fmt.Fprintf(w, "; kind %s", d.Kind)
	}
	if d.HasDel {
		fmt.Fprint(w, "; has __del__")
	}
	fmt.Fprintln(w)
	if d.Label != "" {
		fmt.Fprintf(w, "label: %s\n", Escape(d.Label))
	}
	for _, root := range r.Roots {
		fmt.Fprintf(w, "root: %s\n", Escape(root.String()))
	}
	list := func(title string, refs []Ref, total int) error {
		fmt.Fprintf(w, "%s (%d):\n", title, total)
		t := NewTable(Left(""), Left(""), Left(""), Left(""))
		t.Indent = "  "
		for _, e := range refs {
			name := e.Edge
			switch {
			case strings.HasPrefix(title, "weak"):
				name = "(weak)"
			case name == "":
				name = "-"
			}
			t.Row(name, e.Object.Address, e.Object.Type, e.Object.Label)
		}
		if err := t.Write(w); err != nil {
			return err
		}
		if n := total - len(refs); n > 0 {
			fmt.Fprintf(w, "  (%d more; --limit 0 lists all)\n", n)
		}
		return nil
	}
	if err := list("referents", r.Referents, r.referents); err != nil {
		return err
	}
	if len(r.WeakReferents) > 0 {
		if err := list("weak referent", r.WeakReferents, len(r.WeakReferents)); err != nil {
			return err
		}
	}
	if err := list("referrers", r.Referrers, r.referrers); err != nil {
		return err
	}
	if r.weakReferrers > 0 {
		return list("weak referrers, which keep nothing alive", r.WeakReferrers, r.weakReferrers)
	}
	return nil
}

// ChainTo is the shortest chain of references that holds an object, as
// objgraph.find_backref_chain finds it.
type ChainTo struct {
	Snapshot Snapshot        `json:"snapshot"`
	To       string          `json:"to"`        // what the chain was to start at: "root" or "module"
	Found    bool            `json:"found"`     // whether one reaches the object within the depth searched, through the references followed
	WeakOnly bool            `json:"weak_only"` // none reaches it through strong references, one does through weak ones too: the chain is that one
	Roots    []objgraph.Root `json:"roots"`     // the roots (of that kind) that hold the chain's first object
	Chain    []Hop           `json:"chain"`     // the chain, its first object first; the object alone when none was found
}

func (r *ChainTo) WriteText(w io.Writer) error {
	if r.Found || r.WeakOnly {
		held := "a " + r.To
		switch len(r.Roots) {
		case 0:
		case 1:
			held = r.Roots[0].String()
		default:
			held = fmt.Sprintf("%s (and %s)", r.Roots[0], Plural(len(r.Roots)-1, "more root"))
		}
		weak := 0
		for _, h := range r.Chain {
			if h.Weak {
				weak++
			}
		}
		refs := Plural(len(r.Chain)-1, "reference")
		switch {
		case r.WeakOnly:
			fmt.Fprintf(w, "reachable only weakly: no strong references lead to it from a %s; from %s through %s, %d weak:\n",
				r.To, Escape(held), refs, weak)
		case weak > 0:
			fmt.Fprintf(w, "reached from %s through %s, %d weak (a weak reference keeps nothing alive):\n", Escape(held), refs, weak)
		default:
			fmt.Fprintf(w, "held by %s through %s:\n", Escape(held), refs)
		}
	}
	return Chain{Hops: r.Chain}.Table().Write(w)
}

// Drawing is a graph drawn to a file.
type Drawing struct {
	Snapshot Snapshot `json:"snapshot"`
	Start    Object   `json:"start"`  // the object drawn from
	Output   string   `json:"output"` // the file written, "-" for standard output
	Nodes    int      `json:"nodes"`  // objects drawn
}

// WriteText writes nothing: the drawing is the output.
func (r *Drawing) WriteText(io.Writer) error { return nil }

// ProfileFile is a pprof profile written to a file.
type ProfileFile struct {
	Snapshot Snapshot  `json:"snapshot"`
	Base     *Snapshot `json:"base,omitempty"` // the snapshot subtracted, with --base
	Output   string    `json:"output"`         // the file written, "-" for standard output
	Samples  int       `json:"samples"`        // samples in the profile
	Objects  int64     `json:"objects"`        // objects they count (negative when fewer than in the base)
	Bytes    int64     `json:"bytes"`          // bytes they count
}

// WriteText writes nothing: the profile is the output.
func (r *ProfileFile) WriteText(io.Writer) error { return nil }
