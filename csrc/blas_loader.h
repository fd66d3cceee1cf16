/* blas_loader.h: a CPU BLAS (OpenBLAS, then BLIS, then MKL's runtime) resolved at run time.
 *
 * Like the GPU drivers, no BLAS is linked: vdev_blas_load dlopen()s the first library that opens
 * and exports the CBLAS entry points VEDA uses (cblas_sgemm, cblas_sdot, cblas_ddot, cblas_saxpy)
 * and records why when none does. A missing BLAS is never an error: the built-in kernels run.
 *
 * Threads: the library's own thread pool is set to one thread at load (openblas_set_num_threads,
 * bli_thread_set_num_threads, MKL_Set_Num_Threads when exported), because VEDA's workers call it
 * per tile of C; the library therefore never adds threads beside VEDA's pool.
 *
 * Thread-safety: vdev_blas_load from one thread at a time (the Go side serialises it); the vd_blas_*
 * wrappers from any number of threads at once, only after a successful load. */
#ifndef VDEV_BLAS_LOADER_H
#define VDEV_BLAS_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include "loader.h"

/* vdev_blas_load opens path (NULL or "": the default list libopenblas.so.0, libopenblas.so,
 * libblis.so.4, libblis.so, libmkl_rt.so.2, libmkl_rt.so) and resolves the entry points.
 * coretype (NULL or "": none) becomes OPENBLAS_CORETYPE unless the environment already sets it.
 * Returns 1 with the path that loaded in which; 0 with every path and dlerror() in why. */
VDEV_HIDDEN int vdev_blas_load(const char *path, const char *coretype, char *which, size_t wlen,
                               char *why, size_t whylen);

/* vdev_blas_config returns the library's own description (openblas_get_config, or ""). */
VDEV_HIDDEN const char *vdev_blas_config(void);

/* vd_blas_sgemm computes row-major C = alpha*A*B + beta*C (no transposes) with the loaded BLAS.
 * The caller checks the arguments (all dimensions fit in int). */
VDEV_HIDDEN void vd_blas_sgemm(int m, int n, int k, float alpha, const float *a, int lda,
                               const float *b, int ldb, float beta, float *c, int ldc);
/* vd_blas_sdot returns the float32 dot product (accumulated as the library does). */
VDEV_HIDDEN float vd_blas_sdot(int n, const float *x, const float *y);
/* vd_blas_ddot returns the float64 dot product. */
VDEV_HIDDEN double vd_blas_ddot(int n, const double *x, const double *y);
/* vd_blas_saxpy computes y = a*x + y. */
VDEV_HIDDEN void vd_blas_saxpy(int n, float a, const float *x, float *y);

#endif
