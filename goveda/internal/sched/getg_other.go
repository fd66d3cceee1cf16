//go:build !amd64 && !arm64

package sched

import "runtime"

// getg returns an identity key for the calling goroutine: its goroutine id, parsed from
// runtime.Stack (about 1 us; the amd64/arm64 builds read the g pointer in assembly instead).
func getg() uintptr {
	var buf [64]byte
	return goroutineID(buf[:runtime.Stack(buf[:], false)])
}
