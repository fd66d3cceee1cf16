package streamaead

import (
	"fmt"
	"os"
	"path/filepath"
)

// AtomicFile is an output file that appears at its path only when complete: it is written to a
// temporary file in the same directory and renamed over the path by Commit (rename is atomic
// within a file system). Abort removes the temporary file. An existing file at the path is left
// untouched unless Commit succeeds. One goroutine at a time.
type AtomicFile struct {
	*os.File
	path string
	mode os.FileMode
	done bool
}

// CreateAtomic starts an atomic write of path, whose final permissions will be mode.
func CreateAtomic(path string, mode os.FileMode) (*AtomicFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".veda-tmp-*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{File: f, path: path, mode: mode}, nil
}

// Commit flushes the file to disk, closes it and renames it over the path.
func (f *AtomicFile) Commit() error {
	if f.done {
		return fmt.Errorf("veda: streamaead: %s: already committed or aborted", f.path)
	}
	f.done = true
	err := f.Chmod(f.mode)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Abort closes and removes the temporary file (a no-op after Commit or Abort).
func (f *AtomicFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}
