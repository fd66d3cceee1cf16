/* gpublas_loader.c: run-time loaders for cuBLAS and CLBlast (see gpublas_loader.h). */
#include "gpublas_loader.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int (*p_cublasCreate)(vdev_cublas_handle *);
static int (*p_cublasDestroy)(vdev_cublas_handle);
static int (*p_cublasSetStream)(vdev_cublas_handle, CUstream);
static int (*p_cublasGetVersion)(vdev_cublas_handle, int *);
static int (*p_cublasSgemm)(vdev_cublas_handle, int, int, int, int, int, const float *,
                            const float *, int, const float *, int, const float *, float *, int);

static int (*p_clblastSgemm)(int, int, int, size_t, size_t, size_t, float, cl_mem, size_t, size_t,
                             cl_mem, size_t, size_t, float, cl_mem, size_t, size_t,
                             cl_command_queue *, cl_event *);
static int (*p_clblastSaxpy)(size_t, float, cl_mem, size_t, size_t, cl_mem, size_t, size_t,
                             cl_command_queue *, cl_event *);

#define VDEV_RESOLVE(h, var, name)                                   \
    do {                                                             \
        void *s_ = vdev_dlsym(h, name, why, whylen);                 \
        if (s_ == NULL) ok = 0; else memcpy(&var, &s_, sizeof s_);   \
    } while (0)

VDEV_HIDDEN int vdev_cublas_load(const char *path, const char *const *wheel, int nwheel, char *which,
                                 size_t wlen, char *why, size_t whylen) {
    const char *paths[16];
    int np = 0;
    if (path && path[0]) {
        paths[np++] = path;
    } else {
        paths[np++] = "libcublas.so.13";
        for (int i = 0; i < nwheel && np < 16; i++) paths[np++] = wheel[i];
    }
    if (which && wlen) which[0] = 0;
    void *h = NULL;
    int at = -1;
    for (int i = 0; i < np && h == NULL; i++) {
        /* one at a time, so which names the path that opened; why keeps every failure */
        char one[1024];
        h = vdev_dlopen_first(&paths[i], 1, one, sizeof one);
        if (h == NULL && why && whylen) {
            size_t used = strnlen(why, whylen - 1);
            snprintf(why + used, whylen - used, "%s%s", used ? "; " : "", one);
        }
        at = i;
    }
    if (h == NULL) return 0;
    if (why && whylen) why[0] = 0;
    int ok = 1;
    VDEV_RESOLVE(h, p_cublasCreate, "cublasCreate_v2");
    VDEV_RESOLVE(h, p_cublasDestroy, "cublasDestroy_v2");
    VDEV_RESOLVE(h, p_cublasSetStream, "cublasSetStream_v2");
    VDEV_RESOLVE(h, p_cublasGetVersion, "cublasGetVersion_v2");
    VDEV_RESOLVE(h, p_cublasSgemm, "cublasSgemm_v2");
    if (!ok) return 0;
    if (which && wlen) snprintf(which, wlen, "%s", paths[at]);
    return 1;
}

VDEV_HIDDEN int vd_cublasCreate(vdev_cublas_handle *h) { return p_cublasCreate(h); }
VDEV_HIDDEN int vd_cublasDestroy(vdev_cublas_handle h) { return p_cublasDestroy(h); }
VDEV_HIDDEN int vd_cublasSetStream(vdev_cublas_handle h, CUstream s) { return p_cublasSetStream(h, s); }
VDEV_HIDDEN int vd_cublasGetVersion(vdev_cublas_handle h, int *v) { return p_cublasGetVersion(h, v); }

VDEV_HIDDEN int vd_cublas_sgemm_rowmajor(vdev_cublas_handle h, int m, int n, int k, float alpha,
                                         CUdeviceptr a, int lda, CUdeviceptr b, int ldb, float beta,
                                         CUdeviceptr c, int ldc) {
    /* row-major C (m x n) is column-major C^T (n x m) = B^T (n x k) * A^T (k x m) */
    return p_cublasSgemm(h, 0, 0, n, m, k, &alpha, (const float *)(uintptr_t)b, ldb,
                         (const float *)(uintptr_t)a, lda, &beta, (float *)(uintptr_t)c, ldc);
}

VDEV_HIDDEN int vdev_clblast_load(const char *path, char *which, size_t wlen, char *why, size_t whylen) {
    const char *defaults[] = {"libclblast.so.1", "libclblast.so"};
    const char *one[1] = {path};
    int custom = path && path[0];
    if (which && wlen) which[0] = 0;
    void *h = NULL;
    const char *got = NULL;
    if (custom) {
        h = vdev_dlopen_first(one, 1, why, whylen);
        got = path;
    } else {
        h = vdev_dlopen_first(defaults, 1, why, whylen);
        got = defaults[0];
        if (h == NULL) {
            h = vdev_dlopen_first(defaults + 1, 1, why, whylen);
            got = defaults[1];
        }
    }
    if (h == NULL) return 0;
    int ok = 1;
    VDEV_RESOLVE(h, p_clblastSgemm, "CLBlastSgemm");
    VDEV_RESOLVE(h, p_clblastSaxpy, "CLBlastSaxpy");
    if (!ok) return 0;
    if (which && wlen) snprintf(which, wlen, "%s", got);
    return 1;
}
#undef VDEV_RESOLVE

VDEV_HIDDEN int vd_clblast_sgemm(size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t lda,
                                 cl_mem b, size_t ldb, float beta, cl_mem c, size_t ldc,
                                 cl_command_queue *q, cl_event *ev) {
    return p_clblastSgemm(101, 111, 111, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc, q, ev);
}

VDEV_HIDDEN int vd_clblast_saxpy(size_t n, float alpha, cl_mem x, cl_mem y, cl_command_queue *q,
                                 cl_event *ev) {
    return p_clblastSaxpy(n, alpha, x, 0, 1, y, 0, 1, q, ev);
}
