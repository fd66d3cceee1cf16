// Command devices runs VEDA's device benchmark: every built-in kernel on
// every device, pinned, with the time split into transfer and compute. The
// benchmark itself lives in goveda/internal/dispatch/cmd/devicebench,
// because Go's internal-package rule lets only code under goveda/ import the
// device layer (whose per-call Timing it reports); this program runs it with
// the same arguments from the module root:
//
//	go run ./bench/devices [-quick] [-reps 5] [-kernels saxpy,sgemm] [-devices 0,1]
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		fmt.Fprintln(os.Stderr, "veda: bench/devices: run from inside the veda module (go env GOMOD is empty)")
		os.Exit(2)
	}
	cmd := exec.Command("go", append([]string{"run", "./goveda/internal/dispatch/cmd/devicebench"}, os.Args[1:]...)...)
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "veda: bench/devices:", err)
		os.Exit(1)
	}
}
