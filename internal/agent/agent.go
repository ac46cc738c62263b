// Package agent holds the Python heap-snapshot agent, objgraph_agent.py: a
// single stdlib-only module that runs inside the Python program under
// investigation and writes .ogs snapshots (docs/format.md), and the pytest
// plugin built on it, objgraph_pytest.py.
//
// The objgraph command ships the module to the program: it writes Source
// under FileName into a directory on the program's PYTHONPATH, or next to a
// script, and sets the OBJGRAPH_AGENT_* variables the module's
// _autostart_from_env reads.
package agent

import _ "embed"

// FileName is the name the module must have to be imported as
// objgraph_agent.
const FileName = "objgraph_agent.py"

// ModuleName is the name Python code imports the module by.
const ModuleName = "objgraph_agent"

// Source is the module's source code.
//
//go:embed objgraph_agent.py
var Source []byte

// PytestFileName is the name of the pytest plugin's module, which imports
// the agent by ModuleName and runs the objgraph binary to analyse.
const PytestFileName = "objgraph_pytest.py"

// PytestSource is the pytest plugin's source code.
//
//go:embed objgraph_pytest.py
var PytestSource []byte

// Environment variables read by the module's _autostart_from_env function.
const (
	EnvDir    = "OBJGRAPH_AGENT_DIR"     // directory for snapshots; required
	EnvSignal = "OBJGRAPH_AGENT_SIGNAL"  // signal name, e.g. SIGUSR2, or "none"
	EnvEvery  = "OBJGRAPH_AGENT_EVERY"   // seconds between snapshots; 0 = off
	EnvAtExit = "OBJGRAPH_AGENT_AT_EXIT" // 1: a snapshot when the program exits
	EnvRedact = "OBJGRAPH_AGENT_REDACT"  // 1: leave str and bytes contents out
	EnvState  = "OBJGRAPH_AGENT_STATE"   // private directory to publish StateFile in
	EnvFork   = "OBJGRAPH_AGENT_FORK"    // 1: every snapshot in a forked child; 0: never; unset: for large heaps
)

// ForkRequestFile, created in the run's state directory before the signal,
// asks the agent to take that snapshot in a forked child (the file holds
// "always", or is empty) or in-process ("never"); the agent removes it.
const ForkRequestFile = "fork-next"

// StateFile is the file the module writes in the EnvState directory once
// its signal handler is installed: JSON with the process's pid, snapshot
// directory, signal name and number, and start time (field 22 of
// /proc/PID/stat, 0 where there is none). The first Python process of a run
// to get there keeps it; a later one takes it over only when that process
// is gone.
const StateFile = "agent.json"
