package streamaead

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// AtomicFile is an output file that appears at its path only when complete: it is written to a
// temporary file in the same directory and renamed over the path by Commit (rename is atomic
// within a file system). Abort removes the temporary file. An existing file at the path is left
// untouched unless Commit succeeds. A symbolic link is followed: the file it names is replaced,
// the link stays. A path that exists and is not a regular file (/dev/null, a FIFO, a terminal)
// is opened and written directly, since it cannot be replaced: Commit and Abort then only close
// it. One goroutine at a time.
type AtomicFile struct {
	*os.File
	path   string
	mode   os.FileMode
	direct bool // writing to a special file in place
	done   bool
}

// CreateAtomic starts an atomic write of path, whose final permissions will be mode.
func CreateAtomic(path string, mode os.FileMode) (*AtomicFile, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &AtomicFile{File: f, path: path, direct: true}, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".veda-tmp-*")
	if err != nil {
		// The error names the temporary file, which the user never asked for: name the path.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: "create", Path: path, Err: err}
	}
	return &AtomicFile{File: f, path: path, mode: mode}, nil
}

// Commit flushes the file to disk, closes it and renames it over the path.
func (f *AtomicFile) Commit() error {
	if f.done {
		return fmt.Errorf("veda: streamaead: %s: already committed or aborted", f.path)
	}
	f.done = true
	if f.direct {
		return f.Close()
	}
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
	if !f.direct {
		os.Remove(f.Name())
	}
}
