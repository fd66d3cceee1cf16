//go:build !linux

package goveda

import "fmt"

// pinThread reports that pinning is not available on this OS.
func pinThread(id int) error {
	return fmt.Errorf("%w: PinWorkers: sched_setaffinity is only available on Linux", ErrUnsupported)
}
