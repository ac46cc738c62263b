package heap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
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
	Buffer   *jsonBuffer     `json:"buffer,omitempty"`
	Weak     []uint32        `json:"weak,omitempty"` // the objects it refers to weakly (the WEAKREFS record)
}

// jsonBuffer is the buffer an object owns (the BUFFERS record).
type jsonBuffer struct {
	Owned  uint64 `json:"owned"`
	InSize uint64 `json:"in_size"`
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
		if b, ok := h.BufferOf(ID(id)); ok {
			o.Buffer = &jsonBuffer{Owned: b.Owned, InSize: b.InSize}
		}
		for _, t := range h.WeakReferents(ID(id)) {
			o.Weak = append(o.Weak, uint32(t))
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

// jsonDoc is the document, decoded in one piece; edges are decoded per object.
type jsonDoc struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	Meta    json.RawMessage `json:"meta"` // decoded on its own, to place its errors
	Types   []jsonType      `json:"types"`
	Objects []jsonObject    `json:"objects"`
	Roots   []jsonRoot      `json:"roots"`
}

// JSONError reports a JSON snapshot that cannot be read.
type JSONError struct {
	File   string // file name, or "" for an unnamed stream
	Offset int64  // byte offset from the start of the input, or -1 when unknown
	Line   int    // line of Offset, from 1; 0 when unknown
	Column int    // byte in that line, from 1
	Where  string // the item, e.g. "objects[12].edges[3]"
	Err    error
}

func (e *JSONError) Error() string {
	name := e.File
	if name == "" {
		name = "<stream>"
	}
	s := "reading JSON snapshot " + name
	switch {
	case e.Line > 0:
		s += fmt.Sprintf(": line %d, column %d (offset %d)", e.Line, e.Column, e.Offset)
	case e.Offset >= 0:
		s += fmt.Sprintf(": offset %d", e.Offset)
	}
	if e.Where != "" {
		s += ": " + e.Where
	}
	return s + ": " + e.Err.Error()
}

func (e *JSONError) Unwrap() error { return e.Err }

// utf8BOM is the UTF-8 byte-order mark, which some editors write at the
// start of a file; ReadJSON skips it.
const utf8BOM = "\xEF\xBB\xBF"

// jsonReader reads one JSON document held in memory, and places errors in it.
type jsonReader struct {
	name string
	data []byte // the whole input
	base int    // where the document starts in data: after a byte-order mark
}

// doc is the document, without the byte-order mark.
func (jr *jsonReader) doc() []byte { return jr.data[jr.base:] }

// errAt returns an error at offset off of the document (-1 for none).
func (jr *jsonReader) errAt(off int, where string, err error) error {
	e := &JSONError{File: jr.name, Offset: -1, Where: where, Err: err}
	if off >= 0 {
		abs := jr.base + off
		e.Offset = int64(abs)
		e.Line = 1 + bytes.Count(jr.data[:abs], []byte("\n"))
		e.Column = abs - bytes.LastIndexByte(jr.data[:abs], '\n')
	}
	return e
}

// fail returns an error about the value at path, e.g. "objects", 12,
// "edges", 3.
func (jr *jsonReader) fail(path []any, format string, args ...any) error {
	return jr.errAt(valueAt(jr.doc(), path), pathString(path), fmt.Errorf(format, args...))
}

// ReadJSON reads the JSON form written by WriteJSON. The input may start with
// a UTF-8 byte-order mark and white space; after the document, only white
// space may follow. Errors are *JSONError values that name the item and its
// line, column and byte offset.
func ReadJSON(r io.Reader, opts ReadOptions) (*Heap, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, &JSONError{File: opts.Name, Offset: -1, Err: err}
	}
	jr := &jsonReader{name: opts.Name, data: data}
	if bytes.HasPrefix(data, []byte(utf8BOM)) {
		jr.base = len(utf8BOM)
	}
	doc := jr.doc()
	var jd jsonDoc
	if err := json.Unmarshal(doc, &jd); err != nil {
		return nil, jr.decodeError(err, nil)
	}
	if jd.Format != jsonFormat {
		return nil, jr.fail([]any{"format"}, "not an objgraph JSON snapshot (format %q)", jd.Format)
	}
	if jd.Version != 1 {
		return nil, jr.fail([]any{"version"}, "unsupported version %d (this reader reads 1)", jd.Version)
	}
	b := NewBuilder()
	if len(jd.Meta) > 0 && string(jd.Meta) != "null" {
		var m Meta
		if err := json.Unmarshal(jd.Meta, &m); err != nil {
			return nil, jr.decodeError(err, []any{"meta"})
		}
		b.SetMeta(m)
	}
	for i, t := range jd.Types {
		if t.Name == "" {
			return nil, jr.fail([]any{"types", i}, "type without a name")
		}
		var addr uint64
		if t.Addr != "" {
			a, err := parseHex(t.Addr)
			if err != nil {
				return nil, jr.fail([]any{"types", i, "addr"}, "%v", err)
			}
			addr = a
		}
		before := len(b.h.types)
		b.AddTypeAt(t.Name, t.QualName, addr)
		if len(b.h.types) == before {
			if addr != 0 {
				return nil, jr.fail([]any{"types", i}, "type %q at %#x listed twice", t.QualName, addr)
			}
			return nil, jr.fail([]any{"types", i}, "type %q listed twice", t.QualName)
		}
	}
	n := len(jd.Objects)
	for i, o := range jd.Objects {
		a, err := parseHex(o.Addr)
		if err != nil {
			return nil, jr.fail([]any{"objects", i, "addr"}, "%v", err)
		}
		if int(o.Type) >= len(jd.Types) {
			return nil, jr.fail([]any{"objects", i, "type"}, "type %d out of range (%d types)", o.Type, len(jd.Types))
		}
		id := b.AddObject(Object{Addr: a, Type: TypeID(o.Type), Size: o.Size, Refcount: o.Refcount, Flags: Flags(o.Flags), Label: o.Label})
		if o.Buffer != nil {
			if o.Buffer.InSize > o.Buffer.Owned {
				return nil, jr.fail([]any{"objects", i, "buffer", "in_size"}, "%d bytes counted in the size, more than the %d owned", o.Buffer.InSize, o.Buffer.Owned)
			}
			b.SetBuffer(id, Buffer{Owned: o.Buffer.Owned, InSize: o.Buffer.InSize})
		}
	}
	for i, o := range jd.Objects {
		for k, t := range o.Weak {
			if int(t) >= n {
				return nil, jr.fail([]any{"objects", i, "weak", k}, "target must be an object index below %d", n)
			}
			if k > 0 {
				return nil, jr.fail([]any{"objects", i, "weak", k}, "a weak reference refers to one object")
			}
			b.AddWeakEdge(ID(i), ID(t))
		}
	}
	for i, o := range jd.Objects {
		if len(o.RawEdges) == 0 {
			continue
		}
		edges, err := jr.edges(i, o.RawEdges)
		if err != nil {
			return nil, err
		}
		for k, e := range edges {
			var to uint32
			if err := json.Unmarshal(e[0], &to); err != nil || int(to) >= n {
				return nil, jr.fail([]any{"objects", i, "edges", k, 0}, "target must be an object index below %d", n)
			}
			var name *string
			if err := json.Unmarshal(e[1], &name); err != nil {
				return nil, jr.fail([]any{"objects", i, "edges", k, 1}, "name must be a string or null")
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
	for i, r := range jd.Roots {
		k, ok := ParseRootKind(r.Kind)
		if !ok {
			return nil, jr.fail([]any{"roots", i, "kind"}, "unknown root kind %q", r.Kind)
		}
		if int(r.Target) >= n {
			return nil, jr.fail([]any{"roots", i, "target"}, "object index %d out of range (%d objects)", r.Target, n)
		}
		b.AddRoot(Root{Kind: k, Name: r.Name, Target: ID(r.Target), Thread: r.Thread, Depth: r.Depth})
	}
	h, err := b.Build()
	var shared *sharedAddrError
	switch {
	case asErr(err, &shared):
		return nil, jr.fail([]any{"objects", int(shared.second), "addr"}, "%v", shared)
	case err != nil:
		return nil, &JSONError{File: opts.Name, Offset: -1, Err: err}
	}
	return h, nil
}

// edges decodes the edges of object i: a list of [target, name] pairs.
func (jr *jsonReader) edges(i int, raw json.RawMessage) ([][]json.RawMessage, error) {
	var edges [][]json.RawMessage
	if err := json.Unmarshal(raw, &edges); err != nil {
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return nil, jr.fail([]any{"objects", i, "edges"}, "edges must be a list of [target, name] pairs")
		}
		for k, e := range elems {
			if json.Unmarshal(e, new([]json.RawMessage)) != nil {
				return nil, jr.fail([]any{"objects", i, "edges", k}, "an edge must be a [target, name] pair, not %s", e)
			}
		}
		return nil, jr.fail([]any{"objects", i, "edges"}, "%v", err)
	}
	for k, e := range edges {
		if len(e) != 2 {
			return nil, jr.fail([]any{"objects", i, "edges", k}, "an edge must be a [target, name] pair, not %d values", len(e))
		}
	}
	return edges, nil
}

// decodeError places an error of json.Unmarshal on the document: of the
// whole document, or of the value at path at, decoded on its own.
func (jr *jsonReader) decodeError(err error, at []any) error {
	doc, base := jr.doc(), 0
	if at != nil {
		base = valueAt(doc, at)
		doc = doc[base:]
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case asErr(err, &se):
		// Offset counts the byte that is wrong
		off := int(se.Offset) - 1
		if off > 0 && json.Valid(doc[:off]) {
			return jr.errAt(off, "", fmt.Errorf("unexpected %q after the end of the JSON document", doc[off:min(off+16, len(doc))]))
		}
		return jr.errAt(max(off, 0), "", errors.New(strings.TrimPrefix(se.Error(), "json: ")))
	case asErr(err, &te):
		if f := jr.formatOf(); f != jsonFormat {
			return jr.fail([]any{"format"}, "not an objgraph JSON snapshot (format %q)", f)
		}
		path, start := pathTo(doc, int(te.Offset))
		return jr.errAt(base+start, pathString(append(at, path...)), fmt.Errorf("want %s, not %s", jsonKind(te.Type), te.Value))
	}
	// an error of a type's own decoder (a time that is not RFC 3339): at
	// the value decoded
	return jr.errAt(base, pathString(at), err)
}

// jsonKind names what JSON value decodes to a Go type.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem()) + " or null"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return fmt.Sprintf("an integer from 0 to %d", ^uint64(0)>>(64-t.Bits()))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// formatOf returns the document's "format" string, or "" when it has none.
func (jr *jsonReader) formatOf() string {
	doc := jr.doc()
	off := valueAt(doc, []any{"format"})
	var f string
	if off < 0 || json.NewDecoder(bytes.NewReader(doc[off:])).Decode(&f) != nil {
		return ""
	}
	return f
}

// readAll reads r whole, in one allocation when its size is known.
func readAll(r io.Reader) ([]byte, error) {
	size := int64(-1)
	switch v := r.(type) {
	case interface{ Size() int64 }:
		size = v.Size()
	case *os.File:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	if size < 0 || size > math.MaxInt32 {
		return io.ReadAll(r)
	}
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead)
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// pathString spells a path as "objects[12].edges[3]".
func pathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

// valueAt returns the offset in doc of the value at path (object keys and
// array indexes), or of its innermost ancestor in doc when the path goes
// further than doc does (a key that is missing). A key matches as
// encoding/json matches it to a field: the last one that equals it but for
// case.
func valueAt(doc []byte, path []any) int {
	off := 0
	for _, step := range path {
		start := -1
		err := children(doc, off, func(key any, lo, hi int) bool {
			switch s := step.(type) {
			case string:
				if k, ok := key.(string); ok && strings.EqualFold(k, s) {
					start = lo
				}
				return true
			default:
				if key == step {
					start = lo
					return false
				}
				return true
			}
		})
		if err != nil || start < 0 {
			break
		}
		off = start
	}
	for off < len(doc) && strings.IndexByte(" \t\r\n", doc[off]) >= 0 {
		off++
	}
	return off
}

// pathTo returns the path of the innermost value of doc that holds offset
// off, where encoding/json places an error (just after a value or at its
// first byte), and the offset of that value.
func pathTo(doc []byte, off int) ([]any, int) {
	var path []any
	at := valueAt(doc, nil)
	for {
		found := false
		children(doc, at, func(key any, lo, hi int) bool {
			if lo < off && off <= hi {
				path, at, found = append(path, key), lo, true
				return false
			}
			return true
		})
		if !found {
			return path, at
		}
	}
}

// children calls fn with the key (a string in an object, an int in an
// array) and the extent of each child of the object or array at offset off
// of doc, until fn returns false. A value that is neither has no children.
func children(doc []byte, off int, fn func(key any, lo, hi int) bool) error {
	dec := json.NewDecoder(bytes.NewReader(doc[off:]))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok || d != '{' && d != '[' {
		return nil
	}
	for i := 0; dec.More(); i++ {
		var key any = i
		if d == '{' {
			if key, err = dec.Token(); err != nil {
				return err
			}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		hi := off + int(dec.InputOffset())
		if !fn(key, hi-len(v), hi) {
			return nil
		}
	}
	return nil
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
