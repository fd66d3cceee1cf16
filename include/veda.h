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
 *   - Handles (veda_runtime, veda_group, veda_future, veda_kernel) are opaque tokens, created and destroyed in
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
    /* Appended for device dispatch. A caller built against an older header passes a smaller
       struct_size; these fields then keep their defaults. */
    const char *strategy;     /* NULL = default (VEDA_STRATEGY, else "earliest-finish"), or one of
                                 "earliest-finish", "round-robin", "least-loaded",
                                 "weighted-capacity", "adaptive-throughput"; read only during
                                 veda_runtime_create */
    uint64_t gpu_threshold;   /* bytes from which an uncalibrated kernel call may go to a GPU;
                                 0 = default (VEDA_GPU_THRESHOLD, else 8 MiB) */
    int32_t disable_gpu;      /* non-zero: this runtime uses the CPU only (like VEDA_DISABLE_GPU=1) */
    int32_t record_decisions; /* non-zero: start with dispatch-decision recording on (see
                                 veda_decisions_json) */
    /* Appended for energy-aware scheduling and NUMA placement (a smaller struct_size keeps
       these at their defaults). Invalid values make veda_runtime_create return
       VEDA_ERR_INVALID_ARGUMENT and create nothing. */
    double max_power_watts;   /* VEDA_POLICY_ENERGY_EFFICIENT's power budget in watts: above it the
                                 active workers drop, and come back with hysteresis; 0 = none;
                                 < 0 or NaN is invalid, as is a budget with another policy */
    double max_temp_celsius;  /* VEDA_POLICY_ENERGY_EFFICIENT's temperature limit in degrees C
                                 (workers drop from 5 degrees below it); 0 = none; < 0 or NaN is
                                 invalid, as is a limit with another policy */
    double energy_weight;     /* seconds of makespan one joule is worth (StarPU's gamma): kernel
                                 calls go where finish + weight x joules is smallest; 0 = ignore
                                 energy; < 0 or NaN is invalid */
    int32_t pin_workers;      /* non-zero: pin each worker to one CPU of its NUMA node
                                 (VEDA_ERR_UNSUPPORTED where pinning is impossible) */
    /* later fields only after these */
} veda_config;

/*
 * veda_config_init fills *cfg with the defaults: struct_size = sizeof(veda_config),
 * num_workers = 0, policy = VEDA_POLICY_ADAPTIVE, seed = 0, strategy = NULL, gpu_threshold = 0,
 * disable_gpu = 0, record_decisions = 0, max_power_watts = 0, max_temp_celsius = 0,
 * energy_weight = 0, pin_workers = 0. Does nothing if cfg is NULL.
 * Thread-safe (touches only *cfg); works in a forked child.
 */
VEDA_API void veda_config_init(veda_config *cfg);

/*
 * veda_runtime_create starts a runtime configured by cfg (NULL = defaults) and stores its handle
 * in *out. The caller owns the handle and frees it with veda_runtime_destroy. Thread-safe.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_INVALID_ARGUMENT: out is NULL, cfg->struct_size is too small (not initialised),
 *     num_workers < 0, policy is not a VEDA_POLICY_* value, or strategy is not a known name
 *     (*out is then NULL);
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
 * at a time (a second concurrent wait still returns, polling).
 *
 * Cost: a group created inside a callback running on rt (a group per call of a recursive
 * function) is held by the calling worker and never enters the Go runtime: create, spawn, wait
 * and destroy cost about 0.1 us per task (spawned tasks go on the worker's deque; a wait runs
 * them itself unless they were stolen, and enters the runtime only to wait for stolen ones).
 * Spawning into such a group from a thread that is not one of rt's workers costs one call into
 * the runtime per task. A group created on any other thread costs a call into the runtime per
 * create, spawn, wait and destroy (about 1-3 us each). The handle rules are the same for both.
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
 * veda_sum_f32 stores the sum of the floats x[0..n) in *out, accumulated in double (each element
 * is widened exactly first), with the guarantees of veda_sum_f64 when it runs on the CPU. The
 * dispatcher may run it on a device (an OpenCL or CUDA device, also accumulating in double);
 * a device's result may differ from the CPU's in the last bits. x may be unaligned.
 * Returns as veda_sum_f64.
 */
VEDA_API veda_status veda_sum_f32(veda_runtime *rt, int64_t n, const float *x, double *out);

/*
 * veda_dot_f32 stores sum(x[i]*y[i]) for 0 <= i < n in *out; the products are exact in double and
 * summed as veda_sum_f64 does. n == 0 stores 0.0 (x, y may then be NULL).
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, n < 0, out NULL, x or y
 * NULL with n > 0); VEDA_ERR_CLOSED; VEDA_ERR_DEVICE; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_dot_f32(veda_runtime *rt, int64_t n, const float *x, const float *y,
                                  double *out);

/*
 * veda_sum_f64_strided stores in *out the sum of the doubles of an ndim-dimensional strided
 * array: element (i0, ..., i[ndim-1]) is at base + sum(i[d] * strides_bytes[d]) for
 * 0 <= i[d] < shape[d]. Strides are in bytes and may be negative, zero or unaligned (a numpy
 * view's __array_interface__ fits as it is); nothing is copied. ndim == 0 sums the one element at
 * base. The sum is compensated and deterministic: it depends only on the layout and the values,
 * not on worker count; a layout that is dense after reordering dimensions gives exactly
 * veda_sum_f64 of that memory. Runs on the CPU workers. base must be valid for every addressed
 * element; the library cannot check that. shape and strides_bytes are read during the call only.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, out NULL, ndim < 0 or
 * > 32, shape or strides_bytes NULL with ndim > 0, a negative extent, an element count that
 * overflows, base NULL with at least one element); VEDA_ERR_CLOSED; VEDA_ERR_UNSUPPORTED (forked
 * child).
 */
VEDA_API veda_status veda_sum_f64_strided(veda_runtime *rt, const void *base, int32_t ndim,
                                          const int64_t *shape, const int64_t *strides_bytes,
                                          double *out);

/* veda_sum_f32_strided is veda_sum_f64_strided for float elements (accumulated in double). */
VEDA_API veda_status veda_sum_f32_strided(veda_runtime *rt, const void *base, int32_t ndim,
                                          const int64_t *shape, const int64_t *strides_bytes,
                                          double *out);

/*
 * veda_distribute_sum_f32 sums count float arrays as one batch spread over all devices of rt
 * (each item goes where the dispatch strategy places it; items run concurrently): sums[i]
 * receives the sum of arrays[i][0..lengths[i]), accumulated in double. If statuses is not NULL,
 * statuses[i] receives item i's status: VEDA_OK, or why it failed (VEDA_ERR_INVALID_ARGUMENT for
 * lengths[i] < 0 or arrays[i] NULL with lengths[i] > 0, VEDA_ERR_DEVICE, ...); a failed item's
 * sums[i] is NaN. A bad item does not stop the others. arrays[i] may be NULL when lengths[i] is
 * 0. count == 0 does nothing. The arrays are read during the call only. Thread-safe.
 * Returns:
 *   VEDA_OK: every item succeeded;
 *   the status of the lowest-index failed item when any failed (veda_last_error() says how many
 *     failed and names the first few by index);
 *   VEDA_ERR_INVALID_ARGUMENT (nothing is summed): rt not a runtime handle, count < 0, or
 *     arrays, lengths or sums NULL with count > 0;
 *   VEDA_ERR_CLOSED; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_distribute_sum_f32(veda_runtime *rt, int32_t count,
                                             const float *const *arrays, const int64_t *lengths,
                                             double *sums, veda_status *statuses);

/* ----------------------------------------------------------------------------------------------
 * Devices
 *
 * Device 0 is always the CPU (the runtime's workers). GPU devices follow: OpenCL devices, then
 * CUDA devices, as discovered when the runtime first needs them (drivers are loaded at run time;
 * VEDA_DISABLE_GPU=1 or veda_config.disable_gpu keeps a runtime on the CPU). Indexes are stable
 * for the life of a runtime.
 * --------------------------------------------------------------------------------------------*/

/* Device kinds for veda_device_info.kind. */
enum veda_device_kind {
    VEDA_DEVICE_CPU = 0,    /* the runtime's CPU workers (device 0) */
    VEDA_DEVICE_OPENCL = 1, /* an OpenCL device (a GPU, or a CPU through e.g. PoCL) */
    VEDA_DEVICE_CUDA = 2    /* an NVIDIA GPU through the CUDA driver API */
};

/*
 * veda_device_count returns the number of devices rt can run kernels on (>= 1: device 0 is the
 * CPU), or -1 if rt is not a live runtime or the process is a forked child. The first call on a
 * runtime discovers the devices (milliseconds to a second, once). Thread-safe.
 */
VEDA_API int32_t veda_device_count(veda_runtime *rt);

/*
 * veda_device_info describes one device, with its dispatch statistics at the time of the call.
 * Call veda_device_info_init first (it sets struct_size). Strings are NUL-terminated UTF-8,
 * truncated to their array (at a character boundary) if longer; "" when unknown.
 */
typedef struct veda_device_info {
    uint32_t struct_size;   /* set by veda_device_info_init */
    int32_t index;          /* 0 .. veda_device_count()-1; 0 is the CPU */
    int32_t kind;           /* VEDA_DEVICE_* */
    char name[128];         /* e.g. "NVIDIA H100 80GB HBM3", the CPU model for device 0 */
    char vendor[64];
    uint64_t memory_bytes;  /* global memory (device 0: the host's memory) */
    int32_t compute_units;  /* multiprocessors / compute units (device 0: CPU workers) */
    /* ---- the fields above are the mandatory prefix; later ones are filled if struct_size
       covers them ---- */
    int32_t max_work_group_size; /* largest work-group / block (device 0: 1) */
    char driver_version[64];
    char platform[64];           /* the OpenCL platform name; other kinds: their backend */
    int32_t fp64;                /* 1 if the device computes in double precision */
    /* Dispatch statistics (since the runtime started). */
    uint64_t dispatched;         /* kernel calls placed on the device */
    uint64_t completed;          /* calls that ended without error */
    uint64_t failed;             /* calls that ended with an error */
    int64_t queue_depth;         /* calls placed and not yet ended */
    double ema_throughput;       /* moving average of measured compute throughput, bytes/s */
    double peak_throughput;      /* highest ema_throughput seen, bytes/s */
    double bandwidth;            /* host<->device bandwidth the cost model uses, bytes/s */
    uint64_t bytes_to_device;    /* bytes copied host -> device */
    uint64_t bytes_from_device;  /* bytes copied device -> host */
    int64_t busy_ns;             /* summed run time of completed calls, nanoseconds */
    /* later fields only after these */
} veda_device_info;

/*
 * veda_device_info_init zeroes *info and sets info->struct_size = sizeof(veda_device_info). Does
 * nothing if info is NULL. Works in a forked child.
 */
VEDA_API void veda_device_info_init(veda_device_info *info);

/*
 * veda_device_info_get fills *out with device index of rt. Only the first out->struct_size bytes
 * are written (struct_size itself is left as it is), so a caller built against an older, shorter
 * veda_device_info keeps working. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, out NULL, out->struct_size
 * smaller than the mandatory prefix (up to compute_units), index < 0 or >= veda_device_count);
 * VEDA_ERR_CLOSED; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_device_info_get(veda_runtime *rt, int32_t index, veda_device_info *out);

/*
 * veda_runtime_pin_device makes every later kernel call on rt (built-in and user kernels) run on
 * device index, with no fallback: a device failure is returned to the caller. -1 restores
 * automatic placement. Takes effect for calls that start after it returns. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, index < -1 or
 * >= veda_device_count); VEDA_ERR_CLOSED; VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_runtime_pin_device(veda_runtime *rt, int32_t index);

/* ----------------------------------------------------------------------------------------------
 * User kernels
 *
 * A user kernel is OpenCL C and/or CUDA C source, compiled at run time for every device of the
 * runtime that has a source in its language (compiled programs are cached on disk). It runs over
 * a 1-D range of n: OpenCL launches n work-items (get_global_id(0) < n); CUDA launches
 * ceil(n/256) blocks of 256 threads, so a CUDA kernel must be extern "C" and compare its index
 * with an n passed to it as a scalar. Buffers are copied to the device before the launch and
 * back after it, as their kind says. The CPU (device 0) does not run user kernels.
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_kernel is an opaque handle on a compiled user kernel of one runtime. Created by
 * veda_kernel_create, freed by veda_kernel_destroy. Any number of threads may run one kernel at
 * once; veda_kernel_destroy waits for runs in flight. Destroy kernels before or after their
 * runtime; a kernel whose runtime was destroyed returns VEDA_ERR_CLOSED from run.
 */
typedef struct veda_kernel veda_kernel;

/* Argument kinds for veda_arg.kind. */
enum veda_arg_kind {
    VEDA_ARG_IN = 0,    /* buffer copied host -> device before the launch (const pointer) */
    VEDA_ARG_OUT = 1,   /* buffer copied device -> host after the launch (its old contents are
                           not copied in) */
    VEDA_ARG_INOUT = 2, /* both */
    VEDA_ARG_SCALAR = 3, /* a value passed by value: ptr points at it, bytes is its size (1..64);
                           its type must match the kernel parameter (int, float, long, ...) */
    VEDA_ARG_BUFFER = 4  /* ptr is a veda_buffer *, bytes is ignored; the kernel reads and writes
                           the buffer on its device, and nothing is copied (see veda_buffer) */
};

/*
 * veda_arg is one kernel argument, in the kernel's parameter order. Set struct_size to
 * sizeof(veda_arg) (or use VEDA_ARG_INIT). In an array every element must carry the same
 * struct_size, which is the array's stride. Buffer memory may be unaligned; it must stay valid
 * (and, for OUT/INOUT, writable) during the run.
 */
typedef struct veda_arg {
    uint32_t struct_size; /* sizeof(veda_arg) */
    int32_t kind;         /* VEDA_ARG_* */
    void *ptr;            /* the host buffer, or the scalar's value */
    size_t bytes;         /* buffer size in bytes (0 allowed: ptr may then be NULL), or the
                             scalar's size */
    /* later fields only after these */
} veda_arg;

/* VEDA_ARG_INIT(kind, ptr, bytes) is a veda_arg initializer: veda_arg a = VEDA_ARG_INIT(...). */
#define VEDA_ARG_INIT(kind, ptr, bytes) {(uint32_t)sizeof(veda_arg), (kind), (void *)(ptr), (bytes)}

/*
 * veda_kernel_create compiles the kernel function name from opencl_src (for OpenCL devices)
 * and/or cuda_src (for CUDA devices); NULL or "" means no source in that language. On success
 * *out holds the kernel handle (the caller frees it with veda_kernel_destroy); on failure *out is
 * NULL. The sources are copied. Blocks while compiling (tens of milliseconds to seconds; a disk
 * cache hit is faster). Thread-safe.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_INVALID_ARGUMENT: rt not a runtime handle, out NULL, name NULL or blank, no source;
 *   VEDA_ERR_DEVICE: the source does not compile for a device; veda_last_error() holds the
 *     device, the driver's message and the full build log (it may be long);
 *   VEDA_ERR_UNSUPPORTED: no device of rt can run it (no GPU backend with a source in its
 *     language; the message gives each backend's reason), or a forked child;
 *   VEDA_ERR_CLOSED; VEDA_ERR_OUT_OF_MEMORY.
 */
VEDA_API veda_status veda_kernel_create(veda_runtime *rt, const char *opencl_src,
                                        const char *cuda_src, const char *name, veda_kernel **out);

/*
 * veda_kernel_run_1d launches k over [0, n) with the nargs arguments args[0..nargs) on a device
 * chosen by the runtime's strategy (or the pinned device), and blocks until the OUT/INOUT buffers
 * hold the results. A device failure falls back to another device that has the kernel unless a
 * device is pinned. n == 0 checks the arguments and launches nothing. Thread-safe.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_INVALID_ARGUMENT: k not a live kernel, n < 0, nargs < 0, args NULL with nargs > 0,
 *     args[i].struct_size too small or different from args[0].struct_size, a kind that is not
 *     VEDA_ARG_*, a buffer with ptr NULL and bytes > 0, a scalar with ptr NULL or bytes outside
 *     1..64 (the message names the argument index);
 *   VEDA_ERR_UNSUPPORTED: rt is pinned to a device the kernel was not compiled for, or a forked
 *     child;
 *   VEDA_ERR_DEVICE: the launch failed (driver message); VEDA_ERR_OUT_OF_MEMORY: device memory;
 *   VEDA_ERR_CLOSED: the kernel's runtime was destroyed.
 */
VEDA_API veda_status veda_kernel_run_1d(veda_kernel *k, int64_t n, const veda_arg *args,
                                        int32_t nargs);

/*
 * veda_kernel_destroy waits for runs of k in flight, releases its compiled programs and
 * invalidates the handle.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (k NULL, never created or already destroyed);
 * VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_kernel_destroy(veda_kernel *k);

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

/*
 * veda_runtime_record_decisions turns the recording of dispatch decisions on (on != 0) or off.
 * Recording keeps the last 1024 decisions and costs about 80 ns per kernel call; it is off unless
 * veda_config.record_decisions was set. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle); VEDA_ERR_CLOSED;
 * VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_runtime_record_decisions(veda_runtime *rt, int32_t on);

/*
 * veda_decisions_json writes the recorded dispatch decisions, oldest first, as one JSON array into
 * buf, following the protocol above. Each element is an object with snake_case keys, among them
 * "seq", "kernel" ("sum_f32", "user:<name>", ...), "bytes", "device" (the chosen index), "kind"
 * ("cpu", "opencl", "cuda"), "reason" and "candidates" (each candidate's estimate). "[]" when
 * nothing was recorded.
 * Returns as veda_metrics_json.
 */
VEDA_API veda_status veda_decisions_json(veda_runtime *rt, char *buf, size_t cap, size_t *len);

/* ----------------------------------------------------------------------------------------------
 * Cancellation of blocking calls (the Python binding's Ctrl-C, issue 15)
 *
 * A veda_cancel is a one-shot cancellation token. A thread binds one with veda_thread_set_cancel;
 * while it is bound, every blocking call that thread makes (veda_parallel_for,
 * veda_parallel_reduce, the built-in kernels and sums, veda_distribute_sum_f32,
 * veda_kernel_run_1d, veda_future_wait) observes it: once veda_cancel_trigger was called (from any
 * thread), the call starts no new chunk, waits for the chunks already running and returns
 * VEDA_ERR_CANCELLED. A call that finished its work before the trigger returns its result. A
 * triggered token stays triggered; create a new one for later calls. Tokens are goveda contexts:
 * cancellation is goveda's, this only names it in C.
 * --------------------------------------------------------------------------------------------*/

/* veda_cancel is an opaque handle; created by veda_cancel_create, freed by veda_cancel_destroy.
 * Any thread may trigger it; it may stay bound to a thread after it was triggered or destroyed
 * (a destroyed token binds nothing: calls then run uncancellable). */
typedef struct veda_cancel veda_cancel;

/* veda_cancel_create makes a new untriggered token in *out. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (out NULL); VEDA_ERR_UNSUPPORTED (forked child). */
VEDA_API veda_status veda_cancel_create(veda_cancel **out);

/* veda_cancel_trigger cancels c: blocking calls of the threads it is bound to return
 * VEDA_ERR_CANCELLED as described above. Idempotent; any thread; never blocks (not
 * async-signal-safe: call it from a thread, not from a signal handler).
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (c not a live token); VEDA_ERR_UNSUPPORTED. */
VEDA_API veda_status veda_cancel_trigger(veda_cancel *c);

/* veda_cancel_is_triggered returns 1 if c was triggered, 0 if not, -1 if c is not a live token. */
VEDA_API int32_t veda_cancel_is_triggered(veda_cancel *c);

/* veda_cancel_destroy frees c (calls bound to it keep their cancellation state). The handle is
 * invalid afterwards. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (c NULL, forged or already
 * destroyed); VEDA_ERR_UNSUPPORTED (forked child). */
VEDA_API veda_status veda_cancel_destroy(veda_cancel *c);

/* veda_thread_set_cancel binds c to the calling thread for its later blocking calls (replacing
 * any earlier binding); NULL unbinds. Only the calling thread is affected. Costs one C store;
 * a bound thread's calls cost one token lookup more.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (c neither NULL nor a live token: nothing is
 * bound then); VEDA_ERR_UNSUPPORTED (forked child). */
VEDA_API veda_status veda_thread_set_cancel(veda_cancel *c);

/* ==== Timeline traces and live metrics ===========================================================
 *
 * A trace records what ran where: task and chunk runs per worker, waits (helping or idle),
 * parking, steals, dispatch decisions, kernel runs and transfers per device engine, pipeline
 * stage runs. It is written as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
 * chrome://tracing open; `veda trace summarize|plot FILE` reads it. Setting VEDA_TRACE=path in
 * the environment traces every runtime of a process without code changes (written when the
 * runtime is destroyed, or at exit() for a runtime the program never destroyed). At most one
 * trace per runtime at a time. A veda_join half or a task of a group created inside a callback
 * that the calling worker runs itself (not stolen) is part of its caller's slice, as a plain
 * function call would be; stolen ones are slices of their own ("join", "group").
 */

/* veda_trace_start starts tracing rt into the file path, created (or truncated) now, so an
 * unwritable path fails here. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt or path NULL/empty, a trace already running,
 * or the file cannot be created: the message names path and the reason); VEDA_ERR_CLOSED;
 * VEDA_ERR_UNSUPPORTED (forked child). */
VEDA_API veda_status veda_trace_start(veda_runtime *rt, const char *path);

/* veda_trace_stop stops rt's trace and writes the file. Blocks while writing (about 1 s per
 * million events). Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (no trace running); VEDA_ERR_INTERNAL (a write
 * error: the message says which); VEDA_ERR_CLOSED; VEDA_ERR_UNSUPPORTED (forked child). */
VEDA_API veda_status veda_trace_stop(veda_runtime *rt);

/* veda_metrics_serve serves rt's metrics over HTTP in the Prometheus text exposition format at
 * http://addr/metrics. addr is "host:port"; NULL means "127.0.0.1:9464" (loopback only: it binds
 * only where told). The socket is bound before the call returns. Destroying rt stops it.
 * Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (addr malformed, or taken: the message says so);
 * VEDA_ERR_CLOSED; VEDA_ERR_UNSUPPORTED (forked child). */
VEDA_API veda_status veda_metrics_serve(veda_runtime *rt, const char *addr);

/* veda_metrics_stop stops every metrics server of rt. Thread-safe.
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (none running); VEDA_ERR_CLOSED;
 * VEDA_ERR_UNSUPPORTED (forked child). */
VEDA_API veda_status veda_metrics_stop(veda_runtime *rt);

/* ---- The shared runtime (one pool per process) --------------------------------------------- */

/*
 * veda_runtime_shared returns the process-wide runtime, creating it on first use with the defaults
 * and VEDA_* environment (VEDA_NUM_WORKERS, VEDA_STRATEGY, ...). Every caller in the process (C,
 * Python's veda.runtime(), goveda code inside libveda.so) gets the same pool. Reference-counted:
 * each successful call must be paired with one veda_runtime_destroy, and the last one stops it
 * (waits for its in-flight work, stops the workers); a later call starts a new one.
 * Each successful call stores a handle of its own in *out (handles of one pool compare unequal):
 * destroy each exactly once; a handle destroyed twice gets VEDA_ERR_CLOSED, and so does any call
 * on it afterwards, while the other handles keep working. Groups and futures created from a
 * handle must be used only while that handle lives. Must not be destroyed from a callback
 * running on the pool if that release could be the last one. Thread-safe.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_INVALID_ARGUMENT: out is NULL, or a VEDA_* variable is invalid (*out is then NULL);
 *   VEDA_ERR_OUT_OF_MEMORY, VEDA_ERR_INTERNAL: the runtime could not start;
 *   VEDA_ERR_UNSUPPORTED: called in a forked child.
 */
VEDA_API veda_status veda_runtime_shared(veda_runtime **out);

/* ---- Fork-join from C (veda_join) ----------------------------------------------------------- */

/*
 * veda_join runs fa(ca) and fb(cb), possibly in parallel, and returns when both have returned.
 * The caller helps (runs other work) while it waits. Called from a callback running on rt (the
 * recursive case: fib, divide and conquer), fb is queued for thieves and fa runs at once on the
 * calling worker, which then runs fb itself unless it was stolen. There the join does not enter
 * the Go runtime at all unless fb was stolen: a record on the caller's stack goes on the worker's
 * own deque (about 0.1 us per join, no allocation; past 256 nested joins on one worker, a join
 * takes the ordinary path, one call into the runtime). Called from an application thread, the
 * join runs on a worker and the thread blocks until both returned (the pool's worker count stays
 * the cap on callbacks running at once). Nests to any depth without deadlock. Thread-safe.
 * Returns:
 *   VEDA_OK;
 *   VEDA_ERR_TASK_FAILED: fa or fb returned non-zero (both still ran; the message names the code);
 *   VEDA_ERR_INVALID_ARGUMENT: fa or fb is NULL (nothing runs), or rt is not a runtime handle;
 *   VEDA_ERR_CLOSED: rt was destroyed;
 *   VEDA_ERR_UNSUPPORTED: called in a forked child.
 */
VEDA_API veda_status veda_join(veda_runtime *rt, veda_task_fn fa, void *ca, veda_task_fn fb, void *cb);

/* ---------------------------------------------------------------------------------------------
 * Energy (energy-aware scheduling: power, energy and temperature)
 * --------------------------------------------------------------------------------------------*/

/*
 * veda_energy_json writes rt's energy report as one JSON object into buf, following the text
 * protocol of veda_metrics_json. Keys (snake_case): "devices" (an array; each element has
 * "device" (index, 0 = CPU; -1 for a GPU the runtime has not discovered), "name", "kind",
 * "joules", "average_watts", "source" ("rapl", "nvml" or "estimated"), "basis" (which counters,
 * or the estimate's power model) and "readable"), "total_joules", "average_watts", "seconds"
 * (since the runtime started), "estimated" (true when any figure is an estimate),
 * "max_power_watts", "max_temp_celsius", "energy_weight", "worker_cap", "resizes" (each cap
 * change with its "reason", e.g. "power 61 W > budget 50 W"), "temperatures", "max_celsius",
 * "temp_ok" and "sensors" (each sensor's "name", "available", "detail", "reason", "fix"). A
 * sensor that cannot be read is reported as unavailable with the reason, never as 0 W.
 * Thread-safe. The first call may wait for sensor discovery (milliseconds).
 * Returns as veda_metrics_json.
 */
VEDA_API veda_status veda_energy_json(veda_runtime *rt, char *buf, size_t cap, size_t *len);

/* ---- Device-resident buffers, N-D and asynchronous kernel launches (issue 16) --------------- */

/*
 * veda_buffer is an opaque handle on memory resident on one device of a runtime: device 0 (the
 * CPU) keeps it in host memory, devices 1.. in device memory from the device's pool. Data written
 * to a buffer stays on the device between kernels; a kernel call whose buffer arguments are all
 * on one device runs there, with no dispatch decision and no copy of those arguments. Buffers of
 * two devices in one call are VEDA_ERR_INVALID_ARGUMENT. Device out-of-memory is
 * VEDA_ERR_OUT_OF_MEMORY and never falls back to the CPU (the data is on the device).
 * Ownership: the caller owns the handle and frees it with veda_buffer_destroy (before or after
 * destroying its runtime). Thread-safety: any thread may use a buffer; the operations on the
 * buffers of one device (reads, writes, kernels on buffers and their _async forms) run in the
 * order they were called, one at a time, on that device's queue.
 */
typedef struct veda_buffer veda_buffer;

/*
 * veda_buffer_create allocates bytes on device (0 = CPU, 1.. as veda_device_info_get lists
 * them) and stores the handle in *out (NULL on failure). Contents are undefined until written.
 * Thread-safe. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime, out NULL, a device
 * index that does not exist, bytes == 0 or more than the device's memory);
 * VEDA_ERR_OUT_OF_MEMORY (the device has no room after trimming its pool); VEDA_ERR_CLOSED;
 * VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_buffer_create(veda_runtime *rt, int32_t device, uint64_t bytes, veda_buffer **out);

/*
 * veda_buffer_write copies bytes bytes from src to b at byte offset offset, after the operations
 * queued on b's device before it, and returns when they are on the device (src may then be
 * reused). Thread-safe. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (b not a live buffer, src NULL
 * with bytes > 0, [offset, offset+bytes) outside the buffer: nothing is copied);
 * VEDA_ERR_DEVICE (driver message); VEDA_ERR_CLOSED (b's runtime was destroyed).
 */
VEDA_API veda_status veda_buffer_write(veda_buffer *b, uint64_t offset, const void *src, uint64_t bytes);

/* veda_buffer_read copies bytes bytes of b at byte offset offset to dst, after the operations
 * queued on b's device before it, and returns when dst holds them. Returns as veda_buffer_write. */
VEDA_API veda_status veda_buffer_read(veda_buffer *b, uint64_t offset, void *dst, uint64_t bytes);

/*
 * veda_buffer_destroy returns b's memory to its device's pool after the operations queued before
 * it, and invalidates the handle. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (b NULL, never
 * created or already destroyed). Not while another thread still uses b.
 */
VEDA_API veda_status veda_buffer_destroy(veda_buffer *b);

/* veda_buffer_info stores b's device index in *device and its size in *bytes (either may be
 * NULL). Thread-safe. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (b not a live buffer);
 * VEDA_ERR_CLOSED. */
VEDA_API veda_status veda_buffer_info(veda_buffer *b, int32_t *device, uint64_t *bytes);

/*
 * Asynchronous forms: each queues the operation and returns at once with a future in *out (the
 * caller releases it with veda_future_release; veda_future_wait returns the operation's status).
 * The memory at src/dst must stay valid, and src unchanged, until the future is done. Argument
 * errors found before queueing are returned at once (*out is then NULL); later ones (a range
 * outside the buffer, a destroyed buffer) complete the future with that status. Thread-safe.
 */
VEDA_API veda_status veda_buffer_write_async(veda_buffer *b, uint64_t offset, const void *src, uint64_t bytes,
                                             veda_future **out);
VEDA_API veda_status veda_buffer_read_async(veda_buffer *b, uint64_t offset, void *dst, uint64_t bytes,
                                            veda_future **out);

/*
 * Built-in kernels on buffers (of one device; they run there, with no copy and no dispatch):
 * veda_saxpy_buffer computes y = a*x + y over the first n floats. veda_dot_f32_buffer and
 * veda_sum_f32_buffer reduce the first n floats (accumulated in double; on the CPU the same
 * compensated, deterministic result as veda_dot_f32 / veda_sum_f32, on a device the device's
 * reproducible reduction): with out NULL the result is stored in *result; with out a buffer of
 * the same device (at least 8 bytes) it stays there as a double in out's first 8 bytes, nothing
 * is copied back, and result may be NULL. Thread-safe (calls on one device run in call order).
 * Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime, a buffer not live or of another
 * runtime, buffers of two devices, n <= 0 or more floats than a buffer holds, out and result both
 * NULL); VEDA_ERR_UNSUPPORTED (out on a device without double precision); VEDA_ERR_DEVICE,
 * VEDA_ERR_OUT_OF_MEMORY; VEDA_ERR_CLOSED.
 */
VEDA_API veda_status veda_saxpy_buffer(veda_runtime *rt, float a, veda_buffer *x, veda_buffer *y, int64_t n);
VEDA_API veda_status veda_dot_f32_buffer(veda_runtime *rt, veda_buffer *x, veda_buffer *y, int64_t n,
                                         veda_buffer *out, double *result);
VEDA_API veda_status veda_sum_f32_buffer(veda_runtime *rt, veda_buffer *x, int64_t n, veda_buffer *out,
                                         double *result);

/*
 * veda_kernel_run launches k over a global range of dims (1..3) extents global[0..dims) in
 * work-groups (OpenCL) or blocks (CUDA) of local[0..dims); local NULL lets the driver choose
 * (CUDA: 256 threads in x). The shape is checked against the device before anything runs: every
 * global extent >= 1 with a product <= 2^40; local extents >= 1, within the device's
 * per-dimension limits and its work-group size; on OpenCL each global extent a multiple of the
 * local one (CUDA rounds the grid up: bound-check indices in the kernel). Arguments as
 * veda_kernel_run_1d, plus VEDA_ARG_BUFFER: with buffer arguments the kernel runs on their device
 * (all must be on one device, not the CPU) in that device's queue order, with no copy of them;
 * without, the runtime places it as veda_kernel_run_1d does. Scalars are copied at the call.
 * Blocks until done (host OUT/INOUT buffers hold the results). Thread-safe.
 * Returns as veda_kernel_run_1d, plus VEDA_ERR_INVALID_ARGUMENT for dims outside 1..3, global
 * NULL, a bad shape, a buffer argument not live, of another runtime or of another device than the
 * others; VEDA_ERR_UNSUPPORTED for buffers on the CPU or on a device the kernel was not compiled
 * for.
 */
VEDA_API veda_status veda_kernel_run(veda_kernel *k, uint32_t dims, const int64_t *global, const int64_t *local,
                                     const veda_arg *args, int32_t nargs);

/*
 * veda_kernel_run_async is veda_kernel_run returning at once with a future in *out (see the
 * asynchronous forms above): host IN/OUT/INOUT memory must stay valid, and IN memory unchanged,
 * until the future is done; the args array itself may be reused at once. Launches with buffer
 * arguments keep their order in the device's queue; others are placed and run independently.
 */
VEDA_API veda_status veda_kernel_run_async(veda_kernel *k, uint32_t dims, const int64_t *global,
                                           const int64_t *local, const veda_arg *args, int32_t nargs,
                                           veda_future **out);

/* veda_transfer_stats counts a device's host<->device copies (every built-in kernel, user kernel
 * and buffer read or write); all zero for the CPU. A chain of kernels on buffers adds nothing. */
typedef struct veda_transfer_stats {
    uint32_t struct_size; /* sizeof(veda_transfer_stats) */
    int64_t h2d_copies, h2d_bytes;
    int64_t d2h_copies, d2h_bytes;
} veda_transfer_stats;

/* veda_device_transfers fills *out (set out->struct_size first) for device index device.
 * Thread-safe. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime, out NULL or
 * struct_size too small, a device that does not exist); VEDA_ERR_CLOSED. */
VEDA_API veda_status veda_device_transfers(veda_runtime *rt, int32_t device, veda_transfer_stats *out);

/* ---- Pipelines (issue 12) -------------------------------------------------------------------- */

/*
 * A pipeline reads items from a source and passes each through its stages in order. A stage is
 * parallel (any number of items at once, any order), serial in order (one at a time, in source
 * order 0, 1, 2, ... without gaps, so it may keep state) or serial out of order (one at a time,
 * any order): oneTBB's filter modes. At most max_in_flight items are alive (produced by the source
 * and not yet finished or dropped), and the declared bytes of the admitted items (the reorder
 * stash of in-order stages included) stay within max_bytes_in_flight; a single item larger than
 * the budget is admitted alone. The source is not called while the bounds are full. Admission
 * uses the size the source declared; a stage that grows *bytes adds the growth when it returns
 * (the count can then go over the budget, by at most the growth of the items in flight), and the
 * source waits until the count is back under the budget.
 *
 * Exactly once: every item the source produced either passes the last stage exactly once (then
 * the caller owns it again) or is given to the drop callback exactly once, never both. When item
 * s fails (a stage returns non-zero, or the source returns an error at s), the source is not
 * called again, items below s still pass every stage (an in-order writer writes a complete
 * prefix), and items above s are dropped (one that already passed a last stage that is not
 * serial in order stays passed). Stages run as tasks on the runtime's workers: a stage may call
 * veda_parallel_for, veda_join or a kernel inside, with no deadlock. Serial stages are preferred:
 * the worker that leaves a serial stage keeps running it while items wait for it.
 *
 * Thread safety: add_stage, run and destroy must not race with a run of the same pipeline (they
 * return VEDA_ERR_INVALID_ARGUMENT); veda_pipeline_cancel may be called from any thread, a stage
 * included. Callbacks are called from worker threads; the source is called by one thread at a
 * time, and so is each serial stage.
 */
typedef struct veda_pipeline veda_pipeline;

#define VEDA_STAGE_PARALLEL            0
#define VEDA_STAGE_SERIAL_IN_ORDER     1
#define VEDA_STAGE_SERIAL_OUT_OF_ORDER 2

/* 1: produced *item (with *bytes, its size for the byte budget; 0 if unknown); 0: end of stream; other: error */
typedef int32_t (*veda_source_fn)(void *ctx, int64_t seq, void **item, uint64_t *bytes);
/* 0: ok, *out (preset to item) goes on, *bytes (preset to the item's size) may change; other: the item failed */
typedef int32_t (*veda_stage_fn)(void *ctx, int64_t seq, void *item, void **out, uint64_t *bytes);
/* called once for each item that will not pass the last stage */
typedef void (*veda_drop_fn)(void *ctx, int64_t seq, void *item);

typedef struct veda_pipeline_options {
    uint32_t     struct_size;
    int32_t      priority;             /* VEDA_PRIORITY_*, default NORMAL */
    int64_t      max_in_flight;        /* 0 = the profile's inflight_segments */
    uint64_t     max_bytes_in_flight;  /* 0 = the profile's memory budget */
    veda_drop_fn drop;                 /* may be NULL */
    void        *drop_ctx;
} veda_pipeline_options;

/* veda_pipeline_options_init fills *opts with the defaults (struct_size, VEDA_PRIORITY_NORMAL,
 * bounds from the profile, no drop callback). Does nothing if opts is NULL. */
VEDA_API void        veda_pipeline_options_init(veda_pipeline_options *opts);
/*
 * veda_pipeline_create makes an empty pipeline on rt (opts NULL = defaults) and stores its handle
 * in *out; free it with veda_pipeline_destroy. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not
 * a runtime handle, out NULL, opts->struct_size too small, priority not a VEDA_PRIORITY_* value,
 * max_in_flight < 0); VEDA_ERR_CLOSED (rt destroyed); VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_pipeline_create(veda_runtime *rt, const veda_pipeline_options *opts /* NULL = defaults */,
                                          veda_pipeline **out);
/* veda_pipeline_add_stage appends a stage (stages run in the order they were added). Returns
 * VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (fn NULL, mode not a VEDA_STAGE_* value, a run in progress,
 * p not a live pipeline handle), and the pipeline is unchanged. */
VEDA_API veda_status veda_pipeline_add_stage(veda_pipeline *p, int32_t mode, veda_stage_fn fn, void *ctx);  /* in order */
/* Blocks until the source ended and every item passed every stage (VEDA_OK), or an item failed
   (VEDA_ERR_TASK_FAILED; veda_last_error names stage index, seq and code), or veda_pipeline_cancel was called
   (VEDA_ERR_CANCELLED). A pipeline may be run again after run returns; not twice at once.
   Bad input runs nothing and returns VEDA_ERR_INVALID_ARGUMENT: source NULL, no stage, a run in
   progress (a stage or source that runs its own pipeline gets this error, not a deadlock), p not
   a live pipeline handle. VEDA_ERR_CLOSED: the runtime was destroyed. A veda_cancel token bound
   to the calling thread (veda_thread_set_cancel) cancels the run too. Called from a VEDA
   callback, the worker helps run the pipeline while it waits. */
VEDA_API veda_status veda_pipeline_run(veda_pipeline *p, veda_source_fn source, void *source_ctx);
VEDA_API veda_status veda_pipeline_cancel(veda_pipeline *p);   /* any thread; no-op if not running */
VEDA_API veda_status veda_pipeline_destroy(veda_pipeline *p);  /* not while running: VEDA_ERR_INVALID_ARGUMENT */

/* ---- Pipeline names and hybrid stages (issue 12) ------------------------------------------- */

/*
 * Names label a pipeline and its stages in veda_metrics_json, veda_metrics_prometheus (the
 * "pipeline" and "stage" labels) and veda_last_error's failure messages. Pipelines sharing a name
 * are reported as one (counters add, peaks take the larger). A pipeline made by
 * veda_pipeline_create is "pipeline-<n>", a stage added by veda_pipeline_add_stage "stage-<index>".
 */
/* veda_pipeline_create_named is veda_pipeline_create with a name (NULL or "": "pipeline-<n>");
 * same errors. */
VEDA_API veda_status veda_pipeline_create_named(veda_runtime *rt, const char *name,
                                                const veda_pipeline_options *opts /* NULL = defaults */,
                                                veda_pipeline **out);
/* veda_pipeline_add_named_stage is veda_pipeline_add_stage with a name (NULL or "":
 * "stage-<index>"); same errors. */
VEDA_API veda_status veda_pipeline_add_named_stage(veda_pipeline *p, const char *name, int32_t mode, veda_stage_fn fn,
                                                   void *ctx);

/* A hybrid stage's device body: as veda_stage_fn, for the device the dispatcher picked for this
 * item (device: its index, >= 1, as in veda_device_info_get). */
typedef int32_t (*veda_device_stage_fn)(void *ctx, int32_t device, int64_t seq, void *item, void **out,
                                        uint64_t *bytes);
/*
 * veda_pipeline_add_hybrid_stage appends a stage with two bodies that do the same thing: cpu runs
 * the item on a worker, dev on a device (it would copy the item there, run a kernel, and copy it
 * back; veda_buffer_create(rt, device, ...) and the *_buffer kernels serve). For each item the
 * runtime's dispatcher picks where it runs, as for a kernel call, from the item's declared bytes:
 * uncalibrated, items of at least the GPU threshold (veda_config.gpu_threshold) go to the
 * least-loaded GPU and smaller ones to the CPU, spilling to an idle GPU when the CPU is saturated;
 * calibrated, the device with the earliest expected finish. A runtime pinned to a device
 * (veda_runtime_pin_device) runs every item there (index 0: cpu). Each pick is a recorded decision
 * with its reason (veda_decisions_json, when recording is on; the kernel is named
 * "pipeline:<pipeline>/<stage>"), and the stage's metrics count the items per device
 * ("device_items", veda_pipeline_stage_device_items_total). A non-zero return from dev counts as
 * a failure of that device: the item runs on the next candidate, the CPU last (pinned: the item
 * fails). Otherwise as veda_pipeline_add_named_stage; VEDA_ERR_INVALID_ARGUMENT also for cpu or
 * dev NULL; device discovery runs first if it had not (VEDA_ERR_CLOSED: rt destroyed).
 */
VEDA_API veda_status veda_pipeline_add_hybrid_stage(veda_pipeline *p, const char *name, int32_t mode,
                                                    veda_stage_fn cpu, void *cpu_ctx,
                                                    veda_device_stage_fn dev, void *dev_ctx);

/* ---- Pipeline graphs (issue 12) -------------------------------------------------------------- */

/*
 * A pipeline graph is a pipeline whose stages (nodes) form a directed acyclic graph: an item can
 * fan out to several branches (each a chain of nodes) and branches merge into one node again;
 * every branch ends at a sink. Node 0 (VEDA_GRAPH_SOURCE) is the source. Every rule of the
 * pipeline contract above holds per copy: the modes, the bounds (counted per source item: all
 * copies of an item are one item and its bytes), exactly once, the failure prefix, cancellation,
 * nesting, priorities (serial nodes are preferred).
 *
 * Copies. Where a node has several out-edges, each successor gets its own copy of the item: the
 * first successor (the first edge added) gets the item itself, each other successor the pointer
 * the copy callback returns (copy(copy_ctx, seq, item), called once per extra branch, on a worker;
 * it cannot fail). With copy NULL every branch gets the same pointer: the nodes then share the
 * item, and drop may be called more than once with that pointer (once per copy), so reference-count
 * it or provide a copy callback. A copy keeps the item's declared bytes.
 *
 * Sequence numbers. The seq passed to node, copy and drop callbacks is the source item's sequence
 * number: every copy of an item carries the same seq (the ctx of each node tells branches apart).
 * A node reached by P paths from the source sees P copies of each item. Their order at a serial
 * in-order node is (seq, path): item 0 by every path, then item 1, and so on, where the paths
 * into a node are numbered in the order its in-edges were added (an edge from a node that is
 * itself reached by several paths contributes those paths in their order there).
 *
 * Exactly once, per copy: every copy either passes a sink exactly once (its *out is ignored: the
 * copy is finished and the caller owns it) or is given to drop exactly once, never both. A node's
 * *out goes on to all its successors (copied as above).
 *
 * Failure. When a copy of item s fails in a node (or the source fails at s), the source is not
 * called again, every copy of the items below s passes every branch to its sink, and every copy of
 * the items above s is dropped; copies of s itself in other branches are dropped, except those
 * that had already passed their sink (at a serial in-order sink, the copies of s that come before
 * the failed one in path order). veda_last_error names the node (its id and name), s and the code.
 *
 * Validation (veda_graph_validate, and veda_graph_run before it runs anything): the source has an
 * edge; there is no cycle (the message names one); every node is reachable from the source; every
 * branch reaches a sink (a node without out-edges must be a sink). Otherwise
 * VEDA_ERR_INVALID_ARGUMENT with a message naming the node, and nothing runs.
 *
 * Thread safety: every function may be called from any thread, concurrently. add_node, add_sink,
 * add_edge, set_node_priority and a second run are refused (VEDA_ERR_INVALID_ARGUMENT, the graph
 * unchanged) while a run is in progress, from a node callback too; veda_graph_cancel may be
 * called from any thread, a node included; destroy is refused while a run is in progress.
 * Callbacks are called from worker threads: the source by one thread at a time, each serial node
 * by one thread at a time.
 */
typedef struct veda_graph veda_graph;
/* A node id: VEDA_GRAPH_SOURCE, or the id add_node/add_sink stored (1, 2, ... in the order added). */
typedef int32_t veda_graph_node;
#define VEDA_GRAPH_SOURCE 0

/* Returns the copy of item for an extra branch at a fan-out (see "Copies" above). */
typedef void *(*veda_copy_fn)(void *ctx, int64_t seq, void *item);

/*
 * veda_graph_create makes a graph with only its source on rt and stores its handle in *out; free it
 * with veda_graph_destroy. opts (NULL = defaults; see veda_pipeline_options) gives the bounds (per
 * source item), the graph's priority (of the source and of the nodes without their own) and drop
 * (called once per copy that does not pass a sink). copy may be NULL (see "Copies"). Returns
 * VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (rt not a runtime handle, out NULL, opts->struct_size too
 * small, priority not a VEDA_PRIORITY_* value, max_in_flight < 0); VEDA_ERR_CLOSED (rt
 * destroyed); VEDA_ERR_UNSUPPORTED (forked child).
 */
VEDA_API veda_status veda_graph_create(veda_runtime *rt, const veda_pipeline_options *opts /* NULL = defaults */,
                                       veda_copy_fn copy /* NULL = same pointer */, void *copy_ctx,
                                       veda_graph **out);
/* veda_graph_create_named is veda_graph_create with a name for the metrics and errors (NULL or "":
 * "pipeline-<n>"; see "Pipeline names and hybrid stages"); same errors. */
VEDA_API veda_status veda_graph_create_named(veda_runtime *rt, const char *name,
                                             const veda_pipeline_options *opts /* NULL = defaults */,
                                             veda_copy_fn copy /* NULL = same pointer */, void *copy_ctx,
                                             veda_graph **out);
/*
 * veda_graph_add_node adds a node that runs fn(ctx, seq, item, &out, &bytes) in mode (VEDA_STAGE_*)
 * and stores its id in *out; connect it with veda_graph_add_edge. veda_graph_add_sink adds a node
 * where branches end (no out-edge; its *out is ignored). name (copied) labels the node in errors
 * and metrics. Returns VEDA_OK; VEDA_ERR_INVALID_ARGUMENT (g not a live graph handle, fn NULL,
 * mode not a VEDA_STAGE_* value, name NULL, empty or already used in g, out NULL, a run in
 * progress), and the graph is unchanged.
 */
VEDA_API veda_status veda_graph_add_node(veda_graph *g, const char *name, int32_t mode, veda_stage_fn fn,
                                         void *ctx, veda_graph_node *out);
VEDA_API veda_status veda_graph_add_sink(veda_graph *g, const char *name, int32_t mode, veda_stage_fn fn,
                                         void *ctx, veda_graph_node *out);
/*
 * veda_graph_add_edge connects from to to: copies that passed from go on to to (in-edges of a node
 * are numbered in the order added; see "Sequence numbers"). Returns VEDA_OK;
 * VEDA_ERR_INVALID_ARGUMENT (g not a live graph handle, an unknown node, an edge into the source,
 * an edge out of a sink, an edge added twice, a run in progress), and the graph is unchanged.
 * Cycles are reported by veda_graph_validate and veda_graph_run.
 */
VEDA_API veda_status veda_graph_add_edge(veda_graph *g, veda_graph_node from, veda_graph_node to);
/*
 * veda_graph_set_node_priority sets the scheduler priority (VEDA_PRIORITY_*) of the tasks that
 * carry copies into node (default: the graph's priority). Returns VEDA_OK;
 * VEDA_ERR_INVALID_ARGUMENT (g not a live graph handle, node unknown or the source, priority not
 * a VEDA_PRIORITY_* value, a run in progress).
 */
VEDA_API veda_status veda_graph_set_node_priority(veda_graph *g, veda_graph_node node, int32_t priority);
/* veda_graph_validate checks the graph (see "Validation"); runs nothing. Returns VEDA_OK or
 * VEDA_ERR_INVALID_ARGUMENT (the message names the problem's node, or g not a live graph handle). */
VEDA_API veda_status veda_graph_validate(veda_graph *g);
/*
 * veda_graph_run validates the graph, then blocks until the source ended and every copy passed its
 * sink (VEDA_OK), or a copy failed (VEDA_ERR_TASK_FAILED; veda_last_error names the node id and
 * name, seq and code), or veda_graph_cancel was called or the thread's veda_cancel token fired
 * (VEDA_ERR_CANCELLED: every alive copy is dropped). A graph may be run again after run returns;
 * not twice at once. Bad input runs nothing and returns VEDA_ERR_INVALID_ARGUMENT: source NULL, a
 * graph that does not validate, a run in progress (a node or source that runs its own graph gets
 * this error, not a deadlock), g not a live graph handle. VEDA_ERR_CLOSED: the runtime was
 * destroyed. Called from a VEDA callback, the worker helps run the graph while it waits.
 */
VEDA_API veda_status veda_graph_run(veda_graph *g, veda_source_fn source, void *source_ctx);
/* veda_graph_cancel stops the run in progress (see veda_graph_run); any thread; returns at once; a
 * no-op if not running. VEDA_ERR_INVALID_ARGUMENT: g not a live graph handle. */
VEDA_API veda_status veda_graph_cancel(veda_graph *g);
/* veda_graph_destroy frees g. VEDA_ERR_INVALID_ARGUMENT: g not a live graph handle (destroyed
 * twice, forged) or a run in progress (destroy it after veda_graph_run returned). */
VEDA_API veda_status veda_graph_destroy(veda_graph *g);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VEDA_H */
