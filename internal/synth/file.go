package synth

import (
	"fmt"
	"os"
	"path/filepath"
)

// File returns the path of a synthetic snapshot with these options, writing
// it under the user cache directory (or the temp directory) the first time.
func File(o Options) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "objgraph-synth")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := fmt.Sprintf("synth-v2-%d-%d-%d-%d.ogs", o.Objects, o.EdgesPerObj, o.Seed, o.ModuleObjects)
	if o.Shape == Python {
		name = fmt.Sprintf("synth-py1-%d-%d-%d-%d-%d.ogs", o.Objects, o.EdgesPerObj, o.Seed, o.ModuleObjects, o.Leak)
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.CreateTemp(dir, "synth-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := Write(f, o); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(f.Name(), path)
}
