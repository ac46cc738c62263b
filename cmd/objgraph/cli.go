package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/report"
	"github.com/objgraph-go/objgraph/internal/units"
)

//go:embed doc.go
var docSource string

// version is set by the build (-ldflags "-X main.version=..."); when it is
// not, buildVersion reads the module version or the VCS revision from the
// binary's build information.
var version = ""

// buildVersion is the version objgraph version prints: the one set by the
// build, else the module's version (go install ...@v1.2.3), else the VCS
// revision and time the binary was built from, else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel " + rev
	if dirty {
		v += "+dirty"
	}
	if at != "" {
		v += " " + at
	}
	return v
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is one subcommand.
type command struct {
	name    string
	args    string // argument synopsis, e.g. "SNAPSHOT"
	summary string
	noJSON  bool // the command has no JSON form: it takes no --json
	// bind defines the command's flags on fs, bound to options made for
	// this call, and returns the function that runs the command with them.
	bind func(fs *pflag.FlagSet) func(c *cmdEnv, args []string) error
}

// withOptions makes a command's bind from a flags function, which defines
// the flags into an options value O, and a run function, which reads it:
// each call gets a new O, so commands can run concurrently.
func withOptions[O any](flags func(fs *pflag.FlagSet, o *O), run func(c *cmdEnv, o *O, args []string) error) func(*pflag.FlagSet) func(*cmdEnv, []string) error {
	return func(fs *pflag.FlagSet) func(*cmdEnv, []string) error {
		o := new(O)
		flags(fs, o)
		return func(c *cmdEnv, args []string) error { return run(c, o, args) }
	}
}

var commands []*command

func register(c *command) { commands = append(commands, c) }

// cmdEnv is what a command runs with.
type cmdEnv struct {
	stdin          io.Reader // read for the snapshot named "-"
	stdinRead      bool      // a snapshot was read from stdin already
	stdout, stderr io.Writer
	json           bool
}

// usageError is an error in how the command was called: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError ends a command with an exit status of its own, such as that of
// the program 'objgraph run' ran; msg, if not empty, is printed first.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("exit status %d", e.code)
}

// usageText is the package documentation, as plain text.
func usageText() string {
	var b strings.Builder
	for _, line := range strings.Split(docSource, "\n") {
		if strings.HasPrefix(line, "package ") {
			break
		}
		line = strings.TrimPrefix(line, "//")
		line = strings.TrimPrefix(line, " ")
		line = strings.Replace(line, "\t", "  ", 1)
		b.WriteString(line + "\n")
	}
	return b.String()
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) > 1 && name == "help" {
			return run([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usageText())
		return exitOK
	case "version", "--version":
		fmt.Fprintf(stdout, "objgraph %s\n", buildVersion())
		return exitOK
	}
	var cmd *command
	for _, c := range commands {
		if c.name == name {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "objgraph: unknown command %q; run 'objgraph help' for the list\n", name)
		return exitUsage
	}
	fs := pflag.NewFlagSet("objgraph "+cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed below, once
	fs.SortFlags = false
	env := &cmdEnv{stdin: stdin, stdout: stdout, stderr: stderr}
	runCmd := cmd.bind(fs)
	if !cmd.noJSON && fs.Lookup("json") == nil {
		fs.BoolVar(&env.json, "json", false, "write JSON to standard output")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: objgraph %s [flags] %s\n\n%s\n\nflags:\n%s", cmd.name, cmd.args, cmd.summary, fs.FlagUsages())
	}
	if err := fs.Parse(joinChoices(fs, args[1:])); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		fmt.Fprintf(stderr, "objgraph %s: %v\nrun 'objgraph %s --help' for usage\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	fs.Visit(func(f *pflag.Flag) {
		if f.Deprecated != "" {
			fmt.Fprintf(stderr, "objgraph %s: --%s is deprecated: %s\n", cmd.name, f.Name, f.Deprecated)
		}
	})
	if err := runCmd(env, fs.Args()); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintf(stderr, "objgraph: %s\n", ee.msg)
			}
			return ee.code
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "objgraph %s: %v\nrun 'objgraph %s --help' for usage\n", cmd.name, err, cmd.name)
			return exitUsage
		}
		fmt.Fprintf(stderr, "objgraph: %v\n", err)
		return exitFail
	}
	return exitOK
}

// writeJSON writes v as indented JSON to standard output.
func (c *cmdEnv) writeJSON(v any) error { return report.WriteJSON(c.stdout, v) }

// write writes a result to standard output: as JSON with --json, as text
// otherwise.
func (c *cmdEnv) write(r report.Result) error {
	if c.json {
		return c.writeJSON(r)
	}
	return r.WriteText(c.stdout)
}

// summarize describes the snapshot read from path; in text, it warns of
// the references the reader dropped.
func (c *cmdEnv) summarize(path string, h *heap.Heap) report.Snapshot {
	s := report.Summarize(path, h)
	if s.Dangling > 0 && !c.json {
		fmt.Fprintf(c.stderr, "objgraph: %s: %d edges or roots point outside the snapshot and were dropped\n", report.Escape(s.File), s.Dangling)
	}
	return s
}

// isTerminal reports whether w is a terminal, for progress messages.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress prints a line to stderr when it is a terminal.
func (c *cmdEnv) progress(format string, args ...any) {
	if isTerminal(c.stderr) {
		fmt.Fprintf(c.stderr, "objgraph: "+format+"\n", args...)
	}
}

// outputMode is the mode of the files commands write (-o): they are made
// from a snapshot and carry its strings, so they are private, as the agent
// writes snapshots. A file that exists keeps its mode.
const outputMode = 0o600

// stdinName is the name of standard input in messages.
const stdinName = "<stdin>"

// loadHeap reads a snapshot in the binary or the JSON form, from a file or,
// when path is "-", from standard input. Pipes and devices are read as
// streams; their first bytes are checked before anything else is read.
func (c *cmdEnv) loadHeap(path string) (*heap.Heap, error) {
	if path == "-" {
		if c.stdinRead {
			return nil, usagef("standard input (-) can be read only once")
		}
		c.stdinRead = true
		return heap.ReadAny(c.stdin, heap.ReadOptions{Name: stdinName})
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		return nil, usagef("%s is a directory; name the snapshots in it (%s)", path, filepath.Join(path, "*.ogs"))
	}
	if err == nil && st.Mode().IsRegular() && st.Size() > 64<<20 {
		c.progress("reading %s (%s)", path, units.Bytes(uint64(st.Size())))
	}
	return heap.ReadAny(f, heap.ReadOptions{Name: path})
}

// wantArgs checks that exactly the named arguments were given.
func wantArgs(args []string, names ...string) error {
	if len(args) < len(names) {
		return usagef("missing %s", strings.Join(names[len(args):], " "))
	}
	if len(args) > len(names) {
		return usagef("unexpected argument %q", args[len(names)])
	}
	return nil
}

// checkOutput refuses an output file whose directory is missing before any
// work is done, naming the directory.
func checkOutput(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("cannot write %s: directory %s does not exist", path, dir)
	case err == nil && !st.IsDir():
		return fmt.Errorf("cannot write %s: %s is not a directory", path, dir)
	}
	return nil
}

// snapshotThenType checks the arguments of a command called as
// "objgraph CMD SNAPSHOT TYPE". Python's objgraph puts the type first
// (count(typename, objects)); when the first argument is no file and the
// second is one, the call is taken for that order and refused with the
// command in this tool's order.
func snapshotThenType(cmd, pyfunc string, args []string) error {
	if err := wantArgs(args, "SNAPSHOT", "TYPE"); err != nil {
		return err
	}
	if args[0] == "-" || args[1] == "-" {
		return nil
	}
	if _, err := os.Stat(args[0]); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if st, err := os.Stat(args[1]); err != nil || st.IsDir() {
		return nil
	}
	return usagef("the snapshot comes first: objgraph %s %s %s (%q is no file; objgraph.%s() takes the type first)", cmd, args[1], args[0], args[0], pyfunc)
}
