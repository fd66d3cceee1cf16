//go:build !linux

package sched

import "errors"

// pinThread reports that pinning is not available on this OS.
func pinThread(id, cpu int) error {
	return errors.New("PinWorkers: sched_setaffinity is only available on Linux")
}
