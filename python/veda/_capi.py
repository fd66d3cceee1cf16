"""ctypes signatures for include/veda.h, in the header's order.

Each C declaration is quoted in a comment, then its ``argtypes``/``restype``. Callback pointer
parameters are declared ``c_void_p`` so that raw addresses (numba ``@cfunc``.address, ints) and
ctypes function pointers can both be passed; the matching CFUNCTYPE types are defined below.
Status codes become exceptions in exactly one place: :func:`check`.
"""
from __future__ import annotations

import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

from ._errors import Status, VedaError
from ._loader import load_library

lib = load_library()

# typedef int32_t veda_status;
veda_status = c_int32

# enum veda_policy { VEDA_POLICY_ADAPTIVE = 0, ... }; names as goveda's Policy.String(), words
# joined by '-' like the strategy names.
POLICIES = {
    "adaptive": 0,
    "fixed": 1,
    "deterministic": 2,
    "energy-efficient": 3,
    "low-latency": 4,
}
# The older spellings with '_', still accepted.
POLICY_ALIASES = {"energy_efficient": "energy-efficient", "low_latency": "low-latency"}
# enum veda_priority { VEDA_PRIORITY_REALTIME = 0, ... }
PRIORITIES = {"realtime": 0, "high": 1, "normal": 2, "low": 3, "background": 4}

# const char *veda_version(void);
lib.veda_version.argtypes = []
lib.veda_version.restype = c_char_p
# const char *veda_status_string(veda_status status);
lib.veda_status_string.argtypes = [veda_status]
lib.veda_status_string.restype = c_char_p
# const char *veda_last_error(void);
lib.veda_last_error.argtypes = []
lib.veda_last_error.restype = c_char_p


# typedef struct veda_config { uint32_t struct_size; int32_t num_workers; int32_t policy;
#                              uint64_t seed; const char *strategy; uint64_t gpu_threshold;
#                              int32_t disable_gpu; int32_t record_decisions;
#                              double max_power_watts; double max_temp_celsius; double energy_weight;
#                              int32_t pin_workers; } veda_config;
class veda_config(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("num_workers", c_int32),
        ("policy", c_int32),
        ("seed", c_uint64),
        ("strategy", c_char_p),
        ("gpu_threshold", c_uint64),
        ("disable_gpu", c_int32),
        ("record_decisions", c_int32),
        ("max_power_watts", c_double),
        ("max_temp_celsius", c_double),
        ("energy_weight", c_double),
        ("pin_workers", c_int32),
    ]


# Strategy names for veda_config.strategy.
STRATEGIES = ("earliest-finish", "round-robin", "least-loaded", "weighted-capacity",
              "adaptive-throughput")


# typedef struct veda_task_options { uint32_t struct_size; int32_t priority; int64_t deadline_ns; }
class veda_task_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("priority", c_int32), ("deadline_ns", c_int64)]


# typedef int32_t (*veda_range_fn)(void *ctx, int64_t begin, int64_t end);
veda_range_fn = CFUNCTYPE(c_int32, c_void_p, c_int64, c_int64)
# typedef int32_t (*veda_fold_fn)(void *ctx, int64_t begin, int64_t end, void *acc);
veda_fold_fn = CFUNCTYPE(c_int32, c_void_p, c_int64, c_int64, c_void_p)
# typedef void (*veda_combine_fn)(void *ctx, void *acc, const void *other);
veda_combine_fn = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)
# typedef int32_t (*veda_task_fn)(void *ctx);
veda_task_fn = CFUNCTYPE(c_int32, c_void_p)
# typedef void (*veda_callback_fn)(void *user, veda_status status);
veda_callback_fn = CFUNCTYPE(None, c_void_p, veda_status)

# void veda_config_init(veda_config *cfg);
lib.veda_config_init.argtypes = [POINTER(veda_config)]
lib.veda_config_init.restype = None
# veda_status veda_runtime_create(const veda_config *cfg, veda_runtime **out);
lib.veda_runtime_create.argtypes = [POINTER(veda_config), POINTER(c_void_p)]
lib.veda_runtime_create.restype = veda_status
# veda_status veda_runtime_destroy(veda_runtime *rt);
lib.veda_runtime_destroy.argtypes = [c_void_p]
lib.veda_runtime_destroy.restype = veda_status
# veda_status veda_runtime_shared(veda_runtime **out);
lib.veda_runtime_shared.argtypes = [POINTER(c_void_p)]
lib.veda_runtime_shared.restype = veda_status
# int32_t veda_runtime_num_workers(veda_runtime *rt);
lib.veda_runtime_num_workers.argtypes = [c_void_p]
lib.veda_runtime_num_workers.restype = c_int32

# veda_status veda_parallel_for(veda_runtime *rt, int64_t begin, int64_t end, int64_t grain,
#                               veda_range_fn fn, void *ctx);
lib.veda_parallel_for.argtypes = [c_void_p, c_int64, c_int64, c_int64, c_void_p, c_void_p]
lib.veda_parallel_for.restype = veda_status
# The same C function without argtypes, for Runtime.parallel_for's one-chunk calls of a ctypes
# function pointer: their arguments are premade ctypes objects (the runtime's handle as a
# c_void_p, ints from SMALL_I64, the function pointer object itself), so ctypes converts
# nothing. Measured with bench/peers/ctypes_latency.py's 2 ms pause before each call: argtypes
# conversion is about 6 us of a 15 us call whose caches went cold.
veda_parallel_for_premade = type(lib.veda_parallel_for)(("veda_parallel_for", lib))
veda_parallel_for_premade.restype = veda_status
# c_int64 objects for 0..255, shared by all threads: ctypes passes them by value and nothing
# mutates them.
SMALL_I64 = tuple(c_int64(i) for i in range(256))
# veda_status veda_parallel_reduce(veda_runtime *rt, int64_t begin, int64_t end, int64_t grain,
#     size_t acc_size, const void *identity, veda_fold_fn fold, veda_combine_fn combine,
#     void *ctx, void *out);
lib.veda_parallel_reduce.argtypes = [c_void_p, c_int64, c_int64, c_int64, c_size_t, c_void_p,
                                     c_void_p, c_void_p, c_void_p, c_void_p]
lib.veda_parallel_reduce.restype = veda_status

# veda_status veda_group_create(veda_runtime *rt, veda_group **out);
lib.veda_group_create.argtypes = [c_void_p, POINTER(c_void_p)]
lib.veda_group_create.restype = veda_status
# veda_status veda_group_spawn(veda_group *g, veda_task_fn fn, void *ctx);
lib.veda_group_spawn.argtypes = [c_void_p, c_void_p, c_void_p]
lib.veda_group_spawn.restype = veda_status
# veda_status veda_group_wait(veda_group *g);
lib.veda_group_wait.argtypes = [c_void_p]
lib.veda_group_wait.restype = veda_status
# veda_status veda_group_destroy(veda_group *g);
lib.veda_group_destroy.argtypes = [c_void_p]
lib.veda_group_destroy.restype = veda_status

# void veda_task_options_init(veda_task_options *opts);
lib.veda_task_options_init.argtypes = [POINTER(veda_task_options)]
lib.veda_task_options_init.restype = None
# veda_status veda_submit(veda_runtime *rt, veda_task_fn fn, void *ctx,
#                         const veda_task_options *opts, veda_future **out);
lib.veda_submit.argtypes = [c_void_p, c_void_p, c_void_p, POINTER(veda_task_options),
                            POINTER(c_void_p)]
lib.veda_submit.restype = veda_status
# veda_status veda_future_wait(veda_future *f, int64_t timeout_ns);
lib.veda_future_wait.argtypes = [c_void_p, c_int64]
lib.veda_future_wait.restype = veda_status
# int32_t veda_future_is_done(veda_future *f);
lib.veda_future_is_done.argtypes = [c_void_p]
lib.veda_future_is_done.restype = c_int32
# veda_status veda_future_then(veda_future *f, veda_callback_fn cb, void *user);
lib.veda_future_then.argtypes = [c_void_p, c_void_p, c_void_p]
lib.veda_future_then.restype = veda_status
# veda_status veda_future_release(veda_future *f);
lib.veda_future_release.argtypes = [c_void_p]
lib.veda_future_release.restype = veda_status

# veda_status veda_saxpy_f32(veda_runtime *rt, int64_t n, float a, const float *x, float *y);
lib.veda_saxpy_f32.argtypes = [c_void_p, c_int64, c_float, c_void_p, c_void_p]
lib.veda_saxpy_f32.restype = veda_status
# veda_status veda_sum_f64(veda_runtime *rt, int64_t n, const double *x, double *out);
lib.veda_sum_f64.argtypes = [c_void_p, c_int64, c_void_p, POINTER(c_double)]
lib.veda_sum_f64.restype = veda_status
# veda_status veda_sgemm(veda_runtime *rt, int64_t m, int64_t n, int64_t k, float alpha,
#                        const float *a, int64_t lda, const float *b, int64_t ldb,
#                        float beta, float *c, int64_t ldc);
lib.veda_sgemm.argtypes = [c_void_p, c_int64, c_int64, c_int64, c_float, c_void_p, c_int64,
                           c_void_p, c_int64, c_float, c_void_p, c_int64]
lib.veda_sgemm.restype = veda_status
# veda_status veda_sum_f32(veda_runtime *rt, int64_t n, const float *x, double *out);
lib.veda_sum_f32.argtypes = [c_void_p, c_int64, c_void_p, POINTER(c_double)]
lib.veda_sum_f32.restype = veda_status
# veda_status veda_dot_f32(veda_runtime *rt, int64_t n, const float *x, const float *y,
#                          double *out);
lib.veda_dot_f32.argtypes = [c_void_p, c_int64, c_void_p, c_void_p, POINTER(c_double)]
lib.veda_dot_f32.restype = veda_status
# veda_status veda_sum_f64_strided(veda_runtime *rt, const void *base, int32_t ndim,
#     const int64_t *shape, const int64_t *strides_bytes, double *out);
lib.veda_sum_f64_strided.argtypes = [c_void_p, c_void_p, c_int32, POINTER(c_int64),
                                     POINTER(c_int64), POINTER(c_double)]
lib.veda_sum_f64_strided.restype = veda_status
# veda_status veda_sum_f32_strided(veda_runtime *rt, const void *base, int32_t ndim,
#     const int64_t *shape, const int64_t *strides_bytes, double *out);
lib.veda_sum_f32_strided.argtypes = lib.veda_sum_f64_strided.argtypes
lib.veda_sum_f32_strided.restype = veda_status
# veda_status veda_distribute_sum_f32(veda_runtime *rt, int32_t count, const float *const *arrays,
#     const int64_t *lengths, double *sums, veda_status *statuses);
lib.veda_distribute_sum_f32.argtypes = [c_void_p, c_int32, POINTER(c_void_p), POINTER(c_int64),
                                        POINTER(c_double), POINTER(veda_status)]
lib.veda_distribute_sum_f32.restype = veda_status

# enum veda_device_kind { VEDA_DEVICE_CPU = 0, VEDA_DEVICE_OPENCL = 1, VEDA_DEVICE_CUDA = 2 };
DEVICE_KINDS = {0: "cpu", 1: "opencl", 2: "cuda"}

# int32_t veda_device_count(veda_runtime *rt);
lib.veda_device_count.argtypes = [c_void_p]
lib.veda_device_count.restype = c_int32


# typedef struct veda_device_info { ... } veda_device_info;  (same order as veda.h)
class veda_device_info(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("index", c_int32),
        ("kind", c_int32),
        ("name", c_char * 128),
        ("vendor", c_char * 64),
        ("memory_bytes", c_uint64),
        ("compute_units", c_int32),
        ("max_work_group_size", c_int32),
        ("driver_version", c_char * 64),
        ("platform", c_char * 64),
        ("fp64", c_int32),
        ("dispatched", c_uint64),
        ("completed", c_uint64),
        ("failed", c_uint64),
        ("queue_depth", c_int64),
        ("ema_throughput", c_double),
        ("peak_throughput", c_double),
        ("bandwidth", c_double),
        ("bytes_to_device", c_uint64),
        ("bytes_from_device", c_uint64),
        ("busy_ns", c_int64),
    ]


# void veda_device_info_init(veda_device_info *info);
lib.veda_device_info_init.argtypes = [POINTER(veda_device_info)]
lib.veda_device_info_init.restype = None
# veda_status veda_device_info_get(veda_runtime *rt, int32_t index, veda_device_info *out);
lib.veda_device_info_get.argtypes = [c_void_p, c_int32, POINTER(veda_device_info)]
lib.veda_device_info_get.restype = veda_status
# veda_status veda_runtime_pin_device(veda_runtime *rt, int32_t index);
lib.veda_runtime_pin_device.argtypes = [c_void_p, c_int32]
lib.veda_runtime_pin_device.restype = veda_status

# enum veda_arg_kind { VEDA_ARG_IN = 0, VEDA_ARG_OUT = 1, VEDA_ARG_INOUT = 2, VEDA_ARG_SCALAR = 3 };
ARG_IN, ARG_OUT, ARG_INOUT, ARG_SCALAR = 0, 1, 2, 3


# typedef struct veda_arg { uint32_t struct_size; int32_t kind; void *ptr; size_t bytes; } veda_arg;
class veda_arg(Structure):
    _fields_ = [("struct_size", c_uint32), ("kind", c_int32), ("ptr", c_void_p),
                ("bytes", c_size_t)]


# veda_status veda_kernel_create(veda_runtime *rt, const char *opencl_src, const char *cuda_src,
#                                const char *name, veda_kernel **out);
lib.veda_kernel_create.argtypes = [c_void_p, c_char_p, c_char_p, c_char_p, POINTER(c_void_p)]
lib.veda_kernel_create.restype = veda_status
# veda_status veda_kernel_run_1d(veda_kernel *k, int64_t n, const veda_arg *args, int32_t nargs);
lib.veda_kernel_run_1d.argtypes = [c_void_p, c_int64, POINTER(veda_arg), c_int32]
lib.veda_kernel_run_1d.restype = veda_status
# veda_status veda_kernel_destroy(veda_kernel *k);
lib.veda_kernel_destroy.argtypes = [c_void_p]
lib.veda_kernel_destroy.restype = veda_status

# veda_status veda_metrics_json(veda_runtime *rt, char *buf, size_t cap, size_t *len);
lib.veda_metrics_json.argtypes = [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]
lib.veda_metrics_json.restype = veda_status
# veda_status veda_energy_json(veda_runtime *rt, char *buf, size_t cap, size_t *len);
lib.veda_energy_json.argtypes = [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]
lib.veda_energy_json.restype = veda_status
# veda_status veda_metrics_prometheus(veda_runtime *rt, char *buf, size_t cap, size_t *len);
lib.veda_metrics_prometheus.argtypes = [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]
lib.veda_metrics_prometheus.restype = veda_status
# veda_status veda_runtime_record_decisions(veda_runtime *rt, int32_t on);
lib.veda_runtime_record_decisions.argtypes = [c_void_p, c_int32]
lib.veda_runtime_record_decisions.restype = veda_status
# veda_status veda_decisions_json(veda_runtime *rt, char *buf, size_t cap, size_t *len);
lib.veda_decisions_json.argtypes = [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]
lib.veda_decisions_json.restype = veda_status


# ---- Cancellation of blocking calls (issue 15) ----
# veda_status veda_cancel_create(veda_cancel **out);
lib.veda_cancel_create.argtypes = [POINTER(c_void_p)]
lib.veda_cancel_create.restype = veda_status
# veda_status veda_cancel_trigger(veda_cancel *c);
lib.veda_cancel_trigger.argtypes = [c_void_p]
lib.veda_cancel_trigger.restype = veda_status
# int32_t veda_cancel_is_triggered(veda_cancel *c);
lib.veda_cancel_is_triggered.argtypes = [c_void_p]
lib.veda_cancel_is_triggered.restype = c_int32
# veda_status veda_cancel_destroy(veda_cancel *c);
lib.veda_cancel_destroy.argtypes = [c_void_p]
lib.veda_cancel_destroy.restype = veda_status
# veda_status veda_thread_set_cancel(veda_cancel *c);
lib.veda_thread_set_cancel.argtypes = [c_void_p]
lib.veda_thread_set_cancel.restype = veda_status



def last_error() -> str:
    """This thread's ``veda_last_error()`` text."""
    msg = lib.veda_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def status_string(status: int) -> str:
    """``veda_status_string(status)``."""
    return str(lib.veda_status_string(status).decode("utf-8", "replace"))


def error(status: int) -> VedaError:
    """The exception for a non-OK status, with this thread's last error message."""
    return VedaError(status, last_error() or status_string(status))


def check(status: int) -> None:
    """The one place where a veda_status becomes an exception: raise VedaError unless OK.

    Must run on the thread that made the failing call (the message is thread-local).
    """
    if status != Status.OK:
        raise error(status)

# ---- timeline traces and live metrics ------------------------------------------------------
# veda_status veda_trace_start(veda_runtime *rt, const char *path);
lib.veda_trace_start.argtypes = [c_void_p, c_char_p]
lib.veda_trace_start.restype = veda_status
# veda_status veda_trace_stop(veda_runtime *rt);
lib.veda_trace_stop.argtypes = [c_void_p]
lib.veda_trace_stop.restype = veda_status
# veda_status veda_metrics_serve(veda_runtime *rt, const char *addr);
lib.veda_metrics_serve.argtypes = [c_void_p, c_char_p]
lib.veda_metrics_serve.restype = veda_status
# veda_status veda_metrics_stop(veda_runtime *rt);
lib.veda_metrics_stop.argtypes = [c_void_p]
lib.veda_metrics_stop.restype = veda_status

# ---- Device-resident buffers, N-D and asynchronous kernel launches (veda.h, issue 16) --------
# VEDA_ARG_BUFFER = 4: ptr is a veda_buffer *, bytes is ignored.
ARG_BUFFER = 4

# veda_status veda_buffer_create(veda_runtime *rt, int32_t device, uint64_t bytes, veda_buffer **out);
lib.veda_buffer_create.argtypes = [c_void_p, c_int32, c_uint64, POINTER(c_void_p)]
lib.veda_buffer_create.restype = veda_status
# veda_status veda_buffer_write(veda_buffer *b, uint64_t offset, const void *src, uint64_t bytes);
lib.veda_buffer_write.argtypes = [c_void_p, c_uint64, c_void_p, c_uint64]
lib.veda_buffer_write.restype = veda_status
# veda_status veda_buffer_read(veda_buffer *b, uint64_t offset, void *dst, uint64_t bytes);
lib.veda_buffer_read.argtypes = [c_void_p, c_uint64, c_void_p, c_uint64]
lib.veda_buffer_read.restype = veda_status
# veda_status veda_buffer_destroy(veda_buffer *b);
lib.veda_buffer_destroy.argtypes = [c_void_p]
lib.veda_buffer_destroy.restype = veda_status
# veda_status veda_buffer_info(veda_buffer *b, int32_t *device, uint64_t *bytes);
lib.veda_buffer_info.argtypes = [c_void_p, POINTER(c_int32), POINTER(c_uint64)]
lib.veda_buffer_info.restype = veda_status
# veda_status veda_buffer_write_async(veda_buffer *b, uint64_t offset, const void *src, uint64_t bytes,
#                                     veda_future **out);
lib.veda_buffer_write_async.argtypes = [c_void_p, c_uint64, c_void_p, c_uint64, POINTER(c_void_p)]
lib.veda_buffer_write_async.restype = veda_status
# veda_status veda_buffer_read_async(veda_buffer *b, uint64_t offset, void *dst, uint64_t bytes,
#                                    veda_future **out);
lib.veda_buffer_read_async.argtypes = [c_void_p, c_uint64, c_void_p, c_uint64, POINTER(c_void_p)]
lib.veda_buffer_read_async.restype = veda_status
# veda_status veda_saxpy_buffer(veda_runtime *rt, float a, veda_buffer *x, veda_buffer *y, int64_t n);
lib.veda_saxpy_buffer.argtypes = [c_void_p, c_float, c_void_p, c_void_p, c_int64]
lib.veda_saxpy_buffer.restype = veda_status
# veda_status veda_dot_f32_buffer(veda_runtime *rt, veda_buffer *x, veda_buffer *y, int64_t n,
#                                 veda_buffer *out, double *result);
lib.veda_dot_f32_buffer.argtypes = [c_void_p, c_void_p, c_void_p, c_int64, c_void_p, POINTER(c_double)]
lib.veda_dot_f32_buffer.restype = veda_status
# veda_status veda_sum_f32_buffer(veda_runtime *rt, veda_buffer *x, int64_t n, veda_buffer *out,
#                                 double *result);
lib.veda_sum_f32_buffer.argtypes = [c_void_p, c_void_p, c_int64, c_void_p, POINTER(c_double)]
lib.veda_sum_f32_buffer.restype = veda_status
# veda_status veda_kernel_run(veda_kernel *k, uint32_t dims, const int64_t *global,
#                             const int64_t *local, const veda_arg *args, int32_t nargs);
lib.veda_kernel_run.argtypes = [c_void_p, c_uint32, POINTER(c_int64), POINTER(c_int64),
                                POINTER(veda_arg), c_int32]
lib.veda_kernel_run.restype = veda_status
# veda_status veda_kernel_run_async(veda_kernel *k, uint32_t dims, const int64_t *global,
#                                   const int64_t *local, const veda_arg *args, int32_t nargs,
#                                   veda_future **out);
lib.veda_kernel_run_async.argtypes = [c_void_p, c_uint32, POINTER(c_int64), POINTER(c_int64),
                                      POINTER(veda_arg), c_int32, POINTER(c_void_p)]
lib.veda_kernel_run_async.restype = veda_status


# typedef struct veda_transfer_stats { uint32_t struct_size; int64_t h2d_copies, h2d_bytes;
#                                      int64_t d2h_copies, d2h_bytes; } veda_transfer_stats;
class veda_transfer_stats(Structure):
    _fields_ = [("struct_size", c_uint32), ("h2d_copies", c_int64), ("h2d_bytes", c_int64),
                ("d2h_copies", c_int64), ("d2h_bytes", c_int64)]


# veda_status veda_device_transfers(veda_runtime *rt, int32_t device, veda_transfer_stats *out);
lib.veda_device_transfers.argtypes = [c_void_p, c_int32, POINTER(veda_transfer_stats)]
lib.veda_device_transfers.restype = veda_status

# ---- Pipelines (veda.h, issue 12) ------------------------------------------------------------
# #define VEDA_STAGE_PARALLEL 0 / VEDA_STAGE_SERIAL_IN_ORDER 1 / VEDA_STAGE_SERIAL_OUT_OF_ORDER 2
STAGE_PARALLEL, STAGE_SERIAL_IN_ORDER, STAGE_SERIAL_OUT_OF_ORDER = 0, 1, 2
# typedef int32_t (*veda_source_fn)(void *ctx, int64_t seq, void **item, uint64_t *bytes);
veda_source_fn = CFUNCTYPE(c_int32, c_void_p, c_int64, POINTER(c_void_p), POINTER(c_uint64))
# typedef int32_t (*veda_stage_fn)(void *ctx, int64_t seq, void *item, void **out, uint64_t *bytes);
veda_stage_fn = CFUNCTYPE(c_int32, c_void_p, c_int64, c_void_p, POINTER(c_void_p), POINTER(c_uint64))
# typedef void (*veda_drop_fn)(void *ctx, int64_t seq, void *item);
veda_drop_fn = CFUNCTYPE(None, c_void_p, c_int64, c_void_p)


# typedef struct veda_pipeline_options { uint32_t struct_size; int32_t priority;
#     int64_t max_in_flight; uint64_t max_bytes_in_flight; veda_drop_fn drop; void *drop_ctx;
# } veda_pipeline_options;
class veda_pipeline_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("priority", c_int32), ("max_in_flight", c_int64),
                ("max_bytes_in_flight", c_uint64), ("drop", c_void_p), ("drop_ctx", c_void_p)]


# void veda_pipeline_options_init(veda_pipeline_options *opts);
lib.veda_pipeline_options_init.argtypes = [POINTER(veda_pipeline_options)]
lib.veda_pipeline_options_init.restype = None
# veda_status veda_pipeline_create(veda_runtime *rt, const veda_pipeline_options *opts, veda_pipeline **out);
lib.veda_pipeline_create.argtypes = [c_void_p, POINTER(veda_pipeline_options), POINTER(c_void_p)]
lib.veda_pipeline_create.restype = veda_status
# veda_status veda_pipeline_add_stage(veda_pipeline *p, int32_t mode, veda_stage_fn fn, void *ctx);
lib.veda_pipeline_add_stage.argtypes = [c_void_p, c_int32, c_void_p, c_void_p]
lib.veda_pipeline_add_stage.restype = veda_status
# veda_status veda_pipeline_run(veda_pipeline *p, veda_source_fn source, void *source_ctx);
lib.veda_pipeline_run.argtypes = [c_void_p, c_void_p, c_void_p]
lib.veda_pipeline_run.restype = veda_status
# veda_status veda_pipeline_cancel(veda_pipeline *p);
lib.veda_pipeline_cancel.argtypes = [c_void_p]
lib.veda_pipeline_cancel.restype = veda_status
# veda_status veda_pipeline_destroy(veda_pipeline *p);
lib.veda_pipeline_destroy.argtypes = [c_void_p]
lib.veda_pipeline_destroy.restype = veda_status

# ---- Pipeline names and hybrid stages (veda.h, issue 12) -------------------------------------
# typedef int32_t (*veda_device_stage_fn)(void *ctx, int32_t device, int64_t seq, void *item,
#                                         void **out, uint64_t *bytes);
veda_device_stage_fn = CFUNCTYPE(c_int32, c_void_p, c_int32, c_int64, c_void_p, POINTER(c_void_p), POINTER(c_uint64))
# veda_status veda_pipeline_create_named(veda_runtime *rt, const char *name, const veda_pipeline_options *opts,
#                                        veda_pipeline **out);
lib.veda_pipeline_create_named.argtypes = [c_void_p, c_char_p, POINTER(veda_pipeline_options), POINTER(c_void_p)]
lib.veda_pipeline_create_named.restype = veda_status
# veda_status veda_pipeline_add_named_stage(veda_pipeline *p, const char *name, int32_t mode, veda_stage_fn fn,
#                                           void *ctx);
lib.veda_pipeline_add_named_stage.argtypes = [c_void_p, c_char_p, c_int32, c_void_p, c_void_p]
lib.veda_pipeline_add_named_stage.restype = veda_status
# veda_status veda_pipeline_add_hybrid_stage(veda_pipeline *p, const char *name, int32_t mode, veda_stage_fn cpu,
#                                            void *cpu_ctx, veda_device_stage_fn dev, void *dev_ctx);
lib.veda_pipeline_add_hybrid_stage.argtypes = [c_void_p, c_char_p, c_int32, c_void_p, c_void_p, c_void_p, c_void_p]
lib.veda_pipeline_add_hybrid_stage.restype = veda_status

# ---- Pipeline graphs (veda.h, issue 12) ------------------------------------------------------
# #define VEDA_GRAPH_SOURCE 0
GRAPH_SOURCE = 0
# typedef void *(*veda_copy_fn)(void *ctx, int64_t seq, void *item);
veda_copy_fn = CFUNCTYPE(c_void_p, c_void_p, c_int64, c_void_p)
# veda_status veda_graph_create(veda_runtime *rt, const veda_pipeline_options *opts, veda_copy_fn copy,
#                               void *copy_ctx, veda_graph **out);
lib.veda_graph_create.argtypes = [c_void_p, POINTER(veda_pipeline_options), c_void_p, c_void_p, POINTER(c_void_p)]
lib.veda_graph_create.restype = veda_status
# veda_status veda_graph_create_named(veda_runtime *rt, const char *name, const veda_pipeline_options *opts,
#                                     veda_copy_fn copy, void *copy_ctx, veda_graph **out);
lib.veda_graph_create_named.argtypes = [c_void_p, c_char_p, POINTER(veda_pipeline_options), c_void_p, c_void_p,
                                        POINTER(c_void_p)]
lib.veda_graph_create_named.restype = veda_status
# veda_status veda_graph_add_node(veda_graph *g, const char *name, int32_t mode, veda_stage_fn fn, void *ctx,
#                                 veda_graph_node *out);
lib.veda_graph_add_node.argtypes = [c_void_p, c_char_p, c_int32, c_void_p, c_void_p, POINTER(c_int32)]
lib.veda_graph_add_node.restype = veda_status
# veda_status veda_graph_add_sink(veda_graph *g, const char *name, int32_t mode, veda_stage_fn fn, void *ctx,
#                                 veda_graph_node *out);
lib.veda_graph_add_sink.argtypes = [c_void_p, c_char_p, c_int32, c_void_p, c_void_p, POINTER(c_int32)]
lib.veda_graph_add_sink.restype = veda_status
# veda_status veda_graph_add_edge(veda_graph *g, veda_graph_node from, veda_graph_node to);
lib.veda_graph_add_edge.argtypes = [c_void_p, c_int32, c_int32]
lib.veda_graph_add_edge.restype = veda_status
# veda_status veda_graph_set_node_priority(veda_graph *g, veda_graph_node node, int32_t priority);
lib.veda_graph_set_node_priority.argtypes = [c_void_p, c_int32, c_int32]
lib.veda_graph_set_node_priority.restype = veda_status
# veda_status veda_graph_validate(veda_graph *g);
lib.veda_graph_validate.argtypes = [c_void_p]
lib.veda_graph_validate.restype = veda_status
# veda_status veda_graph_run(veda_graph *g, veda_source_fn source, void *source_ctx);
lib.veda_graph_run.argtypes = [c_void_p, c_void_p, c_void_p]
lib.veda_graph_run.restype = veda_status
# veda_status veda_graph_cancel(veda_graph *g);
lib.veda_graph_cancel.argtypes = [c_void_p]
lib.veda_graph_cancel.restype = veda_status
# veda_status veda_graph_destroy(veda_graph *g);
lib.veda_graph_destroy.argtypes = [c_void_p]
lib.veda_graph_destroy.restype = veda_status
