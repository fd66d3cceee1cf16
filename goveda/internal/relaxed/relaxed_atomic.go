//go:build race || !(amd64 || arm64)

package relaxed

import "sync/atomic"

// The atomic stores, under the race detector and on other architectures (see relaxed.go).

// StoreUint64 stores v into *p.
func StoreUint64(p *atomic.Uint64, v uint64) { p.Store(v) }

// StoreInt64 stores v into *p.
func StoreInt64(p *atomic.Int64, v int64) { p.Store(v) }

// StorePointer stores v into *p.
func StorePointer[T any](p *atomic.Pointer[T], v *T) { p.Store(v) }
