package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
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
	fs.StringVarP(&p.typ, "type", "t", "", "start from an object of this type (short or module-qualified name): one of the largest group held in one place, new since EARLIER when given")
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

// pick finds the object the flags name. For --type it takes, among the
// gc-tracked objects of the type (the untracked ones when no tracked object
// has it), and among those new since the earlier snapshot when first is
// not nil, the representative of the largest retainer shape
// (objgraph.Representative), and says on stderr which it took and why.
func (p *pickFlags) pick(c *cmdEnv, h *heap.Heap, first *objgraph.Census, firstPath string) (heap.ID, error) {
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
	what := report.Plural(len(ids), which+"object")
	if first != nil {
		fresh := bitset.New[heap.ID](h.Len())
		for _, id := range objgraph.NewSince(first, h) {
			fresh.Set(id)
		}
		var leaked []heap.ID
		for _, id := range ids {
			if fresh.Has(id) {
				leaked = append(leaked, id)
			}
		}
		if len(leaked) > 0 {
			what += fmt.Sprintf(", %s new since %s", units.Commas(uint64(len(leaked))), report.Escape(firstPath))
			ids = leaked
		} else {
			what += fmt.Sprintf(", none new since %s", report.Escape(firstPath))
		}
	}
	if h.Len() > 1_000_000 {
		c.progress("finding the retainer chains of %s objects", units.Commas(uint64(h.Len())))
	}
	pk := objgraph.Representative(h, ids, nil)
	fmt.Fprintf(c.stderr, "objgraph: --type %s: %s; picked %s (%s), one of %s held as %s\n",
		report.Escape(p.typ), what, report.Addr(h.Addr(pk.ID)), report.Escape(h.TypeQualName(h.Type(pk.ID))),
		units.Commas(uint64(pk.Group)), report.ChainLine(pk.Root, pk.Shape))
	return pk.ID, nil
}

// pickSnapshots loads the snapshots of a command that picks an object:
// "[EARLIER] SNAPSHOT". With two, the earlier one is read as a census, for
// --type to pick an object new since it.
func (c *cmdEnv) pickSnapshots(args []string) (h *heap.Heap, first *objgraph.Census, err error) {
	switch len(args) {
	case 0:
		return nil, nil, usagef("missing SNAPSHOT")
	case 1, 2:
	default:
		return nil, nil, usagef("unexpected argument %q: give the snapshot, or an earlier one and the snapshot", args[2])
	}
	if len(args) == 2 {
		e, err := c.loadHeap(args[0])
		if err != nil {
			return nil, nil, err
		}
		first = objgraph.NewCensus(e)
	}
	h, err = c.loadHeap(args[len(args)-1])
	if err != nil {
		return nil, nil, err
	}
	if first != nil {
		checkPair(c, args[0], args[1], first.PID, h.Meta().PID, first.Time, h.Meta().Time)
	}
	return h, first, nil
}

// typeHint suggests type names close to a name that matched nothing.
func typeHint(h *heap.Heap, name string) string {
	close := objgraph.SimilarTypes(h, name, 5)
	if len(close) == 0 {
		return ""
	}
	return " (did you mean " + report.Escape(strings.Join(close, ", ")) + "?)"
}
