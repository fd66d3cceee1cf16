package capi

/*
#include "capi.h"
*/
import "C"

import (
	"context"
	"sync"

	"github.com/veda-runtime/veda/goveda"
)

// runGuard is the run bookkeeping that veda_pipeline and veda_graph handles share: the runs in
// progress on a handle, so that destroy refuses a handle that runs, and whether it was destroyed,
// so that a run racing a destroy is refused. Any goroutine.
type runGuard struct {
	mu        sync.Mutex // guards runs, destroyed
	runs      int        // run calls in progress on this handle
	destroyed bool
}

// begin registers a run; it fails (status and last error set, naming the handle as name) once
// the handle was destroyed. Pair a stOK with one end.
func (g *runGuard) begin(fn, name string) C.veda_status {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.destroyed {
		return fail(stInvalidArgument, fn, "veda: invalid argument: %s was destroyed", name)
	}
	g.runs++
	return stOK
}

// end unregisters a run begun with begin.
func (g *runGuard) end() {
	g.mu.Lock()
	g.runs--
	g.mu.Unlock()
}

// destroy marks the handle destroyed unless a run is in progress (by the count or, for a run
// that goveda still finishes, running()); then it fails naming the run function.
func (g *runGuard) destroy(fn, name, runFn string, running func() bool) C.veda_status {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.runs > 0 || running() {
		return fail(stInvalidArgument, fn, "veda: invalid argument: %s is running (destroy it after %s returned)", name, runFn)
	}
	g.destroyed = true
	return stOK
}

// cSource is a goveda source that calls the C source function sfn(ctx, seq, &item, &bytes):
// 1 gives an item (made by mk), 0 ends the stream, any other code fails it at seq.
func cSource[T any](sfn C.veda_source_fn, ctx C.uintptr_t, mk func(item uintptr, bytes uint64, seq int64) T) goveda.Source[T] {
	return goveda.SourceFunc(func(_ context.Context, seq int64) (T, bool, error) {
		var zero T
		r := C.vedac_call_source(sfn, ctx, C.int64_t(seq))
		switch r.rc {
		case 1:
			return mk(uintptr(r.item), uint64(r.bytes), seq), true, nil
		case 0:
			return zero, false, nil
		}
		return zero, false, &codeError{what: "source", code: int32(r.rc)}
	})
}
