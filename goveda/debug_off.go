//go:build !vedadebug

package goveda

// debugChecks enables invariant assertions; off in normal builds (see debug_on.go).
const debugChecks = false
