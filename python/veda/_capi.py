"""ctypes signatures for include/veda.h, in the header's order.

Each C declaration is quoted in a comment, then its ``argtypes``/``restype``. Callback pointer
parameters are declared ``c_void_p`` so that raw addresses (numba ``@cfunc``.address, ints) and
ctypes function pointers can both be passed; the matching CFUNCTYPE types are defined below.
Status codes become exceptions in exactly one place: :func:`check`.
"""
from __future__ import annotations

import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

from ._errors import Status, VedaError
from ._loader import load_library

lib = load_library()

# typedef int32_t veda_status;
veda_status = c_int32

# enum veda_policy { VEDA_POLICY_ADAPTIVE = 0, ... }
POLICIES = {
    "adaptive": 0,
    "fixed": 1,
    "deterministic": 2,
    "energy_efficient": 3,
    "low_latency": 4,
}
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
#                              uint64_t seed; } veda_config;
class veda_config(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("num_workers", c_int32),
        ("policy", c_int32),
        ("seed", c_uint64),
    ]


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
# int32_t veda_runtime_num_workers(veda_runtime *rt);
lib.veda_runtime_num_workers.argtypes = [c_void_p]
lib.veda_runtime_num_workers.restype = c_int32

# veda_status veda_parallel_for(veda_runtime *rt, int64_t begin, int64_t end, int64_t grain,
#                               veda_range_fn fn, void *ctx);
lib.veda_parallel_for.argtypes = [c_void_p, c_int64, c_int64, c_int64, c_void_p, c_void_p]
lib.veda_parallel_for.restype = veda_status
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
# int32_t veda_device_count(veda_runtime *rt);
lib.veda_device_count.argtypes = [c_void_p]
lib.veda_device_count.restype = c_int32

# veda_status veda_metrics_json(veda_runtime *rt, char *buf, size_t cap, size_t *len);
lib.veda_metrics_json.argtypes = [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]
lib.veda_metrics_json.restype = veda_status
# veda_status veda_metrics_prometheus(veda_runtime *rt, char *buf, size_t cap, size_t *len);
lib.veda_metrics_prometheus.argtypes = [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]
lib.veda_metrics_prometheus.restype = veda_status

# Not (yet) in veda.h: a float32 sum with a float64 accumulator. Used only if the library
# exports it, with this signature (requested from the C ABI owner):
# veda_status veda_sum_f32(veda_runtime *rt, int64_t n, const float *x, double *out);
HAS_SUM_F32 = hasattr(lib, "veda_sum_f32")
if HAS_SUM_F32:
    lib.veda_sum_f32.argtypes = [c_void_p, c_int64, c_void_p, POINTER(c_double)]
    lib.veda_sum_f32.restype = veda_status


def last_error() -> str:
    """This thread's ``veda_last_error()`` text."""
    msg = lib.veda_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def status_string(status: int) -> str:
    """``veda_status_string(status)``."""
    return lib.veda_status_string(status).decode("utf-8", "replace")


def error(status: int) -> VedaError:
    """The exception for a non-OK status, with this thread's last error message."""
    return VedaError(status, last_error() or status_string(status))


def check(status: int) -> None:
    """The one place where a veda_status becomes an exception: raise VedaError unless OK.

    Must run on the thread that made the failing call (the message is thread-local).
    """
    if status != Status.OK:
        raise error(status)
