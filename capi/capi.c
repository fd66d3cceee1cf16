// capi.c: the C half of the C ABI. It owns everything that must not (or need not) enter the Go
// runtime: the public veda_* entry points (which check for fork() before touching Go), the
// thread-local last error, the status strings, the *_init functions and the trampolines through
// which Go calls user callbacks.
//
// Every public veda_* function is defined here with VEDA_API (default visibility). It calls the
// Go export vedago_<name> (kept local by the linker script libveda_exports.so), with handles
// passed as uintptr_t tokens.
// Compiled with -fvisibility=hidden: nothing else here is exported.

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veda.h"
#include "capi.h"
#include "_cgo_export.h"

// ---- fork detection --------------------------------------------------------------------------

// vedac_forked is 1 in a child created by fork() after this library was loaded. Written once by
// the atfork child handler (single-threaded at that point), read by every entry point.
static volatile int vedac_forked;

static void vedac_atfork_child(void) { vedac_forked = 1; }

// vedac_atexit writes the VEDA_TRACE traces of runtimes the program never destroyed (see
// goveda.FlushTracesAtExit). Not in a forked child: its Go runtime has no threads.
static void vedac_atexit(void) {
    if (!vedac_forked) vedago_flush_traces_at_exit();
}

__attribute__((constructor)) static void vedac_init(void) {
    pthread_atfork(NULL, NULL, vedac_atfork_child);
    atexit(vedac_atexit);
}

static const char vedac_fork_msg[] =
    "veda: called in a child process created by fork(); the runtime's threads do not survive "
    "fork(), so VEDA refuses to run here. Start child processes with posix_spawn/exec, or in "
    "Python use multiprocessing.set_start_method(\"spawn\") (or \"forkserver\")";

// ---- last error (thread-local) ----------------------------------------------------------------

// Thread-locals use the initial-exec TLS model: a plain %fs-relative access instead of a
// __tls_get_addr call per access in a dlopen'ed library (two of them on the one-chunk fast
// path, about 1-2 us from Python once caches went cold). The Go runtime of a c-shared library
// already takes its own thread-local the same way, from the static TLS surplus glibc reserves
// for dlopen'ed libraries; these add under 100 bytes.
static __thread __attribute__((tls_model("initial-exec"))) char *vedac_err_buf;  // heap buffer owned by this thread, freed at thread exit
static __thread __attribute__((tls_model("initial-exec"))) size_t vedac_err_cap;
static pthread_key_t vedac_err_key;   // its destructor frees vedac_err_buf of exiting threads
static pthread_once_t vedac_err_once = PTHREAD_ONCE_INIT;

static void vedac_err_free(void *p) { free(p); }
static void vedac_err_key_init(void) { pthread_key_create(&vedac_err_key, vedac_err_free); }

void vedac_set_error(const char *msg, size_t n) {
    if (n + 1 > vedac_err_cap) {
        size_t cap = n + 1 < 256 ? 256 : n + 1;
        char *p = (char *)realloc(vedac_err_buf, cap);
        if (p == NULL) {
            // Keep the old buffer; store what fits.
            if (vedac_err_cap == 0) return;
            n = vedac_err_cap - 1;
        } else {
            pthread_once(&vedac_err_once, vedac_err_key_init);
            vedac_err_buf = p;
            vedac_err_cap = cap;
            pthread_setspecific(vedac_err_key, p);
        }
    }
    memcpy(vedac_err_buf, msg, n);
    vedac_err_buf[n] = '\0';
}

static veda_status vedac_fail(veda_status st, const char *msg) {
    vedac_set_error(msg, strlen(msg));
    return st;
}

#define VEDAC_FORK_GUARD(ret)                                           \
    do {                                                                \
        if (__builtin_expect(vedac_forked, 0)) {                        \
            vedac_fail(VEDA_ERR_UNSUPPORTED, vedac_fork_msg);           \
            return ret;                                                 \
        }                                                               \
    } while (0)

VEDA_API const char *veda_last_error(void) { return vedac_err_buf ? vedac_err_buf : ""; }

veda_status vedac_fork_refused(void) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return VEDA_OK;
}

// ---- callback trampolines (called from Go) -----------------------------------------------------

// Each calls the user's function once; Go calls them for every chunk, task and callback.

// The join deque of the worker whose call into C is running on this thread (the join fast path
// below), or NULL: installed by vedac_call_range, vedac_call_fold, vedac_call_task,
// vedac_call_stage and vedac_xrec_run for the duration of the user's function and restored after
// it, so it is never stale. Owner: this thread.
typedef struct vedac_xdq vedac_xdq;
static __thread __attribute__((tls_model("initial-exec"))) vedac_xdq *vedac_cur_xdq;

int32_t vedac_call_range(veda_range_fn fn, uintptr_t ctx, int64_t begin, int64_t end, uintptr_t xdq) {
    vedac_xdq *saved = vedac_cur_xdq;
    vedac_cur_xdq = (vedac_xdq *)xdq;
    int32_t r = fn((void *)ctx, begin, end);
    vedac_cur_xdq = saved;
    return r;
}

int32_t vedac_call_fold(veda_fold_fn fn, uintptr_t ctx, int64_t begin, int64_t end, void *acc,
                        uintptr_t xdq) {
    vedac_xdq *saved = vedac_cur_xdq;
    vedac_cur_xdq = (vedac_xdq *)xdq;
    int32_t r = fn((void *)ctx, begin, end, acc);
    vedac_cur_xdq = saved;
    return r;
}

void vedac_call_combine(veda_combine_fn fn, uintptr_t ctx, void *acc, const void *other) {
    fn((void *)ctx, acc, other);
}

int32_t vedac_call_task(veda_task_fn fn, uintptr_t ctx, uintptr_t xdq) {
    vedac_xdq *saved = vedac_cur_xdq;
    vedac_cur_xdq = (vedac_xdq *)xdq;
    int32_t r = fn((void *)ctx);
    vedac_cur_xdq = saved;
    return r;
}

void vedac_call_callback(veda_callback_fn fn, uintptr_t user, veda_status st) {
    fn((void *)user, st);
}

// ---- pure C functions ------------------------------------------------------------------------

VEDA_API const char *veda_version(void) { return VEDA_VERSION_STRING; }

VEDA_API const char *veda_status_string(veda_status status) {
    switch (status) {
#define VEDAC_STATUS_CASE_(name, value, text) \
    case value:                               \
        return text;
        VEDA_STATUS_MAP(VEDAC_STATUS_CASE_)
#undef VEDAC_STATUS_CASE_
    }
    return "unknown status";
}

VEDA_API void veda_config_init(veda_config *cfg) {
    if (cfg == NULL) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = (uint32_t)sizeof *cfg;
    cfg->policy = VEDA_POLICY_ADAPTIVE;
}

VEDA_API void veda_device_info_init(veda_device_info *info) {
    if (info == NULL) return;
    memset(info, 0, sizeof *info);
    info->struct_size = (uint32_t)sizeof *info;
}

VEDA_API void veda_task_options_init(veda_task_options *opts) {
    if (opts == NULL) return;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = (uint32_t)sizeof *opts;
    opts->priority = VEDA_PRIORITY_NORMAL;
}

// ---- entry points into Go ----------------------------------------------------------------------

#define H(p) ((uintptr_t)(p))

VEDA_API veda_status veda_runtime_create(const veda_config *cfg, veda_runtime **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_runtime_create: out is NULL");
    *out = NULL;
    veda_config c;
    veda_config_init(&c);
    if (cfg != NULL) {
        if (cfg->struct_size < offsetof(veda_config, seed) + sizeof cfg->seed) {
            return vedac_fail(VEDA_ERR_INVALID_ARGUMENT,
                              "veda_runtime_create: cfg->struct_size is too small (call "
                              "veda_config_init first)");
        }
        size_t n = cfg->struct_size < sizeof c ? cfg->struct_size : sizeof c;
        memcpy(&c, cfg, n);
        // A field only partly inside struct_size (a struct_size that is no real size of the
        // struct) keeps its default: never use half a pointer.
#define VEDAC_CFG_DEFAULT_UNLESS_COVERED(field, dflt) \
        if (n < offsetof(veda_config, field) + sizeof c.field) c.field = (dflt)
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(strategy, NULL);
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(gpu_threshold, 0);
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(disable_gpu, 0);
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(record_decisions, 0);
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(max_power_watts, 0);
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(max_temp_celsius, 0);
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(energy_weight, 0);
        VEDAC_CFG_DEFAULT_UNLESS_COVERED(pin_workers, 0);
#undef VEDAC_CFG_DEFAULT_UNLESS_COVERED
    }
    uintptr_t h = 0;
    veda_status st = vedago_runtime_create(c.num_workers, c.policy, c.seed, (char *)c.strategy,
                                           c.gpu_threshold, c.disable_gpu, c.record_decisions,
                                           c.max_power_watts, c.max_temp_celsius, c.energy_weight,
                                           c.pin_workers, &h);
    if (st == VEDA_OK) *out = (veda_runtime *)h;
    return st;
}

VEDA_API veda_status veda_runtime_destroy(veda_runtime *rt) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_runtime_destroy(H(rt));
}

VEDA_API veda_status veda_runtime_shared(veda_runtime **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_runtime_shared: out is NULL");
    *out = NULL;
    uintptr_t h = 0;
    veda_status st = vedago_runtime_shared(&h);
    if (st == VEDA_OK) *out = (veda_runtime *)h;
    return st;
}

VEDA_API int32_t veda_runtime_num_workers(veda_runtime *rt) {
    VEDAC_FORK_GUARD(-1);
    return vedago_runtime_num_workers(H(rt));
}

// ---- which cancel tokens are triggered, as the fast path needs to know ------------------------
//
// The one-chunk fast path (below) runs with a cancel token bound to the thread (Python binds one
// to its main thread for Ctrl-C) as long as the token is not triggered. A direct-mapped table
// keeps a triggered flag per live token: set by veda_cancel_trigger before it enters Go, so a
// call that finds it clear started before the trigger. A token without an entry (a collision)
// and a triggered one take the ordinary path, which decides; a stale flag (an entry reused
// meanwhile) only sends calls down the ordinary path. C only: writers are the veda_cancel_*
// wrappers, readers the fast path, any thread.
#define VEDAC_CANCELS 256
typedef struct {
    _Atomic uintptr_t token; // 0 free, 1 being filled, else the token
    _Atomic int32_t triggered;
} vedac_cancel_entry;
static vedac_cancel_entry vedac_cancels[VEDAC_CANCELS];

static vedac_cancel_entry *vedac_cancel_slot(uintptr_t tok) { return &vedac_cancels[(tok >> 4) & (VEDAC_CANCELS - 1)]; }

static void vedac_cancel_note(uintptr_t tok) {
    vedac_cancel_entry *e = vedac_cancel_slot(tok);
    uintptr_t free_ = 0;
    if (!atomic_compare_exchange_strong(&e->token, &free_, (uintptr_t)1)) return; // CAS: claim
    atomic_store(&e->triggered, 0);
    atomic_store(&e->token, tok); // publishes the entry
}

static void vedac_cancel_forget(uintptr_t tok) {
    uintptr_t t = tok;
    atomic_compare_exchange_strong(&vedac_cancel_slot(tok)->token, &t, (uintptr_t)0);
}

static void vedac_cancel_mark(uintptr_t tok) {
    vedac_cancel_entry *e = vedac_cancel_slot(tok);
    if (atomic_load(&e->token) == tok) atomic_store(&e->triggered, 1);
}

// vedac_cancel_clear reports whether tok (0: none) is known here and not triggered.
static int vedac_cancel_clear(uintptr_t tok) {
    if (tok == 0) return 1;
    vedac_cancel_entry *e = vedac_cancel_slot(tok);
    if (atomic_load(&e->token) != tok) return 0;
    int32_t trig = atomic_load(&e->triggered);
    return atomic_load(&e->token) == tok && trig == 0;
}

// ---- the one-chunk fast path (goveda/foreign.go, goveda/internal/sched/inline.go) -------------
//
// A one-chunk veda_parallel_for runs fn on the caller's thread without entering Go when one of
// the runtime's execution slots is free: entering Go from a C thread costs about 2 us with warm
// caches and 9-15 us with cold ones (Python callers), a oneTBB one-chunk parallel_for 0.5 us.
// The slots are the scheduler's own semaphore (sched.Gate, pinned Go memory); this file follows
// its protocol and decides nothing else: anything it does not recognise (a closed runtime, a
// triggered or unknown cancel token bound to the thread, a handle without a table entry, more
// than one chunk, bad arguments, no free slot) takes the ordinary path through Go, which gives
// the same result and the same errors.

// vedac_gate mirrors sched.Gate word for word (capi's tests check the offsets).
typedef struct vedac_gate {
    _Atomic int32_t avail;    // free slots
    _Atomic int32_t waiters;  // goroutines blocked for a slot
    _Atomic int32_t closed;   // 1 once Close began
    _Atomic int32_t foreign;  // foreign inline runs in progress
    _Atomic uint64_t inlined; // foreign inline runs finished
    char pad_[40];            // sched.Gate's cache-line padding
    _Atomic int32_t idle;     // parked workers (the join fast path reads it after a push)
    _Atomic int32_t searching; // workers looking for work
} vedac_gate;

size_t vedac_gate_offset(int field) {
    switch (field) {
    case 0: return offsetof(vedac_gate, avail);
    case 1: return offsetof(vedac_gate, waiters);
    case 2: return offsetof(vedac_gate, closed);
    case 3: return offsetof(vedac_gate, foreign);
    case 4: return offsetof(vedac_gate, inlined);
    case 5: return offsetof(vedac_gate, idle);
    case 6: return offsetof(vedac_gate, searching);
    default: return sizeof(vedac_gate);
    }
}

// The runtime tokens that have a gate: a direct-mapped table indexed by the token's slot bits.
// A token whose entry is taken by another live token has no entry (its calls take the ordinary
// path). Entries: token 0 = free, 1 = being filled. Writers: Go (register at handle creation,
// unregister at destroy); readers: any thread. A token value is handed out once per process, so
// a reader that sees the same token before and after loading gate has that token's gate.
#define VEDAC_GATES 256
typedef struct {
    _Atomic uintptr_t token;
    _Atomic(vedac_gate *) gate;
} vedac_gate_entry;
static vedac_gate_entry vedac_gates[VEDAC_GATES];

static size_t vedac_gate_index(uintptr_t token) { return (size_t)(token >> 4) & (VEDAC_GATES - 1); }

void vedac_gate_register(uintptr_t token, void *gate) {
    vedac_gate_entry *e = &vedac_gates[vedac_gate_index(token)];
    uintptr_t free_ = 0;
    // CAS (seq-cst) 0 -> 1 claims a free entry; the gate is stored before the token publishes it.
    if (!atomic_compare_exchange_strong(&e->token, &free_, (uintptr_t)1)) return;
    atomic_store(&e->gate, (vedac_gate *)gate);
    atomic_store(&e->token, token);
}

void vedac_gate_unregister(uintptr_t token) {
    vedac_gate_entry *e = &vedac_gates[vedac_gate_index(token)];
    uintptr_t t = token;
    atomic_compare_exchange_strong(&e->token, &t, (uintptr_t)0); // only our own entry
}

// A runtime handle's tag (goveda/handle: kind 1 = kindRuntime in capi/handles.go, | tokenMark
// 0x8); capi's tests check it against a real token.
#define VEDAC_RUNTIME_TAG 0x9u
uintptr_t vedac_runtime_tag(void) { return VEDAC_RUNTIME_TAG; }

static vedac_gate *vedac_gate_lookup(uintptr_t token) {
    // Only runtime tokens: NULL (0) and the "being filled" marker (1) would otherwise match a
    // freed entry (found by review: veda_join(NULL, ...) inside a task, and a one-chunk
    // veda_parallel_for(NULL, ...), ran and returned VEDA_OK once entry 0 had been freed).
    if ((token & 0xF) != VEDAC_RUNTIME_TAG) return NULL;
    vedac_gate_entry *e = &vedac_gates[vedac_gate_index(token)];
    if (atomic_load(&e->token) != token) return NULL;
    vedac_gate *g = atomic_load(&e->gate);
    if (atomic_load(&e->token) != token) return NULL; // unregistered meanwhile
    return g;
}

// The gates whose slots this thread holds (innermost last), for vedac_thread_holds.
#define VEDAC_HELD_MAX 8
static __thread __attribute__((tls_model("initial-exec"))) vedac_gate *vedac_held[VEDAC_HELD_MAX];
static __thread __attribute__((tls_model("initial-exec"))) int vedac_nheld;

int32_t vedac_thread_holds(void *gate) {
    for (int i = 0; i < vedac_nheld; i++)
        if (vedac_held[i] == gate) return 1;
    return 0;
}

// vedac_gate_take: sched's RunInline rule. Foreign++ then Closed (Dekker pair with Close), then
// a slot only while free slots outnumber the waiters.
static int vedac_gate_take(vedac_gate *g) {
    atomic_fetch_add(&g->foreign, 1);
    if (atomic_load(&g->closed) == 0) {
        int32_t a = atomic_load(&g->avail);
        while (a > 0 && a > atomic_load(&g->waiters)) {
            if (atomic_compare_exchange_weak(&g->avail, &a, a - 1)) return 1;
        }
    }
    atomic_fetch_sub(&g->foreign, 1);
    return 0;
}

static void vedac_gate_give(vedac_gate *g) {
    atomic_fetch_add(&g->avail, 1);
    if (atomic_load(&g->waiters) > 0) vedago_gate_wake(g); // rare: a worker waits for a slot
    atomic_fetch_add(&g->inlined, 1);
    atomic_fetch_sub(&g->foreign, 1); // last: Close may return once every run got here
}

VEDA_API veda_status veda_parallel_for(veda_runtime *rt, int64_t begin, int64_t end, int64_t grain,
                                       veda_range_fn fn, void *ctx) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    // One chunk as goveda counts it: one index, or fewer than two grains (n < 2*grain, written
    // without overflow).
    uint64_t n = (uint64_t)end - (uint64_t)begin, g0 = (uint64_t)grain; // exact when end > begin
    if (fn != NULL && end > begin && grain >= 0 && (n == 1 || n < g0 || n - g0 < g0) &&
        vedac_nheld < VEDAC_HELD_MAX && vedac_cancel_clear(vedac_thread_cancel())) {
        vedac_gate *g = vedac_gate_lookup(H(rt));
        if (g != NULL && vedac_gate_take(g)) {
            vedac_held[vedac_nheld++] = g;
            int32_t r = fn(ctx, begin, end);
            vedac_nheld--;
            vedac_gate_give(g);
            return r == 0 ? VEDA_OK : vedago_parallel_for_failed(begin, end, r);
        }
    }
    return vedago_parallel_for(H(rt), begin, end, grain, fn, H(ctx));
}

VEDA_API veda_status veda_parallel_reduce(veda_runtime *rt, int64_t begin, int64_t end,
                                          int64_t grain, size_t acc_size, const void *identity,
                                          veda_fold_fn fold, veda_combine_fn combine, void *ctx,
                                          void *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_parallel_reduce(H(rt), begin, end, grain, acc_size, (void *)identity, fold,
                                  combine, H(ctx), out);
}

// ---- the join fast path (goveda/internal/sched/ext.go) -----------------------------------------
//
// A veda_join made by a C task that a worker runs (vedac_cur_xdq set) pushes its second half on
// that worker's join deque, runs the first half, pops the second back and runs it: no crossing
// into Go, where the Go path costs three (about 0.7 us per join). Workers that look for work
// steal records from these deques; a join whose record was stolen waits in Go, helping
// (vedago_xjoin_wait). The deque and the protocol are the scheduler's (sched.ExtDeque); this file
// follows them. Anything else (a foreign thread, another runtime's handle or a destroyed one, a
// full deque) takes the Go path, which gives the same results and errors.

// vedac_xrec mirrors sched.ExtRecord; it lives in the joining frame until its state is done.
typedef struct vedac_xrec {
    veda_task_fn fn;
    void *ctx;
    int32_t status;         // fn's result, written by whoever ran it before state becomes -1
    _Atomic int32_t state;  // 0 pending, w+1 worker w waits, -1 done (sched/ext.go)
} vedac_xrec;

#define VEDAC_XCAP 256 // sched.ExtCap
// vedac_xdq mirrors sched.ExtDeque word for word (capi's tests check the offsets).
struct vedac_xdq {
    _Atomic int64_t top;     // next index to steal; CAS by thieves and by the last-record pop
    char pad0_[56];
    _Atomic int64_t bottom;  // next index to push; stored by the owner (this thread) only
    _Atomic uint64_t executed; // records the owner popped and ran (stats)
    uintptr_t gate;          // the pool's vedac_gate
    char pad1_[40];
    _Atomic(vedac_xrec *) slots[VEDAC_XCAP];
};

size_t vedac_xdq_offset(int field) {
    switch (field) {
    case 0: return offsetof(struct vedac_xdq, top);
    case 1: return offsetof(struct vedac_xdq, bottom);
    case 2: return offsetof(struct vedac_xdq, executed);
    case 3: return offsetof(struct vedac_xdq, gate);
    case 4: return offsetof(struct vedac_xdq, slots);
    case 5: return sizeof(struct vedac_xdq);
    case 6: return offsetof(vedac_xrec, fn);
    case 7: return offsetof(vedac_xrec, ctx);
    case 8: return offsetof(vedac_xrec, status);
    case 9: return offsetof(vedac_xrec, state);
    case 10: return sizeof(vedac_xrec);
    default: return VEDAC_XCAP;
    }
}

#define VEDAC_GREC_STATE (-2)                   // sched.extGroupRec: a group record's state
typedef struct vedac_grec vedac_grec;
static void vedac_grec_run(vedac_grec *r); // the group fast path, below

// vedac_xrec_run runs a stolen record on the thief's thread, with the thief's deque installed
// for nested joins. Called from Go (the runner installed by capi); Go marks a join record done,
// and a group record is finished here (vedac_grec_run), after which Go no longer touches it.
void vedac_xrec_run(uintptr_t rec, uintptr_t xdq) {
    vedac_xrec *r = (vedac_xrec *)rec;
    vedac_xdq *saved = vedac_cur_xdq;
    vedac_cur_xdq = (vedac_xdq *)xdq;
    if (atomic_load_explicit(&r->state, memory_order_relaxed) == VEDAC_GREC_STATE)
        vedac_grec_run((vedac_grec *)r);
    else
        r->status = r->fn(r->ctx);
    vedac_cur_xdq = saved;
}

VEDA_API veda_status veda_join(veda_runtime *rt, veda_task_fn fa, void *ca, veda_task_fn fb,
                               void *cb) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (fa == NULL || fb == NULL) {
        return vedac_fail(VEDA_ERR_INVALID_ARGUMENT,
                          fa == NULL ? "veda_join: veda: invalid argument: fa is NULL"
                                     : "veda_join: veda: invalid argument: fb is NULL");
    }
    vedac_xdq *d = vedac_cur_xdq;
    if (d != NULL) {
        // The handle must be live (registered) and name this deque's runtime.
        vedac_gate *g = vedac_gate_lookup(H(rt));
        int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed); // our own last store
        int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);    // stale = smaller: safe
        if (g != NULL && (uintptr_t)g == d->gate && b - t < VEDAC_XCAP) {
            vedac_xrec r = {fb, cb, 0, 0};
            atomic_store_explicit(&d->slots[b & (VEDAC_XCAP - 1)], &r, memory_order_relaxed);
            // store (seq-cst): publishes the slot to thieves (release; they load bottom, then
            // the slot) and precedes the idle load below (the push half of the parking
            // protocol, PARKING.md case A: a sleeper registers, then rechecks the deques).
            atomic_store(&d->bottom, b + 1);
            if (atomic_load(&g->idle) > 0 && atomic_load(&g->searching) == 0) vedago_xjoin_notify(d);
            int32_t ra = fa(ca);
            // Pop (Chase-Lev) the record at index b: ours unless a thief took it. Thieves take
            // the oldest first, so every record the joins nested in fa pushed is gone, and if
            // one of those was stolen, ours (older) was stolen before it: that join then left
            // bottom at top, above b + 1. (Popping at b from there moved bottom below top, and
            // the next push was then lost: a hang in the first trial.)
            int mine = 0;
            if (atomic_load_explicit(&d->bottom, memory_order_relaxed) == b + 1) { // own store
                atomic_store(&d->bottom, b); // seq-cst: ordered before the load of top
                t = atomic_load(&d->top);
                if (t < b) {
                    mine = 1; // others remain below ours
                } else {
                    // t == b: the last record, race the thieves for it; t == b + 1: stolen.
                    if (t == b) mine = atomic_compare_exchange_strong(&d->top, &t, b + 1);
                    atomic_store(&d->bottom, b + 1); // empty either way: top is b + 1 now
                }
            }
            int32_t rb;
            if (mine) {
                rb = fb(cb);
                // relaxed read-modify-write of the owner's own counter; Stats loads a snapshot
                atomic_store_explicit(&d->executed,
                                      atomic_load_explicit(&d->executed, memory_order_relaxed) + 1,
                                      memory_order_relaxed);
            } else {
                // load (seq-cst): pairs with the thief's swap to -1, which publishes status. The
                // loop: the record is in this frame, so nothing may return before the thief is
                // done with it, even if the wait in Go failed.
                while (atomic_load(&r.state) != -1) vedago_xjoin_wait(d, &r);
                rb = r.status;
            }
            if (ra == 0 && rb == 0) return VEDA_OK;
            return vedago_task_failed(0, ra != 0 ? ra : rb);
        }
    }
    return vedago_join(H(rt), fa, H(ca), fb, H(cb));
}

// ---- the group fast path (goveda/internal/sched/ext.go, "Group records" and "Group words") ----
//
// A veda_group created inside a C task that a worker runs (vedac_cur_xdq set, for the same
// runtime) lives here, in C: its token is of this file's table, and spawn, wait and destroy do
// not enter Go. Through Go a group per call costs five crossings (create, two spawns, wait,
// destroy): about 3.5 us per task on the fib benchmark. A spawn pushes a group record on the
// worker's join deque, as veda_join pushes its second half; thieves steal group records as they
// steal join records, and the runner (vedac_xrec_run) finishes them here. A wait pops the
// group's own records back and runs them; once none is left on its deque (stolen, or spawned
// elsewhere) it waits in Go, helping (vedago_xgroup_wait). Anything else takes the Go path: a
// group created on any other thread is a Go group as before, and a spawn into a C-side group
// from a thread with no deque of its pool (or a full deque) hands its record to Go
// (vedago_xgroup_spawn), which runs it as a task.
//
// The handle rules are the Go table's (goveda/handle): a token is
//   salt<<48 | gen<<26 | slot<<4 | kindGroup(2) | mark(8)
// with this table's own salt (the Go salt with bit 15 flipped, so neither table ever accepts
// the other's tokens and Go reports a C-side token, like any forged one, as "not a group
// handle"). A slot's generation grows at every destroy, so a destroyed token stays stale
// forever (retired when its generation is spent); the objects are never freed, so even a stale
// or racing lookup reads valid memory. Who may call: any thread, as veda.h says.

#define VEDAC_XG_TAG 0xAu            // kindGroup 2 | tokenMark 8 (capi/handles.go; tested)
#define VEDAC_XG_SLOT_BITS 22
#define VEDAC_XG_GEN_SHIFT 26
#define VEDAC_XG_GEN_MAX ((1ull << 22) - 1)
#define VEDAC_XG_CHUNK_BITS 8        // groups are allocated 256 at a time
#define VEDAC_XG_CHUNKS (1u << (VEDAC_XG_SLOT_BITS - VEDAC_XG_CHUNK_BITS))
#define VEDAC_XG_CACHE 32            // free groups a thread keeps for itself
#define VEDAC_GREC_SLAB 64           // records are allocated 64 at a time
#define VEDAC_GREC_CACHE 256         // free records a thread keeps for itself
#define VEDAC_XG_SHIFT 16            // sched.ExtGroupShift
#define VEDAC_XG_ONE (1ull << VEDAC_XG_SHIFT)
#define VEDAC_XG_TAG_SHIFT 42        // the word's top 22 bits: the generation it counts for
#define VEDAC_XG_PENDING_MAX ((1ull << (VEDAC_XG_TAG_SHIFT - VEDAC_XG_SHIFT)) - 1) // 26 bits: sched.ExtGroupPendingBits
#define VEDAC_XG_PENDING(w) (((w) >> VEDAC_XG_SHIFT) & VEDAC_XG_PENDING_MAX)
// The whole generation (found by the third review: with its low 16 bits only, a stale spawn
// stalled for 65536 create/destroy cycles of its slot, about 4 ms here, got into a new group).
#define VEDAC_XG_WTAG(gen) ((uint64_t)((gen) & VEDAC_XG_GEN_MAX) << VEDAC_XG_TAG_SHIFT)
#define VEDAC_XG_DEAD (1 << 30)      // in users: destroyed; the last user out frees the slot
#define VEDAC_XG_OUTSIDE 0xFFFFu     // sched.ExtGroupOutside

typedef struct vedac_xgroup vedac_xgroup;

// vedac_grec is a group record: a vedac_xrec prefix (what Go reads: fn, ctx, status, state)
// plus its group. state is VEDAC_GREC_STATE for its whole life. Records come from slabs that
// are never freed (a waiter peeks at records that may have been stolen and reused meanwhile),
// through per-thread caches: a spawn takes one from its thread's cache and whoever finishes it
// puts it in its own, so neither step needs an atomic.
struct vedac_grec {
    veda_task_fn fn;
    void *ctx;
    int32_t status;        // unused: the group keeps its first failure
    _Atomic int32_t state; // VEDAC_GREC_STATE
    // grp: set (relaxed) by the spawner before the push that publishes the record; loaded
    // relaxed by a waiter's peek (vedac_xdq_pop_group), which may race a reuse of a record
    // stolen meanwhile and only uses it as a hint.
    _Atomic(vedac_xgroup *) grp;
    struct vedac_grec *next; // free-list link while the record is free
} __attribute__((aligned(64))); // a line each: records move between threads
_Static_assert(sizeof(vedac_grec) == 64, "one line per record");
_Static_assert(offsetof(vedac_grec, fn) == offsetof(vedac_xrec, fn) &&
                   offsetof(vedac_grec, ctx) == offsetof(vedac_xrec, ctx) &&
                   offsetof(vedac_grec, status) == offsetof(vedac_xrec, status) &&
                   offsetof(vedac_grec, state) == offsetof(vedac_xrec, state),
               "vedac_grec must start with a vedac_xrec");

struct vedac_xgroup {
    // word: tag<<42 | pending<<16 | waiter (sched/ext.go "Group words"; tag: the generation
    // whose spawns it counts). A spawn adds with a CAS that checks the tag, so a
    // spawn with a stale token never touches it (found by review: a stale spawn that backed off
    // could give its unit back to the next group in the slot, perhaps another runtime's, and
    // wake the wrong worker); a destroy changes the tag once the group is drained. Fetch-sub
    // (seq-cst) per finished record; the waiter's arm and disarm are CASes in Go.
    _Atomic uint64_t word;
    // hstate: gen<<1 | live, as goveda/handle's slot state. Release store at create (after the
    // fields below, which it publishes) and CAS (seq-cst) at destroy; seq-cst loads in lookups
    // and in a wait's recheck (see users). Spawns are ordered against destroy by the word's tag.
    _Atomic uint64_t hstate;
    _Atomic int32_t failed;     // first non-zero task result since the last wait; CAS 0 -> code
    // waiting: 1 while a wait (or destroy) waits in Go, where it arms the word's waiter field:
    // CAS 0 -> 1 before, store (release) 0 after; a second one at the same time polls instead.
    _Atomic int32_t waiting;
    // users: waits in progress (fetch-add before their recheck of hstate, fetch-sub after their
    // last access), plus VEDAC_XG_DEAD once a destroy drained the group. The slot is reused only
    // when both are over: whoever leaves users at exactly DEAD (the destroy, or the last wait
    // after it) CASes it to 0 and frees the slot, so a wait that raced the destroy never touches
    // the next group in it (found by review: its disarm, claim release or failure read could hit
    // another group), and a destroy never waits for a wait (found by the second review: a wait
    // helping further down the destroyer's own stack hung it). The Dekker pair with destroy:
    // users++ then load hstate here, CAS hstate then fetch-add DEAD there.
    _Atomic int32_t users;
    uint32_t slot;              // this group's slot in the table (set once)
    // Set at create, while the group is not live (published by the hstate store), with relaxed
    // atomics: a stale spawn or wait racing a reuse of the slot may still read them (it then
    // only backs off or wakes a waiter spuriously). Read through XG_RT, XG_GATE, XG_HOME.
    _Atomic uintptr_t rt;         // the runtime token it was created with
    _Atomic(vedac_gate *) gate;   // that runtime's gate
    _Atomic(vedac_xdq *) home;    // the creating worker's deque: names the pool to Go
    vedac_xgroup *next;         // free-list link while the group is free
} __attribute__((aligned(64))); // a line each: groups of different workers share none

#define XG_RT(g) atomic_load_explicit(&(g)->rt, memory_order_relaxed)
#define XG_GATE(g) atomic_load_explicit(&(g)->gate, memory_order_relaxed)
#define XG_HOME(g) atomic_load_explicit(&(g)->home, memory_order_relaxed)

static vedac_xgroup *_Atomic vedac_xg_chunks[VEDAC_XG_CHUNKS]; // published once each (CAS)
static _Atomic uint32_t vedac_xg_nslots;   // slots ever reserved (fetch-add)
static _Atomic uint64_t vedac_xg_salt;     // salt<<48; 0 until the first C-side group
static pthread_mutex_t vedac_xg_mu = PTHREAD_MUTEX_INITIALIZER;
static vedac_xgroup *vedac_xg_free;        // free groups of exited threads and overflow, under mu
static __thread __attribute__((tls_model("initial-exec"))) vedac_xgroup *vedac_xg_cache;
static __thread __attribute__((tls_model("initial-exec"))) int vedac_xg_ncache;
static pthread_key_t vedac_xg_key;         // its destructor hands an exiting thread's cache back
static pthread_once_t vedac_xg_once = PTHREAD_ONCE_INIT;

int64_t vedac_xgroup_const(int which) {
    switch (which) {
    case 0: return VEDAC_GREC_STATE;
    case 1: return VEDAC_XG_SHIFT;
    case 2: return VEDAC_XG_OUTSIDE;
    case 3: return VEDAC_XG_TAG;
    default: return VEDAC_XG_TAG_SHIFT - VEDAC_XG_SHIFT; // the width of the pending count
    }
}

static void vedac_xg_give_all(vedac_xgroup *head) {
    if (head == NULL) return;
    vedac_xgroup *tail = head;
    while (tail->next != NULL) tail = tail->next;
    pthread_mutex_lock(&vedac_xg_mu);
    tail->next = vedac_xg_free;
    vedac_xg_free = head;
    pthread_mutex_unlock(&vedac_xg_mu);
}

// Records: slabs (linked from vedac_grec_slabs, so that they stay reachable), the shared free
// list (records of exited threads and overflow, under vedac_xg_mu) and this thread's cache.
typedef struct vedac_grec_slab {
    struct vedac_grec_slab *next;
    vedac_grec recs[VEDAC_GREC_SLAB];
} vedac_grec_slab;
static vedac_grec_slab *vedac_grec_slabs;  // under mu
static vedac_grec *vedac_grec_free;        // under mu
static __thread __attribute__((tls_model("initial-exec"))) vedac_grec *vedac_grec_cache;
static __thread __attribute__((tls_model("initial-exec"))) int vedac_grec_ncache;

static void vedac_grec_give_all(vedac_grec *head) {
    if (head == NULL) return;
    vedac_grec *tail = head;
    while (tail->next != NULL) tail = tail->next;
    pthread_mutex_lock(&vedac_xg_mu);
    tail->next = vedac_grec_free;
    vedac_grec_free = head;
    pthread_mutex_unlock(&vedac_xg_mu);
}

static void vedac_xg_thread_exit(void *unused) {
    (void)unused;
    vedac_xg_give_all(vedac_xg_cache);
    vedac_xg_cache = NULL;
    vedac_xg_ncache = 0;
    vedac_grec_give_all(vedac_grec_cache);
    vedac_grec_cache = NULL;
    vedac_grec_ncache = 0;
}

static void vedac_xg_key_init(void) { pthread_key_create(&vedac_xg_key, vedac_xg_thread_exit); }

// vedac_xg_thread_note arranges for this thread's caches to be handed back when it exits.
static void vedac_xg_thread_note(void) {
    pthread_once(&vedac_xg_once, vedac_xg_key_init);
    pthread_setspecific(vedac_xg_key, (void *)1); // non-NULL: the destructor runs
}

// vedac_xg_get returns a free group (not live), or NULL when the table is full. This thread's
// cache first, then the shared list, then a new slot.
static vedac_xgroup *vedac_xg_get(void) {
    vedac_xgroup *g = vedac_xg_cache;
    if (g != NULL) {
        vedac_xg_cache = g->next;
        vedac_xg_ncache--;
        return g;
    }
    pthread_mutex_lock(&vedac_xg_mu);
    g = vedac_xg_free;
    if (g != NULL) vedac_xg_free = g->next;
    pthread_mutex_unlock(&vedac_xg_mu);
    if (g != NULL) return g;
    // 4 Mi C-side groups: the Go path takes over. The load first keeps the counter from growing
    // (and one day wrapping) once the table is full (found by review).
    if (atomic_load_explicit(&vedac_xg_nslots, memory_order_relaxed) >= (1u << VEDAC_XG_SLOT_BITS)) return NULL;
    uint32_t i = atomic_fetch_add(&vedac_xg_nslots, 1); // each index goes to one caller
    if (i >= (1u << VEDAC_XG_SLOT_BITS)) return NULL;
    vedac_xgroup *_Atomic *cp = &vedac_xg_chunks[i >> VEDAC_XG_CHUNK_BITS];
    vedac_xgroup *c = atomic_load(cp);
    if (c == NULL) {
        size_t bytes = ((size_t)1 << VEDAC_XG_CHUNK_BITS) * sizeof(vedac_xgroup);
        vedac_xgroup *mine = (vedac_xgroup *)aligned_alloc(64, bytes);
        if (mine == NULL) return NULL; // the slot is lost; the Go path takes this group
        memset(mine, 0, bytes);
        // CAS (seq-cst): one chunk wins, a loser frees its own. Lookups see a slot only through
        // a token made after this.
        if (atomic_compare_exchange_strong(cp, &c, mine)) c = mine;
        else free(mine);
    }
    g = &c[i & ((1u << VEDAC_XG_CHUNK_BITS) - 1)];
    g->slot = i;
    return g;
}

// vedac_xg_put gives a destroyed group back (to this thread's cache while it has room).
static void vedac_xg_put(vedac_xgroup *g) {
    if (vedac_xg_ncache < VEDAC_XG_CACHE) {
        if (vedac_xg_ncache == 0) vedac_xg_thread_note();
        g->next = vedac_xg_cache;
        vedac_xg_cache = g;
        vedac_xg_ncache++;
        return;
    }
    g->next = NULL;
    vedac_xg_give_all(g);
}

// vedac_xg_create makes a C-side group of runtime token rt (gate, d: its gate and the calling
// worker's deque) and returns its token, or 0 (the Go path makes the group instead).
static uintptr_t vedac_xg_create(uintptr_t rt, vedac_gate *gate, vedac_xdq *d) {
    uint64_t salt = atomic_load_explicit(&vedac_xg_salt, memory_order_relaxed);
    if (salt == 0) {
        // The Go salt is the top 16 bits of every Go token (odd: goveda/handle), so flipping
        // bit 15 keeps it non-zero and different. Every thread computes the same value.
        salt = ((uint64_t)(rt >> 48) ^ 0x8000u) << 48;
        atomic_store_explicit(&vedac_xg_salt, salt, memory_order_relaxed);
    }
    vedac_xgroup *g = vedac_xg_get();
    if (g == NULL) return 0;
    uint64_t gen = atomic_load_explicit(&g->hstate, memory_order_relaxed) >> 1; // not live: ours
    if (gen == 0) { // a new slot: nobody else can know it yet
        gen = 1;
        atomic_store_explicit(&g->word, VEDAC_XG_WTAG(gen), memory_order_relaxed);
    }
    atomic_store_explicit(&g->rt, rt, memory_order_relaxed);
    atomic_store_explicit(&g->gate, gate, memory_order_relaxed);
    atomic_store_explicit(&g->home, d, memory_order_relaxed);
    // word is not reset: the destroy that freed the group drained it (0 pending, no waiter) and
    // set its tag to this generation (a reset here raced stale spawns, found by review).
    // waiting and users are 0 too.
    atomic_store_explicit(&g->failed, 0, memory_order_relaxed); // the destroyed group's is dropped
    // store (release): publishes the fields to lookups (acquire loads); live from here
    atomic_store_explicit(&g->hstate, gen << 1 | 1, memory_order_release);
    return (uintptr_t)salt | (uintptr_t)gen << VEDAC_XG_GEN_SHIFT | (uintptr_t)g->slot << 4 | VEDAC_XG_TAG;
}

enum { VEDAC_XG_NOT, VEDAC_XG_LIVE, VEDAC_XG_STALE };

// vedac_xg_find classifies tok: a live C-side group (*out, with its state in *hs), a destroyed
// one, or not of this table (NULL, forged, a Go group, another kind: the Go path decides).
static int vedac_xg_find(uintptr_t tok, vedac_xgroup **out, uint64_t *hs) {
    if ((tok & 0xF) != VEDAC_XG_TAG) return VEDAC_XG_NOT;
    uint64_t salt = atomic_load_explicit(&vedac_xg_salt, memory_order_relaxed);
    if (salt == 0 || ((uint64_t)tok & ~((1ull << 48) - 1)) != salt) return VEDAC_XG_NOT;
    uint32_t i = (uint32_t)(tok >> 4) & ((1u << VEDAC_XG_SLOT_BITS) - 1);
    uint64_t gen = ((uint64_t)tok >> VEDAC_XG_GEN_SHIFT) & VEDAC_XG_GEN_MAX;
    if (gen == 0 || i >= atomic_load(&vedac_xg_nslots)) return VEDAC_XG_NOT;
    vedac_xgroup *c = atomic_load(&vedac_xg_chunks[i >> VEDAC_XG_CHUNK_BITS]);
    if (c == NULL) return VEDAC_XG_NOT;
    vedac_xgroup *g = &c[i & ((1u << VEDAC_XG_CHUNK_BITS) - 1)];
    uint64_t s = atomic_load(&g->hstate); // seq-cst: pairs with create's store
    if (s >> 1 == gen && (s & 1)) {
        *out = g;
        *hs = s;
        return VEDAC_XG_LIVE;
    }
    return gen < s >> 1 ? VEDAC_XG_STALE : VEDAC_XG_NOT; // below the slot's generation: destroyed
}

static veda_status vedac_xg_fail(veda_status st, const char *fn, const char *msg) {
    char buf[160];
    snprintf(buf, sizeof buf, "%s: %s", fn, msg);
    return vedac_fail(st, buf);
}

// vedac_grec_take returns a free record: from this thread's cache, else a batch from the shared
// list, else a new slab; NULL when out of memory. This thread only.
static vedac_grec *vedac_grec_take(void) {
    vedac_grec *r = vedac_grec_cache;
    if (r == NULL) {
        int n = 0;
        pthread_mutex_lock(&vedac_xg_mu);
        for (; n < VEDAC_GREC_SLAB && vedac_grec_free != NULL; n++) {
            vedac_grec *f = vedac_grec_free;
            vedac_grec_free = f->next;
            f->next = r;
            r = f;
        }
        pthread_mutex_unlock(&vedac_xg_mu);
        if (r == NULL) {
            vedac_grec_slab *sl = (vedac_grec_slab *)aligned_alloc(64, sizeof(vedac_grec_slab));
            if (sl == NULL) return NULL;
            memset(sl, 0, sizeof *sl);
            for (; n < VEDAC_GREC_SLAB; n++) {
                atomic_init(&sl->recs[n].state, VEDAC_GREC_STATE);
                sl->recs[n].next = r;
                r = &sl->recs[n];
            }
            pthread_mutex_lock(&vedac_xg_mu);
            sl->next = vedac_grec_slabs;
            vedac_grec_slabs = sl;
            pthread_mutex_unlock(&vedac_xg_mu);
        }
        vedac_grec_ncache = n;
        vedac_xg_thread_note();
    }
    vedac_grec_cache = r->next;
    vedac_grec_ncache--;
    return r;
}

// vedac_grec_give puts a finished record in this thread's cache (half of a full cache goes to
// the shared list). Nobody else touches r afterwards. This thread only.
static void vedac_grec_give(vedac_grec *r) {
    if (vedac_grec_ncache == 0) vedac_xg_thread_note();
    r->next = vedac_grec_cache;
    vedac_grec_cache = r;
    if (++vedac_grec_ncache >= VEDAC_GREC_CACHE) {
        vedac_grec *half = vedac_grec_cache, *cut = half;
        for (int i = 1; i < VEDAC_GREC_CACHE / 2; i++) cut = cut->next;
        vedac_grec_cache = cut->next;
        cut->next = NULL;
        vedac_grec_ncache -= VEDAC_GREC_CACHE / 2;
        vedac_grec_give_all(half);
    }
}

// vedac_xg_uncount ends one counted unit of g (a finished record, or a spawn that backed off):
// the unit that leaves nothing pending wakes the waiter it read. g is not touched after the
// fetch-sub: its waiter may destroy and reuse it at once.
//
// A runtime destroy waits for the tasks of C-side groups without a count of its own: every
// record is on a deque of the pool, running on one of its workers, or a Go task (admitted
// work), and workers exit only once no deque has work (sched: idle), so the pool's shutdown
// runs them all before veda_runtime_destroy returns.
static void vedac_xg_uncount(vedac_xgroup *g) {
    vedac_xdq *home = XG_HOME(g);
    uint64_t old = atomic_fetch_sub(&g->word, VEDAC_XG_ONE); // seq-cst: see sched/ext.go
    uint32_t waiter = (uint32_t)(old & (VEDAC_XG_ONE - 1));
    if (VEDAC_XG_PENDING(old) == 1 && waiter != 0) vedago_xgroup_wake(home, waiter, &g->word); // the address is only a key
}

// vedac_grec_run runs a group record (unless a task of its group failed since the last wait:
// tasks not yet started may be skipped) and finishes it. On the thread's own deque's worker,
// with vedac_cur_xdq installed.
static void vedac_grec_run(vedac_grec *r) {
    vedac_xgroup *g = atomic_load_explicit(&r->grp, memory_order_relaxed); // ours: taken from a deque
    if (atomic_load_explicit(&g->failed, memory_order_relaxed) == 0) { // a hint: skipping is optional
        int32_t rc = r->fn(r->ctx);
        if (rc != 0) {
            int32_t zero = 0;
            atomic_compare_exchange_strong(&g->failed, &zero, rc); // CAS: the first failure wins
        }
    }
    vedac_grec_give(r);
    vedac_xg_uncount(g);
}

// vedac_xdq_pop_group pops the record at d's bottom if it is one of g's, else returns NULL.
// Owner (this thread) only. Records of other kinds stay: a join's record must stay at its
// index until its join pops it (the join checks that index), so only g's own are taken.
static vedac_grec *vedac_xdq_pop_group(vedac_xdq *d, vedac_xgroup *g) {
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed); // our own last store
    int64_t t = atomic_load(&d->top);
    if (b <= t) return NULL;
    // A peek before the pop: the slot at b - 1 is a join record of a live frame of this thread
    // or a group record (never freed), so reading it is safe; a record stolen meanwhile fails
    // the pop below, which decides. Join records never have VEDAC_GREC_STATE.
    vedac_grec *r = (vedac_grec *)atomic_load_explicit(&d->slots[(b - 1) & (VEDAC_XCAP - 1)],
                                                        memory_order_relaxed);
    if (atomic_load_explicit(&r->state, memory_order_relaxed) != VEDAC_GREC_STATE ||
        atomic_load_explicit(&r->grp, memory_order_relaxed) != g)
        return NULL;
    atomic_store(&d->bottom, b - 1); // seq-cst: ordered before the load of top (Chase-Lev pop)
    t = atomic_load(&d->top);
    if (t < b - 1) return r; // others remain below: ours
    int won = 0;
    if (t == b - 1) won = atomic_compare_exchange_strong(&d->top, &t, b); // the last: race thieves
    atomic_store(&d->bottom, b); // empty either way: top is b now
    return won ? r : NULL;
}

// vedac_xg_drain waits until nothing of g is pending: it pops and runs g's records from this
// thread's deque while it is a worker of g's pool, then waits in Go (helping on a worker).
static void vedac_xg_drain(vedac_xgroup *g) {
    vedac_xdq *d = vedac_cur_xdq;
    int own = d != NULL && d->gate == (uintptr_t)XG_GATE(g);
    while (VEDAC_XG_PENDING(atomic_load(&g->word)) != 0) {
        if (own) {
            vedac_grec *r = vedac_xdq_pop_group(d, g);
            if (r != NULL) {
                vedac_grec_run(r);
                // relaxed read-modify-write of the owner's own counter (as veda_join's)
                atomic_store_explicit(&d->executed, atomic_load_explicit(&d->executed, memory_order_relaxed) + 1,
                                      memory_order_relaxed);
                continue;
            }
        }
        int32_t zero = 0;
        int poll = !atomic_compare_exchange_strong(&g->waiting, &zero, 1); // CAS: one waiter arms
        vedago_xgroup_wait(own ? d : XG_HOME(g), &g->word, own, poll);
        if (!poll) atomic_store_explicit(&g->waiting, 0, memory_order_release); // after its disarm
    }
}

VEDA_API veda_status veda_group_create(veda_runtime *rt, veda_group **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_group_create: out is NULL");
    *out = NULL;
    vedac_xdq *d = vedac_cur_xdq;
    if (d != NULL) {
        vedac_gate *gate = vedac_gate_lookup(H(rt));
        if (gate != NULL && (uintptr_t)gate == d->gate) {
            uintptr_t tok = vedac_xg_create(H(rt), gate, d);
            if (tok != 0) {
                *out = (veda_group *)tok;
                return VEDA_OK;
            }
        }
    }
    uintptr_t h = 0;
    veda_status st = vedago_group_create(H(rt), &h);
    if (st == VEDA_OK) *out = (veda_group *)h;
    return st;
}

// vedac_xg_release frees g's slot for reuse (this thread's cache), unless its generation is
// spent (the slot is then retired). Once, by whoever took users from DEAD to 0.
static void vedac_xg_release(vedac_xgroup *g) {
    int32_t dead = VEDAC_XG_DEAD;
    // CAS (seq-cst): exactly one of the destroy and the last wait after it wins
    if (!atomic_compare_exchange_strong(&g->users, &dead, 0)) return;
    if ((atomic_load_explicit(&g->hstate, memory_order_relaxed) >> 1) <= VEDAC_XG_GEN_MAX) vedac_xg_put(g);
}

// vedac_xg_leave ends a wait's use of g (see users).
static void vedac_xg_leave(vedac_xgroup *g) {
    if (atomic_fetch_sub(&g->users, 1) == VEDAC_XG_DEAD + 1) vedac_xg_release(g); // seq-cst
}

static const char vedac_xg_destroyed[] = "veda: invalid argument: g was destroyed";
static const char vedac_xg_closed[] = "veda: runtime closed: the group's runtime was destroyed";

// vedac_xg_closed_rt reports whether g's runtime token was destroyed. Its gate entry goes when
// veda_runtime_destroy begins, but the token stays live until the runtime's Close returned, and
// meanwhile its tasks may still spawn and wait, as on the Go path (found by review: a task's
// spawn or wait during the destroy got CLOSED, and the task returned while children that use its
// frame were still queued). So a missing entry asks Go (only once a destroy began).
static int vedac_xg_closed_rt(vedac_xgroup *g) {
    uintptr_t rt = XG_RT(g);
    return vedac_gate_lookup(rt) == NULL && !vedago_runtime_live(rt);
}

VEDA_API veda_status veda_group_spawn(veda_group *gh, veda_task_fn fn, void *ctx) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    static const char name[] = "veda_group_spawn";
    vedac_xgroup *g;
    uint64_t hs;
    switch (vedac_xg_find(H(gh), &g, &hs)) {
    case VEDAC_XG_NOT: return vedago_group_spawn(H(gh), fn, H(ctx));
    case VEDAC_XG_STALE: return vedac_xg_fail(VEDA_ERR_INVALID_ARGUMENT, name, vedac_xg_destroyed);
    }
    if (vedac_xg_closed_rt(g)) return vedac_xg_fail(VEDA_ERR_CLOSED, name, vedac_xg_closed);
    if (fn == NULL) return vedac_xg_fail(VEDA_ERR_INVALID_ARGUMENT, name, "veda: invalid argument: fn is NULL");
    // Count it first (a wait must not see 0 while it is queued), only while the word still
    // counts for the token's generation: a destroy retags it once drained. A spawn counted
    // before that is run and waited for by the destroy, as on the Go path.
    uint64_t wtag = VEDAC_XG_WTAG(hs >> 1), w = atomic_load_explicit(&g->word, memory_order_relaxed);
    do {
        if ((w & ~((1ull << VEDAC_XG_TAG_SHIFT) - 1)) != wtag)
            return vedac_xg_fail(VEDA_ERR_INVALID_ARGUMENT, name, vedac_xg_destroyed);
        if (VEDAC_XG_PENDING(w) == VEDAC_XG_PENDING_MAX) // 2^26 - 1 tasks pending: 4 GiB of records
            return vedac_xg_fail(VEDA_ERR_INTERNAL, name, "veda: internal error: 67108863 tasks of the group are pending already");
    } while (!atomic_compare_exchange_weak(&g->word, &w, w + VEDAC_XG_ONE)); // seq-cst
    vedac_grec *r = vedac_grec_take();
    if (r == NULL) {
        vedac_xg_uncount(g);
        return vedac_xg_fail(VEDA_ERR_INTERNAL, name, "veda: internal error: out of memory");
    }
    r->fn = fn;
    r->ctx = ctx;
    r->status = 0;
    atomic_store_explicit(&r->grp, g, memory_order_relaxed); // published by the push (or Go's hand-over)
    vedac_xdq *d = vedac_cur_xdq;
    vedac_gate *gate = XG_GATE(g);
    if (d != NULL && d->gate == (uintptr_t)gate) {
        int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed); // our own last store
        int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);    // stale = smaller: safe
        if (b - t < VEDAC_XCAP) {
            atomic_store_explicit(&d->slots[b & (VEDAC_XCAP - 1)], (vedac_xrec *)r, memory_order_relaxed);
            // store (seq-cst): publishes the record and precedes the idle load (as veda_join)
            atomic_store(&d->bottom, b + 1);
            if (atomic_load(&gate->idle) > 0 && atomic_load(&gate->searching) == 0) vedago_xjoin_notify(d);
            return VEDA_OK;
        }
    }
    veda_status st = vedago_xgroup_spawn(XG_RT(g), r); // runs it as a task of the runtime
    if (st != VEDA_OK) {
        vedac_grec_give(r);
        vedac_xg_uncount(g);
    }
    return st;
}

VEDA_API veda_status veda_group_wait(veda_group *gh) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    static const char name[] = "veda_group_wait";
    vedac_xgroup *g;
    uint64_t hs;
    switch (vedac_xg_find(H(gh), &g, &hs)) {
    case VEDAC_XG_NOT: return vedago_group_wait(H(gh));
    case VEDAC_XG_STALE: return vedac_xg_fail(VEDA_ERR_INVALID_ARGUMENT, name, vedac_xg_destroyed);
    }
    atomic_fetch_add(&g->users, 1); // seq-cst: see users
    if (atomic_load(&g->hstate) != hs) { // destroyed since the lookup
        vedac_xg_leave(g);
        return vedac_xg_fail(VEDA_ERR_INVALID_ARGUMENT, name, vedac_xg_destroyed);
    }
    if (vedac_xg_closed_rt(g)) {
        vedac_xg_leave(g);
        return vedac_xg_fail(VEDA_ERR_CLOSED, name, vedac_xg_closed);
    }
    vedac_xg_drain(g);
    // report each failure once, as the Go path (a load first: the exchange only when one failed)
    int32_t code = atomic_load_explicit(&g->failed, memory_order_relaxed);
    if (code != 0) code = atomic_exchange(&g->failed, 0);
    vedac_xg_leave(g);                             // the last access to g
    return code == 0 ? VEDA_OK : vedago_task_failed(1, code);
}

VEDA_API veda_status veda_group_destroy(veda_group *gh) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    static const char name[] = "veda_group_destroy";
    vedac_xgroup *g;
    uint64_t hs;
    switch (vedac_xg_find(H(gh), &g, &hs)) {
    case VEDAC_XG_NOT: return vedago_group_destroy(H(gh));
    case VEDAC_XG_STALE: return vedac_xg_fail(VEDA_ERR_INVALID_ARGUMENT, name, "veda: invalid argument: g was already destroyed");
    }
    // CAS (seq-cst) live -> the next generation, not live: the token is stale from here (new
    // lookups and waits' rechecks see it), and a racing destroy loses. Spawns that looked up
    // before it are either counted before the retag below (and drained) or refused by the tag.
    uint64_t gen = hs >> 1;
    if (!atomic_compare_exchange_strong(&g->hstate, &hs, (gen + 1) << 1))
        return vedac_xg_fail(VEDA_ERR_INVALID_ARGUMENT, name, "veda: invalid argument: g was already destroyed");
    // Drain (its tasks run to the end, as in a wait; their result is dropped), then retag the
    // word for the next generation, which refuses every later spawn with this token; a spawn
    // that got in between is drained too.
    for (;;) {
        vedac_xg_drain(g);
        uint64_t w = atomic_load(&g->word);
        if (VEDAC_XG_PENDING(w) == 0 &&
            atomic_compare_exchange_strong(&g->word, &w, (w & 0xFFFFu) | VEDAC_XG_WTAG(gen + 1)))
            break;
    }
    // fetch-add (seq-cst): see users; the slot is freed here, or by the last wait still inside
    atomic_fetch_add(&g->users, VEDAC_XG_DEAD);
    vedac_xg_release(g);
    return VEDA_OK;
}

VEDA_API veda_status veda_submit(veda_runtime *rt, veda_task_fn fn, void *ctx,
                                 const veda_task_options *opts, veda_future **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_submit: out is NULL");
    *out = NULL;
    veda_task_options o;
    veda_task_options_init(&o);
    if (opts != NULL) {
        if (opts->struct_size < offsetof(veda_task_options, deadline_ns) + sizeof opts->deadline_ns) {
            return vedac_fail(VEDA_ERR_INVALID_ARGUMENT,
                              "veda_submit: opts->struct_size is too small (call "
                              "veda_task_options_init first)");
        }
        size_t n = opts->struct_size < sizeof o ? opts->struct_size : sizeof o;
        memcpy(&o, opts, n);
    }
    uintptr_t h = 0;
    veda_status st = vedago_submit(H(rt), fn, H(ctx), o.priority, o.deadline_ns, &h);
    if (st == VEDA_OK) *out = (veda_future *)h;
    return st;
}

VEDA_API veda_status veda_future_wait(veda_future *f, int64_t timeout_ns) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_future_wait(H(f), timeout_ns);
}

VEDA_API int32_t veda_future_is_done(veda_future *f) {
    VEDAC_FORK_GUARD(-1);
    return vedago_future_is_done(H(f));
}

VEDA_API veda_status veda_future_then(veda_future *f, veda_callback_fn cb, void *user) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_future_then(H(f), cb, H(user));
}

VEDA_API veda_status veda_future_release(veda_future *f) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_future_release(H(f));
}

VEDA_API veda_status veda_saxpy_f32(veda_runtime *rt, int64_t n, float a, const float *x, float *y) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_saxpy_f32(H(rt), n, a, (float *)x, y);
}

VEDA_API veda_status veda_sum_f64(veda_runtime *rt, int64_t n, const double *x, double *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_sum_f64(H(rt), n, (double *)x, out);
}

VEDA_API veda_status veda_sgemm(veda_runtime *rt, int64_t m, int64_t n, int64_t k, float alpha,
                                const float *a, int64_t lda, const float *b, int64_t ldb,
                                float beta, float *c, int64_t ldc) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_sgemm(H(rt), m, n, k, alpha, (float *)a, lda, (float *)b, ldb, beta, c, ldc);
}

VEDA_API veda_status veda_sum_f32(veda_runtime *rt, int64_t n, const float *x, double *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_sum_f32(H(rt), n, (float *)x, out);
}

VEDA_API veda_status veda_dot_f32(veda_runtime *rt, int64_t n, const float *x, const float *y,
                                  double *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_dot_f32(H(rt), n, (float *)x, (float *)y, out);
}

VEDA_API veda_status veda_sum_f64_strided(veda_runtime *rt, const void *base, int32_t ndim,
                                          const int64_t *shape, const int64_t *strides_bytes,
                                          double *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_sum_strided(H(rt), 0, H(base), ndim, (int64_t *)shape, (int64_t *)strides_bytes,
                              out);
}

VEDA_API veda_status veda_sum_f32_strided(veda_runtime *rt, const void *base, int32_t ndim,
                                          const int64_t *shape, const int64_t *strides_bytes,
                                          double *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_sum_strided(H(rt), 1, H(base), ndim, (int64_t *)shape, (int64_t *)strides_bytes,
                              out);
}

VEDA_API veda_status veda_distribute_sum_f32(veda_runtime *rt, int32_t count,
                                             const float *const *arrays, const int64_t *lengths,
                                             double *sums, veda_status *statuses) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_distribute_sum_f32(H(rt), count, (float **)arrays, (int64_t *)lengths, sums,
                                     statuses);
}

VEDA_API int32_t veda_device_count(veda_runtime *rt) {
    VEDAC_FORK_GUARD(-1);
    return vedago_device_count(H(rt));
}

// The mandatory prefix of veda_device_info: every field up to compute_units.
#define VEDAC_DEVICE_INFO_MIN (offsetof(veda_device_info, compute_units) + sizeof(int32_t))

VEDA_API veda_status veda_device_info_get(veda_runtime *rt, int32_t index, veda_device_info *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_device_info_get: out is NULL");
    uint32_t size = out->struct_size;
    if (size < VEDAC_DEVICE_INFO_MIN) {
        return vedac_fail(VEDA_ERR_INVALID_ARGUMENT,
                          "veda_device_info_get: out->struct_size is too small (call "
                          "veda_device_info_init first)");
    }
    // Fill a full struct, then copy the prefix the caller declared (its struct_size stays).
    veda_device_info full;
    veda_device_info_init(&full);
    veda_status st = vedago_device_info(H(rt), index, &full);
    if (st != VEDA_OK) return st;
    size_t n = size < sizeof full ? size : sizeof full;
    memcpy((char *)out + sizeof out->struct_size, (char *)&full + sizeof full.struct_size,
           n - sizeof full.struct_size);
    return VEDA_OK;
}

VEDA_API veda_status veda_runtime_pin_device(veda_runtime *rt, int32_t index) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_runtime_pin_device(H(rt), index);
}

VEDA_API veda_status veda_kernel_create(veda_runtime *rt, const char *opencl_src,
                                        const char *cuda_src, const char *name, veda_kernel **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_kernel_create: out is NULL");
    *out = NULL;
    uintptr_t h = 0;
    veda_status st = vedago_kernel_create(H(rt), (char *)opencl_src, (char *)cuda_src, (char *)name, &h);
    if (st == VEDA_OK) *out = (veda_kernel *)h;
    return st;
}

// The smallest veda_arg a caller may pass: every field up to bytes.
#define VEDAC_ARG_MIN (offsetof(veda_arg, bytes) + sizeof(size_t))

VEDA_API veda_status veda_kernel_run_1d(veda_kernel *k, int64_t n, const veda_arg *args,
                                        int32_t nargs) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_kernel_run_1d(H(k), n, (veda_arg *)args, nargs, (uint32_t)VEDAC_ARG_MIN);
}

VEDA_API veda_status veda_kernel_destroy(veda_kernel *k) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_kernel_destroy(H(k));
}

VEDA_API veda_status veda_metrics_json(veda_runtime *rt, char *buf, size_t cap, size_t *len) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_metrics(H(rt), 0, buf, cap, len);
}

VEDA_API veda_status veda_metrics_prometheus(veda_runtime *rt, char *buf, size_t cap, size_t *len) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_metrics(H(rt), 1, buf, cap, len);
}

VEDA_API veda_status veda_runtime_record_decisions(veda_runtime *rt, int32_t on) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_runtime_record_decisions(H(rt), on);
}

VEDA_API veda_status veda_decisions_json(veda_runtime *rt, char *buf, size_t cap, size_t *len) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_metrics(H(rt), 2, buf, cap, len);
}

VEDA_API veda_status veda_energy_json(veda_runtime *rt, char *buf, size_t cap, size_t *len) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_metrics(H(rt), 3, buf, cap, len);
}

// ---- cancellation tokens (issue 15) ------------------------------------------------------------

// vedac_cancel_tls is the token bound to this thread (0 = none); read by the Go exports through
// vedac_thread_cancel, on the same thread (a C->Go call runs on the calling thread).
static __thread __attribute__((tls_model("initial-exec"))) uintptr_t vedac_cancel_tls;

uintptr_t vedac_thread_cancel(void) { return vedac_cancel_tls; }

VEDA_API veda_status veda_cancel_create(veda_cancel **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_cancel_create: veda: invalid argument: out is NULL");
    uintptr_t tok = 0;
    veda_status st = vedago_cancel_create(&tok);
    if (st == VEDA_OK) vedac_cancel_note(tok);
    *out = (veda_cancel *)tok;
    return st;
}

VEDA_API veda_status veda_cancel_trigger(veda_cancel *c) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    vedac_cancel_mark(H(c)); // before Go: a fast-path call that saw it clear started earlier
    return vedago_cancel_trigger(H(c));
}

VEDA_API int32_t veda_cancel_is_triggered(veda_cancel *c) {
    VEDAC_FORK_GUARD(-1);
    return vedago_cancel_is_triggered(H(c));
}

VEDA_API veda_status veda_cancel_destroy(veda_cancel *c) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    vedac_cancel_forget(H(c));
    return vedago_cancel_destroy(H(c));
}

VEDA_API veda_status veda_thread_set_cancel(veda_cancel *c) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (c != NULL) {
        veda_status st = vedago_cancel_check(H(c));
        if (st != VEDA_OK) return st;
    }
    vedac_cancel_tls = H(c);
    return VEDA_OK;
}

// ---- timeline traces and live metrics (issue 14) ---------------------------------------------

VEDA_API veda_status veda_trace_start(veda_runtime *rt, const char *path) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_trace(H(rt), (char *)path, 0);
}

VEDA_API veda_status veda_trace_stop(veda_runtime *rt) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_trace(H(rt), NULL, 1);
}

VEDA_API veda_status veda_metrics_serve(veda_runtime *rt, const char *addr) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_metrics_serve(H(rt), (char *)addr, 0);
}

VEDA_API veda_status veda_metrics_stop(veda_runtime *rt) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_metrics_serve(H(rt), NULL, 1);
}

/* ---- Device-resident buffers, N-D and asynchronous kernel launches (issue 16): translation to
 * capi/buffer.go; out pointers are checked and cleared here. */

VEDA_API veda_status veda_buffer_create(veda_runtime *rt, int32_t device, uint64_t bytes, veda_buffer **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_buffer_create: out is NULL");
    *out = NULL;
    uintptr_t h = 0;
    veda_status st = vedago_buffer_create(H(rt), device, bytes, &h);
    if (st == VEDA_OK) *out = (veda_buffer *)h;
    return st;
}

VEDA_API veda_status veda_buffer_write(veda_buffer *b, uint64_t offset, const void *src, uint64_t bytes) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_buffer_write(H(b), offset, (uintptr_t)src, bytes, NULL);
}

VEDA_API veda_status veda_buffer_read(veda_buffer *b, uint64_t offset, void *dst, uint64_t bytes) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_buffer_read(H(b), offset, (uintptr_t)dst, bytes, NULL);
}

VEDA_API veda_status veda_buffer_write_async(veda_buffer *b, uint64_t offset, const void *src, uint64_t bytes,
                                             veda_future **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_buffer_write_async: out is NULL");
    *out = NULL;
    uintptr_t h = 0;
    veda_status st = vedago_buffer_write(H(b), offset, (uintptr_t)src, bytes, &h);
    if (st == VEDA_OK) *out = (veda_future *)h;
    return st;
}

VEDA_API veda_status veda_buffer_read_async(veda_buffer *b, uint64_t offset, void *dst, uint64_t bytes,
                                            veda_future **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_buffer_read_async: out is NULL");
    *out = NULL;
    uintptr_t h = 0;
    veda_status st = vedago_buffer_read(H(b), offset, (uintptr_t)dst, bytes, &h);
    if (st == VEDA_OK) *out = (veda_future *)h;
    return st;
}

VEDA_API veda_status veda_buffer_destroy(veda_buffer *b) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_buffer_destroy(H(b));
}

VEDA_API veda_status veda_buffer_info(veda_buffer *b, int32_t *device, uint64_t *bytes) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_buffer_info(H(b), device, bytes);
}

VEDA_API veda_status veda_saxpy_buffer(veda_runtime *rt, float a, veda_buffer *x, veda_buffer *y, int64_t n) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_saxpy_buffer(H(rt), a, H(x), H(y), n);
}

VEDA_API veda_status veda_dot_f32_buffer(veda_runtime *rt, veda_buffer *x, veda_buffer *y, int64_t n,
                                         veda_buffer *out, double *result) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_reduce_buffer(H(rt), 1, H(x), H(y), n, H(out), result);
}

VEDA_API veda_status veda_sum_f32_buffer(veda_runtime *rt, veda_buffer *x, int64_t n, veda_buffer *out,
                                         double *result) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_reduce_buffer(H(rt), 0, H(x), 0, n, H(out), result);
}

VEDA_API veda_status veda_kernel_run(veda_kernel *k, uint32_t dims, const int64_t *global, const int64_t *local,
                                     const veda_arg *args, int32_t nargs) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_kernel_run(H(k), dims, (int64_t *)global, (int64_t *)local, (veda_arg *)args, nargs,
                             (uint32_t)VEDAC_ARG_MIN, NULL);
}

VEDA_API veda_status veda_kernel_run_async(veda_kernel *k, uint32_t dims, const int64_t *global,
                                           const int64_t *local, const veda_arg *args, int32_t nargs,
                                           veda_future **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_kernel_run_async: out is NULL");
    *out = NULL;
    uintptr_t h = 0;
    veda_status st = vedago_kernel_run(H(k), dims, (int64_t *)global, (int64_t *)local, (veda_arg *)args,
                                       nargs, (uint32_t)VEDAC_ARG_MIN, &h);
    if (st == VEDA_OK) *out = (veda_future *)h;
    return st;
}

VEDA_API veda_status veda_device_transfers(veda_runtime *rt, int32_t device, veda_transfer_stats *out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    if (out == NULL) return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_device_transfers: out is NULL");
    if (out->struct_size < sizeof(veda_transfer_stats))
        return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, "veda_device_transfers: out->struct_size is too small (set it to sizeof(veda_transfer_stats))");
    int64_t v[4] = {0, 0, 0, 0};
    veda_status st = vedago_device_transfers(H(rt), device, v);
    if (st == VEDA_OK) {
        out->h2d_copies = v[0];
        out->h2d_bytes = v[1];
        out->d2h_copies = v[2];
        out->d2h_bytes = v[3];
    }
    return st;
}

// ---- pipelines (issue 12) ------------------------------------------------------------------------

vedac_source_result vedac_call_source(veda_source_fn fn, uintptr_t ctx, int64_t seq) {
    void *item = NULL;
    uint64_t bytes = 0;
    vedac_source_result r;
    r.rc = fn((void *)ctx, seq, &item, &bytes);
    r.item = (uintptr_t)item;
    r.bytes = bytes;
    return r;
}

vedac_stage_result vedac_call_stage(veda_stage_fn fn, uintptr_t ctx, int64_t seq, uintptr_t item,
                                    uint64_t bytes, uintptr_t xdq) {
    void *out = (void *)item;  // preset to the item
    vedac_stage_result r;
    vedac_xdq *saved = vedac_cur_xdq;
    vedac_cur_xdq = (vedac_xdq *)xdq;
    r.rc = fn((void *)ctx, seq, (void *)item, &out, &bytes);
    vedac_cur_xdq = saved;
    r.out = (uintptr_t)out;
    r.bytes = bytes;
    return r;
}

void vedac_call_drop(veda_drop_fn fn, uintptr_t ctx, int64_t seq, uintptr_t item) {
    fn((void *)ctx, seq, (void *)item);
}

vedac_stage_result vedac_call_device_stage(veda_device_stage_fn fn, uintptr_t ctx, int32_t device, int64_t seq,
                                           uintptr_t item, uint64_t bytes) {
    void *out = (void *)item;  // preset to the item
    vedac_stage_result r;
    r.rc = fn((void *)ctx, device, seq, (void *)item, &out, &bytes);
    r.out = (uintptr_t)out;
    r.bytes = bytes;
    return r;
}

VEDA_API void veda_pipeline_options_init(veda_pipeline_options *opts) {
    if (opts == NULL) return;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = (uint32_t)sizeof *opts;
    opts->priority = VEDA_PRIORITY_NORMAL;
}

// pipeline_create is veda_pipeline_create and veda_pipeline_create_named (fn names the caller).
static veda_status pipeline_create(const char *fn, veda_runtime *rt, const char *name, int32_t named,
                                   const veda_pipeline_options *opts, veda_pipeline **out) {
    char msg[160];
    if (out == NULL) {
        snprintf(msg, sizeof msg, "%s: veda: invalid argument: out is NULL", fn);
        return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, msg);
    }
    *out = NULL;
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    if (opts != NULL) {
        if (opts->struct_size < offsetof(veda_pipeline_options, drop_ctx) + sizeof opts->drop_ctx) {
            snprintf(msg, sizeof msg,
                     "%s: veda: invalid argument: opts->struct_size is too small (call "
                     "veda_pipeline_options_init first)", fn);
            return vedac_fail(VEDA_ERR_INVALID_ARGUMENT, msg);
        }
        memcpy(&o, opts, sizeof o);
    }
    uintptr_t h = 0;
    veda_status st = vedago_pipeline_create(H(rt), (char *)name, named, o.priority, o.max_in_flight,
                                            o.max_bytes_in_flight, o.drop, H(o.drop_ctx), &h);
    if (st == VEDA_OK) *out = (veda_pipeline *)h;
    return st;
}

VEDA_API veda_status veda_pipeline_create(veda_runtime *rt, const veda_pipeline_options *opts,
                                          veda_pipeline **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return pipeline_create("veda_pipeline_create", rt, NULL, 0, opts, out);
}

VEDA_API veda_status veda_pipeline_create_named(veda_runtime *rt, const char *name, const veda_pipeline_options *opts,
                                                veda_pipeline **out) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return pipeline_create("veda_pipeline_create_named", rt, name, 1, opts, out);
}

VEDA_API veda_status veda_pipeline_add_stage(veda_pipeline *p, int32_t mode, veda_stage_fn fn, void *ctx) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_pipeline_add_stage(H(p), 0, NULL, mode, fn, H(ctx), NULL, 0);
}

VEDA_API veda_status veda_pipeline_add_named_stage(veda_pipeline *p, const char *name, int32_t mode, veda_stage_fn fn,
                                                   void *ctx) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_pipeline_add_stage(H(p), 1, (char *)name, mode, fn, H(ctx), NULL, 0);
}

VEDA_API veda_status veda_pipeline_add_hybrid_stage(veda_pipeline *p, const char *name, int32_t mode, veda_stage_fn cpu,
                                                    void *cpu_ctx, veda_device_stage_fn dev, void *dev_ctx) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_pipeline_add_stage(H(p), 2, (char *)name, mode, cpu, H(cpu_ctx), dev, H(dev_ctx));
}

VEDA_API veda_status veda_pipeline_run(veda_pipeline *p, veda_source_fn source, void *source_ctx) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_pipeline_run(H(p), source, H(source_ctx));
}

VEDA_API veda_status veda_pipeline_cancel(veda_pipeline *p) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_pipeline_cancel(H(p));
}

VEDA_API veda_status veda_pipeline_destroy(veda_pipeline *p) {
    VEDAC_FORK_GUARD(VEDA_ERR_UNSUPPORTED);
    return vedago_pipeline_destroy(H(p));
}
