package main

// The --garbage and --no-garbage flags of the counting commands.

import (
	"strconv"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/objgraph"
)

// garbageFlags binds --garbage and --no-garbage to *garbage, whose
// default is def: whether the command counts what gc.collect() would free.
// Snapshots are taken without a collection unless asked for one, so they
// hold the cyclic garbage the program has not collected yet.
func garbageFlags(fs *pflag.FlagSet, garbage *bool, def bool, what string) {
	*garbage = def
	on, off := " (the default)", ""
	if !def {
		on, off = off, on
	}
	fs.Var((*setBool)(garbage), "garbage", "count cyclic garbage, what gc.collect() would free, as "+what+on)
	fs.Lookup("garbage").NoOptDefVal = "true"
	fs.Var((*clearBool)(garbage), "no-garbage", "leave out cyclic garbage, what gc.collect() would free"+off)
	fs.Lookup("no-garbage").NoOptDefVal = "true"
}

// setBool is a bool flag that sets its variable to its value.
type setBool bool

func (b *setBool) String() string { return strconv.FormatBool(bool(*b)) }
func (b *setBool) Type() string   { return "bool" }
func (b *setBool) IsBoolFlag() bool {
	return true
}
func (b *setBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	*b = setBool(v)
	return err
}

// clearBool is a bool flag that sets its variable to the opposite of its
// value.
type clearBool bool

func (b *clearBool) String() string { return strconv.FormatBool(!bool(*b)) }
func (b *clearBool) Type() string   { return "bool" }
func (b *clearBool) IsBoolFlag() bool {
	return true
}
func (b *clearBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	*b = clearBool(!v)
	return err
}

// garbageShare is how much of what opts counts in h is garbage, when the
// command counts garbage; nil when it leaves it out.
func garbageShare(h *heap.Heap, opts objgraph.StatsOptions) *report.GarbageShare {
	if opts.NoGarbage {
		return nil
	}
	n, b := objgraph.FindGarbage(h).Count(h, opts)
	return &report.GarbageShare{Objects: n, Bytes: b}
}
