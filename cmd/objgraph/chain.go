package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
	"github.com/objgraph-go/objgraph/objgraph"
)

type chainOptions struct {
	pick     pickFlags
	out      string
	maxDepth int
	modules  bool
	weak     bool
}

func init() {
	register(&command{
		name: "chain",
		args: "[EARLIER] SNAPSHOT (--type TYPE | --addr ADDR)",
		summary: "Print the shortest chain of references that holds an object, from a root of\n" +
			"the snapshot (a module, a thread's frame or local variable, or a reference from\n" +
			"outside the graph) to the object, one reference a line: the object's address,\n" +
			"type and label, and the name of the reference that leads to it. As\n" +
			"objgraph.find_backref_chain; --modules ends chains at modules only, as\n" +
			"objgraph.is_proper_module does. -o draws the chain as objgraph.show_chain.\n" +
			"Chains go through strong references only; --weak follows weak references too\n" +
			"(from a weak reference object to its referent), shown as (weak) on the hop and\n" +
			"dashed in drawings. An object that only weak references reach is reported as\n" +
			"reachable only weakly, with that chain. The exit status is 1 when no root holds\n" +
			"the object through strong references (or, with --weak, weak ones too) within\n" +
			"--max-depth references, reachable only weakly or not at all.",
		bind: withOptions(func(fs *pflag.FlagSet, o *chainOptions) {
			o.pick.define(fs)
			fs.StringVarP(&o.out, "output", "o", "", "also draw the chain to this file: .svg or .dot (- for DOT on standard output); a new file gets mode 0600")
			fs.IntVar(&o.maxDepth, "max-depth", 20, "longest chain searched, in references")
			fs.BoolVar(&o.modules, "modules", false, "chains end at modules of sys.modules only, not at any root")
			fs.BoolVar(&o.weak, "weak", false, "follow weak references too (a weak reference object to its referent), marked (weak)")
		}, runChain),
	})
}

func runChain(c *cmdEnv, o *chainOptions, args []string) error {
	if len(args) == 0 || len(args) > 2 {
		return usagef("give the snapshot, or an earlier snapshot and the snapshot")
	}
	if err := o.pick.check(); err != nil {
		return err
	}
	if o.maxDepth < 1 {
		return usagef("--max-depth must be 1 or more")
	}
	var render string
	if o.out != "" {
		if _, err := graphFormat(o.out); err != nil {
			return err
		}
		if o.out == "-" && c.json {
			return usagef("-o - and --json both write to standard output: choose one")
		}
		var err error
		if render, err = c.graphRenderer(o.out); err != nil {
			return err
		}
	}
	h, first, err := c.pickSnapshots(args)
	if err != nil {
		return err
	}
	obj, err := o.pick.pick(c, h, first, args[0])
	if err != nil {
		return err
	}
	pred, to := objgraph.IsRoot(h), "root"
	if o.modules {
		pred, to = objgraph.IsProperModule(h), "module"
	}
	if h.Len() > 1_000_000 {
		c.progress("building the reverse index of %s objects", units.Commas(uint64(h.Len())))
	}
	chain := objgraph.FindBackrefChain(h, obj, pred, objgraph.ChainOptions{MaxDepth: o.maxDepth, Weak: o.weak})
	found := pred(chain[0])
	weakOnly := false
	if !found && !o.weak && h.NumWeakEdges() > 0 {
		if wc := objgraph.FindBackrefChain(h, obj, pred, objgraph.ChainOptions{MaxDepth: o.maxDepth, Weak: true}); pred(wc[0]) {
			chain, weakOnly = wc, true
		}
	}
	rep := &report.ChainTo{Snapshot: c.summarize(args[0], h), To: to, Found: found, WeakOnly: weakOnly, Roots: []objgraph.Root{},
		Chain: report.Hops(h, chain, false)}
	if found || weakOnly {
		for _, r := range objgraph.RootsOf(h, chain[0]) {
			if !o.modules || r.Kind == heap.RootModule {
				rep.Roots = append(rep.Roots, r)
			}
		}
	}
	if o.out != "" {
		var dot bytes.Buffer
		n, err := objgraph.ShowChain(&dot, h, [][]heap.ID{chain}, objgraph.GraphOptions{Weak: o.weak || weakOnly})
		if err != nil {
			return err
		}
		if err := c.writeGraph(o.out, render, dot.Bytes()); err != nil {
			return err
		}
		if o.out != "-" {
			fmt.Fprintf(c.stderr, "objgraph: wrote %s (%d nodes)\n", o.out, n)
		}
	}
	if c.json || o.out != "-" {
		if err := c.write(rep); err != nil {
			return err
		}
	}
	if weakOnly {
		return fmt.Errorf("no %s holds %s (%s) through strong references within %d references; only weak references reach it, which keep nothing alive: it may be garbage", to, report.Addr(h.Addr(obj)), report.Escape(h.TypeName(obj)), o.maxDepth)
	}
	if !found {
		return fmt.Errorf("no %s holds %s (%s) within %d references; it may be garbage, unreachable from every root", to, report.Addr(h.Addr(obj)), report.Escape(h.TypeName(obj)), o.maxDepth)
	}
	return nil
}
