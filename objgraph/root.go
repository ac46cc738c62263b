package objgraph

import (
	"encoding/json"
	"fmt"

	"github.com/objgraph-go/objgraph/heap"
)

// A Root is where a chain of references starts: a root of the snapshot (a
// module of sys.modules, a thread, a stack frame or one of its local
// variables), an object held from outside the graph (its refcount exceeds
// the references the snapshot records to it), or nothing, for garbage: the
// objects no root reaches.
type Root struct {
	Kind   heap.RootKind // heap.RootModule, RootFrame, RootLocal, RootThread, RootOther, RootExternal; RootGarbage when no root reaches the chain
	Name   string        // the snapshot's name of the root: "app", "MainThread: handle (app.py:42)", "MainThread: run (app.py:12) seen"; "" for held from outside and garbage
	Thread uint64        // thread identifier, for frame and local roots; 0 otherwise
	Depth  uint32        // stack depth on that thread, 0 for the innermost frame
}

// RootGarbage is the Root.Kind of the chains of objects no root reaches.
const RootGarbage heap.RootKind = 0

// External is the Root of a chain held from outside the graph.
var External = Root{Kind: heap.RootExternal}

// Garbage is the Root of the objects no root reaches.
var Garbage = Root{Kind: RootGarbage}

// RootOf is the Root of a root of the snapshot.
func RootOf(r heap.Root) Root {
	return Root{Kind: r.Kind, Name: r.Name, Thread: r.Thread, Depth: r.Depth}
}

// RootsOf returns the roots of the snapshot that hold id, in snapshot
// order; nil when none does.
func RootsOf(h *heap.Heap, id heap.ID) []Root {
	var out []Root
	for _, r := range h.Roots() {
		if r.Target == id {
			out = append(out, RootOf(r))
		}
	}
	return out
}

// IsExternal reports whether the chain is held from outside the graph.
func (r Root) IsExternal() bool { return r.Kind == heap.RootExternal }

// IsGarbage reports whether no root reaches the chain.
func (r Root) IsGarbage() bool { return r.Kind == RootGarbage }

// String names the root for people: "module app", "local MainThread: run
// (app.py:12) seen", "held from outside the graph", "garbage".
func (r Root) String() string {
	switch {
	case r.IsGarbage():
		return "garbage"
	case r.IsExternal() && r.Name == "":
		return "held from outside the graph"
	}
	return r.Kind.String() + " " + r.Name
}

// rootJSON is the JSON form of a Root.
type rootJSON struct {
	Kind   string `json:"kind"`             // module, frame, local, thread, other, external or garbage
	Name   string `json:"name,omitempty"`   // the root's name
	Thread uint64 `json:"thread,omitempty"` // thread identifier of a frame or local root
	Depth  uint32 `json:"depth,omitempty"`  // its stack depth, 0 innermost
}

// MarshalJSON writes the root as {"kind": "module", "name": "app"}; the
// kind is "external" for a chain held from outside the graph and "garbage"
// when no root reaches it.
func (r Root) MarshalJSON() ([]byte, error) {
	kind := "garbage"
	if !r.IsGarbage() {
		kind = r.Kind.String()
	}
	return json.Marshal(rootJSON{kind, r.Name, r.Thread, r.Depth})
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (r *Root) UnmarshalJSON(data []byte) error {
	var j rootJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	kind := RootGarbage
	if j.Kind != "garbage" {
		k, ok := heap.ParseRootKind(j.Kind)
		if !ok {
			return fmt.Errorf("unknown root kind %q", j.Kind)
		}
		kind = k
	}
	*r = Root{Kind: kind, Name: j.Name, Thread: j.Thread, Depth: j.Depth}
	return nil
}
