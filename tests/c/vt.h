/* vt.h: a tiny test harness shared by the C tests of libveda (header-only). */
#ifndef VT_H
#define VT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "veda.h"

static int vt_failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, veda_last_error());                                               \
            vt_failures++;                                                                   \
        }                                                                                    \
    } while (0)

/* EXPECT_ST(call, status): the call returns status. */
#define EXPECT_ST(call, want)                                                                \
    do {                                                                                     \
        veda_status vt_st_ = (call);                                                         \
        if (vt_st_ != (want)) {                                                              \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %d (%s); last error: %s\n",    \
                    __FILE__, __LINE__, #call, vt_st_, veda_status_string(vt_st_), (want),   \
                    veda_status_string(want), veda_last_error());                            \
            vt_failures++;                                                                   \
        }                                                                                    \
    } while (0)

#define OK(call) EXPECT_ST(call, VEDA_OK)

/* EXPECT_ERR_MSG(call, status, substring): fails with status and the message names substring. */
#define EXPECT_ERR_MSG(call, want, sub)                                                      \
    do {                                                                                     \
        EXPECT_ST(call, want);                                                               \
        if (strstr(veda_last_error(), (sub)) == NULL) {                                      \
            fprintf(stderr, "%s:%d: last error \"%s\" does not mention \"%s\"\n", __FILE__,  \
                    __LINE__, veda_last_error(), (sub));                                     \
            vt_failures++;                                                                   \
        }                                                                                    \
    } while (0)

static inline double vt_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void vt_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* vt_metric returns the integer metric key (e.g. "tasks_executed") of r's metrics JSON, or -1. */
static inline long long vt_metric(veda_runtime *r, const char *key) {
    char buf[8192], pat[64];
    size_t len = 0;
    if (veda_metrics_json(r, buf, sizeof buf, &len) != VEDA_OK) return -1;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *at = strstr(buf, pat);
    return at ? atoll(at + strlen(pat)) : -1;
}

static inline veda_runtime *vt_runtime(int workers, int policy) {
    veda_config cfg;
    veda_config_init(&cfg);
    cfg.num_workers = workers;
    cfg.policy = policy;
    veda_runtime *rt = NULL;
    veda_status st = veda_runtime_create(&cfg, &rt);
    if (st != VEDA_OK) {
        fprintf(stderr, "veda_runtime_create: %s: %s\n", veda_status_string(st), veda_last_error());
        exit(2);
    }
    return rt;
}

/* vt_opencl_required: a missing OpenCL device is a failure, not a skip (VEDA_REQUIRE_OPENCL=1,
 * which CMake sets where PoCL is installed, and no VEDA_DISABLE_GPU). */
static inline int vt_opencl_required(void) {
    const char *req = getenv("VEDA_REQUIRE_OPENCL");
    return req && strcmp(req, "1") == 0 && !getenv("VEDA_DISABLE_GPU");
}

/* vt_opencl_index returns the index of rt's first OpenCL device, or -1. */
static inline int32_t vt_opencl_index(veda_runtime *rt) {
    int32_t n = veda_device_count(rt);
    for (int32_t i = 1; i < n; i++) {
        veda_device_info d;
        veda_device_info_init(&d);
        if (veda_device_info_get(rt, i, &d) == VEDA_OK && d.kind == VEDA_DEVICE_OPENCL) return i;
    }
    return -1;
}

/* vt_no_opencl ends test name when it found no OpenCL device: 1 if one was required or a check
 * failed, else "SKIP" and 77 (CTest's SKIP_RETURN_CODE). */
static inline int vt_no_opencl(const char *name) {
    if (vt_opencl_required()) {
        fprintf(stderr, "%s: VEDA_REQUIRE_OPENCL=1 but no OpenCL device was found\n", name);
        return 1;
    }
    if (vt_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, vt_failures);
        return 1;
    }
    printf("SKIP: no OpenCL device\n");
    return 77;
}

#define VT_DONE(name)                                                    \
    do {                                                                 \
        if (vt_failures) {                                               \
            fprintf(stderr, "%s: %d check(s) failed\n", name, vt_failures); \
            return 1;                                                    \
        }                                                                \
        printf("%s: ok\n", name);                                        \
        return 0;                                                        \
    } while (0)
#endif
