package capi

/*
#include "capi.h"
#include "graph.h"
*/
import "C"

import (
	"context"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/handle"
)

// Pipeline graphs: veda_graph tokens over goveda.Graph. This file only translates: C items are
// (pointer, bytes, seq) triples carried as gitem (seq so that the copy callback gets the source
// item's sequence number), C callbacks become goveda node, copy and drop functions, and goveda's
// errors become status codes. Validation, ordering at merges, copies per branch, exactly-once,
// the failure prefix and the refusal of changes during a run are goveda's (pipeline_graph.go).

// kindGraph tags veda_graph* tokens. Kinds 1..7 are taken (handles.go, buffer.go, pipeline.go);
// 0 is the last free 3-bit tag (a token's tag is kind | tokenMark, bit 3), so no kind 8 may follow.
const kindGraph handleKind = 0

var graphs = handle.New[*graphEntry](kindGraph)

// gitem is one C item of a graph: the user's pointer (an integer: opaque, see capi.h), its
// declared size and the source item's sequence number (shared by all its copies).
type gitem struct {
	p   uintptr
	n   uint64
	seq int64
}

// graphEntry is the object behind a veda_graph token.
type graphEntry struct {
	g  *goveda.Graph[gitem]
	rt *goveda.Runtime // its runtime: node calls hand the worker's join deque to C

	guard runGuard // veda_graph_run calls in progress, destroyed
}

func lookupGraph(fn string, h C.uintptr_t) (*graphEntry, C.veda_status) {
	e, state := graphs.Get(uintptr(h))
	switch state {
	case stateLive:
		return e, stOK
	case stateStale:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: g was destroyed")
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: g is NULL")
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: g is not a graph handle (never created or forged)")
	}
}

//export vedago_graph_create
func vedago_graph_create(h C.uintptr_t, name *C.char, named C.int32_t, priority C.int32_t, maxItems C.int64_t, maxBytes C.uint64_t,
	drop C.veda_drop_fn, dropCtx C.uintptr_t, cp C.veda_copy_fn, cpCtx C.uintptr_t, out *C.uintptr_t) (st C.veda_status) {
	fn := "veda_graph_create"
	if named != 0 {
		fn = "veda_graph_create_named"
	}
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case priority < 0 || int(priority) >= len(cPriority):
		return fail(stInvalidArgument, fn, "veda: invalid argument: opts->priority is %d, not a VEDA_PRIORITY_* value", int32(priority))
	case maxItems < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: opts->max_in_flight is %d, must be >= 0 (0: the profile's inflight_segments)", int64(maxItems))
	}
	opts := goveda.GraphOptions[gitem]{Pipeline: goveda.PipelineOptions[gitem]{MaxInFlight: int(maxItems),
		MaxBytesInFlight: uint64(maxBytes), Bytes: func(it gitem) uint64 { return it.n }}}
	if name != nil {
		opts.Pipeline.Name = C.GoString(name) // "": goveda's "pipeline-<n>"
	}
	if drop != nil {
		opts.Pipeline.Drop = func(seq int64, it gitem) { C.vedac_call_drop(drop, dropCtx, C.int64_t(seq), C.uintptr_t(it.p)) }
	}
	if cp != nil {
		opts.Copy = func(it gitem) gitem {
			return gitem{p: uintptr(C.vedac_call_copy(cp, cpCtx, C.int64_t(it.seq), C.uintptr_t(it.p))), n: it.n, seq: it.seq}
		}
	}
	g, err := goveda.NewGraph(e.rt, opts)
	if err != nil {
		return failErr(fn, err)
	}
	if err := g.Pipeline().SetPriority(cPriority[priority]); err != nil {
		return failErr(fn, err)
	}
	*out = C.uintptr_t(graphs.Add(&graphEntry{g: g, rt: e.rt}))
	return stOK
}

//export vedago_graph_add
func vedago_graph_add(h C.uintptr_t, name *C.char, mode C.int32_t, sfn C.veda_stage_fn, ctx C.uintptr_t,
	sink C.int32_t, out *C.veda_graph_node) (st C.veda_status) {
	fn := "veda_graph_add_node"
	if sink != 0 {
		fn = "veda_graph_add_sink"
	}
	defer recoverExport(fn, &st)
	e, st := lookupGraph(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case out == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: out is NULL")
	case name == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: name is NULL")
	case sfn == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: fn is NULL")
	case mode < C.VEDA_STAGE_PARALLEL || mode > C.VEDA_STAGE_SERIAL_OUT_OF_ORDER:
		return fail(stInvalidArgument, fn, "veda: invalid argument: mode is %d, not a VEDA_STAGE_* value", int32(mode))
	}
	isSink := sink != 0
	body := func(_ context.Context, seq int64, it gitem) (gitem, error) {
		r := C.vedac_call_stage(sfn, ctx, C.int64_t(seq), C.uintptr_t(it.p), C.uint64_t(it.n), joinDeque(e.rt))
		if r.rc != 0 {
			return it, &codeError{what: "node function", code: int32(r.rc)}
		}
		if isSink {
			return it, nil // a sink's *out is ignored: the copy is finished, the caller owns it
		}
		return gitem{p: uintptr(r.out), n: uint64(r.bytes), seq: it.seq}, nil
	}
	add := e.g.Node
	if isSink {
		add = e.g.Sink
	}
	id, err := add(C.GoString(name), goveda.StageMode(mode), body)
	if err != nil {
		return failErr(fn, err)
	}
	*out = C.veda_graph_node(id)
	return stOK
}

//export vedago_graph_add_edge
func vedago_graph_add_edge(h C.uintptr_t, from, to C.veda_graph_node) (st C.veda_status) {
	const fn = "veda_graph_add_edge"
	defer recoverExport(fn, &st)
	e, st := lookupGraph(fn, h)
	if st != stOK {
		return st
	}
	return result(fn, e.g.Edge(goveda.NodeID(from), goveda.NodeID(to)))
}

//export vedago_graph_set_node_priority
func vedago_graph_set_node_priority(h C.uintptr_t, node C.veda_graph_node, priority C.int32_t) (st C.veda_status) {
	const fn = "veda_graph_set_node_priority"
	defer recoverExport(fn, &st)
	e, st := lookupGraph(fn, h)
	if st != stOK {
		return st
	}
	if priority < 0 || int(priority) >= len(cPriority) {
		return fail(stInvalidArgument, fn, "veda: invalid argument: priority is %d, not a VEDA_PRIORITY_* value", int32(priority))
	}
	return result(fn, e.g.SetNodePriority(goveda.NodeID(node), cPriority[priority]))
}

//export vedago_graph_validate
func vedago_graph_validate(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_graph_validate"
	defer recoverExport(fn, &st)
	e, st := lookupGraph(fn, h)
	if st != stOK {
		return st
	}
	return result(fn, e.g.Validate())
}

//export vedago_graph_run
func vedago_graph_run(h C.uintptr_t, sfn C.veda_source_fn, ctx C.uintptr_t) (st C.veda_status) {
	const fn = "veda_graph_run"
	defer recoverExport(fn, &st)
	e, st := lookupGraph(fn, h)
	if st != stOK {
		return st
	}
	if sfn == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: source is NULL")
	}
	if st := e.guard.begin(fn, "g"); st != stOK {
		return st
	}
	defer e.guard.end()
	src := cSource(sfn, ctx, func(item uintptr, bytes uint64, seq int64) gitem { return gitem{p: item, n: bytes, seq: seq} })
	return result(fn, e.g.Run(callCtx(), src))
}

//export vedago_graph_cancel
func vedago_graph_cancel(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_graph_cancel"
	defer recoverExport(fn, &st)
	e, st := lookupGraph(fn, h)
	if st != stOK {
		return st
	}
	e.g.Pipeline().Cancel()
	return stOK
}

//export vedago_graph_destroy
func vedago_graph_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_graph_destroy"
	defer recoverExport(fn, &st)
	e, st := lookupGraph(fn, h)
	if st != stOK {
		return st
	}
	if st := e.guard.destroy(fn, "g", "veda_graph_run", e.g.Pipeline().Running); st != stOK {
		return st
	}
	if _, state := graphs.Take(uintptr(h)); state != stateLive {
		return fail(stInvalidArgument, fn, "veda: invalid argument: g was already destroyed")
	}
	return stOK
}
