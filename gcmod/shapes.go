package gcmod

import (
	"cmp"
	"slices"
	"strings"

	"github.com/objgraph-go/objgraph/heap"
)

// A CycleShape is the groups of unreachable objects whose cycles look the
// same: hop by hop the same types and the same reference names, with the
// names of container elements (indexes, dict keys) collapsed to "[*]". A
// program that leaks one kind of cycle per request makes hundreds of groups
// of one shape; the shape is the thing to fix.
type CycleShape struct {
	Steps   []ShapeStep // the cycle's shape, from the representative member round to it; empty for groups without a cycle
	Groups  []int       // indexes of the groups of the shape in Report.Groups, in that order
	Objects int         // objects of all its groups, members and held
	Bytes   uint64      // their total size
	Reasons []Reason    // the distinct reasons of its groups, in order of Reason
}

// A ShapeStep is one reference of a cycle's shape: from an object of Type
// along a reference named Edge.
type ShapeStep struct {
	Type string `json:"type"` // module-qualified type name of the object
	Edge string `json:"edge"` // name of the reference it holds to the next, collapsed
}

// Shapes groups the report's groups by the shape of their cycles, most
// bytes first.
func (rep *Report) Shapes(h *heap.Heap) []CycleShape {
	index := map[string]int{}
	var out []CycleShape
	for gi, g := range rep.Groups {
		steps := make([]ShapeStep, len(g.Cycle))
		var key strings.Builder
		for i, s := range g.Cycle {
			steps[i] = ShapeStep{Type: h.TypeQualName(h.Type(s.Obj)), Edge: collapseEdge(h.EdgeName(s.Edge))}
			key.WriteString(steps[i].Type + "\x00" + steps[i].Edge + "\x00")
		}
		if len(g.Cycle) == 0 {
			// No cycle: the group is one object nothing unreachable refers
			// to; group by its type.
			key.WriteString("\x01" + h.TypeQualName(h.Type(g.Members[0])))
		}
		k, ok := index[key.String()]
		if !ok {
			k = len(out)
			index[key.String()] = k
			out = append(out, CycleShape{Steps: steps})
		}
		s := &out[k]
		s.Groups = append(s.Groups, gi)
		s.Objects += len(g.Members) + len(g.Held)
		s.Bytes += g.Bytes
		if !slices.Contains(s.Reasons, g.Reason) {
			s.Reasons = append(s.Reasons, g.Reason)
		}
	}
	for i := range out {
		slices.Sort(out[i].Reasons)
	}
	slices.SortStableFunc(out, func(a, b CycleShape) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(b.Objects, a.Objects)
	})
	return out
}

// collapseEdge collapses the names that differ from one element of a
// container to the next: sequence indexes ("[3]"), dict keys given by their
// repr ("'node-7'", "42", "(1, 2)", "b'k'") and the references to the keys
// themselves ("<key>"). Attribute names stay.
func collapseEdge(name string) string {
	if name == "" {
		return ""
	}
	switch c := name[0]; {
	case c == '[' || c == '\'' || c == '"' || c == '(' || c == '-' || c == '<' || c >= '0' && c <= '9':
		return "[*]"
	case strings.HasPrefix(name, "b'") || strings.HasPrefix(name, `b"`):
		return "[*]"
	}
	return name
}
