package capi

/*
#include "capi.h"
*/
import "C"

import (
	"errors"

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
