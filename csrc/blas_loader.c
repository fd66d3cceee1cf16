/* blas_loader.c: run-time loader for a CPU BLAS (see blas_loader.h). */
#include "blas_loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111 }; /* CBLAS_ORDER, CBLAS_TRANSPOSE values */

static void (*p_sgemm)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                       float, float *, int);
static float (*p_sdot)(int, const float *, int, const float *, int);
static double (*p_ddot)(int, const double *, int, const double *, int);
static void (*p_saxpy)(int, float, const float *, int, float *, int);
static char *(*p_config)(void);

VDEV_HIDDEN int vdev_blas_load(const char *path, const char *coretype, char *which, size_t wlen,
                               char *why, size_t whylen) {
    const char *defaults[] = {"libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libblis.so",
                              "libmkl_rt.so.2", "libmkl_rt.so"};
    const int nd = (int)(sizeof defaults / sizeof defaults[0]);
    const char *one[1] = {path};
    const char *const *paths = (path && path[0]) ? one : defaults;
    int np = (path && path[0]) ? 1 : nd;
    if (which && wlen) which[0] = 0;
    if (why && whylen) why[0] = 0;
    /* OpenBLAS picks its kernels when it loads; a CPU model newer than the library falls back to
     * the SSE3 "Prescott" kernels. The caller passes the core its cpuid supports; the user's own
     * OPENBLAS_CORETYPE is kept (overwrite = 0). */
    if (coretype && coretype[0]) setenv("OPENBLAS_CORETYPE", coretype, 0);
    /* A library that opens but lacks the CBLAS symbols (e.g. a Fortran-only libblis) is skipped
     * and the next one tried; every failure is kept in why. */
    char all[2048] = "";
    for (int i = 0; i < np; i++) {
        char one_why[1024];
        void *h = vdev_dlopen_first(&paths[i], 1, one_why, sizeof one_why);
        if (h == NULL) {
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", all[0] ? "; " : "", one_why);
            continue;
        }
        one_why[0] = 0;
        void *s1 = vdev_dlsym(h, "cblas_sgemm", one_why, sizeof one_why);
        void *s2 = vdev_dlsym(h, "cblas_sdot", one_why, sizeof one_why);
        void *s3 = vdev_dlsym(h, "cblas_ddot", one_why, sizeof one_why);
        void *s4 = vdev_dlsym(h, "cblas_saxpy", one_why, sizeof one_why);
        if (!s1 || !s2 || !s3 || !s4) {
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s: %s", all[0] ? "; " : "",
                     paths[i], one_why);
            continue; /* the handle stays open: dlclose of a library that started threads is unsafe */
        }
        memcpy(&p_sgemm, &s1, sizeof s1);
        memcpy(&p_sdot, &s2, sizeof s2);
        memcpy(&p_ddot, &s3, sizeof s3);
        memcpy(&p_saxpy, &s4, sizeof s4);
        char ignore[8];
        void *cfg = vdev_dlsym(h, "openblas_get_config", ignore, sizeof ignore);
        memcpy(&p_config, &cfg, sizeof cfg);
        /* One thread inside the library: VEDA's workers provide the parallelism. */
        void *t = vdev_dlsym(h, "openblas_set_num_threads", ignore, sizeof ignore);
        if (t == NULL) t = vdev_dlsym(h, "bli_thread_set_num_threads", ignore, sizeof ignore);
        if (t == NULL) t = vdev_dlsym(h, "MKL_Set_Num_Threads", ignore, sizeof ignore);
        if (t != NULL) {
            void (*setn)(int);
            memcpy(&setn, &t, sizeof t);
            setn(1);
        }
        if (which && wlen) snprintf(which, wlen, "%s", paths[i]);
        return 1;
    }
    if (why && whylen) snprintf(why, whylen, "%s", all);
    return 0;
}

VDEV_HIDDEN const char *vdev_blas_config(void) {
    const char *s = p_config ? p_config() : NULL;
    return s ? s : "";
}

VDEV_HIDDEN void vd_blas_sgemm(int m, int n, int k, float alpha, const float *a, int lda,
                               const float *b, int ldb, float beta, float *c, int ldc) {
    p_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

VDEV_HIDDEN float vd_blas_sdot(int n, const float *x, const float *y) { return p_sdot(n, x, 1, y, 1); }

VDEV_HIDDEN double vd_blas_ddot(int n, const double *x, const double *y) { return p_ddot(n, x, 1, y, 1); }

VDEV_HIDDEN void vd_blas_saxpy(int n, float a, const float *x, float *y) { p_saxpy(n, a, x, 1, y, 1); }
