package capi

/*
#include "capi.h"
*/
import "C"

import (
	"errors"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// group is the object behind a veda_group token: a goveda.Group (which owns the whole task-group
// protocol: spawn from any thread, nested spawns, helping waits, spawns racing waits) plus the
// runtime token, so calls on a group whose runtime was destroyed get VEDA_ERR_CLOSED.
type group struct {
	rtTok uintptr
	rt    *goveda.Runtime
	g     *goveda.Group
}

// live reports whether the group's runtime is still alive (VEDA_ERR_CLOSED otherwise).
func (g *group) live(fn string) C.veda_status {
	if _, state := runtimes.Get(g.rtTok); state != stateLive {
		return fail(stClosed, fn, "veda: runtime closed: the group's runtime was destroyed")
	}
	return stOK
}

func lookupGroup(fn string, h C.uintptr_t) (*group, C.veda_status) {
	g, state := groups.Get(uintptr(h))
	switch state {
	case stateLive:
		return g, g.live(fn)
	case stateStale:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: g was destroyed")
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: g is NULL")
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: g is not a group handle (never created or forged)")
	}
}

// taskFunc wraps a C task as a Go task body.
func taskFunc(rt *goveda.Runtime, cfn C.veda_task_fn, ctx C.uintptr_t) func() error {
	return func() error {
		if r := C.vedac_call_task(cfn, ctx, joinDeque(rt)); r != 0 {
			return &callbackError{what: "task", code: int32(r)}
		}
		return nil
	}
}

//export vedago_group_create
func vedago_group_create(h C.uintptr_t, out *C.uintptr_t) (st C.veda_status) {
	const fn = "veda_group_create"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	*out = C.uintptr_t(groups.Add(&group{rtTok: uintptr(h), rt: e.rt, g: e.rt.NewGroup()}))
	return stOK
}

//export vedago_group_spawn
func vedago_group_spawn(h C.uintptr_t, cfn C.veda_task_fn, ctx C.uintptr_t) (st C.veda_status) {
	const fn = "veda_group_spawn"
	defer recoverExport(fn, &st)
	g, st := lookupGroup(fn, h)
	if st != stOK {
		return st
	}
	if cfn == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: fn is NULL")
	}
	return result(fn, goveda.SpawnWith(g.g, runCTask, cTask{cfn, ctx, g.rt})) // no closure per spawn
}

//export vedago_group_wait
func vedago_group_wait(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_group_wait"
	defer recoverExport(fn, &st)
	g, st := lookupGroup(fn, h)
	if st != stOK {
		return st
	}
	return result(fn, g.g.Wait())
}

//export vedago_group_destroy
func vedago_group_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_group_destroy"
	defer recoverExport(fn, &st)
	g, state := groups.Take(uintptr(h))
	switch state {
	case stateStale:
		return fail(stInvalidArgument, fn, "veda: invalid argument: g was already destroyed")
	case stateUnknown:
		return fail(stInvalidArgument, fn, "veda: invalid argument: g is NULL or not a group handle")
	}
	err := g.g.Close()
	if err != nil && !errors.Is(err, goveda.ErrTaskFailed) && statusOf(err) != stClosed {
		return failErr(fn, err)
	}
	return stOK
}

// The group fast path (capi.c): a group created inside a C task that a worker runs lives in C,
// with a token of capi.c's own table; these are its few steps through Go.

// vedago_xgroup_wait waits for a C-side group's word (goveda.ForeignGroupWait).
//
//export vedago_xgroup_wait
func vedago_xgroup_wait(dq, word unsafe.Pointer, own, poll C.int32_t) {
	defer func() { _ = recover() }() // nothing here panics; no panic may cross into C
	goveda.ForeignGroupWait(dq, word, own != 0, poll != 0)
}

// vedago_xgroup_wake wakes a C-side group's waiter (goveda.ForeignGroupWake).
//
//export vedago_xgroup_wake
func vedago_xgroup_wake(dq unsafe.Pointer, waiter C.uint32_t, word unsafe.Pointer) {
	defer func() { _ = recover() }() // nothing here panics; no panic may cross into C
	goveda.ForeignGroupWake(dq, uint64(waiter), word)
}

// vedago_xgroup_spawn hands a C-side group's record to runtime h as a task, for a spawn made
// where capi.c cannot push it (goveda.ForeignGroupSpawn). h is the group's runtime token.
//
//export vedago_xgroup_spawn
func vedago_xgroup_spawn(h C.uintptr_t, rec unsafe.Pointer) (st C.veda_status) {
	const fn = "veda_group_spawn"
	defer recoverExport(fn, &st)
	e, state := runtimes.Get(uintptr(h))
	if state != stateLive {
		return fail(stClosed, fn, "veda: runtime closed: the group's runtime was destroyed")
	}
	return result(fn, e.rt.ForeignGroupSpawn(rec))
}

// xgroupConstsC returns capi.c's group-record State, group-word shift, outside-waiter value,
// group token tag and pending-count width (the tests check them against goveda's and the
// group table's).
func xgroupConstsC() [5]int64 {
	var out [5]int64
	for i := range out {
		out[i] = int64(C.vedac_xgroup_const(C.int(i)))
	}
	return out
}

// vedago_runtime_live reports whether runtime token h is still live (capi.c asks once a destroy
// of it began: its tasks may still spawn into and wait for C-side groups until Close returned).
//
//export vedago_runtime_live
func vedago_runtime_live(h C.uintptr_t) (live C.int32_t) {
	defer func() { _ = recover() }() // nothing here panics; no panic may cross into C
	if _, state := runtimes.Get(uintptr(h)); state == stateLive {
		return 1
	}
	return 0
}
