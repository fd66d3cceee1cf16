/* cuda_loader.c: run-time loader for the CUDA driver and NVRTC (see cuda_loader.h). */
#include "cuda_loader.h"

#include <string.h>

#define VDEV_CUDA_PTR(ret, name, sym, params, args) static ret (*p_##name) params;
VDEV_CUDA_FUNCS(VDEV_CUDA_PTR)
VDEV_NVRTC_FUNCS(VDEV_CUDA_PTR)
#undef VDEV_CUDA_PTR

#define VDEV_CUDA_WRAP(ret, name, sym, params, args) \
    VDEV_HIDDEN ret vd_##name params { return p_##name args; }
VDEV_CUDA_FUNCS(VDEV_CUDA_WRAP)
VDEV_NVRTC_FUNCS(VDEV_CUDA_WRAP)
#undef VDEV_CUDA_WRAP

static CUresult (*p_cuGetErrorName)(CUresult, const char **);
static CUresult (*p_cuGetErrorString)(CUresult, const char **);
static CUresult (*p_cuEventElapsedTime)(float *, CUevent, CUevent);
static const char *(*p_nvrtcGetErrorString)(nvrtcResult);

VDEV_HIDDEN int vdev_cuda_load(const char *path, char *why, size_t whylen) {
    const char *defaults[] = {"libcuda.so.1", "libcuda.so"};
    const char *one[1] = {path};
    void *h = (path && path[0]) ? vdev_dlopen_first(one, 1, why, whylen)
                                : vdev_dlopen_first(defaults, 2, why, whylen);
    if (h == NULL) return 0;
    int ok = 1;
#define VDEV_CUDA_SYM(ret, name, sym, params, args) \
    void *s_##name = vdev_dlsym(h, sym, why, whylen); if (s_##name == NULL) ok = 0;
    VDEV_CUDA_FUNCS(VDEV_CUDA_SYM)
    if (!ok) return 0;
#define VDEV_CUDA_SET(ret, name, sym, params, args) memcpy(&p_##name, &s_##name, sizeof(void *));
    VDEV_CUDA_FUNCS(VDEV_CUDA_SET)
    char ignore[8];
    void *s;
    s = vdev_dlsym(h, "cuGetErrorName", ignore, sizeof ignore); memcpy(&p_cuGetErrorName, &s, sizeof s);
    s = vdev_dlsym(h, "cuGetErrorString", ignore, sizeof ignore); memcpy(&p_cuGetErrorString, &s, sizeof s);
    s = vdev_dlsym(h, "cuEventElapsedTime_v2", ignore, sizeof ignore);
    if (s == NULL) s = vdev_dlsym(h, "cuEventElapsedTime", ignore, sizeof ignore);
    memcpy(&p_cuEventElapsedTime, &s, sizeof s);
    return 1;
}

VDEV_HIDDEN int vdev_nvrtc_load(const char *path, char *why, size_t whylen) {
    const char *defaults[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};
    const char *one[1] = {path};
    void *h = (path && path[0]) ? vdev_dlopen_first(one, 1, why, whylen)
                                : vdev_dlopen_first(defaults, 3, why, whylen);
    if (h == NULL) return 0;
    int ok = 1;
    VDEV_NVRTC_FUNCS(VDEV_CUDA_SYM)
    if (!ok) return 0;
    VDEV_NVRTC_FUNCS(VDEV_CUDA_SET)
    char ignore[8];
    void *s = vdev_dlsym(h, "nvrtcGetErrorString", ignore, sizeof ignore);
    memcpy(&p_nvrtcGetErrorString, &s, sizeof s);
    return 1;
}
#undef VDEV_CUDA_SYM
#undef VDEV_CUDA_SET

VDEV_HIDDEN int vdev_cu_error_name(CUresult r, const char **out) {
    if (p_cuGetErrorName == NULL) return -1;
    return p_cuGetErrorName(r, out) == VDEV_CUDA_SUCCESS && *out ? 0 : -1;
}

VDEV_HIDDEN int vdev_cu_error_string(CUresult r, const char **out) {
    if (p_cuGetErrorString == NULL) return -1;
    return p_cuGetErrorString(r, out) == VDEV_CUDA_SUCCESS && *out ? 0 : -1;
}

VDEV_HIDDEN CUresult vdev_cu_event_elapsed(float *ms, CUevent a, CUevent b) {
    if (p_cuEventElapsedTime == NULL) return -1;
    return p_cuEventElapsedTime(ms, a, b);
}

VDEV_HIDDEN void vdev_cu_forget_optional(void) {
    p_cuGetErrorName = NULL;
    p_cuGetErrorString = NULL;
}

VDEV_HIDDEN const char *vdev_nvrtc_error_string(nvrtcResult r) {
    return p_nvrtcGetErrorString ? p_nvrtcGetErrorString(r) : NULL;
}

VDEV_HIDDEN CUresult vdev_cu_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                    unsigned by, unsigned bz, unsigned shmem, CUstream s, void *args,
                                    const size_t *offsets, int nargs) {
    void *params[64];
    if (nargs > 64) return 1; /* CUDA_ERROR_INVALID_VALUE */
    for (int i = 0; i < nargs; i++) params[i] = (char *)args + offsets[i];
    return p_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shmem, s, params, NULL);
}
