// graph.c: the public veda_graph_* functions (include/veda.h, "Pipeline graphs") and the copy
// trampoline. Each entry point checks for fork() and then calls its Go export vedago_graph_*
// (capi/graph.go), with handles passed as uintptr_t tokens, as capi.c does for the rest.
// Compiled with -fvisibility=hidden: only the VEDA_API functions are exported.

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "veda.h"
#include "capi.h"
#include "graph.h"
#include "_cgo_export.h"

#define VEDAC_GRAPH_H(p) ((uintptr_t)(p))

#define VEDAC_GRAPH_FORK_GUARD()                       \
    do {                                               \
        veda_status fst_ = vedac_fork_refused();       \
        if (__builtin_expect(fst_ != VEDA_OK, 0)) return fst_; \
    } while (0)

static veda_status vedac_graph_fail(const char *msg) {
    vedac_set_error(msg, strlen(msg));
    return VEDA_ERR_INVALID_ARGUMENT;
}

uintptr_t vedac_call_copy(veda_copy_fn fn, uintptr_t ctx, int64_t seq, uintptr_t item) {
    return (uintptr_t)fn((void *)ctx, seq, (void *)item);
}

// graph_create is veda_graph_create and veda_graph_create_named (fn names the caller).
static veda_status graph_create(const char *fn, veda_runtime *rt, const char *name, int32_t named,
                                const veda_pipeline_options *opts, veda_copy_fn copy, void *copy_ctx, veda_graph **out) {
    char msg[160];
    if (out == NULL) {
        snprintf(msg, sizeof msg, "%s: veda: invalid argument: out is NULL", fn);
        return vedac_graph_fail(msg);
    }
    *out = NULL;
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    if (opts != NULL) {
        if (opts->struct_size < offsetof(veda_pipeline_options, drop_ctx) + sizeof opts->drop_ctx) {
            snprintf(msg, sizeof msg,
                     "%s: veda: invalid argument: opts->struct_size is too small (call "
                     "veda_pipeline_options_init first)", fn);
            return vedac_graph_fail(msg);
        }
        memcpy(&o, opts, sizeof o);
    }
    uintptr_t h = 0;
    veda_status st = vedago_graph_create(VEDAC_GRAPH_H(rt), (char *)name, named, o.priority, o.max_in_flight,
                                         o.max_bytes_in_flight, o.drop, VEDAC_GRAPH_H(o.drop_ctx), copy,
                                         VEDAC_GRAPH_H(copy_ctx), &h);
    if (st == VEDA_OK) *out = (veda_graph *)h;
    return st;
}

VEDA_API veda_status veda_graph_create(veda_runtime *rt, const veda_pipeline_options *opts, veda_copy_fn copy,
                                       void *copy_ctx, veda_graph **out) {
    VEDAC_GRAPH_FORK_GUARD();
    return graph_create("veda_graph_create", rt, NULL, 0, opts, copy, copy_ctx, out);
}

VEDA_API veda_status veda_graph_create_named(veda_runtime *rt, const char *name, const veda_pipeline_options *opts,
                                             veda_copy_fn copy, void *copy_ctx, veda_graph **out) {
    VEDAC_GRAPH_FORK_GUARD();
    return graph_create("veda_graph_create_named", rt, name, 1, opts, copy, copy_ctx, out);
}

VEDA_API veda_status veda_graph_add_node(veda_graph *g, const char *name, int32_t mode, veda_stage_fn fn,
                                         void *ctx, veda_graph_node *out) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_add(VEDAC_GRAPH_H(g), (char *)name, mode, fn, VEDAC_GRAPH_H(ctx), 0, out);
}

VEDA_API veda_status veda_graph_add_sink(veda_graph *g, const char *name, int32_t mode, veda_stage_fn fn,
                                         void *ctx, veda_graph_node *out) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_add(VEDAC_GRAPH_H(g), (char *)name, mode, fn, VEDAC_GRAPH_H(ctx), 1, out);
}

VEDA_API veda_status veda_graph_add_edge(veda_graph *g, veda_graph_node from, veda_graph_node to) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_add_edge(VEDAC_GRAPH_H(g), from, to);
}

VEDA_API veda_status veda_graph_set_node_priority(veda_graph *g, veda_graph_node node, int32_t priority) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_set_node_priority(VEDAC_GRAPH_H(g), node, priority);
}

VEDA_API veda_status veda_graph_validate(veda_graph *g) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_validate(VEDAC_GRAPH_H(g));
}

VEDA_API veda_status veda_graph_run(veda_graph *g, veda_source_fn source, void *source_ctx) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_run(VEDAC_GRAPH_H(g), source, VEDAC_GRAPH_H(source_ctx));
}

VEDA_API veda_status veda_graph_cancel(veda_graph *g) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_cancel(VEDAC_GRAPH_H(g));
}

VEDA_API veda_status veda_graph_destroy(veda_graph *g) {
    VEDAC_GRAPH_FORK_GUARD();
    return vedago_graph_destroy(VEDAC_GRAPH_H(g));
}
