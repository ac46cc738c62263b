package heap

import (
	"encoding/json"
	"fmt"
)

// ProcessMemory is the process's memory when the snapshot was taken, as
// the kernel, the C allocator, CPython's object allocator and tracemalloc
// saw it: the META record's "memory" key. All sizes are bytes. A source the
// producer could not read is nil, and named with the reason in Missing;
// nil never means 0.
type ProcessMemory struct {
	RSS       *uint64 `json:"rss,omitempty"`       // resident set (smaps_rollup Rss, or status VmRSS)
	RSSPeak   *uint64 `json:"rss_peak,omitempty"`  // the highest resident set so far (VmHWM)
	PSS       *uint64 `json:"pss,omitempty"`       // proportional set: shared pages divided among their users
	USS       *uint64 `json:"uss,omitempty"`       // unique set: private clean plus private dirty pages
	Anonymous *uint64 `json:"anonymous,omitempty"` // anonymous memory (heap, arenas, mmap without a file)
	RSSAnon   *uint64 `json:"rss_anon,omitempty"`  // resident anonymous pages (status RssAnon)
	RSSFile   *uint64 `json:"rss_file,omitempty"`  // resident file-backed pages (status RssFile)
	Swap      *uint64 `json:"swap,omitempty"`      // swapped out
	Virtual   *uint64 `json:"virtual,omitempty"`   // address space (VmSize)

	Cgroup      *CgroupMemory      `json:"cgroup,omitempty"`      // the cgroup v2 the process is in
	Malloc      *MallocMemory      `json:"malloc,omitempty"`      // glibc's mallinfo2
	Pymalloc    *PymallocMemory    `json:"pymalloc,omitempty"`    // CPython's object allocator
	Tracemalloc *TracemallocMemory `json:"tracemalloc,omitempty"` // what tracemalloc traces, when it is tracing

	Missing map[string]string `json:"missing,omitempty"` // source → why it could not be read
}

// CgroupMemory is a cgroup v2's memory accounting.
type CgroupMemory struct {
	Path    string  `json:"path"`    // the cgroup, from /proc/self/cgroup
	Current uint64  `json:"current"` // memory.current
	Max     *uint64 `json:"max"`     // memory.max; nil for no limit
}

// MallocMemory is the C allocator's view (glibc mallinfo2).
type MallocMemory struct {
	Arena      uint64 `json:"arena"`      // bytes in the allocator's arenas
	InUse      uint64 `json:"in_use"`     // bytes of those in allocated blocks
	Free       uint64 `json:"free"`       // bytes of those in free blocks: held, not used
	Mmapped    uint64 `json:"mmapped"`    // large blocks mapped on their own
	Releasable uint64 `json:"releasable"` // free bytes at the top of the heap, which malloc_trim can return
}

// PymallocMemory is CPython's object allocator.
type PymallocMemory struct {
	AllocatedBlocks uint64 `json:"allocated_blocks"` // sys.getallocatedblocks()
}

// TracemallocMemory is what tracemalloc traced.
type TracemallocMemory struct {
	Traced uint64 `json:"traced"` // bytes in traced blocks now
	Peak   uint64 `json:"peak"`   // the most traced at once
	Frames int    `json:"frames"` // frames kept per traceback
}

// ProcessMemory returns the process memory recorded in the metadata, nil
// when the producer recorded none.
func (m *Meta) ProcessMemory() (*ProcessMemory, error) {
	raw, ok := m.Extra["memory"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var pm ProcessMemory
	if err := json.Unmarshal(raw, &pm); err != nil {
		return nil, fmt.Errorf("metadata key memory: %w", err)
	}
	return &pm, nil
}
