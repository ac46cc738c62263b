package heap

import (
	"errors"
	"fmt"
)

// FormatError reports a snapshot that cannot be read: where it went wrong and
// why.
type FormatError struct {
	File   string // file name, or "" for an unnamed stream
	Record int    // record number from 0, or -1 for the file header
	Kind   string // record kind name, e.g. "OBJECTS"; "" for the file header or where the file has no record
	Offset int64  // byte offset of the record (or of the problem in the header)
	Err    error  // what is wrong
}

func (e *FormatError) Error() string {
	name := e.File
	if name == "" {
		name = "<stream>"
	}
	if e.Record < 0 {
		return fmt.Sprintf("reading snapshot %s: offset %#x: %v", name, e.Offset, e.Err)
	}
	if e.Kind == "" {
		return fmt.Sprintf("reading snapshot %s: record %d at offset %#x: %v", name, e.Record, e.Offset, e.Err)
	}
	return fmt.Sprintf("reading snapshot %s: record %d (%s) at offset %#x: %v", name, e.Record, e.Kind, e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
