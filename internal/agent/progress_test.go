package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseProgress(t *testing.T) {
	line := func(s string) []byte { return []byte(s + strings.Repeat(" ", 63-len(s)) + "\n") }
	for _, c := range []struct {
		in   []byte
		want Progress
		ok   bool
	}{
		{line("walk                 0          309518"), Progress{"walk", 0, 309518}, true},
		{line("write           933059          309518"), Progress{"write", 933059, 309518}, true},
		{[]byte("walk 1 2\n"), Progress{"walk", 1, 2}, true},
		{nil, Progress{}, false},
		{make([]byte, 64), Progress{}, false},                                       // the file before the first line
		{[]byte("walk 1 2"), Progress{}, false},                                     // no newline: half written
		{line("walk 1"), Progress{}, false},                                         // a count missing
		{line("jump 1 2"), Progress{}, false},                                       // no such phase
		{line("walk -1 2"), Progress{}, false},                                      // negative
		{line("walk 1 99999999999999999999"), Progress{}, false},                    // out of range
		{[]byte("walk 1 2\n" + strings.Repeat(" ", 300) + "\n"), Progress{}, false}, // too long
	} {
		got, ok := ParseProgress(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseProgress(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseProgress(f *testing.F) {
	f.Add([]byte("walk                 0          309518                         \n"))
	f.Add([]byte("write 1 2\n"))
	f.Add([]byte("walk 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := ParseProgress(b)
		if ok && (p.Objects < 0 || p.Tracked < 0 || p.Phase != "walk" && p.Phase != "write") {
			t.Errorf("ParseProgress(%q) = %+v", b, p)
		}
	})
}

func TestProgressWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), ProgressFile)
	var said []string
	say := func(format string, a ...any) { said = append(said, fmt.Sprintf(format, a...)) }
	w := ProgressWatch{Path: path, PID: 42}
	w.Poll(say) // no file yet
	put := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	put("walk 131072 5000\n")
	w.Poll(say)
	w.Poll(say) // the same line, and too soon
	put("walk 262144 5000\n")
	w.Poll(say) // too soon
	w.saidAt = w.saidAt.Add(-3 * time.Second)
	w.Poll(say)
	w.saidAt = w.saidAt.Add(-3 * time.Second)
	w.Poll(say) // nothing new
	want := []string{
		"walking the heap of process 42: 131,072 objects so far (5,000 tracked, and the untracked they refer to)",
		"walking the heap of process 42: 262,144 objects so far (5,000 tracked, and the untracked they refer to)",
	}
	if !slices.Equal(said, want) {
		t.Errorf("said %q, want %q", said, want)
	}
}
