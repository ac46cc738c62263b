package agent

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/objgraph-go/objgraph/internal/units"
)

// ProgressFile is the file, in the attach loader's directory or a run's
// state directory, in which the agent's walk keeps its progress (the
// agent's _progress): a shared mapping of ProgressLen bytes that the walk
// updates in memory, one fixed-width line.
const ProgressFile = "progress"

// ProgressLen is the progress file's length.
const ProgressLen = 64

// Progress is the progress line: the phase ("walk" or "write"), the
// objects written so far and the tracked objects there are.
type Progress struct {
	Phase            string
	Objects, Tracked int64
}

// ReadProgress reads the progress file at path; false when there is none
// or it holds no whole line of the expected form (yet).
func ReadProgress(path string) (Progress, bool) {
	f, err := os.Open(path)
	if err != nil {
		return Progress{}, false
	}
	defer f.Close()
	b := make([]byte, 2*ProgressLen)
	n, _ := f.Read(b)
	return ParseProgress(b[:n])
}

// ParseProgress parses a progress line: a phase and two counts, and a
// newline at the end.
func ParseProgress(b []byte) (Progress, bool) {
	if len(b) == 0 || len(b) > 2*ProgressLen || b[len(b)-1] != '\n' {
		return Progress{}, false
	}
	f := strings.Fields(string(b))
	if len(f) != 3 || (f[0] != "walk" && f[0] != "write") {
		return Progress{}, false
	}
	n, err1 := strconv.ParseInt(f[1], 10, 64)
	tr, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || n < 0 || tr < 0 {
		return Progress{}, false
	}
	return Progress{f[0], n, tr}, true
}

// Describe says what the capture in process pid is doing, for a progress
// message.
func (p Progress) Describe(pid int) string {
	switch {
	case p.Phase == "write":
		return fmt.Sprintf("writing the snapshot of process %d: %s objects", pid, units.Commas(uint64(p.Objects)))
	case p.Objects == 0:
		return fmt.Sprintf("walking the heap of process %d: %s tracked objects, and the untracked they refer to",
			pid, units.Commas(uint64(p.Tracked)))
	default:
		return fmt.Sprintf("walking the heap of process %d: %s objects so far (%s tracked, and the untracked they refer to)",
			pid, units.Commas(uint64(p.Objects)), units.Commas(uint64(p.Tracked)))
	}
}

// ProgressWatch says how far the capture in process PID is, from the
// progress file at Path: at most every two seconds, and only what changed.
type ProgressWatch struct {
	Path string
	PID  int

	said   Progress
	saidAt time.Time
}

// Poll reads the file when it is time to, and tells say what is new.
func (w *ProgressWatch) Poll(say func(format string, a ...any)) {
	if time.Since(w.saidAt) < 2*time.Second {
		return
	}
	if p, ok := ReadProgress(w.Path); ok && p != w.said {
		say("%s", p.Describe(w.PID))
		w.said, w.saidAt = p, time.Now()
	}
}
