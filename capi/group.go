package capi

/*
#include "capi.h"
*/
import "C"

import (
	"errors"
	"sync"

	"github.com/veda-runtime/veda/goveda"
)

// group is the object behind a veda_group token. It maps the C create/spawn/wait/destroy
// protocol onto goveda's scoped API (rt.Scope):
//
//  1. A spawn while a scope of the group is open goes straight into it (s.Spawn).
//  2. A spawn from an ordinary thread with no scope open opens a background scope: a goroutine
//     runs rt.Scope whose body waits until veda_group_wait (or destroy) ends it. Tasks thus start
//     at once, as C callers expect.
//  3. A spawn from inside a VEDA callback with no scope open is queued; the next wait runs
//     rt.Scope on the waiting worker itself, which then helps run the tasks. This is what keeps
//     nested groups (fib, n-queens) from deadlocking: a worker never blocks without helping.
//
// wait ends the background scope (if any), then runs queued tasks until none are left.
// All methods may be called from any goroutine.
type group struct {
	rtTok uintptr
	rt    *runtimeEntry

	mu      sync.Mutex
	scope   *goveda.Scope // open scope, or nil
	pending []func() error
	stop    chan struct{} // closes the background scope's body; nil if none
	done    chan error    // result of the background scope
}

// live reports whether the group's runtime is still alive (VEDA_ERR_CLOSED otherwise).
func (g *group) live(fn string) C.veda_status {
	if _, state := runtimes.get(g.rtTok); state != stateLive {
		return fail(stClosed, fn, "veda: runtime closed: the group's runtime was destroyed")
	}
	return stOK
}

func (g *group) spawn(task func() error, inCallback bool) error {
	g.mu.Lock()
	if s := g.scope; s != nil {
		g.mu.Unlock()
		s.Spawn(task)
		return nil
	}
	if inCallback {
		g.pending = append(g.pending, task)
		g.mu.Unlock()
		return nil
	}
	// Open a background scope and hand its *Scope back here.
	stop, done := make(chan struct{}), make(chan error, 1)
	sch := make(chan *goveda.Scope, 1)
	go func() {
		err := g.rt.rt.Scope(bg, func(s *goveda.Scope) {
			sch <- s
			<-stop
		})
		done <- err
	}()
	select {
	case s := <-sch:
		g.scope, g.stop, g.done = s, stop, done
		g.mu.Unlock()
		s.Spawn(task)
		return nil
	case err := <-done:
		g.mu.Unlock()
		return err
	}
}

// endOpenScope ends the background scope's body and waits for its tasks; it returns their error.
func (g *group) endOpenScope() error {
	g.mu.Lock()
	stop, done := g.stop, g.done
	g.stop, g.done = nil, nil
	g.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	err := <-done
	g.mu.Lock()
	g.scope = nil
	g.mu.Unlock()
	return err
}

func (g *group) wait() error {
	first := g.endOpenScope()
	for {
		g.mu.Lock()
		p := g.pending
		g.pending = nil
		if len(p) == 0 {
			g.mu.Unlock()
			return first
		}
		g.mu.Unlock()
		err := g.rt.rt.Scope(bg, func(s *goveda.Scope) {
			g.mu.Lock()
			g.scope = s
			g.mu.Unlock()
			for _, t := range p {
				s.Spawn(t)
			}
		})
		g.mu.Lock()
		g.scope = nil
		g.mu.Unlock()
		if first == nil {
			first = err
		}
	}
}

func lookupGroup(fn string, h C.uintptr_t) (*group, C.veda_status) {
	g, state := groups.get(uintptr(h))
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
func taskFunc(cfn C.veda_task_fn, ctx C.uintptr_t) func() error {
	return func() error {
		if r := C.vedac_call_task(cfn, ctx); r != 0 {
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
	g := &group{rtTok: uintptr(h), rt: e}
	e.mu.Lock()
	e.groups[g] = struct{}{}
	e.mu.Unlock()
	*out = C.uintptr_t(groups.add(g))
	return stOK
}

//export vedago_group_spawn
func vedago_group_spawn(h C.uintptr_t, cfn C.veda_task_fn, ctx C.uintptr_t, inCallback C.int) (st C.veda_status) {
	const fn = "veda_group_spawn"
	defer recoverExport(fn, &st)
	g, st := lookupGroup(fn, h)
	if st != stOK {
		return st
	}
	if cfn == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: fn is NULL")
	}
	return result(fn, g.spawn(taskFunc(cfn, ctx), inCallback != 0))
}

//export vedago_group_wait
func vedago_group_wait(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_group_wait"
	defer recoverExport(fn, &st)
	g, st := lookupGroup(fn, h)
	if st != stOK {
		return st
	}
	return result(fn, g.wait())
}

//export vedago_group_destroy
func vedago_group_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_group_destroy"
	defer recoverExport(fn, &st)
	g, state := groups.take(uintptr(h))
	switch state {
	case stateStale:
		return fail(stInvalidArgument, fn, "veda: invalid argument: g was already destroyed")
	case stateUnknown:
		return fail(stInvalidArgument, fn, "veda: invalid argument: g is NULL or not a group handle")
	}
	err := g.wait()
	g.rt.mu.Lock()
	delete(g.rt.groups, g)
	g.rt.mu.Unlock()
	if err != nil && !errors.Is(err, goveda.ErrTaskFailed) && statusOf(err) != stClosed {
		return failErr(fn, err)
	}
	return stOK
}
