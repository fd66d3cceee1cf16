// Package nvmltest builds and drives the fake NVML library, a TEST DOUBLE of libnvidia-ml.so.1
// (testdata/fake_nvml.c) for machines without an NVIDIA GPU. Build compiles it with the C compiler cgo
// uses, Use points VEDA_NVML_LIBRARY at it, and Set rewrites the state file its entry points
// read on every call, so a test drives power and temperature traces.
package nvmltest

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

//go:embed testdata/fake_nvml.c
var source []byte

// GPU is one fake device's state.
type GPU struct {
	PowerMW   uint64
	TempC     uint64
	EnergyMJ  uint64
	Throttle  uint64
	HasEnergy bool // false: the energy counter is NOT_SUPPORTED (power samples are integrated)
	LimitMW   uint64
	Bus       uint64 // PCI bus number (domain 0, device 0)
}

var (
	buildOnce sync.Once
	libPath   string
	buildErr  error
)

// Build compiles fake_nvml.c once per test binary and returns the .so path; it skips the test
// when no C compiler is available.
func Build(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "veda-fake-nvml-")
		if err != nil {
			buildErr = err
			return
		}
		src := filepath.Join(dir, "fake_nvml.c")
		if err = os.WriteFile(src, source, 0o644); err != nil {
			buildErr = err
			return
		}
		cc := os.Getenv("CC")
		if cc == "" {
			cc = "cc"
		}
		libPath = filepath.Join(dir, "libfake_nvml.so")
		out, err := exec.Command(cc, "-shared", "-fPIC", "-O1", "-o", libPath, src).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%s: %v\n%s", cc, err, out)
		}
	})
	if buildErr != nil {
		if strings.Contains(buildErr.Error(), "executable file not found") {
			t.Skipf("no C compiler for the fake NVML: %v", buildErr)
		}
		t.Fatalf("building the fake NVML: %v", buildErr)
	}
	return libPath
}

// Fake is one test's fake NVML state file.
type Fake struct {
	t     testing.TB
	state string
}

// Use builds the library, points VEDA_NVML_LIBRARY and VEDA_FAKE_NVML_STATE at it for the rest
// of the test, and sets the initial devices.
func Use(t testing.TB, gpus ...GPU) *Fake {
	t.Helper()
	lib := Build(t)
	f := &Fake{t: t, state: filepath.Join(t.TempDir(), "nvml_state")}
	t.Setenv("VEDA_NVML_LIBRARY", lib)
	t.Setenv("VEDA_FAKE_NVML_STATE", f.state)
	f.Set(gpus...)
	return f
}

// Set replaces the devices' state (atomically: readers see the old or the new file).
func (f *Fake) Set(gpus ...GPU) {
	f.t.Helper()
	var b strings.Builder
	for _, g := range gpus {
		he := 0
		if g.HasEnergy {
			he = 1
		}
		fmt.Fprintf(&b, "%d %d %d %d %d %d %d\n", g.PowerMW, g.TempC, g.EnergyMJ, g.Throttle, he, g.LimitMW, g.Bus)
	}
	tmp := f.state + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, f.state); err != nil {
		f.t.Fatal(err)
	}
}
