//go:build vedadebug

package sched

// debugChecks enables invariant assertions (go test -tags vedadebug ./goveda/...).
const debugChecks = true
