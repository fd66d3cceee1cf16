//go:build amd64 || arm64

package sched

// getg returns an identity key for the calling goroutine: its g pointer, read in assembly (about
// 1 ns). Any goroutine may call it. The key is unique among live goroutines; a worker clears its
// registered key before it exits, so reuse of a dead goroutine's g cannot alias a worker.
func getg() uintptr
