/* gpublas_loader.h: the GPU vendor BLAS libraries, resolved at run time like the drivers.
 *
 *   cuBLAS (CUDA):   libcublas.so.13, from the system or from the nvidia-cublas wheel
 *                    (site-packages/nvidia/cu13/lib); cublasCreate_v2, cublasDestroy_v2,
 *                    cublasSetStream_v2, cublasSgemm_v2, cublasGetVersion_v2.
 *   CLBlast (OpenCL): libclblast.so.1 (Debian libclblast1); CLBlastSgemm, CLBlastSaxpy.
 *
 * A failed load records why (every path with dlerror()); the built-in kernels then run. Types are
 * the ones of ocl_loader.h and cuda_loader.h; the libraries' enums are passed as the int values of
 * their headers (row-major 101, no transpose 111 for CLBlast; CUBLAS_OP_N 0).
 *
 * Thread-safety: the loads from one thread at a time (the Go side serialises them); the vd_*
 * wrappers from any thread after a successful load, with the queue/stream rules of each library
 * (VEDA calls them under the device mutex). */
#ifndef VDEV_GPUBLAS_LOADER_H
#define VDEV_GPUBLAS_LOADER_H

#include "ocl_loader.h"
#include "cuda_loader.h"

typedef struct vdev_cublas_ctx *vdev_cublas_handle;

/* vdev_cublas_load tries path (NULL or "": libcublas.so.13, then each of the nwheel wheel paths).
 * Returns 1 with the path in which and the version (major*10000+minor*100+patch, or 0) in *ver. */
VDEV_HIDDEN int vdev_cublas_load(const char *path, const char *const *wheel, int nwheel, char *which,
                                 size_t wlen, char *why, size_t whylen);
VDEV_HIDDEN int vd_cublasCreate(vdev_cublas_handle *h);
VDEV_HIDDEN int vd_cublasDestroy(vdev_cublas_handle h);
VDEV_HIDDEN int vd_cublasSetStream(vdev_cublas_handle h, CUstream s);
VDEV_HIDDEN int vd_cublasGetVersion(vdev_cublas_handle h, int *v);
/* vd_cublas_sgemm_rowmajor computes row-major C = alpha*A*B + beta*C on device pointers (as the
 * column-major product C^T = B^T A^T). */
VDEV_HIDDEN int vd_cublas_sgemm_rowmajor(vdev_cublas_handle h, int m, int n, int k, float alpha,
                                         CUdeviceptr a, int lda, CUdeviceptr b, int ldb, float beta,
                                         CUdeviceptr c, int ldc);

/* vdev_clblast_load tries path (NULL or "": libclblast.so.1, libclblast.so). */
VDEV_HIDDEN int vdev_clblast_load(const char *path, char *which, size_t wlen, char *why, size_t whylen);
/* vd_clblast_sgemm enqueues row-major C = alpha*A*B + beta*C on q; returns CLBlast's status (0 ok). */
VDEV_HIDDEN int vd_clblast_sgemm(size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t lda,
                                 cl_mem b, size_t ldb, float beta, cl_mem c, size_t ldc,
                                 cl_command_queue *q, cl_event *ev);
/* vd_clblast_saxpy enqueues y = alpha*x + y on q. */
VDEV_HIDDEN int vd_clblast_saxpy(size_t n, float alpha, cl_mem x, cl_mem y, cl_command_queue *q,
                                 cl_event *ev);

#endif
