package capi

import (
	"os/exec"
	"strings"
	"testing"
)

// TestGoProgramWithCCode builds and runs capi/example/gomixed: a Go program whose own C code
// calls veda.h, linking this package into its binary. Its C tasks must be counted by
// goveda.Default's runtime (one pool in the process).
func TestGoProgramWithCCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	out, err := exec.Command("go", "run", "./example/gomixed").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok: one runtime") {
		t.Fatalf("gomixed: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
}
