//go:build !amd64 && !arm64

package sched

import "runtime"

// getg returns an identity key for the calling goroutine: its goroutine id, parsed from
// runtime.Stack (about 1 us; the amd64/arm64 builds read the g pointer in assembly instead).
func getg() uintptr {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	// "goroutine 123 [running]:..."
	var id uintptr
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uintptr(c-'0')
	}
	return id
}
