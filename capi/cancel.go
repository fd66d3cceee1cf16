package capi

/*
#include "capi.h"
*/
import "C"

import (
	"context"
	"errors"
)

// cancelToken is the object behind a veda_cancel token: a goveda call context and its cancel
// function. Triggering is context cancellation; nothing here decides what a cancelled call
// does (goveda does).
type cancelToken struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// errTriggered is the cause of a token's cancellation.
var errTriggered = errors.New("veda_cancel_trigger was called")

// callCtx returns the context for a blocking call made by the calling C thread: the context of
// the veda_cancel token bound to it (veda_thread_set_cancel), or bg. Called by the exports on the
// thread that called them. Cost: one C call, plus a table lookup when a token is bound.
func callCtx() context.Context {
	tok := uintptr(C.vedac_thread_cancel())
	if tok == 0 {
		return bg
	}
	if t, state := cancels.Get(tok); state == stateLive {
		return t.ctx
	}
	return bg
}

func lookupCancel(fn string, h C.uintptr_t) (*cancelToken, C.veda_status) {
	t, state := cancels.Get(uintptr(h))
	switch state {
	case stateLive:
		return t, stOK
	case stateStale:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: c was destroyed")
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: c is NULL")
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: c is not a cancel token (never created or forged)")
	}
}

//export vedago_cancel_create
func vedago_cancel_create(out *C.uintptr_t) (st C.veda_status) {
	const fn = "veda_cancel_create"
	defer recoverExport(fn, &st)
	ctx, cancel := context.WithCancelCause(bg)
	*out = C.uintptr_t(cancels.Add(&cancelToken{ctx: ctx, cancel: cancel}))
	return stOK
}

//export vedago_cancel_trigger
func vedago_cancel_trigger(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_cancel_trigger"
	defer recoverExport(fn, &st)
	t, st := lookupCancel(fn, h)
	if st != stOK {
		return st
	}
	t.cancel(errTriggered)
	return stOK
}

//export vedago_cancel_is_triggered
func vedago_cancel_is_triggered(h C.uintptr_t) (n C.int32_t) {
	const fn = "veda_cancel_is_triggered"
	defer recoverExportInt(fn, &n)
	t, st := lookupCancel(fn, h)
	if st != stOK {
		return -1
	}
	if t.ctx.Err() != nil {
		return 1
	}
	return 0
}

//export vedago_cancel_check
func vedago_cancel_check(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_thread_set_cancel"
	defer recoverExport(fn, &st)
	_, st = lookupCancel(fn, h)
	return st
}

//export vedago_cancel_destroy
func vedago_cancel_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_cancel_destroy"
	defer recoverExport(fn, &st)
	_, state := cancels.Take(uintptr(h))
	switch state {
	case stateStale:
		return fail(stInvalidArgument, fn, "veda: invalid argument: c was already destroyed")
	case stateUnknown:
		return fail(stInvalidArgument, fn, "veda: invalid argument: c is NULL or not a cancel token")
	}
	// Destroy is not a trigger: calls running with the token's context finish normally.
	return stOK
}
