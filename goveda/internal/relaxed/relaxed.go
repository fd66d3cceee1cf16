//go:build !race && (amd64 || arm64)

// Package relaxed has stores for values that one goroutine at a time writes and others read with
// atomic loads: counters written under a lock or by their owner, and the slots of the
// scheduler's deques. Go's atomic stores are sequentially consistent, which on amd64 is an XCHG
// (measured about 9 ns here, against 1 ns for a plain store); these are plain stores of one
// aligned word, which the hardware never tears, so a concurrent atomic load sees the old or the
// new value. They give no ordering of their own: whatever must be seen together with the value
// is ordered by the writer's next synchronizing operation (an unlock, a seq-cst store), as each
// caller says.
//
// Race-detector builds, and other architectures, use the atomic stores (relaxed_atomic.go): a
// plain store racing with an atomic load is reported by the race detector, and a 64-bit plain
// store tears on 32-bit platforms.
package relaxed

import (
	"sync/atomic"
	"unsafe"
)

// StoreUint64 stores v into *p with a plain store.
func StoreUint64(p *atomic.Uint64, v uint64) { *(*uint64)(unsafe.Pointer(p)) = v }

// StoreInt64 stores v into *p with a plain store.
func StoreInt64(p *atomic.Int64, v int64) { *(*int64)(unsafe.Pointer(p)) = v }

// StorePointer stores v into *p with a plain store (with the GC's write barrier, as for any
// pointer store through *unsafe.Pointer).
func StorePointer[T any](p *atomic.Pointer[T], v *T) {
	*(*unsafe.Pointer)(unsafe.Pointer(p)) = unsafe.Pointer(v)
}

// The casts above need each atomic type to be exactly its one word (their other fields take no
// space): a compile error here means the layout changed.
var (
	_ [unsafe.Sizeof(atomic.Uint64{}) - 8]struct{}
	_ [8 - unsafe.Sizeof(atomic.Uint64{})]struct{}
	_ [unsafe.Sizeof(atomic.Int64{}) - 8]struct{}
	_ [8 - unsafe.Sizeof(atomic.Int64{})]struct{}
	_ [unsafe.Sizeof(atomic.Pointer[int]{}) - unsafe.Sizeof(unsafe.Pointer(nil))]struct{}
	_ [unsafe.Sizeof(unsafe.Pointer(nil)) - unsafe.Sizeof(atomic.Pointer[int]{})]struct{}
)
