package main

// The drawing commands: refs and backrefs.

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type graphOptions struct {
	pick      pickFlags
	out       string
	maxDepth  int
	tooMany   int
	filter    []string
	highlight []string
	refcounts bool
	qualified bool
	weak      bool
}

func init() {
	for _, back := range []bool{true, false} {
		name, what, fn := "backrefs", "the objects that refer to an object, directly or not, as\n"+
			"objgraph.show_backrefs. The graph stops at modules of sys.modules.", objgraph.ShowBackrefs
		if !back {
			name, what, fn = "refs", "the objects an object refers to, directly or not, as objgraph.show_refs.", objgraph.ShowRefs
		}
		register(&command{
			name: name,
			args: "[EARLIER] SNAPSHOT (--type TYPE | --addr ADDR) -o OUT.svg|OUT.dot",
			summary: "Draw " + what + "\n" +
				"Objects are boxes labelled with type and short label, darker with depth;\n" +
				"the start object has a red font, modules are green, highlighted objects blue;\n" +
				"references beyond --too-many per object are summed up in one red node.\n" +
				"A --filter TYPE draws only objects of the types named (beyond the start);\n" +
				"!TYPE leaves a type out. TYPE is a short or module-qualified type name.\n" +
				"--weak also draws weak references (a weak reference object to its referent),\n" +
				"dashed and labelled (weak); they keep nothing alive.",
			bind: withOptions(func(fs *pflag.FlagSet, o *graphOptions) {
				o.pick.define(fs)
				fs.StringVarP(&o.out, "output", "o", "", "write the graph to this file: .svg or .dot (- for DOT on standard output); a new file gets mode 0600")
				fs.IntVar(&o.maxDepth, "max-depth", 3, "levels drawn beyond the start object")
				fs.IntVar(&o.tooMany, "too-many", 10, "references drawn per object (0 for no limit)")
				fs.StringArrayVar(&o.filter, "filter", nil, "draw only objects of this type; !TYPE leaves the type out (repeatable)")
				fs.StringArrayVar(&o.highlight, "highlight", nil, "fill objects of this type blue (repeatable)")
				fs.BoolVar(&o.refcounts, "refcounts", false, "show reference counts in labels")
				fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names in labels")
				fs.BoolVar(&o.weak, "weak", false, "also draw weak references, dashed")
			}, func(c *cmdEnv, o *graphOptions, args []string) error { return runGraph(c, o, args, back, fn) }),
		})
	}
}

func runGraph(c *cmdEnv, o *graphOptions, args []string, back bool, show func(io.Writer, *heap.Heap, []heap.ID, objgraph.GraphOptions) (int, error)) error {
	if len(args) == 0 || len(args) > 2 {
		return usagef("give the snapshot, or an earlier snapshot and the snapshot")
	}
	if err := o.pick.check(); err != nil {
		return err
	}
	if o.out == "" {
		return usagef("missing -o OUT.svg or OUT.dot")
	}
	if _, err := graphFormat(o.out); err != nil {
		return err
	}
	if o.out == "-" && c.json {
		return usagef("-o - and --json both write to standard output: choose one")
	}
	if o.maxDepth < 0 || o.tooMany < 0 {
		return usagef("--max-depth and --too-many must be 0 or more")
	}
	for _, f := range append(append([]string{}, o.filter...), o.highlight...) {
		if strings.TrimPrefix(f, "!") == "" {
			return usagef("--filter and --highlight need a type name")
		}
	}
	if err := checkOutput(o.out); err != nil {
		return err
	}
	render, err := c.graphRenderer(o.out)
	if err != nil {
		return err
	}
	h, first, err := c.pickSnapshots(args)
	if err != nil {
		return err
	}
	obj, err := o.pick.pick(c, h, first, args[0])
	if err != nil {
		return err
	}
	opts := objgraph.GraphOptions{MaxDepth: o.maxDepth, TooMany: o.tooMany,
		Refcounts: o.refcounts, Qualified: o.qualified, Weak: o.weak}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = -1
	}
	if opts.TooMany == 0 {
		opts.TooMany = -1
	}
	for _, f := range append(append([]string{}, o.filter...), o.highlight...) {
		if t := strings.TrimPrefix(f, "!"); !objgraph.KnownType(h, t) {
			fmt.Fprintf(c.stderr, "objgraph: warning: %q matches no type in %s%s\n", f, args[0], typeHint(h, t))
		}
	}
	var keep, drop, light []func(heap.ID) bool
	for _, f := range o.filter {
		if t, ok := strings.CutPrefix(f, "!"); ok {
			drop = append(drop, objgraph.HasType(h, t))
		} else {
			keep = append(keep, objgraph.HasType(h, f))
		}
	}
	for _, t := range o.highlight {
		light = append(light, objgraph.HasType(h, t))
	}
	if len(keep) > 0 || len(drop) > 0 {
		opts.Filter = func(id heap.ID) bool {
			for _, p := range drop {
				if p(id) {
					return false
				}
			}
			for _, p := range keep {
				if p(id) {
					return true
				}
			}
			return len(keep) == 0
		}
	}
	if len(light) > 0 {
		opts.Highlight = func(id heap.ID) bool {
			for _, p := range light {
				if p(id) {
					return true
				}
			}
			return false
		}
	}
	if back && h.Len() > 1_000_000 {
		c.progress("building the reverse index of %s objects", units.Commas(uint64(h.Len())))
	}
	var dot bytes.Buffer
	n, err := show(&dot, h, []heap.ID{obj}, opts)
	if err != nil {
		return err
	}
	if err := c.writeGraph(o.out, render, dot.Bytes()); err != nil {
		return err
	}
	if c.json {
		return c.write(&report.Drawing{Snapshot: c.summarize(args[0], h), Start: report.Describe(h, obj), Output: o.out, Nodes: n})
	}
	if o.out != "-" {
		fmt.Fprintf(c.stderr, "objgraph: wrote %s (%d nodes)\n", o.out, n)
	}
	return nil
}
