package capi

/*
#include "capi.h"
*/
import "C"

import "github.com/veda-runtime/veda/goveda"

// veda_runtime_shared: each successful call takes one reference on goveda.Shared() and returns a
// token of its own for it (all tokens name the same pool). veda_runtime_destroy of such a token
// removes the token first and then releases that reference (goveda closes the pool on the last
// one), so a token released twice is detected as stale (VEDA_ERR_CLOSED) and never releases a
// reference that another caller holds.

//export vedago_runtime_shared
func vedago_runtime_shared(out *C.uintptr_t) (st C.veda_status) {
	const fn = "veda_runtime_shared"
	defer recoverExport(fn, &st)
	rt, err := goveda.Shared()
	if err != nil {
		return failErr(fn, err)
	}
	tok := runtimes.Add(&runtimeEntry{rt: rt, shared: true})
	registerFast(tok, rt)
	*out = C.uintptr_t(tok)
	return stOK
}

// releaseShared is veda_runtime_destroy for a token of the shared runtime. Any goroutine.
func releaseShared(fn string, h C.uintptr_t, e *runtimeEntry) C.veda_status {
	if _, state := runtimes.Take(uintptr(h)); state != stateLive {
		// A concurrent destroy of the same token won the race.
		return fail(stClosed, fn, "veda: runtime closed: rt was already released")
	}
	if err := e.rt.Close(); err != nil {
		return failErr(fn, err)
	}
	return stOK
}
