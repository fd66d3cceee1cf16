/* cuda_loader.h: the CUDA driver API and NVRTC entry points VEDA uses,
 * declared here (no CUDA headers needed) and resolved at run time.
 *
 * Only the stable _v2 ABI symbols are used, with the primary context
 * (cuDevicePrimaryCtxRetain) and never cuCtxCreate (its signature changed in
 * CUDA 13). Wrappers vd_<name> may be called only after vdev_cuda_load (or
 * vdev_nvrtc_load) succeeded; optional entry points have their own presence
 * checks. Thread-safety is the driver's: every entry point may be called from
 * any thread. */
#ifndef VDEV_CUDA_LOADER_H
#define VDEV_CUDA_LOADER_H

#include <stddef.h>
#include "loader.h"

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;

enum {
    VDEV_CUDA_SUCCESS = 0,
    VDEV_CUDA_ERROR_OUT_OF_MEMORY = 2,
    VDEV_CU_ATTR_MAX_THREADS_PER_BLOCK = 1,
    VDEV_CU_ATTR_MULTIPROCESSOR_COUNT = 16,
    VDEV_CU_ATTR_CC_MAJOR = 75,
    VDEV_CU_ATTR_CC_MINOR = 76,
    VDEV_CU_STREAM_NON_BLOCKING = 1
};

typedef int nvrtcResult;
typedef struct _nvrtcProgram *nvrtcProgram;

/* Required driver entry points: X(return, wrapper name, symbol, (params), (args)) */
#define VDEV_CUDA_FUNCS(X) \
    X(CUresult, cuInit, "cuInit", (unsigned a), (a)) \
    X(CUresult, cuDriverGetVersion, "cuDriverGetVersion", (int *a), (a)) \
    X(CUresult, cuDeviceGetCount, "cuDeviceGetCount", (int *a), (a)) \
    X(CUresult, cuDeviceGet, "cuDeviceGet", (CUdevice *a, int b), (a, b)) \
    X(CUresult, cuDeviceGetName, "cuDeviceGetName", (char *a, int b, CUdevice c), (a, b, c)) \
    X(CUresult, cuDeviceTotalMem, "cuDeviceTotalMem_v2", (size_t *a, CUdevice b), (a, b)) \
    X(CUresult, cuDeviceGetAttribute, "cuDeviceGetAttribute", (int *a, int b, CUdevice c), (a, b, c)) \
    X(CUresult, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *a, CUdevice b), (a, b)) \
    X(CUresult, cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice a), (a)) \
    X(CUresult, cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext a), (a)) \
    X(CUresult, cuCtxSynchronize, "cuCtxSynchronize", (void), ()) \
    X(CUresult, cuStreamCreate, "cuStreamCreate", (CUstream *a, unsigned b), (a, b)) \
    X(CUresult, cuStreamDestroy, "cuStreamDestroy_v2", (CUstream a), (a)) \
    X(CUresult, cuStreamSynchronize, "cuStreamSynchronize", (CUstream a), (a)) \
    X(CUresult, cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr *a, size_t b), (a, b)) \
    X(CUresult, cuMemFree, "cuMemFree_v2", (CUdeviceptr a), (a)) \
    X(CUresult, cuMemHostAlloc, "cuMemHostAlloc", (void **a, size_t b, unsigned c), (a, b, c)) \
    X(CUresult, cuMemFreeHost, "cuMemFreeHost", (void *a), (a)) \
    X(CUresult, cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", (CUdeviceptr a, const void *b, size_t c, CUstream d), (a, b, c, d)) \
    X(CUresult, cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", (void *a, CUdeviceptr b, size_t c, CUstream d), (a, b, c, d)) \
    X(CUresult, cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", (CUdeviceptr a, CUdeviceptr b, size_t c, CUstream d), (a, b, c, d)) \
    X(CUresult, cuModuleLoadData, "cuModuleLoadData", (CUmodule *a, const void *b), (a, b)) \
    X(CUresult, cuModuleUnload, "cuModuleUnload", (CUmodule a), (a)) \
    X(CUresult, cuModuleGetFunction, "cuModuleGetFunction", (CUfunction *a, CUmodule b, const char *c), (a, b, c)) \
    X(CUresult, cuLaunchKernel, "cuLaunchKernel", (CUfunction a, unsigned b, unsigned c, unsigned d, unsigned e, unsigned f, unsigned g, unsigned h, CUstream i, void **j, void **k), (a, b, c, d, e, f, g, h, i, j, k)) \
    X(CUresult, cuEventCreate, "cuEventCreate", (CUevent *a, unsigned b), (a, b)) \
    X(CUresult, cuEventDestroy, "cuEventDestroy_v2", (CUevent a), (a)) \
    X(CUresult, cuEventRecord, "cuEventRecord", (CUevent a, CUstream b), (a, b)) \
    X(CUresult, cuEventSynchronize, "cuEventSynchronize", (CUevent a), (a))

/* Required NVRTC entry points. */
#define VDEV_NVRTC_FUNCS(X) \
    X(nvrtcResult, nvrtcVersion, "nvrtcVersion", (int *a, int *b), (a, b)) \
    X(nvrtcResult, nvrtcCreateProgram, "nvrtcCreateProgram", (nvrtcProgram *a, const char *b, const char *c, int d, const char *const *e, const char *const *f), (a, b, c, d, e, f)) \
    X(nvrtcResult, nvrtcCompileProgram, "nvrtcCompileProgram", (nvrtcProgram a, int b, const char *const *c), (a, b, c)) \
    X(nvrtcResult, nvrtcGetPTXSize, "nvrtcGetPTXSize", (nvrtcProgram a, size_t *b), (a, b)) \
    X(nvrtcResult, nvrtcGetPTX, "nvrtcGetPTX", (nvrtcProgram a, char *b), (a, b)) \
    X(nvrtcResult, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize", (nvrtcProgram a, size_t *b), (a, b)) \
    X(nvrtcResult, nvrtcGetProgramLog, "nvrtcGetProgramLog", (nvrtcProgram a, char *b), (a, b)) \
    X(nvrtcResult, nvrtcDestroyProgram, "nvrtcDestroyProgram", (nvrtcProgram *a), (a))

#define VDEV_CUDA_DECL(ret, name, sym, params, args) VDEV_HIDDEN ret vd_##name params;
VDEV_CUDA_FUNCS(VDEV_CUDA_DECL)
VDEV_NVRTC_FUNCS(VDEV_CUDA_DECL)
#undef VDEV_CUDA_DECL

/* vdev_cuda_load opens the driver (path, or libcuda.so.1 then libcuda.so),
 * resolves the required entry points and the optional ones (cuGetErrorName,
 * cuGetErrorString, cuEventElapsedTime[_v2]). Returns 1, or 0 with why. */
VDEV_HIDDEN int vdev_cuda_load(const char *path, char *why, size_t whylen);
/* vdev_nvrtc_load opens NVRTC (path, or libnvrtc.so.13, .12, libnvrtc.so). */
VDEV_HIDDEN int vdev_nvrtc_load(const char *path, char *why, size_t whylen);

/* Optional entry points: each returns -1 when the driver lacks it. */
VDEV_HIDDEN int vdev_cu_error_name(CUresult r, const char **out);
VDEV_HIDDEN int vdev_cu_error_string(CUresult r, const char **out);
VDEV_HIDDEN CUresult vdev_cu_event_elapsed(float *ms, CUevent a, CUevent b);
/* vdev_cu_forget_optional drops the optional entry points (tests only). */
VDEV_HIDDEN void vdev_cu_forget_optional(void);
VDEV_HIDDEN const char *vdev_nvrtc_error_string(nvrtcResult r);

/* vdev_cu_launch builds the kernelParams array from a packed argument block:
 * argument i lives at args + offsets[i]. */
VDEV_HIDDEN CUresult vdev_cu_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                    unsigned by, unsigned bz, unsigned shmem, CUstream s, void *args,
                                    const size_t *offsets, int nargs);

#endif
