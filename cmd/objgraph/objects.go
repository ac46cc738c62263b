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
			return heap.NoID, fmt.Errorf("no object at address %s in the snapshot", report.Addr(a))
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
		p.typ, units.Commas(uint64(len(ids))), which, report.Addr(h.Addr(id)), report.Escape(h.TypeQualName(h.Type(id))))
	return id, nil
}

// typeHint suggests type names close to a name that matched nothing.
func typeHint(h *heap.Heap, name string) string {
	close := objgraph.SimilarTypes(h, name, 5)
	if len(close) == 0 {
		return ""
	}
	return " (did you mean " + report.Escape(strings.Join(close, ", ")) + "?)"
}
