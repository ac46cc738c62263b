// Objgraph finds memory leaks in Python processes from heap snapshots.
//
// Usage:
//
//	objgraph <command> [flags] [arguments]
//
// Commands:
//
//	top SNAPSHOT          the most common types, with counts and bytes
//	convert SNAPSHOT      convert a snapshot to JSON or back (--to json|ogs)
//	version               print the version
//	help [COMMAND]        show help for a command
//
// A SNAPSHOT is a .ogs file written by the objgraph_agent Python module (or
// its JSON form). Every command takes --help, and the analysis commands take
// --json for output that scripts can read. Data goes to standard output and
// diagnostics to standard error. The exit status is 0 on success, 1 on
// failure and 2 on a usage error.
//
// The snapshot format is specified in docs/format.md.
package main
