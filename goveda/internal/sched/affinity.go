//go:build linux

package sched

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// pinThread locks the calling worker goroutine to its OS thread and pins that thread to cpu when
// cpu >= 0 and this process may use it, else to one of the CPUs it may use (worker id modulo
// their count). It returns an error when the CPU set cannot be read or set (goveda wraps it in
// ErrUnsupported). Worker goroutine only, at start.
func pinThread(id, cpu int) error {
	runtime.LockOSThread()
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("PinWorkers: sched_getaffinity: %w", err)
	}
	var cpus []int
	for c := 0; c < len(allowed)*64 && len(cpus) < allowed.Count(); c++ {
		if allowed.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		runtime.UnlockOSThread()
		return errors.New("PinWorkers: no usable CPU in the affinity mask")
	}
	target := cpus[id%len(cpus)]
	if cpu >= 0 && cpu < len(allowed)*64 && allowed.IsSet(cpu) {
		target = cpu
	}
	var set unix.CPUSet
	set.Set(target)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("PinWorkers: sched_setaffinity(cpu %d): %w", target, err)
	}
	return nil
}
