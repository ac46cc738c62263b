package heap

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
)

// EncoderOptions tune an Encoder. The zero value is the default.
type EncoderOptions struct {
	BatchSize     int  // objects per OBJECTS record; 0 means 32768
	NoCompression bool // store every column as is, without zlib
}

// Edge is an edge as a producer describes it, for [Encoder.Object].
type Edge struct {
	Target uint64   // target address
	Name   EdgeName // from Encoder.Name or IndexName; 0 for none
}

// Encoder writes a snapshot as a stream: objects are buffered one batch at a
// time, so a producer never holds the whole graph. Types and names may be
// defined at any time before Close.
type Encoder struct {
	w    *bufio.Writer
	opts EncoderOptions
	err  error

	strIDs  map[string]uint32
	strs    []string // pending
	nstrs   int
	typeIDs map[typeKey]TypeID
	types   []pendingType
	ntypes  int

	obj   batch
	roots rootBatch

	nobjects, nedges, nroots, nrecords int

	zw  *zlib.Writer
	zb  bytes.Buffer
	rec []byte
}

type batch struct {
	addr, typ, size, refcnt, flags, nedges, labelLen []uint64
	label                                            []byte
	target, name                                     []uint64
	named                                            bool
}

type pendingType struct {
	addr       uint64
	name, qual string
}

type rootBatch struct {
	kind, name, target, thread, depth []uint64
}

// NewEncoder writes the file header and META record to w.
func NewEncoder(w io.Writer, meta *Meta, opts EncoderOptions) (*Encoder, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32768
	}
	e := &Encoder{w: bufio.NewWriterSize(w, 1<<20), opts: opts,
		strIDs: make(map[string]uint32), typeIDs: make(map[typeKey]TypeID)}
	var hdr [headerSize]byte
	copy(hdr[:], magic)
	binary.LittleEndian.PutUint16(hdr[8:], formatMajor)
	binary.LittleEndian.PutUint16(hdr[10:], formatMinor)
	e.write(hdr[:])
	m := Meta{}
	if meta != nil {
		m = *meta
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("writing snapshot: metadata: %w", err)
	}
	e.record(recMeta, 1, []colData{{id: colMetaJSON, blob: js}})
	return e, e.err
}

func (e *Encoder) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// Name interns s and returns its edge name (0 for "").
func (e *Encoder) Name(s string) EdgeName { return EdgeName(e.intern(s)) }

func (e *Encoder) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := e.strIDs[s]; ok {
		return id
	}
	e.strs = append(e.strs, s)
	e.nstrs++
	id := uint32(e.nstrs)
	e.strIDs[s] = id
	if len(e.strs) >= e.opts.BatchSize {
		e.flushStrings()
	}
	return id
}

// Type interns a type by its module-qualified name (its short name when
// qualname is empty) and the address of its type object, and returns its
// id. Types of one name at different addresses are different types: a
// process may make many classes of one name (ctypes makes a CFunctionType
// per signature).
func (e *Encoder) Type(name, qualname string, addr uint64) TypeID {
	k := newTypeKey(name, qualname, addr)
	if t, ok := e.typeIDs[k]; ok {
		return t
	}
	t := e.addType(name, qualname, addr)
	e.typeIDs[k] = t
	return t
}

// addType adds a type, whatever types came before it.
func (e *Encoder) addType(name, qualname string, addr uint64) TypeID {
	t := TypeID(e.ntypes)
	e.ntypes++
	e.types = append(e.types, pendingType{addr, name, qualname})
	if len(e.types) >= e.opts.BatchSize {
		e.flushTypes()
	}
	return t
}

// Object adds an object and its edges, in order.
func (e *Encoder) Object(o Object, edges []Edge) error {
	if e.err != nil {
		return e.err
	}
	if int(o.Type) >= e.ntypes {
		return fmt.Errorf("writing snapshot: object %#x: type id %d not defined", o.Addr, o.Type)
	}
	if len(edges) > math.MaxUint32 {
		return fmt.Errorf("writing snapshot: object %#x: too many edges", o.Addr)
	}
	b := &e.obj
	b.addr = append(b.addr, o.Addr)
	b.typ = append(b.typ, uint64(o.Type))
	b.size = append(b.size, o.Size)
	b.refcnt = append(b.refcnt, o.Refcount)
	b.flags = append(b.flags, uint64(o.Flags))
	b.nedges = append(b.nedges, uint64(len(edges)))
	b.labelLen = append(b.labelLen, uint64(len(o.Label)))
	b.label = append(b.label, o.Label...)
	for _, ed := range edges {
		b.target = append(b.target, ed.Target)
		b.name = append(b.name, fileName(ed.Name))
		b.named = b.named || ed.Name != 0
	}
	if len(b.addr) >= e.opts.BatchSize || len(b.target) >= 8*e.opts.BatchSize {
		e.flushObjects()
	}
	return e.err
}

// Root adds a root held at target.
func (e *Encoder) Root(r Root, target uint64) error {
	if r.Kind == 0 || r.Kind >= numRootKinds {
		return fmt.Errorf("writing snapshot: root %q: bad kind %d", r.Name, r.Kind)
	}
	b := &e.roots
	b.kind = append(b.kind, uint64(r.Kind))
	b.name = append(b.name, uint64(e.intern(r.Name)))
	b.target = append(b.target, target)
	b.thread = append(b.thread, r.Thread)
	b.depth = append(b.depth, uint64(r.Depth))
	if len(b.kind) >= e.opts.BatchSize {
		e.flushRoots()
	}
	return e.err
}

// Close writes what is buffered and the END record, and flushes. It does not
// close the underlying writer.
func (e *Encoder) Close() error {
	e.flushObjects()
	e.flushRoots()
	e.flushTypes()
	e.flushStrings()
	end := []colData{}
	for i, v := range []int{e.nobjects, e.nedges, e.nstrs, e.ntypes, e.nroots, e.nrecords} {
		end = append(end, colData{id: uint16(i + 1), vals: []uint64{uint64(v)}, width: 8})
	}
	e.record(recEnd, 1, end)
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err != nil {
		return fmt.Errorf("writing snapshot: %w", e.err)
	}
	return nil
}

func (e *Encoder) flushStrings() {
	if len(e.strs) == 0 {
		return
	}
	lens := make([]uint64, len(e.strs))
	var data []byte
	for i, s := range e.strs {
		lens[i] = uint64(len(s))
		data = append(data, s...)
	}
	e.record(recStrings, len(e.strs), []colData{
		{id: colStrLen, vals: lens, zip: true},
		{id: colStrBytes, blob: data, zip: true},
	})
	e.strs = e.strs[:0]
}

func (e *Encoder) flushTypes() {
	if len(e.types) == 0 {
		return
	}
	n := len(e.types)
	addr, name, qual := make([]uint64, n), make([]uint64, n), make([]uint64, n)
	for i, t := range e.types {
		addr[i] = t.addr
		name[i] = uint64(e.intern(t.name))
		qual[i] = uint64(e.intern(t.qual))
	}
	e.record(recTypes, n, []colData{
		{id: colTypeAddr, vals: addr},
		{id: colTypeName, vals: name, zip: true},
		{id: colTypeQual, vals: qual, zip: true},
	})
	e.types = e.types[:0]
}

func (e *Encoder) flushObjects() {
	b := &e.obj
	if len(b.addr) == 0 {
		return
	}
	n := len(b.addr)
	cols := []colData{
		{id: colObjAddr, vals: b.addr},
		{id: colObjType, vals: b.typ, zip: true},
		{id: colObjSize, vals: b.size, zip: true},
		{id: colObjRefcount, vals: b.refcnt, zip: true},
		{id: colObjFlags, vals: b.flags, zip: true},
		{id: colObjNEdges, vals: b.nedges, zip: true},
	}
	if len(b.label) > 0 {
		cols = append(cols, colData{id: colObjLabelLen, vals: b.labelLen, zip: true},
			colData{id: colObjLabel, blob: b.label, zip: true})
	}
	e.record(recObjects, n, cols)
	ecols := []colData{{id: colEdgeTarget, vals: b.target}}
	if b.named {
		ecols = append(ecols, colData{id: colEdgeName, vals: b.name, zip: true})
	}
	e.record(recEdges, len(b.target), ecols)
	e.nobjects += n
	e.nedges += len(b.target)
	*b = batch{addr: b.addr[:0], typ: b.typ[:0], size: b.size[:0], refcnt: b.refcnt[:0], flags: b.flags[:0],
		nedges: b.nedges[:0], labelLen: b.labelLen[:0], label: b.label[:0], target: b.target[:0], name: b.name[:0]}
}

func (e *Encoder) flushRoots() {
	b := &e.roots
	if len(b.kind) == 0 {
		return
	}
	e.record(recRoots, len(b.kind), []colData{
		{id: colRootKind, vals: b.kind},
		{id: colRootName, vals: b.name, zip: true},
		{id: colRootTarget, vals: b.target},
		{id: colRootThread, vals: b.thread, zip: true},
		{id: colRootDepth, vals: b.depth, zip: true},
	})
	e.nroots += len(b.kind)
	*b = rootBatch{b.kind[:0], b.name[:0], b.target[:0], b.thread[:0], b.depth[:0]}
}

// fileName is an edge name as the file spells it: 2k for string k, 2i+1 for
// index i, so that common names fit in two bytes.
func fileName(n EdgeName) uint64 {
	if i, ok := n.IsIndex(); ok {
		return uint64(i)<<1 | 1
	}
	return uint64(n) << 1
}

// colData is a column to write: integer values or a blob.
type colData struct {
	id    uint16
	vals  []uint64
	blob  []byte
	width uint8 // forced width; 0 picks the narrowest
	zip   bool  // try zlib
}

// encodeInts picks the narrowest width, with a base when that is narrower.
func encodeInts(vals []uint64, forced uint8, dst []byte) (width uint8, base uint64, out []byte) {
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for _, v := range vals {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if len(vals) == 0 {
		lo = 0
	}
	width = forced
	if width == 0 {
		width = widthFor(hi)
		if w := widthFor(hi - lo); w < width {
			width, base = w, lo
		}
	}
	out = dst[:0]
	for _, v := range vals {
		v -= base
		switch width {
		case 1:
			out = append(out, byte(v))
		case 2:
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		case 4:
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		default:
			out = binary.LittleEndian.AppendUint64(out, v)
		}
	}
	return width, base, out
}

func widthFor(v uint64) uint8 {
	switch n := bits.Len64(v); {
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	case n <= 32:
		return 4
	}
	return 8
}

// record writes one record.
func (e *Encoder) record(kind uint32, rows int, cols []colData) {
	if e.err != nil {
		return
	}
	if rows > math.MaxUint32 {
		e.err = errors.New("too many rows in one record")
		return
	}
	dirs := make([]column, len(cols))
	raws := make([][]byte, len(cols))
	data := make([][]byte, len(cols))
	total, rawTotal := len(cols)*colEntrySize, 0
	for i, c := range cols {
		var raw []byte
		cd := column{id: c.id}
		if c.vals != nil {
			var scratch []byte
			cd.width, cd.base, raw = encodeInts(c.vals, c.width, scratch)
		} else {
			raw = c.blob
		}
		cd.rawLen = uint32(len(raw))
		stored := raw
		if c.zip && !e.opts.NoCompression && len(raw) >= 64 {
			if z := e.deflate(raw); len(z) < len(raw) {
				stored = z
				cd.codec = codecZlib
			}
		}
		cd.storedLen = uint32(len(stored))
		dirs[i], raws[i], data[i] = cd, raw, stored
		total += len(stored)
		rawTotal += len(raw)
	}
	// Keep within the readers' size limits (docs/format.md): while the
	// record has more rows than bytes or decodes to more than maxExpansion
	// times its length, store its most compressed column as it is.
	for kind != recMeta && kind != recEnd && rows > total || rawTotal > maxExpansion*total {
		best := -1
		for i, cd := range dirs {
			if cd.codec == codecZlib && (best < 0 || cd.rawLen-cd.storedLen > dirs[best].rawLen-dirs[best].storedLen) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		total += len(raws[best]) - len(data[best])
		data[best] = raws[best]
		dirs[best].codec, dirs[best].storedLen = codecRaw, dirs[best].rawLen
	}
	dir := make([]byte, 0, len(cols)*colEntrySize)
	for _, cd := range dirs {
		dir = cd.append(dir)
	}
	if total > maxRecordLen {
		e.err = fmt.Errorf("%s record of %d bytes is over the %d limit", recordName(kind), total, maxRecordLen)
		return
	}
	crc := crc32.Update(0, crc32.IEEETable, dir)
	for _, d := range data {
		crc = crc32.Update(crc, crc32.IEEETable, d)
	}
	e.rec = recHeader{kind: kind, rows: uint32(rows), ncols: uint32(len(cols)), length: uint32(total), crc: crc}.append(e.rec[:0])
	e.write(e.rec)
	e.write(dir)
	for _, d := range data {
		e.write(d)
	}
	e.nrecords++
}

func (e *Encoder) deflate(raw []byte) []byte {
	e.zb.Reset()
	if e.zw == nil {
		e.zw, _ = zlib.NewWriterLevel(&e.zb, zlib.BestSpeed)
	} else {
		e.zw.Reset(&e.zb)
	}
	e.zw.Write(raw)
	e.zw.Close()
	return bytes.Clone(e.zb.Bytes())
}

// Write writes h to w as a snapshot.
func Write(w io.Writer, h *Heap, opts EncoderOptions) error {
	e, err := NewEncoder(w, &h.meta, opts)
	if err != nil {
		return err
	}
	// (one for one: the heap's type ids are the file's)
	for t := range h.types {
		ti := h.types[t]
		e.addType(h.strs.get(ti.name), h.strs.get(ti.qual), ti.addr)
	}
	names := make([]EdgeName, h.strs.len()) // heap string id -> encoder name
	for i := range names {
		names[i] = noName
	}
	var edges []Edge
	for id := range h.addr {
		lo, hi := h.EdgeRange(ID(id))
		edges = edges[:0]
		for k := lo; k < hi; k++ {
			n := h.EdgeNameID(k)
			if _, isIdx := n.IsIndex(); !isIdx && n != 0 {
				if names[n] == noName {
					names[n] = e.Name(h.strs.get(uint32(n)))
				}
				n = names[n]
			}
			edges = append(edges, Edge{Target: h.addr[h.edgeTo[k]], Name: n})
		}
		o := Object{Addr: h.addr[id], Type: h.typ[id], Size: h.size[id], Refcount: h.refcnt[id],
			Flags: h.flags[id], Label: h.Label(ID(id))}
		if err := e.Object(o, edges); err != nil {
			return err
		}
	}
	for _, r := range h.roots {
		if err := e.Root(r, h.addr[r.Target]); err != nil {
			return err
		}
	}
	if err := writeBuffers(e, h); err != nil {
		return err
	}
	if err := writeWeakrefs(e, h); err != nil {
		return err
	}
	return e.Close()
}

// noName marks an untranslated name in Write; it is never written.
const noName = ^EdgeName(0)
