package capi

/*
#include "capi.h"
*/
import "C"

import "github.com/veda-runtime/veda/goveda"

// cTask is one C task: the function and its ctx, passed by value (no closure, no allocation).
type cTask struct {
	fn  C.veda_task_fn
	ctx C.uintptr_t
}

// runCTask calls t on the current worker: one Go->C call.
func runCTask(t cTask) error {
	if r := C.vedac_call_task(t.fn, t.ctx); r != 0 {
		return &callbackError{what: "task", code: int32(r)}
	}
	return nil
}

// vedago_join is veda_join: one C->Go call per join, then goveda.JoinWith (which allocates
// nothing on a worker) calls each C task once. capi.c has checked fa and fb for NULL.
//
//export vedago_join
func vedago_join(h C.uintptr_t, fa C.veda_task_fn, ca C.uintptr_t, fb C.veda_task_fn, cb C.uintptr_t) (st C.veda_status) {
	const fn = "veda_join"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	return result(fn, goveda.JoinWith(e.rt, runCTask, cTask{fa, ca}, cTask{fb, cb}))
}
