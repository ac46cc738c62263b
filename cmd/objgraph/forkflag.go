package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// forkMode is the value of a --fork flag: where a snapshot's heap is
// walked. "always" is what a bare --fork means.
type forkMode string

// forkModes are the values --fork takes.
var forkModes = []string{"auto", "always", "never"}

func (m *forkMode) String() string { return string(*m) }
func (m *forkMode) Type() string   { return "auto|always|never" }

func (m *forkMode) Set(s string) error {
	if !slices.Contains(forkModes, s) {
		return fmt.Errorf("%q is not always, never or auto", s)
	}
	*m = forkMode(s)
	return nil
}

// forkFlag defines --fork on fs into m: auto by default, always when given
// without a value.
func forkFlag(fs *pflag.FlagSet, m *forkMode, usage string) {
	*m = "auto"
	fs.Var(m, "fork", usage)
	fs.Lookup("fork").NoOptDefVal = "always"
}

// joinChoices rewrites "--NAME VALUE" as "--NAME=VALUE" in args, before
// "--", for each flag of fs whose value may be left out (NoOptDefVal) and
// VALUE is one of its choices (a forkMode's): pflag never takes the next
// argument as the value of such a flag, so "--fork always" would
// otherwise leave "always" as an argument of the command.
func joinChoices(fs *pflag.FlagSet, args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if name, ok := strings.CutPrefix(a, "--"); ok && i+1 < len(args) {
			if f := fs.Lookup(name); f != nil && f.NoOptDefVal != "" {
				if _, ok := f.Value.(*forkMode); ok && slices.Contains(forkModes, args[i+1]) {
					out = append(out, a+"="+args[i+1])
					i++
					continue
				}
			}
		}
		out = append(out, a)
	}
	return out
}
