package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
)

// A Result is what one command finds, ready to be written as text or as
// JSON (encoding/json, with its struct tags).
type Result interface {
	WriteText(w io.Writer) error
}

// WriteJSON writes a result as indented JSON, with no HTML escaping.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Snapshot describes a snapshot a result was made from: in JSON, the
// "snapshot" object of every result over one snapshot, and an element of
// the "snapshots" array of a result over several.
type Snapshot struct {
	File     string    `json:"file"`                     // the path given, "-" for standard input
	Runtime  string    `json:"runtime,omitempty"`        // "CPython"
	Version  string    `json:"version,omitempty"`        // its version, "3.11.7"
	PID      int       `json:"pid,omitempty"`            // the process's
	Time     time.Time `json:"time,omitzero"`            // when it was taken
	Objects  int       `json:"objects"`                  // objects in the snapshot
	Tracked  int       `json:"tracked"`                  // of which tracked by the cycle collector
	Edges    int       `json:"edges"`                    // references
	Roots    int       `json:"roots"`                    // roots (modules, threads, frames, locals)
	Bytes    uint64    `json:"bytes"`                    // the objects' own sizes
	Dangling int       `json:"dangling_edges,omitempty"` // edges and roots that pointed outside the snapshot and were dropped
}

// Summarize describes the snapshot h, read from file.
func Summarize(file string, h *heap.Heap) Snapshot {
	m := h.Meta()
	s := Snapshot{File: file, Runtime: m.Runtime, Version: m.Version, PID: m.PID, Time: m.Time,
		Objects: h.Len(), Edges: h.NumEdges(), Roots: len(h.Roots()), Bytes: h.TotalSize(), Dangling: h.DanglingEdges()}
	for id := range h.All() {
		if h.Flags(id).Tracked() {
			s.Tracked++
		}
	}
	return s
}

// WriteText writes the two header lines of a result over one snapshot:
// file, interpreter, process and time, then the counts.
func (s Snapshot) WriteText(w io.Writer) error {
	line := Escape(s.File) + ":"
	if s.Runtime != "" {
		line += " " + Escape(s.Runtime+" "+s.Version)
	}
	if s.PID != 0 {
		line += ", pid " + strconv.Itoa(s.PID)
	}
	if !s.Time.IsZero() {
		line += ", " + s.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	_, err := fmt.Fprintf(w, "%s\n%s objects (%s gc-tracked), %s, %s edges, %s roots\n", line,
		units.Commas(uint64(s.Objects)), units.Commas(uint64(s.Tracked)), units.Bytes(s.Bytes), units.Commas(uint64(s.Edges)), units.Commas(uint64(s.Roots)))
	return err
}

// more writes the line that says how many rows a limit left out, if any:
// "(3 more types; --limit 0 shows all)".
func more(w io.Writer, indent string, n int, what, flag string) {
	if n > 0 {
		fmt.Fprintf(w, "%s(%s; %s 0 shows all)\n", indent, Plural(n, "more "+what), flag)
	}
}
