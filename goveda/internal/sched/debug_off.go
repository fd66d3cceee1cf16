//go:build !vedadebug

package sched

// debugChecks enables invariant assertions; off in normal builds (see debug_on.go).
const debugChecks = false
