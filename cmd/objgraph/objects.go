package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

// objectJSON is one object in JSON output.
type objectJSON struct {
	ID        heap.ID `json:"id"`
	Address   string  `json:"address"`
	Type      string  `json:"type"`
	QualType  string  `json:"qualified_type"`
	Size      uint64  `json:"size"`
	Refcount  uint64  `json:"refcount"`
	Tracked   bool    `json:"tracked"`
	Label     string  `json:"label,omitempty"`
	Immortal  bool    `json:"immortal,omitempty"`
	HasDel    bool    `json:"has_del,omitempty"`
	Kind      string  `json:"kind,omitempty"`
	Gen       *int    `json:"generation,omitempty"`
	Referents int     `json:"referents"`
}

func describe(h *heap.Heap, id heap.ID) objectJSON {
	f := h.Flags(id)
	o := objectJSON{ID: id, Address: hexAddr(h.Addr(id)), Type: h.TypeName(id), QualType: h.TypeQualName(h.Type(id)),
		Size: h.Size(id), Refcount: h.Refcount(id), Tracked: f.Tracked(), Label: h.Label(id),
		Immortal: f.Immortal(), HasDel: f.HasDel(), Referents: len(h.Referents(id))}
	if k := f.Kind(); k != heap.KindOther {
		o.Kind = k.String()
	}
	if f.Tracked() {
		g := f.Generation()
		o.Gen = &g
	}
	return o
}

func hexAddr(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// parseAddr reads an address as objgraph users write them: hexadecimal with
// 0x, as hex(id(obj)) prints it, or decimal, as id(obj) does.
func parseAddr(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	var v uint64
	var err error
	if rest, ok := strings.CutPrefix(t, "0x"); ok {
		v, err = strconv.ParseUint(rest, 16, 64)
	} else {
		v, err = strconv.ParseUint(t, 10, 64)
	}
	if err != nil {
		return 0, usagef("bad address %q: write it as hex(id(obj)) prints it (0x7f3a…) or as a decimal id(obj)", s)
	}
	return v, nil
}

// pickFlags are the flags that choose one object: --type or --addr.
type pickFlags struct {
	typ  string
	addr string
}

func (p *pickFlags) define(fs *pflag.FlagSet) {
	fs.StringVarP(&p.typ, "type", "t", "", "start from an object of this type (short or module-qualified name); the first in snapshot order is picked")
	fs.StringVarP(&p.addr, "addr", "a", "", "start from the object at this address (0x… or decimal id)")
}

// check reports a usage error unless exactly one of the flags is set.
func (p *pickFlags) check() error {
	if (p.typ == "") == (p.addr == "") {
		return usagef("give exactly one of --type and --addr")
	}
	if p.addr != "" {
		_, err := parseAddr(p.addr)
		return err
	}
	return nil
}

// pick finds the object the flags name. For --type it takes the first
// gc-tracked object of the type in snapshot order (the one
// objgraph.by_type(T)[0] returns), or the first untracked one when no
// tracked object has the type, and says on stderr which it took.
func (p *pickFlags) pick(c *cmdEnv, h *heap.Heap) (heap.ID, error) {
	if p.addr != "" {
		a, _ := parseAddr(p.addr)
		id, ok := h.Lookup(a)
		if !ok {
			return heap.NoID, fmt.Errorf("no object at address %s in the snapshot", hexAddr(a))
		}
		return id, nil
	}
	ids := objgraph.ByType(h, p.typ, objgraph.StatsOptions{})
	which := "gc-tracked "
	if len(ids) == 0 {
		ids = objgraph.ByType(h, p.typ, objgraph.StatsOptions{All: true})
		which = "untracked "
	}
	if len(ids) == 0 {
		return heap.NoID, fmt.Errorf("no object of type %q in the snapshot%s", p.typ, typeHint(h, p.typ))
	}
	id := ids[0]
	fmt.Fprintf(c.stderr, "objgraph: --type %s: %s %sobject(s); picked the first in snapshot order, %s (%s)\n",
		p.typ, units.Commas(uint64(len(ids))), which, hexAddr(h.Addr(id)), report.Escape(h.TypeQualName(h.Type(id))))
	return id, nil
}

// typeHint suggests type names close to a name that matched nothing.
func typeHint(h *heap.Heap, name string) string {
	lower := strings.ToLower(name)
	seen := map[string]bool{}
	var close []string
	for t := range h.NumTypes() {
		q := h.TypeQualName(heap.TypeID(t))
		s := h.TypeShortName(heap.TypeID(t))
		if !seen[q] && (strings.EqualFold(s, name) || strings.Contains(strings.ToLower(q), lower)) {
			seen[q] = true
			close = append(close, q)
		}
	}
	if len(close) == 0 || len(close) > 5 {
		return ""
	}
	return " (did you mean " + report.Escape(strings.Join(close, ", ")) + "?)"
}

// knownType reports whether any type of the heap has the name, as objgraph
// matches names (qualified when it has a dot).
func knownType(h *heap.Heap, name string) bool {
	qualified := strings.Contains(name, ".")
	for t := range h.NumTypes() {
		tid := heap.TypeID(t)
		if qualified && h.TypeQualName(tid) == name || !qualified && h.TypeShortName(tid) == name {
			return true
		}
	}
	return false
}
