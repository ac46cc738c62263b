package heap

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// The JSON form of a snapshot, for interoperation with other tools:
//
//	{"format": "objgraph-snapshot", "version": 1,
//	 "meta": {...},
//	 "types": [{"name": "dict", "qualname": "builtins.dict", "addr": "0x55d0c0a1b2c0"}, ...],
//	 "objects": [{"addr": "0x7f...", "type": 0, "size": 232, "refcount": 1, "flags": 5,
//	              "kind": "other", "label": "3 items",
//	              "edges": [[12, "cache"], [40, "[0]"], [41, null]]}, ...],
//	 "roots": [{"kind": "module", "name": "__main__", "target": 0, "thread": 0, "depth": 0}, ...]}
//
// Objects are listed in id order and edges name targets by id. Addresses are
// hexadecimal strings so that no JSON reader loses their precision. "kind" is
// informative; "flags" holds it too. An edge name that looks like "[i]" is a
// sequence index.

const jsonFormat = "objgraph-snapshot"

type jsonType struct {
	Name     string `json:"name"`
	QualName string `json:"qualname,omitempty"`
	Addr     string `json:"addr,omitempty"`
}

type jsonObject struct {
	Addr     string          `json:"addr"`
	Type     uint32          `json:"type"`
	Size     uint64          `json:"size"`
	Refcount uint64          `json:"refcount"`
	Flags    uint16          `json:"flags"`
	Kind     string          `json:"kind,omitempty"`
	Label    string          `json:"label,omitempty"`
	RawEdges json.RawMessage `json:"edges,omitempty"`
}

type jsonRoot struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Target uint32 `json:"target"`
	Thread uint64 `json:"thread,omitempty"`
	Depth  uint32 `json:"depth,omitempty"`
}

func hexAddr(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// WriteJSON writes h in the JSON form, one object per line.
func WriteJSON(w io.Writer, h *Heap) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	meta, err := json.Marshal(&h.meta)
	if err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	fmt.Fprintf(bw, "{\"format\":%q,\"version\":1,\n\"meta\":%s,\n\"types\":[", jsonFormat, meta)
	for t := range h.types {
		ti := h.types[t]
		jt := jsonType{Name: h.strs.get(ti.name), QualName: h.strs.get(ti.qual)}
		if ti.addr != 0 {
			jt.Addr = hexAddr(ti.addr)
		}
		b, _ := json.Marshal(jt)
		if t > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		bw.Write(b)
	}
	bw.WriteString("],\n\"objects\":[")
	var edges []byte
	for id := range h.addr {
		edges = append(edges[:0], '[')
		lo, hi := h.EdgeRange(ID(id))
		for e := lo; e < hi; e++ {
			if e > lo {
				edges = append(edges, ',')
			}
			edges = append(edges, '[')
			edges = strconv.AppendUint(edges, uint64(h.edgeTo[e]), 10)
			edges = append(edges, ',')
			if n := h.EdgeNameID(e); n == 0 {
				edges = append(edges, "null"...)
			} else {
				nb, _ := json.Marshal(h.NameString(n))
				edges = append(edges, nb...)
			}
			edges = append(edges, ']')
		}
		edges = append(edges, ']')
		f := h.flags[id]
		o := jsonObject{Addr: hexAddr(h.addr[id]), Type: uint32(h.typ[id]), Size: h.size[id], Refcount: h.refcnt[id],
			Flags: uint16(f), Kind: f.Kind().String(), Label: h.Label(ID(id))}
		if hi > lo {
			o.RawEdges = edges
		}
		b, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("writing JSON: object %d: %w", id, err)
		}
		if id > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		bw.Write(b)
	}
	bw.WriteString("],\n\"roots\":[")
	for i, r := range h.roots {
		b, _ := json.Marshal(jsonRoot{Kind: r.Kind.String(), Name: r.Name, Target: uint32(r.Target), Thread: r.Thread, Depth: r.Depth})
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		bw.Write(b)
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

type jsonDoc struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Meta    *Meta        `json:"meta"`
	Types   []jsonType   `json:"types"`
	Objects []jsonObject `json:"objects"`
	Roots   []jsonRoot   `json:"roots"`
}

// JSONError reports a JSON snapshot that cannot be read.
type JSONError struct {
	File   string // file name, or "" for an unnamed stream
	Offset int64  // byte offset, or -1 when unknown
	Where  string // the item, e.g. "objects[12].edges[3]"
	Err    error
}

func (e *JSONError) Error() string {
	name := e.File
	if name == "" {
		name = "<stream>"
	}
	s := "reading JSON snapshot " + name
	if e.Offset >= 0 {
		s += fmt.Sprintf(": offset %d", e.Offset)
	}
	if e.Where != "" {
		s += ": " + e.Where
	}
	return s + ": " + e.Err.Error()
}

func (e *JSONError) Unwrap() error { return e.Err }

// ReadJSON reads the JSON form written by WriteJSON.
func ReadJSON(r io.Reader, opts ReadOptions) (*Heap, error) {
	fail := func(off int64, where string, format string, args ...any) error {
		return &JSONError{File: opts.Name, Offset: off, Where: where, Err: fmt.Errorf(format, args...)}
	}
	dec := json.NewDecoder(r)
	var doc jsonDoc
	if err := dec.Decode(&doc); err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case asErr(err, &se):
			off = se.Offset
		case asErr(err, &te):
			off = te.Offset
			return nil, fail(off, te.Field, "%v", err)
		}
		return nil, fail(off, "", "%v", err)
	}
	if doc.Format != jsonFormat {
		return nil, fail(-1, "format", "not an objgraph JSON snapshot (format %q)", doc.Format)
	}
	if doc.Version != 1 {
		return nil, fail(-1, "version", "unsupported version %d (this reader reads 1)", doc.Version)
	}
	b := NewBuilder()
	if doc.Meta != nil {
		b.SetMeta(*doc.Meta)
	}
	for i, t := range doc.Types {
		if t.Name == "" {
			return nil, fail(-1, fmt.Sprintf("types[%d]", i), "type without a name")
		}
		before := len(b.h.types)
		tid := b.AddType(t.Name, t.QualName)
		if len(b.h.types) == before {
			return nil, fail(-1, fmt.Sprintf("types[%d]", i), "type %q listed twice", t.QualName)
		}
		if t.Addr != "" {
			a, err := parseHex(t.Addr)
			if err != nil {
				return nil, fail(-1, fmt.Sprintf("types[%d].addr", i), "%v", err)
			}
			b.SetTypeAddr(tid, a)
		}
	}
	n := len(doc.Objects)
	for i, o := range doc.Objects {
		a, err := parseHex(o.Addr)
		if err != nil {
			return nil, fail(-1, fmt.Sprintf("objects[%d].addr", i), "%v", err)
		}
		if int(o.Type) >= len(doc.Types) {
			return nil, fail(-1, fmt.Sprintf("objects[%d].type", i), "type %d out of range (%d types)", o.Type, len(doc.Types))
		}
		b.AddObject(Object{Addr: a, Type: TypeID(o.Type), Size: o.Size, Refcount: o.Refcount, Flags: Flags(o.Flags), Label: o.Label})
	}
	for i, o := range doc.Objects {
		if len(o.RawEdges) == 0 {
			continue
		}
		var edges [][2]json.RawMessage
		if err := json.Unmarshal(o.RawEdges, &edges); err != nil {
			return nil, fail(-1, fmt.Sprintf("objects[%d].edges", i), "%v", err)
		}
		for k, e := range edges {
			where := fmt.Sprintf("objects[%d].edges[%d]", i, k)
			var to uint32
			if err := json.Unmarshal(e[0], &to); err != nil || int(to) >= n {
				return nil, fail(-1, where, "target must be an object index below %d", n)
			}
			var name *string
			if err := json.Unmarshal(e[1], &name); err != nil {
				return nil, fail(-1, where, "name must be a string or null")
			}
			switch {
			case name == nil || *name == "":
				b.AddEdge(ID(i), ID(to), "")
			default:
				if idx, ok := parseIndexName(*name); ok {
					b.AddIndexEdge(ID(i), ID(to), idx)
				} else {
					b.AddEdge(ID(i), ID(to), *name)
				}
			}
		}
	}
	for i, r := range doc.Roots {
		k, ok := ParseRootKind(r.Kind)
		if !ok {
			return nil, fail(-1, fmt.Sprintf("roots[%d].kind", i), "unknown root kind %q", r.Kind)
		}
		if int(r.Target) >= n {
			return nil, fail(-1, fmt.Sprintf("roots[%d].target", i), "object index %d out of range (%d objects)", r.Target, n)
		}
		b.AddRoot(Root{Kind: k, Name: r.Name, Target: ID(r.Target), Thread: r.Thread, Depth: r.Depth})
	}
	h, err := b.Build()
	if err != nil {
		return nil, &JSONError{File: opts.Name, Offset: -1, Err: err}
	}
	return h, nil
}

func parseHex(s string) (uint64, error) {
	if len(s) < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return 0, fmt.Errorf("address %q is not a 0x-prefixed hexadecimal number", s)
	}
	v, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		return 0, fmt.Errorf("address %q is not a 0x-prefixed hexadecimal number", s)
	}
	return v, nil
}

// parseIndexName reads "[i]" back into i.
func parseIndexName(s string) (int, bool) {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[1:len(s)-1], 10, 31)
	if err != nil || strconv.FormatUint(v, 10) != s[1:len(s)-1] {
		return 0, false
	}
	return int(v), true
}
