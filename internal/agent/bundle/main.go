// Command bundle writes objgraph_agent.py, the capture agent as one
// module, from its source package (internal/agent/src/objgraph_agent). It
// runs under go generate ./internal/agent, in that package's directory.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/objgraph-go/objgraph/internal/agent"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "bundle: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	out, err := agent.Bundle(os.DirFS(agent.SourceDir))
	if err != nil {
		return fmt.Errorf("bundling %s: %w", agent.SourceDir, err)
	}
	if old, err := os.ReadFile(agent.FileName); err == nil && string(old) == string(out) {
		return nil
	}
	tmp, err := os.CreateTemp(".", agent.FileName+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(".", agent.FileName))
}
