package attach

import (
	"strings"
	"testing"
)

func TestParseProgress(t *testing.T) {
	line := func(s string) []byte { return []byte(s + strings.Repeat(" ", 63-len(s)) + "\n") }
	for _, c := range []struct {
		in   []byte
		want progressLine
		ok   bool
	}{
		{line("walk                 0          309518"), progressLine{"walk", 0, 309518}, true},
		{line("write           933059          309518"), progressLine{"write", 933059, 309518}, true},
		{[]byte("walk 1 2\n"), progressLine{"walk", 1, 2}, true},
		{nil, progressLine{}, false},
		{make([]byte, 64), progressLine{}, false},                                       // the file before the first line
		{[]byte("walk 1 2"), progressLine{}, false},                                     // no newline: half written
		{line("walk 1"), progressLine{}, false},                                         // a count missing
		{line("jump 1 2"), progressLine{}, false},                                       // no such phase
		{line("walk -1 2"), progressLine{}, false},                                      // negative
		{line("walk 1 99999999999999999999"), progressLine{}, false},                    // out of range
		{[]byte("walk 1 2\n" + strings.Repeat(" ", 300) + "\n"), progressLine{}, false}, // too long
	} {
		got, ok := parseProgress(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("parseProgress(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseProgress(f *testing.F) {
	f.Add([]byte("walk                 0          309518                         \n"))
	f.Add([]byte("write 1 2\n"))
	f.Add([]byte("walk 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := parseProgress(b)
		if ok && (p.Objects < 0 || p.Tracked < 0 || p.Phase != "walk" && p.Phase != "write") {
			t.Errorf("parseProgress(%q) = %+v", b, p)
		}
	})
}
