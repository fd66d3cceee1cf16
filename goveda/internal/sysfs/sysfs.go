// Package sysfs locates the Linux pseudo-file trees (/sys, /proc) that VEDA's sensors and
// topology readers parse, and lets tests move them.
//
// VEDA_SYSFS_ROOT (internal, for tests) names a directory that stands in for "/": the readers then
// parse ROOT/sys/class/powercap, ROOT/sys/devices/system/node, ... instead of the real files.
// Tests build fake trees there (a wrapping RAPL counter, a root-only energy_uj, two NUMA nodes).
// The variable is read on every call, so a test may set it with t.Setenv.
package sysfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EnvRoot is the environment variable that moves the root of the parsed trees (internal, tests).
const EnvRoot = "VEDA_SYSFS_ROOT"

// Root returns the directory standing in for "/" (VEDA_SYSFS_ROOT, else "/"). Any goroutine.
func Root() string {
	if r := os.Getenv(EnvRoot); r != "" {
		return r
	}
	return "/"
}

// Path joins Root() and the given absolute-style path ("/sys/class/powercap"). Any goroutine.
func Path(p string) string { return filepath.Join(Root(), p) }

// ReadString returns the file's content with surrounding white space trimmed.
func ReadString(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadUint parses the file as one unsigned decimal integer.
func ReadUint(path string) (uint64, error) {
	s, err := ReadString(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(s, 10, 64)
}

// ReadInt parses the file as one signed decimal integer.
func ReadInt(path string) (int64, error) {
	s, err := ReadString(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}
