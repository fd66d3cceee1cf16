//go:build linux

package sched

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// pinThread locks the calling worker goroutine to its OS thread and pins that thread to one of
// the CPUs this process may use (worker id modulo their count). It returns an error when the CPU
// set cannot be read or set (goveda wraps it in ErrUnsupported). Worker goroutine only, at start.
func pinThread(id int) error {
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
	var set unix.CPUSet
	set.Set(cpus[id%len(cpus)])
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("PinWorkers: sched_setaffinity(cpu %d): %w", cpus[id%len(cpus)], err)
	}
	return nil
}
