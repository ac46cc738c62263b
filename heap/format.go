package heap

import (
	"encoding/binary"
	"fmt"
)

// The snapshot format; docs/format.md is its specification.
const (
	magic          = "\x89OGSNAP\n"
	headerSize     = 16
	recHeaderSize  = 20
	colEntrySize   = 24
	formatMajor    = 1
	formatMinor    = 0
	maxRecordLen   = 1 << 30
	maxZlibRatio   = 1032 // the most zlib expands a column: rawlen ≤ 1032 × storedlen + 64
	zlibSlack      = 64
	maxExpansion   = 64 // a record's columns decode to at most 64 × its length
	firstOptionalK = 64 // record kinds from here on may be skipped
)

// Record kinds.
const (
	recMeta    = 1
	recStrings = 2
	recTypes   = 3
	recObjects = 4
	recEdges   = 5
	recRoots   = 6
	recEnd     = 7
)

var recordNames = [...]string{"", "META", "STRINGS", "TYPES", "OBJECTS", "EDGES", "ROOTS", "END"}

func recordName(kind uint32) string {
	switch kind {
	case recBuffers:
		return "BUFFERS"
	case recAllocs:
		return "ALLOCS"
	case recTracebacks:
		return "TRACEBACKS"
	case recFrames:
		return "FRAMES"
	case recWeakrefs:
		return "WEAKREFS"
	}
	if int(kind) < len(recordNames) && kind > 0 {
		return recordNames[kind]
	}
	return fmt.Sprintf("kind %d", kind)
}

// Column ids per record kind.
const (
	colMetaJSON = 1

	colStrLen   = 1
	colStrBytes = 2

	colTypeAddr = 1
	colTypeName = 2
	colTypeQual = 3

	colObjAddr     = 1
	colObjType     = 2
	colObjSize     = 3
	colObjRefcount = 4
	colObjFlags    = 5
	colObjNEdges   = 6
	colObjLabelLen = 7
	colObjLabel    = 8
	colObjIntVal   = 9  // int64 values; each row's label is its decimal form
	colObjFloatVal = 10 // float64 bits; each row's label is Python's repr of it

	colEdgeTarget = 1
	colEdgeName   = 2

	colRootKind   = 1
	colRootName   = 2
	colRootTarget = 3
	colRootThread = 4
	colRootDepth  = 5

	colEndObjects = 1
	colEndEdges   = 2
	colEndStrings = 3
	colEndTypes   = 4
	colEndRoots   = 5
	colEndRecords = 6
)

// Column codecs.
const (
	codecRaw  = 0
	codecZlib = 1
)

type recHeader struct {
	kind, rows, ncols, length, crc uint32
}

func parseRecHeader(b []byte) recHeader {
	return recHeader{
		kind:   binary.LittleEndian.Uint32(b[0:]),
		rows:   binary.LittleEndian.Uint32(b[4:]),
		ncols:  binary.LittleEndian.Uint32(b[8:]),
		length: binary.LittleEndian.Uint32(b[12:]),
		crc:    binary.LittleEndian.Uint32(b[16:]),
	}
}

func (r recHeader) append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, r.kind)
	b = binary.LittleEndian.AppendUint32(b, r.rows)
	b = binary.LittleEndian.AppendUint32(b, r.ncols)
	b = binary.LittleEndian.AppendUint32(b, r.length)
	return binary.LittleEndian.AppendUint32(b, r.crc)
}

// column is one entry of a record's column directory, plus where its data
// starts in the record payload.
type column struct {
	id        uint16
	width     uint8
	codec     uint8
	rawLen    uint32
	storedLen uint32
	base      uint64
	start     uint32 // offset of the data in the payload (after the directory)
}

func parseColumn(b []byte) column {
	return column{
		id:        binary.LittleEndian.Uint16(b[0:]),
		width:     b[2],
		codec:     b[3],
		rawLen:    binary.LittleEndian.Uint32(b[4:]),
		storedLen: binary.LittleEndian.Uint32(b[8:]),
		base:      binary.LittleEndian.Uint64(b[16:]),
	}
}

func (c column) append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, c.id)
	b = append(b, c.width, c.codec)
	b = binary.LittleEndian.AppendUint32(b, c.rawLen)
	b = binary.LittleEndian.AppendUint32(b, c.storedLen)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return binary.LittleEndian.AppendUint64(b, c.base)
}

// parseDirectory checks and returns a record's column directory. payload is
// the record after its header (at least the directory).
func parseDirectory(h recHeader, payload []byte) ([]column, error) {
	dirLen := uint64(h.ncols) * colEntrySize
	if dirLen > uint64(h.length) || dirLen > uint64(len(payload)) {
		return nil, fmt.Errorf("column directory of %d entries runs past the record's %d bytes", h.ncols, h.length)
	}
	cols := make([]column, h.ncols)
	pos := uint64(dirLen)
	for i := range cols {
		c := parseColumn(payload[i*colEntrySize:])
		switch c.width {
		case 0, 1, 2, 4, 8:
		default:
			return nil, fmt.Errorf("column %d: bad width %d", c.id, c.width)
		}
		switch c.codec {
		case codecRaw:
			if c.storedLen != c.rawLen {
				return nil, fmt.Errorf("column %d: stored length %d differs from raw length %d", c.id, c.storedLen, c.rawLen)
			}
		case codecZlib:
			if uint64(c.rawLen) > uint64(c.storedLen)*maxZlibRatio+zlibSlack {
				return nil, fmt.Errorf("column %d: raw length %d is more than zlib can expand %d bytes to", c.id, c.rawLen, c.storedLen)
			}
		default:
			return nil, fmt.Errorf("column %d: unknown codec %d", c.id, c.codec)
		}
		if c.width != 0 && uint64(c.rawLen) != uint64(h.rows)*uint64(c.width) {
			return nil, fmt.Errorf("column %d: raw length %d is not %d rows of %d bytes", c.id, c.rawLen, h.rows, c.width)
		}
		for _, p := range cols[:i] {
			if p.id == c.id {
				return nil, fmt.Errorf("column %d appears twice", c.id)
			}
		}
		c.start = uint32(pos)
		pos += uint64(c.storedLen)
		cols[i] = c
	}
	if pos != uint64(h.length) {
		return nil, fmt.Errorf("columns take %d bytes but the record has %d", pos, h.length)
	}
	return cols, nil
}

// checkSize ties what a record makes the reader allocate to the bytes it
// really takes: at most one row per byte of the record, and columns that
// decode to at most maxExpansion times its length. Real snapshots take at
// least 2.4 bytes a row and expand at most 20 times (docs/format.md, "Size
// limits").
func checkSize(h recHeader, cols []column) error {
	switch h.kind {
	case recStrings, recTypes, recObjects, recEdges, recRoots, recWeakrefs:
		if h.rows > h.length {
			return fmt.Errorf("%d rows in a record of %d bytes: a record takes at least a byte per row", h.rows, h.length)
		}
	}
	var raw uint64
	for _, c := range cols {
		raw += uint64(c.rawLen)
	}
	if raw > maxExpansion*uint64(h.length) {
		return fmt.Errorf("columns decode to %d bytes, more than %d times the record's %d bytes", raw, maxExpansion, h.length)
	}
	return nil
}

func findColumn(cols []column, id uint16) *column {
	for i := range cols {
		if cols[i].id == id {
			return &cols[i]
		}
	}
	return nil
}
