package heap

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zlib"

	"github.com/objgraph-go/objgraph/internal/par"
)

// ReadOptions tune reading. The zero value is the default.
type ReadOptions struct {
	Name string // file name used in error messages; "" for an unnamed stream
}

// ReadFile reads the snapshot at path. A path that is not a regular file (a
// named pipe, a device) is read as a stream, as Read reads one.
func ReadFile(path string) (*Heap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading snapshot: %w", err)
	}
	defer f.Close()
	return Read(f, ReadOptions{Name: path})
}

// Read reads a snapshot from r. When r is a regular *os.File or another
// io.ReaderAt whose size is known (it has Size() int64, as *bytes.Reader
// does), records are read in place. Otherwise r is a stream (a pipe,
// standard input): Read checks the file header before it reads on, then
// reads one record at a time, each only as far as its header allows, and
// stops after the END record; it holds the records in memory.
func Read(r io.Reader, opts ReadOptions) (*Heap, error) {
	switch v := r.(type) {
	case *os.File:
		st, err := v.Stat()
		if err == nil && st.Mode().IsRegular() {
			return readAt(v, st.Size(), opts.Name)
		}
	case interface {
		io.ReaderAt
		Size() int64
	}:
		return readAt(v, v.Size(), opts.Name)
	}
	return readStream(r, opts.Name)
}

// readStream reads a snapshot from a stream into memory, record by record,
// and reads it from there. It stops reading at the first header the scan
// would reject (bad magic or version, a record kind it does not know, a
// record over the length limit) and at the first short read, so that the
// scan reports the problem, as it does for a file; a stream of garbage
// costs no more than a header.
func readStream(r io.Reader, name string) (*Heap, error) {
	var buf bytes.Buffer
	readErr := func(rec int, err error) error {
		return &FormatError{File: name, Record: rec, Offset: int64(buf.Len()), Err: err}
	}
	// fill appends n bytes of r to buf; false when r ended first.
	fill := func(n int64) (bool, error) {
		_, err := io.CopyN(&buf, r, n)
		if err == io.EOF {
			return false, nil
		}
		return err == nil, err
	}
	ok, err := fill(headerSize)
	if err != nil {
		return nil, readErr(-1, err)
	}
	if ok {
		hb := buf.Bytes()
		ok = string(hb[:8]) == magic && binary.LittleEndian.Uint16(hb[8:]) == formatMajor
	}
	for rec := 0; ok; rec++ {
		off := buf.Len()
		if ok, err = fill(recHeaderSize); err != nil {
			return nil, readErr(rec, err)
		}
		if !ok {
			break
		}
		h := parseRecHeader(buf.Bytes()[off:])
		if h.length > maxRecordLen || h.kind < firstOptionalK && (h.kind == 0 || h.kind > recEnd) {
			break
		}
		if ok, err = fill(int64(h.length)); err != nil {
			return nil, readErr(rec, err)
		}
		if ok && h.kind == recEnd {
			var one [1]byte
			if n, _ := io.ReadFull(r, one[:]); n > 0 {
				return nil, &FormatError{File: name, Record: rec + 1, Offset: int64(buf.Len()),
					Err: errors.New("data after the END record")}
			}
			break
		}
	}
	return readAt(bytes.NewReader(buf.Bytes()), int64(buf.Len()), name)
}

// recInfo is one record found by the scan.
type recInfo struct {
	off   int64
	h     recHeader
	cols  []column
	first int // first row of this record among all records of its kind
	extra int // OBJECTS: first byte of its labels; EDGES: index of its OBJECTS record
}

type reader struct {
	src  io.ReaderAt
	size int64
	name string
	recs []recInfo
	h    *Heap

	objRecs, edgeRecs []int // indexes into recs
	nedges            []uint32
	ntypes            int
	hash              *addrHash

	errMu  sync.Mutex
	errRec int
	err    error
}

func (r *reader) errAt(rec int, err error) error {
	ri := r.recs[rec]
	return &FormatError{File: r.name, Record: rec, Kind: recordName(ri.h.kind), Offset: ri.off, Err: err}
}

// setErr keeps the error of the earliest record, so that parallel decoding
// reports the same error every time.
func (r *reader) setErr(rec int, err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.err == nil || rec < r.errRec {
		r.err, r.errRec = r.errAt(rec, err), rec
	}
}

func readAt(src io.ReaderAt, size int64, name string) (*Heap, error) {
	r := &reader{src: src, size: size, name: name, h: &Heap{}}
	defer func() {
		if r.hash != nil {
			r.hash.free()
		}
	}()
	if err := r.scan(); err != nil {
		return nil, err
	}
	steps := []func() error{r.readSmall, r.readObjects, r.indexAddrs, r.readEdges, r.readRoots, r.readBuffers, r.readWeakrefs, r.readAllocs, r.checkEnd}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return r.h, nil
}

// scan reads the file header and every record header and column directory,
// and checks the order of records.
func (r *reader) scan() error {
	hdrErr := func(off int64, format string, args ...any) error {
		return &FormatError{File: r.name, Record: -1, Offset: off, Err: fmt.Errorf(format, args...)}
	}
	var hb [headerSize]byte
	if n, err := r.src.ReadAt(hb[:], 0); n < headerSize {
		if err == nil || err == io.EOF {
			return hdrErr(int64(n), "file too short for a snapshot header (%d bytes)", n)
		}
		return hdrErr(0, "%v", err)
	}
	if string(hb[:8]) != magic {
		return hdrErr(0, "not an objgraph snapshot (bad magic %q)", hb[:8])
	}
	if major := binary.LittleEndian.Uint16(hb[8:]); major != formatMajor {
		return hdrErr(8, "unsupported format version %d.%d (this reader reads %d.x); upgrade objgraph",
			major, binary.LittleEndian.Uint16(hb[10:]), formatMajor)
	}
	off := int64(headerSize)
	var buf [recHeaderSize]byte
	for {
		idx := len(r.recs)
		if off == r.size {
			return &FormatError{File: r.name, Record: idx, Offset: off,
				Err: errors.New("file is truncated: it ends before the END record")}
		}
		fail := func(err error) error {
			kind := ""
			if len(r.recs) > idx {
				kind = recordName(r.recs[idx].h.kind)
			}
			return &FormatError{File: r.name, Record: idx, Kind: kind, Offset: off, Err: err}
		}
		if off+recHeaderSize > r.size {
			return fail(fmt.Errorf("file is truncated: %d bytes left, a record header needs %d", r.size-off, recHeaderSize))
		}
		if _, err := r.src.ReadAt(buf[:], off); err != nil {
			return fail(err)
		}
		h := parseRecHeader(buf[:])
		r.recs = append(r.recs, recInfo{off: off, h: h})
		if h.length > maxRecordLen {
			return fail(fmt.Errorf("record length %d is over the %d limit", h.length, maxRecordLen))
		}
		if h.kind < firstOptionalK && (h.kind == 0 || h.kind > recEnd) {
			return fail(fmt.Errorf("unknown record kind %d", h.kind))
		}
		if end := off + recHeaderSize + int64(h.length); end > r.size {
			return fail(fmt.Errorf("file is truncated: the record needs %d bytes, %d are left", h.length, r.size-off-recHeaderSize))
		}
		if uint64(h.ncols)*colEntrySize > uint64(h.length) {
			return fail(fmt.Errorf("column directory of %d entries runs past the record's %d bytes", h.ncols, h.length))
		}
		if h.kind <= recEnd {
			dir := make([]byte, int(h.ncols)*colEntrySize)
			if err := r.readFull(dir, off+recHeaderSize); err != nil {
				return fail(err)
			}
			cols, err := parseDirectory(h, dir)
			if err != nil {
				return fail(err)
			}
			r.recs[idx].cols = cols
			if err := checkRequired(h, cols); err != nil {
				return fail(err)
			}
			if err := checkSize(h, cols); err != nil {
				return fail(err)
			}
		}
		if err := r.checkOrder(idx); err != nil {
			return fail(err)
		}
		off += recHeaderSize + int64(h.length)
		if h.kind == recEnd {
			if off != r.size {
				return &FormatError{File: r.name, Record: idx + 1, Offset: off,
					Err: fmt.Errorf("%d bytes after the END record", r.size-off)}
			}
			return nil
		}
	}
}

// required lists the columns each record kind must have when it has rows.
// Since an integer column holds rows × width bytes, a required column also
// bounds what the reader allocates by what the file really holds.
var required = map[uint32]uint16{
	recStrings: colStrLen,
	recTypes:   colTypeName,
	recObjects: colObjAddr,
	recEdges:   colEdgeTarget,
	recRoots:   colRootTarget,
	recEnd:     colEndObjects,
}

func checkRequired(h recHeader, cols []column) error {
	id, ok := required[h.kind]
	if !ok || h.rows == 0 {
		return nil
	}
	c := findColumn(cols, id)
	if c == nil {
		return fmt.Errorf("%s record of %d rows lacks its required column %d", recordName(h.kind), h.rows, id)
	}
	if c.width == 0 {
		return fmt.Errorf("column %d must hold integers, not bytes", id)
	}
	return nil
}

func (r *reader) checkOrder(idx int) error {
	h := r.recs[idx].h
	prevKind := uint32(0)
	if idx > 0 {
		prevKind = r.recs[idx-1].h.kind
	}
	switch {
	case idx == 0 && h.kind != recMeta:
		return errors.New("the first record must be META")
	case idx > 0 && h.kind == recMeta:
		return errors.New("a second META record")
	case prevKind == recObjects && h.kind != recEdges:
		return errors.New("an OBJECTS record must be followed by its EDGES record")
	case h.kind == recEdges && prevKind != recObjects:
		return errors.New("an EDGES record must follow an OBJECTS record")
	}
	switch h.kind {
	case recMeta, recEnd:
		if h.rows != 1 {
			return fmt.Errorf("%s must have 1 row, has %d", recordName(h.kind), h.rows)
		}
	case recObjects:
		r.recs[idx].first = r.countRows(r.objRecs)
		r.objRecs = append(r.objRecs, idx)
	case recEdges:
		r.recs[idx].first = r.countRows(r.edgeRecs)
		r.recs[idx].extra = idx - 1
		r.edgeRecs = append(r.edgeRecs, idx)
	}
	return nil
}

func (r *reader) countRows(list []int) int {
	if len(list) == 0 {
		return 0
	}
	last := r.recs[list[len(list)-1]]
	return last.first + int(last.h.rows)
}

// readFull reads len(buf) bytes at off; the scan has checked they exist.
func (r *reader) readFull(buf []byte, off int64) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := r.src.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// payload reads a record's bytes after its header and checks its CRC.
// optionalRecords calls fn with each record whose kind is a key of
// required, in file order: its payload read (into buf, reused), its column
// directory parsed and within bounds, and, when it has rows, the columns
// required lists for its kind present. An error from fn is placed at the
// record.
func (r *reader) optionalRecords(required map[uint32][]uint16, fn func(rec int, h recHeader, p []byte, cols []column) error) error {
	var buf []byte
	for i, ri := range r.recs {
		need, ok := required[ri.h.kind]
		if !ok {
			continue
		}
		p, err := r.payload(i, buf)
		if err != nil {
			return r.errAt(i, err)
		}
		buf = p
		cols, err := parseDirectory(ri.h, p)
		if err != nil {
			return r.errAt(i, err)
		}
		if err := checkSize(ri.h, cols); err != nil {
			return r.errAt(i, err)
		}
		for _, c := range need {
			if ri.h.rows > 0 && findColumn(cols, c) == nil {
				return r.errAt(i, fmt.Errorf("%s record of %d rows lacks its required column %d", recordName(ri.h.kind), ri.h.rows, c))
			}
		}
		if err := fn(i, ri.h, p, cols); err != nil {
			return r.errAt(i, err)
		}
	}
	return nil
}

func (r *reader) payload(rec int, buf []byte) ([]byte, error) {
	ri := r.recs[rec]
	if cap(buf) < int(ri.h.length) {
		buf = make([]byte, ri.h.length)
	}
	buf = buf[:ri.h.length]
	if err := r.readFull(buf, ri.off+recHeaderSize); err != nil {
		return nil, err
	}
	if got := crc32.ChecksumIEEE(buf); got != ri.h.crc {
		return nil, fmt.Errorf("checksum mismatch (record says %#08x, data has %#08x): the file is corrupt", ri.h.crc, got)
	}
	return buf, nil
}

// colDecoder turns columns into raw bytes, inflating zlib columns into a
// reused buffer.
type colDecoder struct {
	zr      io.ReadCloser
	buf     []byte
	targets []uint64
}

// inflateStep is what a decoder's buffer first grows by when a column is
// larger than it: the buffer then grows with what the stream really holds,
// never to a length only the directory claims.
const inflateStep = 256 << 10

// bytes returns column c of payload, decoded. The slice may alias the
// decoder's buffer, valid until the next call.
func (d *colDecoder) bytes(payload []byte, c *column) ([]byte, error) {
	stored := payload[c.start : c.start+c.storedLen]
	if c.codec == codecRaw {
		return stored, nil
	}
	out, err := d.inflate(stored, c, d.buf[:0])
	d.buf = out[:0]
	return out, err
}

// into decodes column c of payload into dst, which is c.rawLen long.
func (d *colDecoder) into(payload []byte, c *column, dst []byte) error {
	stored := payload[c.start : c.start+c.storedLen]
	if c.codec == codecRaw {
		copy(dst, stored)
		return nil
	}
	_, err := d.inflate(stored, c, dst[:0:len(dst)])
	return err
}

// inflate appends zlib column c, stored as stored, to out, growing out only
// as the stream yields bytes. It fails unless the stream holds exactly
// c.rawLen bytes.
func (d *colDecoder) inflate(stored []byte, c *column, out []byte) ([]byte, error) {
	var err error
	if d.zr == nil {
		d.zr, err = zlib.NewReader(bytes.NewReader(stored))
	} else {
		err = d.zr.(zlib.Resetter).Reset(bytes.NewReader(stored), nil)
	}
	if err != nil {
		return out, fmt.Errorf("column %d: zlib: %w", c.id, err)
	}
	want := int(c.rawLen)
	for len(out) < want {
		if len(out) == cap(out) {
			out = slices.Grow(out, min(want-len(out), max(len(out), inflateStep)))
		}
		n, err := d.zr.Read(out[len(out):min(cap(out), want)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, fmt.Errorf("column %d: zlib: %w", c.id, err)
		}
	}
	if len(out) < want {
		return out, fmt.Errorf("column %d: zlib stream holds %d bytes, fewer than the %d the directory says", c.id, len(out), want)
	}
	var one [1]byte
	if n, err := d.zr.Read(one[:]); n != 0 || err != io.EOF {
		if err != nil && err != io.EOF {
			return out, fmt.Errorf("column %d: zlib: %w", c.id, err)
		}
		return out, fmt.Errorf("column %d: zlib stream holds more than the %d bytes the directory says", c.id, want)
	}
	return out, nil
}

// firstErr returns the first error that is not nil: a record with several
// bad columns is reported by its first.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type uintT interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// ints decodes integer column id of a record into dst (len = rows), checking
// every value is at most limit. An absent column leaves dst as it is.
func ints[T uintT](d *colDecoder, payload []byte, cols []column, id uint16, dst []T, limit uint64) error {
	c := findColumn(cols, id)
	if c == nil {
		return nil
	}
	if c.width == 0 {
		return fmt.Errorf("column %d must hold integers, not bytes", id)
	}
	raw, err := d.bytes(payload, c)
	if err != nil {
		return err
	}
	base := c.base
	bad := func(i int, v uint64) error {
		return fmt.Errorf("column %d row %d: value %d is out of range (at most %d)", id, i, v, limit)
	}
	switch c.width {
	case 1:
		for i := range dst {
			v := uint64(raw[i]) + base
			if v > limit {
				return bad(i, v)
			}
			dst[i] = T(v)
		}
	case 2:
		for i := range dst {
			v := uint64(binary.LittleEndian.Uint16(raw[2*i:])) + base
			if v > limit {
				return bad(i, v)
			}
			dst[i] = T(v)
		}
	case 4:
		for i := range dst {
			v := uint64(binary.LittleEndian.Uint32(raw[4*i:])) + base
			if v > limit {
				return bad(i, v)
			}
			dst[i] = T(v)
		}
	case 8:
		for i := range dst {
			v := binary.LittleEndian.Uint64(raw[8*i:]) + base
			if v > limit {
				return bad(i, v)
			}
			dst[i] = T(v)
		}
	}
	return nil
}

// blob returns blob column id of a record (nil when absent).
func blob(d *colDecoder, payload []byte, cols []column, id uint16) ([]byte, error) {
	c := findColumn(cols, id)
	if c == nil {
		return nil, nil
	}
	if c.width != 0 {
		return nil, fmt.Errorf("column %d must hold bytes, not integers", id)
	}
	return d.bytes(payload, c)
}

// readSmall reads META, STRINGS and TYPES, in file order.
func (r *reader) readSmall() error {
	var d colDecoder
	var buf []byte
	h := r.h
	var types []typeInfo
	var typeRecs []int // the TYPES records, in file order
	for i, ri := range r.recs {
		if ri.h.kind != recMeta && ri.h.kind != recStrings && ri.h.kind != recTypes {
			continue
		}
		p, err := r.payload(i, buf)
		if err != nil {
			return r.errAt(i, err)
		}
		buf = p
		rows := int(ri.h.rows)
		switch ri.h.kind {
		case recMeta:
			js, err := blob(&d, p, ri.cols, colMetaJSON)
			if err != nil {
				return r.errAt(i, err)
			}
			if len(js) > 0 {
				if err := json.Unmarshal(js, &h.meta); err != nil {
					return r.errAt(i, fmt.Errorf("metadata JSON: %w", err))
				}
			}
		case recStrings:
			if uint64(h.strs.len())+uint64(rows) >= math.MaxInt32 {
				return r.errAt(i, errors.New("too many strings"))
			}
			lens := make([]uint32, rows)
			if err := ints(&d, p, ri.cols, colStrLen, lens, math.MaxUint32); err != nil {
				return r.errAt(i, err)
			}
			data, err := blob(&d, p, ri.cols, colStrBytes)
			if err != nil {
				return r.errAt(i, err)
			}
			var sum uint64
			for _, l := range lens {
				sum += uint64(l)
			}
			if sum != uint64(len(data)) {
				return r.errAt(i, fmt.Errorf("string lengths add up to %d bytes but the string data has %d", sum, len(data)))
			}
			if uint64(len(h.strs.data))+sum > math.MaxUint32 {
				return r.errAt(i, errors.New("string data exceeds 4 GiB"))
			}
			if len(h.strs.off) == 0 {
				h.strs.off = append(h.strs.off, 0, 0)
			}
			base := uint32(len(h.strs.data))
			h.strs.data = append(h.strs.data, data...)
			for _, l := range lens {
				base += l
				h.strs.off = append(h.strs.off, base)
			}
		case recTypes:
			addrs := make([]uint64, rows)
			names := make([]uint32, rows)
			quals := make([]uint32, rows)
			err := firstErr(
				ints(&d, p, ri.cols, colTypeAddr, addrs, math.MaxUint64),
				ints(&d, p, ri.cols, colTypeName, names, math.MaxUint32),
				ints(&d, p, ri.cols, colTypeQual, quals, math.MaxUint32))
			if err != nil {
				return r.errAt(i, err)
			}
			r.recs[i].first = len(types)
			typeRecs = append(typeRecs, i)
			for k := range addrs {
				types = append(types, typeInfo{addr: addrs[k], name: names[k], qual: quals[k]})
			}
		}
	}
	// Strings may follow the types that use them: check the ids now.
	nstr := h.strs.len()
	for _, rec := range typeRecs {
		ri := r.recs[rec]
		for t := ri.first; t < ri.first+int(ri.h.rows); t++ {
			what, id := "name", types[t].name
			if int(id) < nstr {
				what, id = "qualname", types[t].qual
			}
			if int(id) >= nstr {
				return r.errAt(rec, fmt.Errorf("row %d: type %d: %s string id %d out of range (%d strings)", t-ri.first, t, what, id, nstr-1))
			}
		}
	}
	h.types = types
	r.ntypes = len(types)
	return nil
}

// parallel runs fn over the given records on all CPUs. Errors are kept per
// record, earliest first.
func (r *reader) parallel(recs []int, fn func(rec int, d *colDecoder, buf []byte) ([]byte, error)) error {
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), max(len(recs), 1))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d colDecoder
			var buf []byte
			for rec := range jobs {
				var err error
				if buf, err = fn(rec, &d, buf); err != nil {
					r.setErr(rec, err)
				}
			}
		}()
	}
	for _, rec := range recs {
		jobs <- rec
	}
	close(jobs)
	wg.Wait()
	return r.err
}

// readObjects decodes every OBJECTS record into the heap's columns.
func (r *reader) readObjects() error {
	h := r.h
	n := r.countRows(r.objRecs)
	if n >= math.MaxUint32 {
		return r.errAt(r.objRecs[len(r.objRecs)-1], fmt.Errorf("%d objects is more than this reader supports", n))
	}
	vals, err := r.valueLabels()
	if err != nil {
		return err
	}
	var labelBytes uint64
	for _, rec := range r.objRecs {
		r.recs[rec].extra = int(labelBytes)
		if c := findColumn(r.recs[rec].cols, colObjLabel); c != nil {
			labelBytes += uint64(c.rawLen)
		} else if v := vals[rec]; v != nil {
			labelBytes += uint64(len(v.data))
		}
		if labelBytes > math.MaxUint32 {
			return r.errAt(rec, errors.New("object labels exceed 4 GiB"))
		}
	}
	h.addr = make([]uint64, n)
	h.typ = make([]TypeID, n)
	h.size = make([]uint64, n)
	h.refcnt = make([]uint64, n)
	h.flags = make([]Flags, n)
	r.nedges = make([]uint32, n)
	if labelBytes > 0 {
		h.labelOff = make([]uint32, n+1)
		h.label = make([]byte, labelBytes)
	}
	maxType := uint64(r.ntypes) - 1
	if r.ntypes == 0 {
		maxType = 0
	}
	return r.parallel(r.objRecs, func(rec int, d *colDecoder, buf []byte) ([]byte, error) {
		ri := &r.recs[rec]
		p, err := r.payload(rec, buf)
		if err != nil {
			return buf, err
		}
		lo, hi := ri.first, ri.first+int(ri.h.rows)
		err = firstErr(
			ints(d, p, ri.cols, colObjAddr, h.addr[lo:hi], math.MaxUint64),
			ints(d, p, ri.cols, colObjType, h.typ[lo:hi], maxType),
			ints(d, p, ri.cols, colObjSize, h.size[lo:hi], math.MaxUint64),
			ints(d, p, ri.cols, colObjRefcount, h.refcnt[lo:hi], math.MaxUint64),
			ints(d, p, ri.cols, colObjFlags, h.flags[lo:hi], math.MaxUint16),
			ints(d, p, ri.cols, colObjNEdges, r.nedges[lo:hi], math.MaxUint32))
		if err != nil {
			return p, err
		}
		if r.ntypes == 0 && ri.h.rows > 0 {
			return p, errors.New("objects but no types: the file has no TYPES record")
		}
		var sum uint64
		for _, k := range r.nedges[lo:hi] {
			sum += uint64(k)
		}
		if er := r.recs[rec+1].h.rows; sum != uint64(er) {
			return p, fmt.Errorf("edge counts add up to %d but the EDGES record after it has %d rows", sum, er)
		}
		if h.label != nil {
			if v := vals[rec]; v != nil {
				v.copyTo(h, ri, lo, hi)
				vals[rec] = nil
			} else if err := r.readLabels(d, p, ri, lo, hi); err != nil {
				return p, err
			}
		}
		return p, nil
	})
}

// valueLabel holds the labels of one OBJECTS record made from its int or
// float values, formatted before the label array is laid out.
type valueLabel struct {
	data []byte
	ends []uint32 // end of each row's label in data
}

func (v *valueLabel) copyTo(h *Heap, ri *recInfo, lo, hi int) {
	base := uint32(ri.extra)
	offs := h.labelOff[lo+1 : hi+1]
	for i, e := range v.ends {
		offs[i] = base + e
	}
	copy(h.label[ri.extra:], v.data)
}

// valueLabels formats the labels of the OBJECTS records that carry int or
// float values (columns 9 and 10) instead of labels; the result is indexed
// by record.
func (r *reader) valueLabels() ([]*valueLabel, error) {
	var recs []int
	for _, rec := range r.objRecs {
		cols := r.recs[rec].cols
		if findColumn(cols, colObjIntVal) != nil || findColumn(cols, colObjFloatVal) != nil {
			recs = append(recs, rec)
		}
	}
	out := make([]*valueLabel, len(r.recs))
	if len(recs) == 0 {
		return out, nil
	}
	err := r.parallel(recs, func(rec int, d *colDecoder, buf []byte) ([]byte, error) {
		ri := &r.recs[rec]
		ci, cf := findColumn(ri.cols, colObjIntVal), findColumn(ri.cols, colObjFloatVal)
		c := ci
		switch {
		case ci != nil && cf != nil:
			return buf, errors.New("columns 9 (int values) and 10 (float values) in one record")
		case findColumn(ri.cols, colObjLabel) != nil || findColumn(ri.cols, colObjLabelLen) != nil:
			return buf, errors.New("a record with values (column 9 or 10) cannot also have labels (columns 7 and 8)")
		case ci == nil:
			c = cf
		}
		if c.width != 8 {
			return buf, fmt.Errorf("column %d must be 8 bytes wide, is %d", c.id, c.width)
		}
		p, err := r.payload(rec, buf)
		if err != nil {
			return buf, err
		}
		raw, err := d.bytes(p, c)
		if err != nil {
			return p, err
		}
		n := int(ri.h.rows)
		v := &valueLabel{data: make([]byte, 0, 20*n), ends: make([]uint32, n)}
		for i := range n {
			x := binary.LittleEndian.Uint64(raw[8*i:]) + c.base
			if c == ci {
				v.data = strconv.AppendInt(v.data, int64(x), 10)
			} else {
				v.data = appendPyFloat(v.data, math.Float64frombits(x))
			}
			v.ends[i] = uint32(len(v.data))
		}
		out[rec] = v
		return p, nil
	})
	return out, err
}

func (r *reader) readLabels(d *colDecoder, p []byte, ri *recInfo, lo, hi int) error {
	h := r.h
	c := findColumn(ri.cols, colObjLabel)
	lens := h.labelOff[lo+1 : hi+1]
	if c == nil {
		for i := range lens {
			lens[i] = uint32(ri.extra)
		}
		return nil
	}
	if err := ints(d, p, ri.cols, colObjLabelLen, lens, math.MaxUint32); err != nil {
		return err
	}
	if c.width != 0 {
		return fmt.Errorf("column %d must hold bytes, not integers", c.id)
	}
	size := uint64(c.rawLen)
	pos := uint64(ri.extra)
	for i, l := range lens {
		pos += uint64(l)
		if pos > uint64(ri.extra)+size {
			return fmt.Errorf("label lengths run past the %d bytes of label data at row %d", size, i)
		}
		lens[i] = uint32(pos)
	}
	if pos != uint64(ri.extra)+size {
		return fmt.Errorf("label lengths add up to %d bytes but the label data has %d", pos-uint64(ri.extra), size)
	}
	// the label array was laid out from the columns' rawlen: inflate in place
	return d.into(p, c, h.label[ri.extra:ri.extra+int(size)])
}

// indexAddrs builds the temporary address hash, rejects duplicate addresses
// and turns the edge counts into offsets.
func (r *reader) indexAddrs() error {
	h := r.h
	n := len(h.addr)
	r.hash = newAddrHash(h.addr)
	var mu sync.Mutex
	dupA, dupB, dup := ID(0), ID(0), false
	par.For(n, 0, func(_, lo, hi int) {
		if a, b, d := r.hash.insertAll(lo, hi); d {
			mu.Lock()
			if !dup || a < dupA {
				dupA, dupB, dup = a, b, true
			}
			mu.Unlock()
		}
	})
	if dup {
		rec := r.recordOfObject(int(dupB))
		return r.errAt(rec, fmt.Errorf("row %d: objects %d and %d share address %#x", int(dupB)-r.recs[rec].first, dupA, dupB, h.addr[dupA]))
	}
	if n == 0 {
		return nil
	}
	off := make([]uint32, n+1)
	var sum uint64
	for i, k := range r.nedges {
		sum += uint64(k)
		if sum > math.MaxUint32 {
			return r.errAt(r.recordOfObject(i), errors.New("more than 2^32 edges"))
		}
		off[i+1] = uint32(sum)
	}
	h.off = off
	r.nedges = nil
	return nil
}

func (r *reader) recordOfObject(id int) int {
	lo, hi := 0, len(r.objRecs)
	for lo < hi {
		m := (lo + hi) / 2
		ri := r.recs[r.objRecs[m]]
		if ri.first+int(ri.h.rows) <= id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return r.objRecs[min(lo, len(r.objRecs)-1)]
}

// readEdges decodes every EDGES record, resolving target addresses to ids.
func (r *reader) readEdges() error {
	h := r.h
	total := r.countRows(r.edgeRecs)
	h.edgeTo = make([]ID, total)
	named := false
	for _, rec := range r.edgeRecs {
		if findColumn(r.recs[rec].cols, colEdgeName) != nil {
			named = true
		}
	}
	if named {
		h.edgeName = make([]EdgeName, total)
	}
	nstr := uint32(h.strs.len())
	var mu sync.Mutex
	dangling := 0
	err := r.parallel(r.edgeRecs, func(rec int, d *colDecoder, buf []byte) ([]byte, error) {
		ri := &r.recs[rec]
		p, err := r.payload(rec, buf)
		if err != nil {
			return buf, err
		}
		lo, hi := ri.first, ri.first+int(ri.h.rows)
		c := findColumn(ri.cols, colEdgeTarget)
		if c == nil {
			return p, nil
		}
		raw, err := d.bytes(p, c)
		if err != nil {
			return p, err
		}
		dst := h.edgeTo[lo:hi]
		targets := d.targets[:0]
		for i := range dst {
			var a uint64
			switch c.width {
			case 1:
				a = uint64(raw[i])
			case 2:
				a = uint64(binary.LittleEndian.Uint16(raw[2*i:]))
			case 4:
				a = uint64(binary.LittleEndian.Uint32(raw[4*i:]))
			case 8:
				a = binary.LittleEndian.Uint64(raw[8*i:])
			}
			targets = append(targets, a+c.base)
		}
		d.targets = targets
		miss := r.hash.findAll(targets, dst)
		if named {
			names := h.edgeName[lo:hi]
			if err := ints(d, p, ri.cols, colEdgeName, names, math.MaxUint32); err != nil {
				return p, err
			}
			for i, v := range names {
				names[i] = EdgeName(v >> 1)
				if v&1 != 0 {
					names[i] |= indexNameBit
				} else if uint32(v>>1) >= nstr {
					return p, fmt.Errorf("row %d: edge name string id %d out of range (%d strings)", i, v>>1, nstr-1)
				}
			}
		}
		if miss > 0 {
			mu.Lock()
			dangling += miss
			mu.Unlock()
		}
		return p, nil
	})
	if err != nil {
		return err
	}
	if dangling > 0 {
		r.dropDangling()
		h.dangling += dangling
	}
	return nil
}

// dropDangling removes edges whose target is NoID, in place.
func (r *reader) dropDangling() {
	h := r.h
	w := uint32(0)
	start := uint32(0)
	for i := 0; i+1 < len(h.off); i++ {
		end := h.off[i+1]
		for e := start; e < end; e++ {
			if h.edgeTo[e] == NoID {
				continue
			}
			h.edgeTo[w] = h.edgeTo[e]
			if h.edgeName != nil {
				h.edgeName[w] = h.edgeName[e]
			}
			w++
		}
		start = end
		h.off[i+1] = w
	}
	h.edgeTo = h.edgeTo[:w:w]
	if h.edgeName != nil {
		h.edgeName = h.edgeName[:w:w]
	}
}

// readRoots decodes ROOTS records.
func (r *reader) readRoots() error {
	var d colDecoder
	var buf []byte
	h := r.h
	nstr := uint64(h.strs.len())
	for i, ri := range r.recs {
		if ri.h.kind != recRoots {
			continue
		}
		p, err := r.payload(i, buf)
		if err != nil {
			return r.errAt(i, err)
		}
		buf = p
		rows := int(ri.h.rows)
		kinds := make([]uint8, rows)
		names := make([]uint32, rows)
		targets := make([]uint64, rows)
		threads := make([]uint64, rows)
		depths := make([]uint32, rows)
		err = firstErr(
			ints(&d, p, ri.cols, colRootKind, kinds, uint64(numRootKinds-1)),
			ints(&d, p, ri.cols, colRootName, names, nstr-1),
			ints(&d, p, ri.cols, colRootTarget, targets, math.MaxUint64),
			ints(&d, p, ri.cols, colRootThread, threads, math.MaxUint64),
			ints(&d, p, ri.cols, colRootDepth, depths, math.MaxUint32))
		if err != nil {
			return r.errAt(i, err)
		}
		for k := range rows {
			if kinds[k] == 0 {
				return r.errAt(i, fmt.Errorf("row %d: root kind 0", k))
			}
			id, ok := r.hash.find(targets[k])
			if !ok {
				h.dangling++
				continue
			}
			h.roots = append(h.roots, Root{Kind: RootKind(kinds[k]), Name: h.strs.get(names[k]),
				Target: id, Thread: threads[k], Depth: depths[k]})
		}
	}
	return nil
}

// checkEnd compares the END record's totals with what was read.
func (r *reader) checkEnd() error {
	last := len(r.recs) - 1
	var d colDecoder
	p, err := r.payload(last, nil)
	if err != nil {
		return r.errAt(last, err)
	}
	cols := r.recs[last].cols
	nroots := 0
	for _, ri := range r.recs {
		if ri.h.kind == recRoots {
			nroots += int(ri.h.rows)
		}
	}
	want := []struct {
		col  uint16
		what string
		have int
	}{
		{colEndObjects, "objects", r.h.Len()},
		{colEndEdges, "edges", r.countRows(r.edgeRecs)},
		{colEndStrings, "strings", r.h.strs.len() - 1},
		{colEndTypes, "types", len(r.h.types)},
		{colEndRoots, "roots", nroots},
		{colEndRecords, "records", last},
	}
	for _, w := range want {
		if findColumn(cols, w.col) == nil {
			continue
		}
		var v [1]uint64
		if err := ints(&d, p, cols, w.col, v[:], math.MaxUint64); err != nil {
			return r.errAt(last, err)
		}
		if v[0] != uint64(w.have) {
			return r.errAt(last, fmt.Errorf("END says %d %s but the file has %d", v[0], w.what, w.have))
		}
	}
	return nil
}
