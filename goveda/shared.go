package goveda

import (
	"fmt"
	"sync"
)

// The process-wide shared runtime.
//
// One *Runtime per process serves every caller that asks for "the" runtime: C callers of
// veda_runtime_shared, Python's veda.runtime() and module-level functions (both through the C
// ABI), and Go code calling Shared or Default inside the same binary. It is reference-counted:
//
//  1. Shared takes a reference, creating the runtime (Config{} plus the VEDA_* environment)
//     when no instance is live.
//  2. Close on the shared runtime releases one reference. The last release closes it for real
//     (waits for in-flight work, stops the workers) and forgets the instance, so a later Shared
//     starts a fresh one.
//  3. A Close with no reference left (once more than acquired, or on an instance already
//     released) returns an error wrapping ErrClosed and changes nothing.
//  4. Default holds at most one reference of its own (taken on first use, "pinned"), so Go code
//     that calls Default and never closes keeps the pool alive for the process's life.
//
// The Go runtime cannot detect fork(); libveda.so's C entry points refuse to run in a forked
// child (VEDA_ERR_UNSUPPORTED) before reaching this code.
var shared struct {
	mu     sync.Mutex
	rt     *Runtime // the live instance, or nil; guarded by mu
	refs   int      // references held on rt (acquired, not yet released); guarded by mu
	pinned bool     // one of refs is Default's own; guarded by mu
}

// Shared returns the process-wide shared runtime and takes one reference to it, creating it on
// first use (or after its last reference was released) with Config{} and the VEDA_* environment
// (VEDA_NUM_WORKERS, VEDA_STRATEGY, ...). Pair every successful call with one Close, which
// releases that reference; the last Close stops the runtime. The error is New's (a bad VEDA_*
// variable: ErrInvalidArgument). Cost: a mutex; tens of microseconds when it starts the pool.
// Any goroutine, including tasks of the shared runtime itself.
func Shared() (*Runtime, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return acquireSharedLocked()
}

// acquireSharedLocked is Shared with shared.mu held.
func acquireSharedLocked() (*Runtime, error) {
	if shared.rt == nil {
		rt, err := New(Config{})
		if err != nil {
			return nil, err
		}
		rt.shared = true
		shared.rt, shared.refs, shared.pinned = rt, 0, false
	}
	shared.refs++
	return shared.rt, nil
}

// Default returns the process-wide shared runtime (the one Shared returns), taking one reference
// on first use that it keeps: Go code may use Default's runtime without ever closing it. Inside
// libveda.so (a C or Python process) it is the very pool that veda_runtime_shared and
// veda.runtime() return; in a Go program that links the capi package into its own binary, C code
// in that binary that calls veda.h gets this pool too. Default's reference is meant to last for
// the process: do not Close Default's runtime (Close releases one reference, as for Shared, and
// references are not owned, so it would release someone's). Go code that wants to stop the pool
// when done pairs Shared with Close instead. After the last reference was released, Default
// takes a new one (starting a new pool). Panics with
// a "veda:" message if the runtime cannot be created (a bad VEDA_* variable). Any goroutine.
func Default() *Runtime {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.rt != nil && shared.pinned {
		return shared.rt
	}
	rt, err := acquireSharedLocked()
	if err != nil {
		panic(fmt.Sprintf("veda: creating the default runtime: %v", err))
	}
	shared.pinned = true
	return rt
}

// SharedRefs returns the number of references currently held on the shared runtime (0 when no
// instance is live). A snapshot, for tests and diagnostics. Any goroutine.
func SharedRefs() int {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return shared.refs
}

// IsShared reports whether rt is the process-wide shared runtime (or a released instance of it).
// Any goroutine.
func (rt *Runtime) IsShared() bool { return rt.shared }

// releaseShared releases one reference on rt, the shared runtime (Close's path for it). The last
// reference closes rt for real; a release without a reference returns an error wrapping
// ErrClosed. Any goroutine.
func (rt *Runtime) releaseShared() error {
	shared.mu.Lock()
	if shared.rt != rt || shared.refs == 0 {
		shared.mu.Unlock()
		return fmt.Errorf("%w: the shared runtime was released more times than it was acquired", ErrClosed)
	}
	shared.refs--
	if shared.refs > 0 {
		shared.mu.Unlock()
		return nil
	}
	// Forget the instance before closing it (outside the lock: Close waits for in-flight work,
	// which may itself call Shared and must get a fresh runtime rather than deadlock).
	shared.rt, shared.pinned = nil, false
	shared.mu.Unlock()
	return rt.closeNow()
}
