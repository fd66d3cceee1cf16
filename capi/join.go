package capi

/*
#include "capi.h"
*/
import "C"

import (
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// cTask is one C task: the function, its ctx and the runtime that runs it, passed by value (no
// closure, no allocation).
type cTask struct {
	fn  C.veda_task_fn
	ctx C.uintptr_t
	rt  *goveda.Runtime
}

// runCTask calls t on the current worker: one Go->C call, which hands the worker's join deque
// to the task (capi.c, the join fast path).
func runCTask(t cTask) error {
	if r := C.vedac_call_task(t.fn, t.ctx, joinDeque(t.rt)); r != 0 {
		return &callbackError{what: "task", code: int32(r)}
	}
	return nil
}

// joinDeque returns the calling worker's join deque for a call into C (0 when the caller is not
// one of rt's workers). Passed as an integer: C keeps it only for that call (goveda/foreign.go).
func joinDeque(rt *goveda.Runtime) C.uintptr_t {
	return C.uintptr_t(uintptr(rt.ForeignJoinDeque()))
}

func init() {
	// Stolen join records run here: one Go->C call on the thief (capi.c's vedac_xrec_run).
	goveda.SetForeignJoinRunner(func(rec, dq unsafe.Pointer) {
		C.vedac_xrec_run(C.uintptr_t(uintptr(rec)), C.uintptr_t(uintptr(dq)))
	})
}

// vedago_xjoin_wait waits (helping) for a join record that a thief took (capi.c's veda_join).
//
//export vedago_xjoin_wait
func vedago_xjoin_wait(dq, rec unsafe.Pointer) {
	defer func() { _ = recover() }() // nothing here panics; no panic may cross into C
	goveda.ForeignJoinWait(dq, rec)
}

// vedago_xjoin_notify wakes a sleeping worker for a record capi.c just pushed.
//
//export vedago_xjoin_notify
func vedago_xjoin_notify(dq unsafe.Pointer) {
	defer func() { _ = recover() }() // nothing here panics; no panic may cross into C
	goveda.ForeignJoinNotify(dq)
}

// vedago_task_failed sets the error of a fast-path veda_join (wait 0) or C-side group wait
// (wait 1) whose first failed task returned code: the same error as the Go path's.
//
//export vedago_task_failed
func vedago_task_failed(wait, code C.int32_t) (st C.veda_status) {
	fn := "veda_join"
	if wait == 1 {
		fn = "veda_group_wait"
	}
	defer recoverExport(fn, &st)
	return result(fn, &callbackError{what: "task", code: int32(code)})
}

// joinLayoutC returns capi.c's layout of the join deque and record (layout test), in the order
// of goveda.ForeignJoinLayout.
func joinLayoutC() [12]uintptr {
	var out [12]uintptr
	for i := range out {
		out[i] = uintptr(C.vedac_xdq_offset(C.int(i)))
	}
	return out
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
	return result(fn, goveda.JoinWith(e.rt, runCTask, cTask{fa, ca, e.rt}, cTask{fb, cb, e.rt}))
}
