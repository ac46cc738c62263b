package main

// The lookup commands: bytype, at and leaking.

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/objgraph"
)

type bytypeOptions struct {
	limit   int
	all     bool
	garbage bool
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
			garbageFlags(fs, &o.garbage, true, "objgraph.by_type does")
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
	opts := objgraph.StatsOptions{All: o.all, NoGarbage: !o.garbage}
	ids := objgraph.ByType(h, typ, opts)
	if !objgraph.KnownType(h, typ) {
		fmt.Fprintf(c.stderr, "objgraph: no type named %q in %s%s\n", typ, args[0], typeHint(h, typ))
	} else if len(ids) == 0 && !o.all {
		fmt.Fprintf(c.stderr, "objgraph: no gc-tracked object has type %q; --all lists untracked ones\n", typ)
	}
	r := report.NewByType(c.summarize(args[0], h), h, typ, ids, o.limit)
	if len(ids) > 0 {
		opts.Objects = ids
		r.Garbage = garbageShare(h, opts)
	}
	return c.write(r)
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
		return fmt.Errorf("no object at address %s in %s", report.Addr(addr), args[0])
	}
	return c.write(report.NewAt(c.summarize(args[0], h), h, id, o.limit))
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
	return c.write(report.NewLeaking(c.summarize(args[0], h), h, ids, stats, o.limit, o.list))
}
