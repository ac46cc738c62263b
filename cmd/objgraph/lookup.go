package main

// The lookup commands: bytype, at and leaking.

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type bytypeOptions struct {
	limit int
	all   bool
}

type atOptions struct{ limit int }

type leakingOptions struct {
	limit int
	list  bool
}

func init() {
	register(&command{
		name: "bytype",
		args: "SNAPSHOT TYPE",
		summary: "List the objects of a type, as objgraph.by_type: gc-tracked objects only, unless\n" +
			"--all, in snapshot order, with address, size, refcount and label.",
		bind: withOptions(func(fs *pflag.FlagSet, o *bytypeOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 20, "list this many objects (0 for all)")
			fs.BoolVar(&o.all, "all", false, "list untracked objects (str, int, …) too")
		}, runByType),
	})
	register(&command{
		name: "at",
		args: "SNAPSHOT ADDR",
		summary: "Describe the object at an address (0x… as hex(id(obj)) prints it, or a decimal\n" +
			"id): type, size, refcount, flags, label, what it refers to and what refers to it.\n" +
			"Unlike objgraph.at it finds untracked objects too, and says so.",
		bind: withOptions(func(fs *pflag.FlagSet, o *atOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 20, "list this many referents and referrers (0 for all)")
		}, runAt),
	})
	register(&command{
		name: "leaking",
		args: "SNAPSHOT",
		summary: "Show the gc-tracked objects that no gc-tracked object refers to, as\n" +
			"objgraph.get_leaking_objects, counted by type: objects held only from C code\n" +
			"or from running frames, among them those leaked by reference counting bugs in\n" +
			"C extensions.",
		bind: withOptions(func(fs *pflag.FlagSet, o *leakingOptions) {
			fs.IntVarP(&o.limit, "limit", "n", 20, "show this many types, or objects with --list (0 for all)")
			fs.BoolVar(&o.list, "list", false, "list the objects, not just their types")
		}, runLeaking),
	})
}

// objectTable writes objects one a line: address, type, size, refcount,
// label.
func objectTable(w io.Writer, h *heap.Heap, ids []heap.ID) {
	tw := newTable(w, 0)
	fmt.Fprintln(tw, "address\ttype\tsize\trefcount\tlabel")
	for _, id := range ids {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", hexAddr(h.Addr(id)), printable(h.TypeName(id)), h.Size(id), refcountText(h, id), printable(h.Label(id)))
	}
	tw.Flush()
}

func refcountText(h *heap.Heap, id heap.ID) string {
	if h.Flags(id).Immortal() {
		return "immortal"
	}
	return fmt.Sprint(h.Refcount(id))
}

func limited[T any](s []T, n int) []T {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}

func describeAll(h *heap.Heap, ids []heap.ID) []objectJSON {
	out := make([]objectJSON, len(ids))
	for i, id := range ids {
		out[i] = describe(h, id)
	}
	return out
}

func runByType(c *cmdEnv, o *bytypeOptions, args []string) error {
	if err := snapshotThenType("bytype", "by_type", args); err != nil {
		return err
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	typ := args[1]
	ids := objgraph.ByType(h, typ, objgraph.StatsOptions{All: o.all})
	if !knownType(h, typ) {
		fmt.Fprintf(c.stderr, "objgraph: no type named %q in %s%s\n", typ, args[0], typeHint(h, typ))
	} else if len(ids) == 0 && !o.all {
		fmt.Fprintf(c.stderr, "objgraph: no gc-tracked object has type %q; --all lists untracked ones\n", typ)
	}
	shown := limited(ids, o.limit)
	if c.json {
		return c.writeJSON(struct {
			Snapshot string       `json:"snapshot"`
			Type     string       `json:"type"`
			Count    int          `json:"count"`
			Objects  []objectJSON `json:"objects"`
		}{args[0], typ, len(ids), describeAll(h, shown)})
	}
	if len(ids) == 0 {
		return nil
	}
	objectTable(c.stdout, h, shown)
	if len(shown) < len(ids) {
		fmt.Fprintf(c.stdout, "(%s more; --limit 0 lists all)\n", units.Commas(uint64(len(ids)-len(shown))))
	}
	return nil
}

type edgeJSON struct {
	Edge   string     `json:"edge"`
	Object objectJSON `json:"object"`
}

func runAt(c *cmdEnv, o *atOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT", "ADDR"); err != nil {
		return err
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	addr, err := parseAddr(args[1])
	if err != nil {
		return err
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	id, ok := h.Lookup(addr)
	if !ok {
		return fmt.Errorf("no object at address %s in %s", hexAddr(addr), args[0])
	}
	var refs, back []edgeJSON
	for to, name := range h.Edges(id) {
		refs = append(refs, edgeJSON{name, describe(h, to)})
	}
	srcs := h.Referrers(id)
	for i, src := range srcs {
		if i > 0 && srcs[i-1] == src {
			continue
		}
		for _, name := range objgraph.EdgeNames(h, src, id) {
			back = append(back, edgeJSON{name, describe(h, src)})
		}
	}
	roots := rootsOf(h, id, 0)
	if c.json {
		return c.writeJSON(struct {
			Snapshot  string     `json:"snapshot"`
			Object    objectJSON `json:"object"`
			Roots     []rootJSON `json:"roots"`
			Referents []edgeJSON `json:"referents"`
			Referrers []edgeJSON `json:"referrers"`
		}{args[0], describe(h, id), roots, nonNil(limited(refs, o.limit)), nonNil(limited(back, o.limit))})
	}
	d := describe(h, id)
	fmt.Fprintf(c.stdout, "%s %s (%s), %d bytes, refcount %s\n", d.Address, printable(d.Type), printable(d.QualType), d.Size, refcountText(h, id))
	if d.Tracked {
		fmt.Fprintf(c.stdout, "gc-tracked, generation %d", *d.Gen)
	} else {
		fmt.Fprint(c.stdout, "not tracked by gc (objgraph.at would not find it)")
	}
	if d.Kind != "" {
		fmt.Fprintf(c.stdout, "; kind %s", d.Kind)
	}
	if d.HasDel {
		fmt.Fprint(c.stdout, "; has __del__")
	}
	fmt.Fprintln(c.stdout)
	if d.Label != "" {
		fmt.Fprintf(c.stdout, "label: %s\n", printable(d.Label))
	}
	for _, r := range roots {
		fmt.Fprintf(c.stdout, "root: %s\n", printable(r.String()))
	}
	list := func(title string, edges []edgeJSON) {
		fmt.Fprintf(c.stdout, "%s (%d):\n", title, len(edges))
		tw := newTable(c.stdout, 0)
		for _, e := range limited(edges, o.limit) {
			name := e.Edge
			if name == "" {
				name = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", printable(name), e.Object.Address, printable(e.Object.Type), printable(e.Object.Label))
		}
		tw.Flush()
		if o.limit > 0 && len(edges) > o.limit {
			fmt.Fprintf(c.stdout, "  (%d more; --limit 0 lists all)\n", len(edges)-o.limit)
		}
	}
	list("referents", refs)
	list("referrers", back)
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func runLeaking(c *cmdEnv, o *leakingOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	ids := objgraph.GetLeakingObjects(h)
	stats := objgraph.MostCommonTypes(h, 0, objgraph.StatsOptions{Objects: ids})
	if c.json {
		type typeRow struct {
			Type  string `json:"type"`
			Count int    `json:"count"`
			Bytes uint64 `json:"bytes"`
		}
		rows := []typeRow{}
		for _, s := range limited(stats, o.limit) {
			rows = append(rows, typeRow(s))
		}
		var objs []objectJSON
		if o.list {
			objs = describeAll(h, limited(ids, o.limit))
		}
		return c.writeJSON(struct {
			Snapshot string       `json:"snapshot"`
			Count    int          `json:"count"`
			Types    []typeRow    `json:"types"`
			Objects  []objectJSON `json:"objects,omitempty"`
		}{args[0], len(ids), rows, objs})
	}
	fmt.Fprintf(c.stdout, "%s gc-tracked objects have no referrer among gc-tracked objects\n", units.Commas(uint64(len(ids))))
	if len(ids) == 0 {
		return nil
	}
	fmt.Fprintln(c.stdout)
	if o.list {
		shown := limited(ids, o.limit)
		objectTable(c.stdout, h, shown)
		if len(shown) < len(ids) {
			fmt.Fprintf(c.stdout, "(%s more; --limit 0 lists all)\n", units.Commas(uint64(len(ids)-len(shown))))
		}
		return nil
	}
	shown := limited(stats, o.limit)
	cw, bw := len("count"), len("bytes")
	for _, s := range shown {
		cw = max(cw, len(units.Commas(uint64(s.Count))))
		bw = max(bw, len(units.Commas(s.Bytes)))
	}
	fmt.Fprintf(c.stdout, "%*s  %*s  %s\n", cw, "count", bw, "bytes", "type")
	for _, s := range shown {
		fmt.Fprintf(c.stdout, "%*s  %*s  %s\n", cw, units.Commas(uint64(s.Count)), bw, units.Commas(s.Bytes), printable(s.Type))
	}
	if len(shown) < len(stats) {
		fmt.Fprintf(c.stdout, "(%d more types; --limit 0 shows all)\n", len(stats)-len(shown))
	}
	return nil
}
