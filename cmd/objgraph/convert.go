package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/atomicfile"
)

type convertOptions struct {
	to  string
	out string
}

func init() {
	register(&command{
		name:   "convert",
		args:   "SNAPSHOT",
		noJSON: true,
		summary: "Convert a snapshot between the binary .ogs form and JSON. The JSON form is\n" +
			"documented in docs/format.md; objects are listed in id order, edges name\n" +
			"targets by id, and addresses are hexadecimal strings.",
		bind: withOptions(func(fs *pflag.FlagSet, o *convertOptions) {
			fs.StringVar(&o.to, "to", "json", "output form: json or ogs")
			fs.StringVarP(&o.out, "output", "o", "", "write to this file (written atomically; a new file gets mode 0600) instead of standard output")
		}, runConvert),
	})
}

func runConvert(c *cmdEnv, o *convertOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	var write func(w io.Writer, h *heap.Heap) error
	switch strings.ToLower(o.to) {
	case "json":
		write = heap.WriteJSON
	case "ogs":
		write = func(w io.Writer, h *heap.Heap) error { return heap.Write(w, h, heap.EncoderOptions{}) }
	default:
		return usagef("--to must be json or ogs, not %q", o.to)
	}
	if err := checkOutput(o.out); err != nil {
		return err
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	if o.out == "" || o.out == "-" {
		return write(c.stdout, h)
	}
	if err := atomicfile.Write(o.out, outputMode, func(w io.Writer) error { return write(w, h) }); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "objgraph: wrote %s\n", o.out)
	return nil
}
