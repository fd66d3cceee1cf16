package capi

/*
#include "capi.h"
*/
import "C"

import (
	"context"
	"fmt"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/handle"
)

// Pipelines: veda_pipeline tokens over goveda.Pipeline. This file only translates: C items are
// (pointer, bytes) pairs carried as citem, C callbacks become goveda source/stage/drop functions,
// and goveda's errors become status codes. The rules (bounds, ordering, exactly-once, failure
// prefix, cancellation) are goveda's.

// kindPipeline tags veda_pipeline* tokens (kinds 1..5 are in handles.go).
const kindPipeline handleKind = 7

var pipelines = handle.New[*pipelineEntry](kindPipeline)

// citem is one C item: the user's pointer (as an integer: it is opaque, see capi.h) and its size.
type citem struct {
	p uintptr
	n uint64
}

// pipelineEntry is the object behind a veda_pipeline token.
type pipelineEntry struct {
	p     *goveda.Pipeline[citem]
	rt    *goveda.Runtime // its runtime: stage calls hand the worker's join deque to C
	guard runGuard        // veda_pipeline_run calls in progress, destroyed
}

func lookupPipeline(fn string, h C.uintptr_t) (*pipelineEntry, C.veda_status) {
	e, state := pipelines.Get(uintptr(h))
	switch state {
	case stateLive:
		return e, stOK
	case stateStale:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: p was destroyed")
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: p is NULL")
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: p is not a pipeline handle (never created or forged)")
	}
}

// codeError is a C callback's non-zero return code.
type codeError struct {
	what string
	code int32
}

func (e *codeError) Error() string { return fmt.Sprintf("the %s returned %d", e.what, e.code) }

//export vedago_pipeline_create
func vedago_pipeline_create(h C.uintptr_t, name *C.char, named C.int32_t, priority C.int32_t, maxItems C.int64_t,
	maxBytes C.uint64_t, drop C.veda_drop_fn, dropCtx C.uintptr_t, out *C.uintptr_t) (st C.veda_status) {
	fn := "veda_pipeline_create"
	if named != 0 {
		fn = "veda_pipeline_create_named"
	}
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case priority < 0 || priority > 4:
		return fail(stInvalidArgument, fn, "veda: invalid argument: opts->priority is %d, not a VEDA_PRIORITY_* value", int32(priority))
	case maxItems < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: opts->max_in_flight is %d, must be >= 0 (0: the profile's inflight_segments)", int64(maxItems))
	}
	opts := goveda.PipelineOptions[citem]{MaxInFlight: int(maxItems), MaxBytesInFlight: uint64(maxBytes),
		Bytes: func(it citem) uint64 { return it.n }}
	if name != nil {
		opts.Name = C.GoString(name) // "": goveda's "pipeline-<n>"
	}
	if drop != nil {
		opts.Drop = func(seq int64, it citem) { C.vedac_call_drop(drop, dropCtx, C.int64_t(seq), C.uintptr_t(it.p)) }
	}
	p, err := goveda.NewPipeline(e.rt, opts)
	if err != nil {
		return failErr(fn, err)
	}
	if err := p.SetPriority(cPriority[priority]); err != nil {
		return failErr(fn, err)
	}
	*out = C.uintptr_t(pipelines.Add(&pipelineEntry{p: p, rt: e.rt}))
	return stOK
}

// Which public function a vedago_pipeline_add_stage call came from (for its error messages).
const (
	addPlain  = 0 // veda_pipeline_add_stage
	addNamed  = 1 // veda_pipeline_add_named_stage
	addHybrid = 2 // veda_pipeline_add_hybrid_stage
)

var addStageNames = [...]string{"veda_pipeline_add_stage", "veda_pipeline_add_named_stage", "veda_pipeline_add_hybrid_stage"}

//export vedago_pipeline_add_stage
func vedago_pipeline_add_stage(h C.uintptr_t, api C.int32_t, name *C.char, mode C.int32_t, sfn C.veda_stage_fn, ctx C.uintptr_t,
	dfn C.veda_device_stage_fn, dctx C.uintptr_t) (st C.veda_status) {
	fn := addStageNames[addPlain]
	if api >= 0 && int(api) < len(addStageNames) {
		fn = addStageNames[api]
	}
	defer recoverExport(fn, &st)
	e, st := lookupPipeline(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case sfn == nil && api == addHybrid:
		return fail(stInvalidArgument, fn, "veda: invalid argument: cpu is NULL")
	case sfn == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: fn is NULL")
	case dfn == nil && api == addHybrid:
		return fail(stInvalidArgument, fn, "veda: invalid argument: dev is NULL")
	case mode < C.VEDA_STAGE_PARALLEL || mode > C.VEDA_STAGE_SERIAL_OUT_OF_ORDER:
		return fail(stInvalidArgument, fn, "veda: invalid argument: mode is %d, not a VEDA_STAGE_* value", int32(mode))
	}
	// The last stage's *out is ignored: goveda discards the value a sink returns (the item is
	// finished, the caller owns it), so a body need not know whether it is the last.
	stage := func(_ context.Context, seq int64, it citem) (citem, error) {
		r := C.vedac_call_stage(sfn, ctx, C.int64_t(seq), C.uintptr_t(it.p), C.uint64_t(it.n), joinDeque(e.rt))
		if r.rc != 0 {
			return it, &codeError{what: "stage function", code: int32(r.rc)}
		}
		return citem{p: uintptr(r.out), n: uint64(r.bytes)}, nil
	}
	sname := "" // goveda names it "stage-<index>", the index taken under its lock
	if name != nil {
		sname = C.GoString(name)
	}
	var err error
	if api == addHybrid {
		dev := func(_ context.Context, d goveda.Device, seq int64, it citem) (citem, error) {
			r := C.vedac_call_device_stage(dfn, dctx, C.int32_t(d.Index()), C.int64_t(seq), C.uintptr_t(it.p), C.uint64_t(it.n))
			if r.rc != 0 {
				return it, &codeError{what: fmt.Sprintf("device function (device %d)", d.Index()), code: int32(r.rc)}
			}
			return citem{p: uintptr(r.out), n: uint64(r.bytes)}, nil
		}
		err = e.p.Hybrid(sname, goveda.StageMode(mode), goveda.Hybrid[citem]{CPU: stage, Device: dev})
	} else {
		err = e.p.Stage(sname, goveda.StageMode(mode), stage)
	}
	if err != nil {
		return failErr(fn, err)
	}
	return stOK
}

//export vedago_pipeline_run
func vedago_pipeline_run(h C.uintptr_t, sfn C.veda_source_fn, ctx C.uintptr_t) (st C.veda_status) {
	const fn = "veda_pipeline_run"
	defer recoverExport(fn, &st)
	e, st := lookupPipeline(fn, h)
	if st != stOK {
		return st
	}
	if sfn == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: source is NULL")
	}
	if st := e.guard.begin(fn, "p"); st != stOK {
		return st
	}
	defer e.guard.end()
	src := cSource(sfn, ctx, func(item uintptr, bytes uint64, _ int64) citem { return citem{p: item, n: bytes} })
	return result(fn, e.p.Run(callCtx(), src))
}

//export vedago_pipeline_cancel
func vedago_pipeline_cancel(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_pipeline_cancel"
	defer recoverExport(fn, &st)
	e, st := lookupPipeline(fn, h)
	if st != stOK {
		return st
	}
	e.p.Cancel()
	return stOK
}

//export vedago_pipeline_destroy
func vedago_pipeline_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_pipeline_destroy"
	defer recoverExport(fn, &st)
	e, st := lookupPipeline(fn, h)
	if st != stOK {
		return st
	}
	if st := e.guard.destroy(fn, "p", "veda_pipeline_run", e.p.Running); st != stOK {
		return st
	}
	if _, state := pipelines.Take(uintptr(h)); state != stateLive {
		return fail(stInvalidArgument, fn, "veda: invalid argument: p was already destroyed")
	}
	return stOK
}
