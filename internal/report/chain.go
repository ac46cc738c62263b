package report

import (
	"strings"

	"github.com/objgraph-go/objgraph/objgraph"
)

// ChainLine spells a chain of references on one line, escaped: where it
// starts, then for each reference an arrow, its name and the type of the
// object it leads to, "module app → __dict__ dict → cache dict". The first
// step is the root's own object, named by the root, except for a chain held
// from outside the graph, which names the type of its first object: "held
// from outside the graph: list → [0] dict". An unnamed reference is just the
// arrow: "→ dict".
func ChainLine(root objgraph.Root, steps []objgraph.ShapeStep) string {
	var b strings.Builder
	b.WriteString(root.String())
	for i, s := range steps {
		if i == 0 {
			if root.IsExternal() {
				b.WriteString(": " + s.Type)
			}
			continue
		}
		b.WriteString(hop(s))
	}
	return Escape(b.String())
}

// CycleLine spells a cycle of references the way ChainLine spells a chain,
// from its first object around to it again along the reference back:
// "Foo → peer Foo → peer (back to first)".
func CycleLine(steps []objgraph.ShapeStep, back string) string {
	var b strings.Builder
	for i, s := range steps {
		if i == 0 {
			b.WriteString(s.Type)
			continue
		}
		b.WriteString(hop(s))
	}
	b.WriteString(hop(objgraph.ShapeStep{Edge: back, Type: "(back to first)"}))
	return Escape(b.String())
}

// hop spells one step after the first: " → name type", or " → type" for
// an unnamed reference.
func hop(s objgraph.ShapeStep) string {
	if s.Edge == "" {
		return " → " + s.Type
	}
	return " → " + s.Edge + " " + s.Type
}
