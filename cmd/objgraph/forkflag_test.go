package main

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

func TestForkFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string   // the mode parsed
		rest []string // the arguments left
	}{
		{nil, "auto", nil},
		{[]string{"--fork"}, "always", nil},
		{[]string{"--fork", "prog"}, "always", []string{"prog"}},
		{[]string{"--fork", "always", "prog"}, "always", []string{"prog"}},
		{[]string{"--fork", "never", "prog"}, "never", []string{"prog"}},
		{[]string{"--fork", "auto", "prog"}, "auto", []string{"prog"}},
		{[]string{"--fork=never", "prog"}, "never", []string{"prog"}},
		{[]string{"--fork", "--", "never"}, "always", []string{"never"}},         // after --: the program's
		{[]string{"--", "--fork", "never"}, "auto", []string{"--fork", "never"}}, // the program's flags
	} {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		var m forkMode
		forkFlag(fs, &m, "")
		if err := fs.Parse(joinChoices(fs, c.args)); err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if string(m) != c.want || !slices.Equal(fs.Args(), c.rest) {
			t.Errorf("%q: --fork %s, arguments %q; want %s, %q", c.args, m, fs.Args(), c.want, c.rest)
		}
	}
}
