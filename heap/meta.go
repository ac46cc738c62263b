package heap

import (
	"encoding/json"
	"time"
)

// Meta describes the process a snapshot came from and how it was taken. It is
// the META record of the snapshot format; keys it does not know are kept in
// Extra and written back unchanged.
type Meta struct {
	Producer     string    `json:"producer,omitempty"`       // program that wrote the snapshot, with version
	Runtime      string    `json:"runtime,omitempty"`        // e.g. "CPython"
	Version      string    `json:"version,omitempty"`        // runtime version, e.g. "3.11.7"
	Platform     string    `json:"platform,omitempty"`       // e.g. "linux"
	Host         string    `json:"host,omitempty"`           // the machine's network name
	PID          int       `json:"pid,omitempty"`            // process id
	Argv         []string  `json:"argv,omitempty"`           // the process's command line
	Time         time.Time `json:"time,omitzero"`            // capture time
	PointerSize  int       `json:"pointer_size,omitempty"`   // bytes in a pointer
	GCHeaderSize int       `json:"gc_header_size,omitempty"` // bytes of GC header before each tracked object
	PageSize     int       `json:"page_size,omitempty"`      // system page size
	GC           *GCState  `json:"gc,omitempty"`             // collector state; nil when unknown
	Capture      *Capture  `json:"capture,omitempty"`        // how the capture went; nil when unknown

	Extra map[string]json.RawMessage `json:"-"` // keys this version does not know
}

// GCState is the cycle collector's state at capture time.
type GCState struct {
	Enabled     bool  `json:"enabled"`      // gc.isenabled()
	Thresholds  []int `json:"thresholds"`   // gc.get_threshold()
	Counts      []int `json:"counts"`       // gc.get_count()
	FreezeCount int   `json:"freeze_count"` // gc.get_freeze_count()
}

// Capture says how the snapshot was taken.
type Capture struct {
	Seconds   float64  `json:"seconds"`          // wall time of the capture
	Collected int      `json:"collected"`        // objects a collection before the walk freed
	Redacted  bool     `json:"redacted"`         // str and bytes values dropped
	Errors    []string `json:"errors,omitempty"` // problems met and skipped
	Fork      *Fork    `json:"fork,omitempty"`   // the walk ran in a forked child; nil when in-process
}

// Fork says how a fork capture went: the program's pause was the fork, the
// walk ran in a child.
type Fork struct {
	ParentPID         int     `json:"parent_pid"`          // the program's process
	ChildPID          int     `json:"child_pid"`           // the child that walked the heap
	EstimateBytes     int64   `json:"estimate_bytes"`      // what the child was expected to copy, before the fork
	AvailableBytes    int64   `json:"available_bytes"`     // what the process could still use then (-1: unknown)
	ChildPrivateBytes int64   `json:"child_private_bytes"` // what the child held alone at the end (its Private_Dirty)
	ChildSeconds      float64 `json:"child_seconds"`       // the child's walk and write
	PauseSeconds      float64 `json:"pause_seconds"`       // from the call to the fork: the caller's pause
}

type metaFields Meta // no methods: plain JSON encoding

// UnmarshalJSON reads known keys into fields and keeps the others in Extra.
func (m *Meta) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	var f metaFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*m = Meta(f)
	for _, k := range metaKeys {
		delete(all, k)
	}
	if len(all) > 0 {
		m.Extra = all
	}
	return nil
}

// MarshalJSON writes the known fields and Extra.
func (m Meta) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(metaFields(m))
	if err != nil || len(m.Extra) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range m.Extra {
		if _, known := all[k]; !known {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

var metaKeys = []string{"producer", "runtime", "version", "platform", "host", "pid", "argv", "time",
	"pointer_size", "gc_header_size", "page_size", "gc", "capture"}
