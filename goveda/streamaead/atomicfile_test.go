package streamaead_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda/streamaead"
)

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	os.WriteFile(p, []byte("old"), 0o644)
	f, err := streamaead.CreateAtomic(p, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatal("the target changed before Commit")
	}
	f.Abort()
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatal("Abort changed the target")
	}
	f, _ = streamaead.CreateAtomic(p, 0o640)
	f.Write([]byte("new"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatal("Commit did not replace the target")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".out.veda-tmp-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
	// A symbolic link: the file it names is replaced, the link stays.
	link := filepath.Join(dir, "link")
	os.Symlink(p, link)
	f, _ = streamaead.CreateAtomic(link, 0o600)
	f.Write([]byte("via link"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(p); string(b) != "via link" {
		t.Fatal("the link's target was not replaced")
	}
	// A special file is written in place, never replaced.
	f, err = streamaead.CreateAtomic(os.DevNull, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a character device: %v", os.DevNull, err)
	}
	if _, err := streamaead.CreateAtomic(dir, 0o600); err == nil {
		t.Fatal("a directory as output was accepted")
	}
}

// TestAtomicFileErrorNamesThePath: a directory that does not exist fails at CreateAtomic with the
// path the caller gave (not the temporary file's name) and still classifies as fs.ErrNotExist.
func TestAtomicFileErrorNamesThePath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing", "out.enc")
	_, err := streamaead.CreateAtomic(p, 0o600)
	if err == nil {
		t.Fatal("no error for a missing directory")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
	if want := "create " + p + ": "; !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "veda-tmp") {
		t.Errorf("error %q, want it to start with %q and not name the temporary file", err, want)
	}
}
