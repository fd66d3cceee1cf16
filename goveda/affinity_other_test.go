//go:build !linux

package goveda

import "errors"

// Pinning is Linux-only: New fails with ErrUnsupported, so TestPinWorkers skips before these.
func threadAffinity() ([]int, error) { return nil, errors.New("no sched_getaffinity") }
func processCPUs() ([]int, error)    { return nil, errors.New("no sched_getaffinity") }
