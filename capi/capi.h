// capi.h: internal declarations shared by capi.c and the cgo files of package main (capi).
// Not installed. Everything here has hidden visibility.
//
// User context pointers (ctx, user) cross into Go as uintptr_t, never as pointers: they are
// opaque to VEDA and may hold anything (small integers included), and a Go unsafe.Pointer
// holding a value like 0x5 makes the Go runtime throw "invalid pointer found on stack" when it
// copies a stack. (Found by the fuzz harness.)
#ifndef VEDA_CAPI_H
#define VEDA_CAPI_H
#include <stddef.h>
#include <stdint.h>
#include "veda.h"

void vedac_set_error(const char *msg, size_t n);
// The trampolines for range bodies, folds, tasks and stages take the calling worker's join deque
// (0: none),
// which they install for the user's function (capi.c, the join fast path).
int32_t vedac_call_range(veda_range_fn fn, uintptr_t ctx, int64_t begin, int64_t end, uintptr_t xdq);
int32_t vedac_call_fold(veda_fold_fn fn, uintptr_t ctx, int64_t begin, int64_t end, void *acc, uintptr_t xdq);
void vedac_call_combine(veda_combine_fn fn, uintptr_t ctx, void *acc, const void *other);
int32_t vedac_call_task(veda_task_fn fn, uintptr_t ctx, uintptr_t xdq);
void vedac_call_callback(veda_callback_fn fn, uintptr_t user, veda_status st);
uintptr_t vedac_thread_cancel(void); // the veda_cancel token bound to this thread, 0 if none
// The one-chunk fast path's gate table (capi.c; goveda/foreign.go).
void vedac_gate_register(uintptr_t token, void *gate);
void vedac_gate_unregister(uintptr_t token);
int32_t vedac_thread_holds(void *gate); // 1 if this thread runs a fast-path body under gate
size_t vedac_gate_offset(int field);    // offsetof the gate's field 0..6, then its size (layout test)
// The join fast path (capi.c; goveda/foreign.go).
void vedac_xrec_run(uintptr_t rec, uintptr_t xdq); // run a stolen record on this thread
size_t vedac_xdq_offset(int field);                // layout test: see goveda.ForeignJoinLayout
uintptr_t vedac_runtime_tag(void);                 // the low 4 bits of every runtime token (test)
// The group fast path (capi.c): group-record State, group-word shift, outside waiter, token tag,
// pending-count width (test).
int64_t vedac_xgroup_const(int which);
// The fork guard for the other C files (graph.c): VEDA_OK, or, in a forked child, the fork error
// set as the last error and VEDA_ERR_UNSUPPORTED returned.
veda_status vedac_fork_refused(void);
// Pipelines (capi/pipeline.go): results returned by value, so Go passes no pointer to C.
typedef struct { int32_t rc; uintptr_t item; uint64_t bytes; } vedac_source_result;
typedef struct { int32_t rc; uintptr_t out; uint64_t bytes; } vedac_stage_result;
vedac_source_result vedac_call_source(veda_source_fn fn, uintptr_t ctx, int64_t seq);
vedac_stage_result vedac_call_stage(veda_stage_fn fn, uintptr_t ctx, int64_t seq, uintptr_t item, uint64_t bytes,
                                    uintptr_t xdq);
void vedac_call_drop(veda_drop_fn fn, uintptr_t ctx, int64_t seq, uintptr_t item);
vedac_stage_result vedac_call_device_stage(veda_device_stage_fn fn, uintptr_t ctx, int32_t device, int64_t seq,
                                           uintptr_t item, uint64_t bytes);
#endif
