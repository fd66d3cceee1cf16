/*
 * veda.h - the public C API of VEDA, a hybrid CPU/GPU parallel runtime.
 *
 * One library, libveda.so (soname libveda.so.0), serves C, C++ and Python (through ctypes); Go
 * programs import the goveda package. All callers in one process share one pool of workers.
 *
 * ABI promise
 *   The soname carries the ABI major version. Within libveda.so.0 no function is removed or changes
 *   its signature, no status code changes its value, and options structs only grow at their end
 *   (every one starts with struct_size, which the *_init function sets, so an old caller keeps
 *   working against a newer library). VEDA_VERSION_* give the version of this header;
 *   veda_version() gives the version of the loaded library.
 *
 * Conventions
 *   - Every function that can fail returns a veda_status. VEDA_OK is 0; any other value is an
 *     error, and then veda_last_error() holds a message for it on the calling thread.
 *   - Handles (veda_runtime, veda_group, veda_future) are opaque tokens, created and destroyed in
 *     pairs. A handle that was never created, was forged, or was already destroyed is detected:
 *     it gets VEDA_ERR_INVALID_ARGUMENT (or VEDA_ERR_CLOSED for a destroyed runtime), never a crash.
 *   - Thread safety: unless a function says otherwise, any number of threads may call any function
 *     at the same time, on the same handles.
 *   - Callbacks (veda_range_fn, veda_fold_fn, veda_task_fn, ...) run on runtime worker threads.
 *     They may call back into VEDA (nested veda_parallel_for, groups inside tasks) without deadlock:
 *     a worker that waits runs other work meanwhile.
 *   - fork(): the runtime does not survive fork(). In a child process forked after libveda.so was
 *     loaded, every function that returns a veda_status returns VEDA_ERR_UNSUPPORTED at once
 *     (functions returning int32_t return -1). Use posix_spawn/exec, or Python's "spawn" start
 *     method. veda_version, veda_status_string, veda_last_error and the *_init functions keep
 *     working.
 */
#ifndef VEDA_H
#define VEDA_H

#include <stddef.h>
#include <stdint.h>

#define VEDA_VERSION_MAJOR 0
#define VEDA_VERSION_MINOR 1
#define VEDA_VERSION_PATCH 0
/* VEDA_VERSION_STRING is "MAJOR.MINOR.PATCH", equal to what veda_version() returns. */
#define VEDA_VERSION_STRING "0.1.0"
/* One integer for compile-time comparisons: MAJOR*10000 + MINOR*100 + PATCH. */
#define VEDA_VERSION_NUMBER \
    (VEDA_VERSION_MAJOR * 10000 + VEDA_VERSION_MINOR * 100 + VEDA_VERSION_PATCH)

/* VEDA_API marks every exported declaration (default visibility; the library hides the rest). */
#if defined(__GNUC__) || defined(__clang__)
#define VEDA_API __attribute__((visibility("default")))
#else
#define VEDA_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------------
 * Status codes
 * --------------------------------------------------------------------------------------------*/

/*
 * VEDA_STATUS_MAP(X) is the one list of status codes: X(NAME, value, "description").
 * It produces the veda_status_code enum and veda_status_string(); bindings (Python, Go) mirror it.
 */
#define VEDA_STATUS_MAP(X)                                                                    \
    X(OK, 0, "ok")                                                                            \
    X(ERR_INVALID_ARGUMENT, 1, "invalid argument")                                            \
    X(ERR_OUT_OF_MEMORY, 2, "out of memory")                                                  \
    X(ERR_CLOSED, 3, "runtime closed")                                                        \
    X(ERR_TASK_FAILED, 4, "task failed")                                                      \
    X(ERR_DEVICE, 5, "device error")                                                          \
    X(ERR_UNSUPPORTED, 6, "unsupported")                                                      \
    X(ERR_TIMEOUT, 7, "timeout")                                                              \
    X(ERR_CANCELLED, 8, "cancelled")                                                          \
    X(ERR_INTERNAL, 9, "internal error")

/* veda_status is the result of every fallible call: VEDA_OK (0) or one of VEDA_ERR_*. */
typedef int32_t veda_status;

/* The status codes, named VEDA_OK, VEDA_ERR_INVALID_ARGUMENT, ... with the values above. */
enum veda_status_code {
#define VEDA_STATUS_ENUM_(name, value, text) VEDA_##name = value,
    VEDA_STATUS_MAP(VEDA_STATUS_ENUM_)
#undef VEDA_STATUS_ENUM_
};

/* Scheduling policies for veda_config.policy. */
enum veda_policy {
    VEDA_POLICY_ADAPTIVE = 0,         /* default: lazy splitting driven by stealing */
    VEDA_POLICY_FIXED = 1,            /* split into grain-sized chunks up front */
    VEDA_POLICY_DETERMINISTIC = 2,    /* fixed split tree and combine order: bit-identical reduces */
    VEDA_POLICY_ENERGY_EFFICIENT = 3, /* fewer active workers, park sooner */
    VEDA_POLICY_LOW_LATENCY = 4       /* workers spin longer before parking */
};

/* Task priorities for veda_task_options.priority (lower value runs first). */
enum veda_priority {
    VEDA_PRIORITY_REALTIME = 0,
    VEDA_PRIORITY_HIGH = 1,
    VEDA_PRIORITY_NORMAL = 2,
    VEDA_PRIORITY_LOW = 3,
    VEDA_PRIORITY_BACKGROUND = 4
};

/* ----------------------------------------------------------------------------------------------
 * Library information and errors
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_version returns the library version as "MAJOR.MINOR.PATCH" (equal to VEDA_VERSION_STRING
 * of the header the library was built with). Static storage, never NULL; the caller does not
 * free it. Thread-safe; works in a forked child.
 */
VEDA_API const char *veda_version(void);

/*
 * veda_status_string returns a short static description of status, distinct for every code and
 * never NULL ("unknown status" for a value outside the list). The caller does not free it.
 * Thread-safe; works in a forked child.
 */
VEDA_API const char *veda_status_string(veda_status status);

/*
 * veda_last_error returns the message of the calling thread's most recent non-VEDA_OK status
 * returned by any veda function, or "" if there was none on this thread. Every failing call sets
 * it; nothing else clears or changes it (a successful call leaves it as it was). The string is
 * owned by the library, stays valid until the next failing veda call on the same thread, and
 * must not be freed. Thread-local: never NULL, never another thread's message.
 */
VEDA_API const char *veda_last_error(void);

/* ----------------------------------------------------------------------------------------------
 * Runtime
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_runtime is an opaque runtime handle: a pool of workers plus the devices it found.
 * Created by veda_runtime_create, freed by veda_runtime_destroy. Thread-safe: any number of
 * threads may use one runtime at once. Every handle created from a runtime (groups, futures)
 * must be used only while that runtime lives.
 */
typedef struct veda_runtime veda_runtime;

/*
 * veda_config configures veda_runtime_create. Always call veda_config_init first, then change
 * fields; the caller owns the struct and may free it once veda_runtime_create returns.
 */
typedef struct veda_config {
    uint32_t struct_size; /* set by veda_config_init; lets the struct grow */
    int32_t num_workers;  /* 0 = automatic (from the hardware profile); < 0 is invalid */
    int32_t policy;       /* VEDA_POLICY_* */
    uint64_t seed;        /* for VEDA_POLICY_DETERMINISTIC (and randomized victim choice) */
    /* later fields only after these */
} veda_config;

/*
 * veda_config_init fills *cfg with the defaults: struct_size = sizeof(veda_config),
 * num_workers = 0, policy = VEDA_POLICY_ADAPTIVE, seed = 0. Does nothing if cfg is NULL.
 * Thread-safe (touches only *cfg); works in a forked child.
 */
VEDA_API void veda_config_init(veda_config *cfg);

/*
 * veda_runtime_create starts a runtime configured by cfg (NULL = defaults) and stores its handle
 * in *out. The caller owns the handle and frees it with veda_runtime_destroy. Thread-safe.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_INVALID_ARGUMENT: out is NULL, cfg->struct_size is too small (not initialised),
 *     num_workers < 0, or policy is not a VEDA_POLICY_* value (*out is then NULL);
 *   VEDA_ERR_OUT_OF_MEMORY, VEDA_ERR_INTERNAL: the runtime could not start;
 *   VEDA_ERR_UNSUPPORTED: called in a forked child.
 */
VEDA_API veda_status veda_runtime_create(const veda_config *cfg, veda_runtime **out);

/*
 * veda_runtime_destroy waits for the runtime's in-flight work (parallel loops, group tasks,
 * submitted futures), stops its workers and invalidates the handle. Must not be called from a
 * callback running on the same runtime. Thread-safe against other calls; calls that race with
 * destroy either complete or return VEDA_ERR_CLOSED.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_CLOSED: rt was already destroyed (double destroy is detected, not a crash);
 *   VEDA_ERR_INVALID_ARGUMENT: rt is NULL or not a runtime handle;
 *   VEDA_ERR_UNSUPPORTED: called in a forked child.
 */
VEDA_API veda_status veda_runtime_destroy(veda_runtime *rt);

/*
 * veda_runtime_num_workers returns the number of CPU workers of rt (>= 1), or -1 if rt is not a
 * live runtime (veda_last_error says why) or the process is a forked child. Thread-safe.
 */
VEDA_API int32_t veda_runtime_num_workers(veda_runtime *rt);

/* ----------------------------------------------------------------------------------------------
 * Parallel loops
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_range_fn processes the half-open index range [begin, end) (never empty) with the user's
 * ctx, and returns 0 on success or any non-zero code on error. Called on worker threads, several
 * at once for disjoint ranges; it may call back into VEDA.
 */
typedef int32_t (*veda_range_fn)(void *ctx, int64_t begin, int64_t end);

/*
 * veda_parallel_for calls fn(ctx, lo, hi) over disjoint ranges that together cover [begin, end)
 * exactly once, in parallel, and blocks until all have run. grain is the smallest chunk size the
 * runtime cuts (0 = automatic); chunks are cut lazily, so fn is called far fewer times than
 * (end-begin)/grain when workers are busy. begin == end is VEDA_OK and calls nothing. ctx is
 * passed through untouched; it must stay valid until the call returns. Thread-safe and
 * re-entrant (fn may call veda_parallel_for on the same runtime).
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_INVALID_ARGUMENT: rt is not a runtime handle, fn is NULL, end < begin, grain < 0;
 *   VEDA_ERR_TASK_FAILED: fn returned non-zero; no new chunks start after that, chunks already
 *     running finish, and veda_last_error() names the returned code and the range. The runtime
 *     stays usable;
 *   VEDA_ERR_CLOSED: rt was destroyed;
 *   VEDA_ERR_INTERNAL: a bug in VEDA (message says what);
 *   VEDA_ERR_UNSUPPORTED: called in a forked child.
 */
VEDA_API veda_status veda_parallel_for(veda_runtime *rt, int64_t begin, int64_t end, int64_t grain,
                                       veda_range_fn fn, void *ctx);

/*
 * veda_fold_fn folds the range [begin, end) into the accumulator acc (acc_size bytes, 16-byte
 * aligned, starting as a copy of the identity or of a partial result) and returns 0, or non-zero
 * on error. Called on worker threads, several at once on distinct accumulators.
 */
typedef int32_t (*veda_fold_fn)(void *ctx, int64_t begin, int64_t end, void *acc);

/*
 * veda_combine_fn sets acc = acc (+) other, where (+) must be associative and identity must be
 * its neutral element. other is read-only. Called on worker threads.
 */
typedef void (*veda_combine_fn)(void *ctx, void *acc, const void *other);

/*
 * veda_parallel_reduce folds [begin, end) in parallel into accumulators of acc_size bytes, each
 * starting as a copy of *identity, combines them with combine and copies the result to *out
 * (acc_size bytes, written only on VEDA_OK). begin == end copies *identity to *out and calls
 * nothing. Under VEDA_POLICY_DETERMINISTIC the split tree and combine order depend only on
 * (begin, end, grain), so the result is bit-identical across runs and worker counts.
 * identity and out are read and written only during the call; the library keeps no pointer.
 * Thread-safe and re-entrant.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_INVALID_ARGUMENT: rt is not a runtime handle, identity, fold, combine or out is
 *     NULL, acc_size == 0, end < begin, grain < 0;
 *   VEDA_ERR_TASK_FAILED: fold returned non-zero (veda_last_error names the code and range);
 *   VEDA_ERR_OUT_OF_MEMORY: accumulators could not be allocated;
 *   VEDA_ERR_CLOSED, VEDA_ERR_INTERNAL, VEDA_ERR_UNSUPPORTED: as for veda_parallel_for.
 */
VEDA_API veda_status veda_parallel_reduce(veda_runtime *rt, int64_t begin, int64_t end,
                                          int64_t grain, size_t acc_size, const void *identity,
                                          veda_fold_fn fold, veda_combine_fn combine, void *ctx,
                                          void *out);

/* ----------------------------------------------------------------------------------------------
 * Task groups
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_group is an opaque set of tasks waited for together (fork-join). Created by
 * veda_group_create on a runtime, freed by veda_group_destroy. Spawn may be called from any
 * thread and from inside the group's own tasks; veda_group_wait should be called by one thread
 * at a time.
 */
typedef struct veda_group veda_group;

/* veda_task_fn runs one task with the user's ctx; 0 = success, non-zero = failure. */
typedef int32_t (*veda_task_fn)(void *ctx);

/*
 * veda_group_create makes an empty group on rt and stores its handle in *out. The caller owns it
 * and frees it with veda_group_destroy.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, out NULL);
 * VEDA_ERR_CLOSED (rt destroyed); VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_group_create(veda_runtime *rt, veda_group **out);

/*
 * veda_group_spawn adds the task fn(ctx) to g. Called from an ordinary thread, the task starts
 * at once on a worker; called from inside a VEDA callback, it starts no later than the next
 * veda_group_wait on g (the waiting worker then runs it or lets others steal it). ctx must stay
 * valid until the task has run. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (g not a live group, fn NULL); VEDA_ERR_CLOSED (its
 * runtime was destroyed); VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_group_spawn(veda_group *g, veda_task_fn fn, void *ctx);

/*
 * veda_group_wait blocks until every task spawned into g so far (and every task those spawn into
 * g) has finished. A worker thread that waits (a task calling veda_group_wait) runs other tasks
 * meanwhile, so nested groups never deadlock. Afterwards g is empty and may be reused.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_TASK_FAILED: a task returned non-zero (veda_last_error names the code); tasks
 *     already running finish, tasks not yet started may be skipped;
 *   VEDA_ERR_INVALID_ARGUMENT: g is not a live group; VEDA_ERR_CLOSED: its runtime was destroyed;
 *   VEDA_ERR_INTERNAL; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_group_wait(veda_group *g);

/*
 * veda_group_destroy waits for the tasks still in g (as veda_group_wait, ignoring their result)
 * and frees g; the handle is invalid afterwards.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (g NULL, never created or already destroyed);
 * VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_group_destroy(veda_group *g);

/* ----------------------------------------------------------------------------------------------
 * Futures
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_future is an opaque handle on the result of one task started by veda_submit. The caller
 * owns it and frees it with veda_future_release (the task itself runs to completion whether or
 * not the future is released). Any thread may wait on, query or add callbacks to a future.
 */
typedef struct veda_future veda_future;

/* veda_task_options tunes veda_submit. Always call veda_task_options_init first. */
typedef struct veda_task_options {
    uint32_t struct_size; /* set by veda_task_options_init */
    int32_t priority;     /* VEDA_PRIORITY_*; default VEDA_PRIORITY_NORMAL */
    int64_t deadline_ns;  /* 0 = none; > 0: relative to veda_submit, in nanoseconds. A task not
                             started by then is not run and its future completes with
                             VEDA_ERR_TIMEOUT; < 0 is invalid */
} veda_task_options;

/*
 * veda_task_options_init fills *opts with the defaults (struct_size = sizeof(veda_task_options),
 * VEDA_PRIORITY_NORMAL, no deadline). Does nothing if opts is NULL. Works in a forked child.
 */
VEDA_API void veda_task_options_init(veda_task_options *opts);

/*
 * veda_submit starts fn(ctx) as an asynchronous task with opts (NULL = defaults) and stores a
 * future for it in *out. Higher-priority tasks queued at the same time start first. ctx must stay
 * valid until the task has run. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, fn or out NULL,
 * opts->struct_size too small, priority outside VEDA_PRIORITY_*, deadline_ns < 0);
 * VEDA_ERR_CLOSED (rt destroyed); VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_submit(veda_runtime *rt, veda_task_fn fn, void *ctx,
                                 const veda_task_options *opts, veda_future **out);

/*
 * veda_future_wait blocks until the task of f finished, or timeout_ns nanoseconds passed
 * (timeout_ns < 0 waits forever; 0 polls). Can be called any number of times.
 * Returns the task's status: VEDA_OK, VEDA_ERR_TASK_FAILED (fn returned non-zero; the message
 * names the code), VEDA_ERR_TIMEOUT (the deadline passed before it started); or
 * VEDA_ERR_TIMEOUT if timeout_ns passed first (the task keeps running);
 * VEDA_ERR_INVALID_ARGUMENT (f not a live future); VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_future_wait(veda_future *f, int64_t timeout_ns);

/*
 * veda_future_is_done returns 1 if the task of f has finished, 0 if not, and -1 if f is not a
 * live future (veda_last_error says why) or the process is a forked child. Never blocks.
 */
VEDA_API int32_t veda_future_is_done(veda_future *f);

/* veda_callback_fn receives the user pointer and the final status of the task. */
typedef void (*veda_callback_fn)(void *user, veda_status status);

/*
 * veda_future_then arranges for cb(user, status) to be called exactly once when the task of f
 * finishes: at once on the calling thread if it already has, otherwise on a runtime thread.
 * Several callbacks may be added; each runs once. cb may call into VEDA. The callback runs even if
 * f is released before the task finishes.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (f not a live future, cb NULL);
 * VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_future_then(veda_future *f, veda_callback_fn cb, void *user);

/*
 * veda_future_release frees the handle f (not the task: it still runs, and callbacks added with
 * veda_future_then still fire). The handle is invalid afterwards.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (f NULL, never created or already released);
 * VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_future_release(veda_future *f);

/* ----------------------------------------------------------------------------------------------
 * Built-in kernels (parallel on the CPU; on GPUs when the device layer chooses one)
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_saxpy_f32 computes y[i] = a*x[i] + y[i] for 0 <= i < n, in parallel. x and y must hold n
 * floats (they may be unaligned; they must not partially overlap). n == 0 does nothing and x, y
 * may then be NULL. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, n < 0, x or y NULL with
 * n > 0); VEDA_ERR_CLOSED; VEDA_ERR_DEVICE (a device failed); VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_saxpy_f32(veda_runtime *rt, int64_t n, float a, const float *x, float *y);

/*
 * veda_sum_f64 stores the sum of x[0..n) in *out (0.0 for n == 0; x may then be NULL). It uses
 * fixed blocks that depend on n only, each summed pairwise, combined in a fixed order: the
 * result is bit-identical across runs and worker counts, and within 1e-12 relative of an exact
 * sum for well-conditioned data. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, n < 0, out NULL, x NULL
 * with n > 0); VEDA_ERR_CLOSED; VEDA_ERR_DEVICE; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_sum_f64(veda_runtime *rt, int64_t n, const double *x, double *out);

/*
 * veda_sgemm computes C = alpha*A*B + beta*C for row-major A (m x k, row stride lda), B (k x n,
 * row stride ldb) and C (m x n, row stride ldc), with a cache-blocked vectorized kernel, in
 * parallel over blocks of C. Any of m, n, k may be 0 (k == 0 scales C by beta). Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, m, n or k < 0,
 * lda < max(1,k), ldb < max(1,n), ldc < max(1,n), a, b or c NULL when they are read);
 * VEDA_ERR_CLOSED; VEDA_ERR_DEVICE; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_sgemm(veda_runtime *rt, int64_t m, int64_t n, int64_t k, float alpha,
                                const float *a, int64_t lda, const float *b, int64_t ldb,
                                float beta, float *c, int64_t ldc);

/*
 * veda_device_count returns the number of devices rt can run kernels on (>= 1: device 0 is the
 * CPU), or -1 if rt is not a live runtime or the process is a forked child. Thread-safe.
 */
VEDA_API int32_t veda_device_count(veda_runtime *rt);

/* ----------------------------------------------------------------------------------------------
 * Telemetry
 *
 * Text results use the snprintf protocol: *len receives the size needed including the
 * terminating NUL; when cap >= *len the whole text is written, otherwise (cap > 0) a truncated,
 * NUL-terminated prefix. Pass buf = NULL and cap = 0 to ask for the size. Check *len <= cap.
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_metrics_json writes rt's metrics as one JSON object (snake_case keys, among them
 * "tasks_executed", "tasks_stolen", "workers") into buf, following the protocol above.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, len NULL, buf NULL with
 * cap > 0); VEDA_ERR_CLOSED; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_metrics_json(veda_runtime *rt, char *buf, size_t cap, size_t *len);

/*
 * veda_metrics_prometheus writes rt's metrics in the Prometheus text exposition format (among
 * them veda_tasks_executed_total) into buf, following the protocol above.
 * Returns as veda_metrics_json.
 */
VEDA_API veda_status veda_metrics_prometheus(veda_runtime *rt, char *buf, size_t cap, size_t *len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VEDA_H */
