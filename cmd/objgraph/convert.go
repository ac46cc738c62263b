package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/atomicfile"
)

var convertOpts struct {
	to  string
	out string
}

func init() {
	register(&command{
		name: "convert",
		args: "SNAPSHOT",
		summary: "Convert a snapshot between the binary .ogs form and JSON. The JSON form is\n" +
			"documented in docs/format.md; objects are listed in id order, edges name\n" +
			"targets by id, and addresses are hexadecimal strings.",
		flags: func(fs *pflag.FlagSet) {
			convertOpts.to, convertOpts.out = "", ""
			fs.StringVar(&convertOpts.to, "to", "json", "output form: json or ogs")
			fs.StringVarP(&convertOpts.out, "output", "o", "", "write to this file (written atomically; a new file gets mode 0600) instead of standard output")
		},
		run: runConvert,
	})
}

func runConvert(c *cmdEnv, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	var write func(w io.Writer, h *heap.Heap) error
	switch strings.ToLower(convertOpts.to) {
	case "json":
		write = heap.WriteJSON
	case "ogs":
		write = func(w io.Writer, h *heap.Heap) error { return heap.Write(w, h, heap.EncoderOptions{}) }
	default:
		return usagef("--to must be json or ogs, not %q", convertOpts.to)
	}
	h, err := c.loadHeap(args[0])
	if err != nil {
		return err
	}
	if convertOpts.out == "" || convertOpts.out == "-" {
		return write(c.stdout, h)
	}
	if err := atomicfile.Write(convertOpts.out, outputMode, func(w io.Writer) error { return write(w, h) }); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "objgraph: wrote %s\n", convertOpts.out)
	return nil
}
