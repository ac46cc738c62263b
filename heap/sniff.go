package heap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadAny reads a snapshot in either form: the .ogs form when the input
// starts with its magic, the JSON form when it starts with "{", JSON white
// space or a UTF-8 byte-order mark. It looks at the first bytes before it
// reads on, so that input of neither form (a device of zeros, say) is refused
// at once with a *FormatError naming it. A regular *os.File or an
// io.ReaderAt with a Size method is read in place; any other reader (a
// pipe, standard input) is read as a stream.
func ReadAny(r io.Reader, opts ReadOptions) (*Heap, error) {
	var head [len(magic)]byte
	var n int
	var at interface {
		io.ReaderAt
		Size() int64
	}
	switch v := r.(type) {
	case *os.File:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			at = io.NewSectionReader(v, 0, st.Size())
		}
	case interface {
		io.ReaderAt
		Size() int64
	}:
		at = v
	}
	var err error
	if at != nil {
		n, err = at.ReadAt(head[:], 0)
	} else {
		br := bufio.NewReader(r)
		var b []byte
		b, err = br.Peek(len(head))
		n = copy(head[:], b)
		r = br
	}
	if err != nil && err != io.EOF {
		return nil, &FormatError{File: opts.Name, Record: -1, Err: err}
	}
	switch b := head[:n]; {
	case n > 0 && b[0] == magic[0]:
		if at != nil {
			return readAt(at, at.Size(), opts.Name)
		}
		return readStream(r, opts.Name)
	case looksLikeJSON(b):
		if at != nil {
			return ReadJSON(io.NewSectionReader(at, 0, at.Size()), opts)
		}
		return ReadJSON(r, opts)
	case n == 0:
		return nil, &FormatError{File: opts.Name, Record: -1, Err: errors.New("empty input, not a snapshot")}
	default:
		return nil, &FormatError{File: opts.Name, Record: -1,
			Err: fmt.Errorf("not an objgraph snapshot: it starts with %q, neither the .ogs magic %q nor a JSON object", b, magic)}
	}
}

// looksLikeJSON reports whether input starting with b is meant as JSON: a
// byte-order mark, white space or an object's opening brace.
func looksLikeJSON(b []byte) bool {
	if bytes.HasPrefix(b, []byte(utf8BOM)) {
		return true
	}
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case '{', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
