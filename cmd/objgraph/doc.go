// Objgraph finds memory leaks in Python processes from heap snapshots.
//
// Usage:
//
//	objgraph <command> [flags] [arguments]
//
// Commands:
//
//	run -- PROGRAM...    run a Python program (or a wrapper that starts one) with the capture agent
//	snapshot PID          take a snapshot now of a Python process (started by run, or any, through gdb)
//	agent                 write objgraph_agent.py for programs that import it themselves, and the pytest plugin
//	top SNAPSHOT          the most common types, with counts and bytes
//	count SNAPSHOT TYPE   the number of objects of a type
//	growth SNAP1 SNAP2... the types whose counts grew past their peaks, snapshot by snapshot
//	newids OLD NEW        the objects NEW has that OLD did not, per type
//	bytype SNAPSHOT TYPE  the objects of a type
//	at SNAPSHOT ADDR      the object at an address, with its references and referrers
//	leaking SNAPSHOT      the gc-tracked objects that no gc-tracked object refers to
//	gc SNAPSHOT           the collector's state and what gc.collect() would free, by cycle
//	cow SNAPSHOT          what a forked child would copy, and what gc.freeze() saves
//	leaks OLD NEW...      what leaks: the new objects that survive, by type and retainer chain
//	dominators SNAPSHOT   the objects that retain the most memory, with their chains from a root
//	pprof SNAPSHOT        write the heap as a pprof profile (-o OUT.pb.gz)
//	push SNAPSHOT...      push heap profiles to a Grafana Pyroscope server (--pyroscope URL)
//	ui SNAPSHOT           serve pprof's web interface (flame graph, graph) for a snapshot
//	chain SNAPSHOT        the shortest chain of references from a root to an object
//	backrefs SNAPSHOT     draw what refers to an object (-o OUT.svg|OUT.dot)
//	refs SNAPSHOT         draw what an object refers to (-o OUT.svg|OUT.dot)
//	convert SNAPSHOT      convert a snapshot to JSON or back (--to json|ogs)
//	version               print the version (the module version, or the VCS revision built)
//	help [COMMAND]        show help for a command
//
// A SNAPSHOT is a .ogs file written by the objgraph_agent Python module (or
// its JSON form); - reads it from standard input, and a pipe such as
// <(cat x.ogs) is read as a file is. Every command takes --help, and the
// analysis commands take --json for output that scripts can read. Data goes
// to standard output and diagnostics to standard error. The exit status is 0
// on success, 1 on failure and 2 on a usage error; run exits with its
// program's status.
//
// Files written with -o (profiles, graphs, converted snapshots) carry the
// snapshot's strings, so a new file is created with mode 0600, as the agent
// writes snapshots; a file that exists keeps its mode (chmod it to share).
// Each is written to a temporary name and renamed, so a failed write never
// leaves a partial file under the name asked for.
//
// The snapshot format is specified in docs/format.md.
package main
