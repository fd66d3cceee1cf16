package capi

/*
#include "capi.h"
*/
import "C"

import (
	"context"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

// future is the object behind a veda_future token.
type future struct {
	f *goveda.Future[struct{}]
}

func lookupFuture(fn string, h C.uintptr_t) (*future, C.veda_status) {
	f, state := futures.Get(uintptr(h))
	switch state {
	case stateLive:
		return f, stOK
	case stateStale:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: f was released")
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: f is NULL")
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: f is not a future handle (never created or forged)")
	}
}

// cPriority maps VEDA_PRIORITY_* (0 = REALTIME .. 4 = BACKGROUND) to goveda's Priority, whose
// zero value is Normal. tests/c/test_futures.c checks the order end to end.
var cPriority = [...]goveda.Priority{
	C.VEDA_PRIORITY_REALTIME:   goveda.PriorityRealtime,
	C.VEDA_PRIORITY_HIGH:       goveda.PriorityHigh,
	C.VEDA_PRIORITY_NORMAL:     goveda.PriorityNormal,
	C.VEDA_PRIORITY_LOW:        goveda.PriorityLow,
	C.VEDA_PRIORITY_BACKGROUND: goveda.PriorityBackground,
}

//export vedago_submit
func vedago_submit(h C.uintptr_t, cfn C.veda_task_fn, ctx C.uintptr_t, priority C.int32_t, deadlineNS C.int64_t, out *C.uintptr_t) (st C.veda_status) {
	const fn = "veda_submit"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case cfn == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: fn is NULL")
	case priority < 0 || priority > 4:
		return fail(stInvalidArgument, fn, "veda: invalid argument: opts->priority is %d, not a VEDA_PRIORITY_* value", int32(priority))
	case deadlineNS < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: opts->deadline_ns is %d, must be >= 0", int64(deadlineNS))
	}
	opts := goveda.TaskOptions{Priority: cPriority[priority]}
	if deadlineNS > 0 {
		opts.Deadline = time.Now().Add(time.Duration(deadlineNS))
	}
	task := taskFunc(e.rt, cfn, ctx)
	f := goveda.Submit(e.rt, opts, func(context.Context) (struct{}, error) {
		return struct{}{}, task()
	})
	*out = C.uintptr_t(futures.Add(&future{f: f}))
	return stOK
}

//export vedago_future_wait
func vedago_future_wait(h C.uintptr_t, timeoutNS C.int64_t) (st C.veda_status) {
	const fn = "veda_future_wait"
	defer recoverExport(fn, &st)
	f, st := lookupFuture(fn, h)
	if st != stOK {
		return st
	}
	ctx := callCtx() // the thread's veda_cancel token, if any
	if timeoutNS == 0 && !f.f.IsDone() {
		return fail(stTimeout, fn, "veda: timeout: the task has not finished (timeout_ns = 0)")
	}
	wctx := ctx
	if timeoutNS > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, time.Duration(timeoutNS))
		defer cancel()
	}
	_, err := f.f.Wait(wctx)
	if err != nil && f.f.IsDone() {
		_, err = f.f.Wait(ctx) // finished as the wait gave up: the task's own result, at once
	}
	if err != nil && !f.f.IsDone() && ctx.Err() == nil {
		// goveda's Wait gave up on our timeout, not on the token; the task keeps running.
		return fail(stTimeout, fn, "veda: timeout: the task has not finished after %d ns", int64(timeoutNS))
	}
	return result(fn, err)
}

//export vedago_future_is_done
func vedago_future_is_done(h C.uintptr_t) (n C.int32_t) {
	const fn = "veda_future_is_done"
	defer recoverExportInt(fn, &n)
	f, st := lookupFuture(fn, h)
	if st != stOK {
		return -1
	}
	if f.f.IsDone() {
		return 1
	}
	return 0
}

//export vedago_future_then
func vedago_future_then(h C.uintptr_t, cb C.veda_callback_fn, user C.uintptr_t) (st C.veda_status) {
	const fn = "veda_future_then"
	defer recoverExport(fn, &st)
	f, st := lookupFuture(fn, h)
	if st != stOK {
		return st
	}
	if cb == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: cb is NULL")
	}
	if f.f.IsDone() {
		// At once, on the calling thread.
		_, err := f.f.Wait(bg)
		C.vedac_call_callback(cb, user, statusOf(err))
		return stOK
	}
	f.f.Then(func(_ struct{}, err error) {
		C.vedac_call_callback(cb, user, statusOf(err))
	})
	return stOK
}

//export vedago_future_release
func vedago_future_release(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_future_release"
	defer recoverExport(fn, &st)
	if _, state := futures.Take(uintptr(h)); state != stateLive {
		if state == stateStale {
			return fail(stInvalidArgument, fn, "veda: invalid argument: f was already released")
		}
		return fail(stInvalidArgument, fn, "veda: invalid argument: f is NULL or not a future handle")
	}
	return stOK
}
