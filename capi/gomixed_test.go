package capi

import (
	"os"
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

// TestJoinFastPathUnderRace builds tests/joinrace with the race detector and runs it with
// more workers than cores: C fib trees through veda_join (the C-side fast path, with records
// stolen and owners parked) from several goroutines, Go joins on the same pool, failing leaves.
func TestJoinFastPathUnderRace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	cmd := exec.Command("go", "run", "-race", "../tests/joinrace")
	cmd.Env = append(os.Environ(), "VEDA_NUM_WORKERS=6")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok: joins under race") {
		t.Fatalf("joinrace: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
}
