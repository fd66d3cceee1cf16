// Command dispatch runs VEDA's dispatch benchmark. The benchmark itself lives
// in goveda/internal/dispatch/cmd/dispatchbench, because Go's internal-package
// rule lets only code under goveda/ import package dispatch; this program
// runs it with the same arguments from the module root:
//
//	go run ./bench/dispatch [-calls 2000] [-seed 1] [-window 8] [-transfer=false]
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
		fmt.Fprintln(os.Stderr, "veda: bench/dispatch: run from inside the veda module (go env GOMOD is empty)")
		os.Exit(2)
	}
	cmd := exec.Command("go", append([]string{"run", "./goveda/internal/dispatch/cmd/dispatchbench"}, os.Args[1:]...)...)
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "veda: bench/dispatch:", err)
		os.Exit(1)
	}
}
