//go:build vedadebug

package goveda

// debugChecks enables invariant assertions (go test -tags vedadebug ./goveda/).
const debugChecks = true
