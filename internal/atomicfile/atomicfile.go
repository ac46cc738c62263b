// Package atomicfile writes files so that a failed write never leaves a
// partial file under the final name.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write creates path with mode perm by writing to a temporary file in the
// same directory, syncing it and renaming it into place. A regular file
// already at path keeps its own mode, as a shell's > keeps it. When fill
// fails, or anything after it does, the temporary file is removed and path
// is left as it was.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) (err error) {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		perm = st.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		if st, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("writing %s: directory %s does not exist", path, filepath.Clean(dir))
		} else if serr == nil && !st.IsDir() {
			return fmt.Errorf("writing %s: %s is not a directory", path, filepath.Clean(dir))
		}
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
