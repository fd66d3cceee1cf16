/* fuzz_args: a libFuzzer harness over the argument checking of every exported function.
 *
 * Each input is a program of calls: each call picks a function and its arguments from pools of
 * interesting values (NULL, live, destroyed, forged and wrong-kind handles; 0, +-1, extremes,
 * small values; NULL and real buffers). Calls whose arguments are all valid are kept bounded (the
 * harness swaps in NULL where a valid call would run past its buffers or run for too long).
 * Invariants checked after every call (abort = a crash libFuzzer reports):
 *   - the status is one of the codes; a non-OK status leaves a non-empty veda_last_error();
 *   - a call given an invalid handle or argument never returns VEDA_OK;
 *   - nothing crashes, hangs or leaks (ASan).
 * Build: see tests/c/CMakeLists.txt (clang -fsanitize=fuzzer,address). Run longer with
 *   fuzz_args -max_total_time=600 -handle_segv=0 -handle_bus=0 -handle_fpe=0 CORPUS_DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "veda.h"

#define CAP 256
static veda_runtime *rt_live, *rt_dead;
static veda_group *g_live, *g_dead;
static veda_future *f_live[4], *f_dead;
static float fbuf[3][CAP];
static double dbuf[CAP], dout;
static char accbuf[64], idbuf[64];

static int32_t fz_range(void *ctx, int64_t b, int64_t e) { (void)b; (void)e; return (int32_t)(intptr_t)ctx; }
static int32_t fz_fold(void *ctx, int64_t b, int64_t e, void *acc) { (void)b; (void)e; ((char *)acc)[0]++; return (int32_t)(intptr_t)ctx; }
static void fz_combine(void *ctx, void *acc, const void *o) { (void)ctx; ((char *)acc)[0] += ((const char *)o)[0]; }
static int32_t fz_task(void *ctx) { return (int32_t)(intptr_t)ctx; }
static void fz_cb(void *u, veda_status st) { (void)u; (void)st; }

struct in { const uint8_t *p; size_t n; };
static uint8_t byte(struct in *in) { if (!in->n) return 0; in->n--; return *in->p++; }

static int64_t pick_i64(struct in *in) {
    static const int64_t pool[] = {0, 1, -1, 2, 7, 100, CAP, CAP + 1, INT64_MIN, INT64_MAX, -100, 1 << 20, INT32_MAX, (int64_t)1 << 40};
    uint8_t b = byte(in);
    if (b & 0x80) return (int64_t)(b & 0x3f) - 8; /* small values around 0 */
    return pool[b % (sizeof pool / sizeof pool[0])];
}

enum hstate { H_NULL, H_LIVE, H_DEAD, H_FORGED, H_WRONG, H_COUNT };
static veda_runtime *pick_rt(struct in *in, int *valid) {
    switch (byte(in) % H_COUNT) {
    case H_LIVE: *valid = 1; return rt_live;
    case H_DEAD: *valid = 0; return rt_dead;
    case H_FORGED: *valid = 0; return (veda_runtime *)(uintptr_t)(((uint64_t)byte(in) << 12) | byte(in));
    case H_WRONG: *valid = 0; return (veda_runtime *)g_live;
    default: *valid = 0; return NULL;
    }
}
static veda_group *pick_group(struct in *in, int *valid) {
    switch (byte(in) % H_COUNT) {
    case H_LIVE: *valid = 1; return g_live;
    case H_DEAD: *valid = 0; return g_dead;
    case H_FORGED: *valid = 0; return (veda_group *)(uintptr_t)(((uint64_t)byte(in) << 12) | byte(in));
    case H_WRONG: *valid = 0; return (veda_group *)rt_live;
    default: *valid = 0; return NULL;
    }
}
static veda_future *pick_future(struct in *in, int *valid) {
    switch (byte(in) % H_COUNT) {
    case H_LIVE: *valid = 1; return f_live[byte(in) % 4];
    case H_DEAD: *valid = 0; return f_dead;
    case H_FORGED: *valid = 0; return (veda_future *)(uintptr_t)(((uint64_t)byte(in) << 12) | byte(in));
    case H_WRONG: *valid = 0; return (veda_future *)rt_live;
    default: *valid = 0; return NULL;
    }
}

static void check(veda_status st, int must_fail, const char *what) {
    if (st < 0 || st > 9) { fprintf(stderr, "%s: status %d out of range\n", what, st); abort(); }
    if (st != VEDA_OK && veda_last_error()[0] == '\0') { fprintf(stderr, "%s: status %d with empty last error\n", what, st); abort(); }
    if (must_fail && st == VEDA_OK) { fprintf(stderr, "%s: invalid arguments accepted\n", what); abort(); }
}

/* span of a rows x cols matrix with stride ld, or -1 on overflow / invalid */
static __int128 span(int64_t rows, int64_t cols, int64_t ld) {
    if (rows <= 0 || cols <= 0) return 0;
    return (__int128)(rows - 1) * ld + cols;
}

static void init(void) {
    veda_config c;
    veda_config_init(&c);
    c.num_workers = 2;
    if (veda_runtime_create(&c, &rt_live) || veda_runtime_create(&c, &rt_dead)) abort();
    if (veda_group_create(rt_live, &g_live) || veda_group_create(rt_live, &g_dead)) abort();
    veda_group_destroy(g_dead);
    for (int i = 0; i < 4; i++) if (veda_submit(rt_live, fz_task, NULL, NULL, &f_live[i])) abort();
    if (veda_submit(rt_live, fz_task, NULL, NULL, &f_dead)) abort();
    veda_future_release(f_dead);
    veda_runtime_destroy(rt_dead);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int inited;
    if (!inited) { init(); inited = 1; }
    struct in in = {data, size};
    for (int call = 0; call < 8 && in.n > 0; call++) {
        int v = 0, v2 = 0;
        uint8_t op = byte(&in) % 24;
        void *code = (void *)(intptr_t)((byte(&in) & 3) == 0 ? 5 : 0);
        veda_status st;
        switch (op) {
        case 0: { /* runtime_create */
            veda_config c;
            veda_config_init(&c);
            c.num_workers = (int32_t)pick_i64(&in);
            c.policy = (int32_t)pick_i64(&in);
            c.struct_size = (byte(&in) & 7) == 0 ? byte(&in) % 32 : c.struct_size;
            int ok = c.num_workers >= 0 && c.num_workers <= 4 && c.policy >= 0 && c.policy <= 4 && c.struct_size >= 24;
            if (c.num_workers > 4) c.num_workers = -1; /* keep runtimes small */
            veda_runtime *r = NULL;
            int nullout = (byte(&in) & 7) == 0, nullcfg = (byte(&in) & 7) == 0;
            st = veda_runtime_create(nullcfg ? NULL : &c, nullout ? NULL : &r);
            check(st, nullout || (!nullcfg && !ok), "veda_runtime_create");
            if (st == VEDA_OK && r) { check(veda_runtime_destroy(r), 0, "destroy"); check(veda_runtime_destroy(r), 1, "double destroy"); }
            break;
        }
        case 1: { veda_runtime *r = pick_rt(&in, &v); int32_t n = veda_runtime_num_workers(r); if (v ? n < 1 : n != -1) abort(); break; }
        case 2: { veda_runtime *r = pick_rt(&in, &v); int32_t n = veda_device_count(r); if (v ? n < 1 : n != -1) abort(); break; }
        case 3: { /* parallel_for */
            veda_runtime *r = pick_rt(&in, &v);
            int64_t b = pick_i64(&in), e = pick_i64(&in), g = pick_i64(&in);
            veda_range_fn fn = (byte(&in) & 7) ? fz_range : NULL;
            int valid = v && fn && e >= b && g >= 0;
            if (valid && (__int128)e - b > 100000) { fn = NULL; valid = 0; }
            st = veda_parallel_for(r, b, e, g, fn, code);
            check(st, !valid, "veda_parallel_for");
            break;
        }
        case 4: { /* parallel_reduce */
            veda_runtime *r = pick_rt(&in, &v);
            int64_t b = pick_i64(&in), e = pick_i64(&in), g = pick_i64(&in);
            size_t as = (size_t)(byte(&in) % 80);
            uint8_t m = byte(&in);
            const void *id = (m & 1) ? idbuf : NULL;
            veda_fold_fn fo = (m & 2) ? fz_fold : NULL;
            veda_combine_fn co = (m & 4) ? fz_combine : NULL;
            void *out = (m & 8) ? accbuf : NULL;
            if (as > sizeof accbuf) { as = (m & 16) ? 0 : sizeof accbuf; }
            int valid = v && id && fo && co && out && as > 0 && e >= b && g >= 0;
            if (valid && (__int128)e - b > 100000) { fo = NULL; valid = 0; }
            st = veda_parallel_reduce(r, b, e, g, as, id, fo, co, code, out);
            check(st, !valid, "veda_parallel_reduce");
            break;
        }
        case 5: { veda_runtime *r = pick_rt(&in, &v); veda_group *g = NULL; int nul = (byte(&in) & 7) == 0;
            st = veda_group_create(r, nul ? NULL : &g); check(st, !v || nul, "veda_group_create");
            if (st == VEDA_OK) { if (veda_group_spawn(g, fz_task, code)) abort(); check(veda_group_destroy(g), 0, "group_destroy"); check(veda_group_destroy(g), 1, "group double destroy"); }
            break; }
        case 6: { veda_group *g = pick_group(&in, &v); veda_task_fn fn = (byte(&in) & 7) ? fz_task : NULL;
            check(veda_group_spawn(g, fn, code), !v || !fn, "veda_group_spawn"); break; }
        case 7: { veda_group *g = pick_group(&in, &v); check(veda_group_wait(g), !v, "veda_group_wait"); break; }
        case 8: { veda_group *g = pick_group(&in, &v); if (v) break; check(veda_group_destroy(g), 1, "veda_group_destroy"); break; }
        case 9: { /* submit */
            veda_runtime *r = pick_rt(&in, &v);
            veda_task_options o;
            veda_task_options_init(&o);
            o.priority = (int32_t)pick_i64(&in);
            o.deadline_ns = pick_i64(&in);
            if ((byte(&in) & 7) == 0) o.struct_size = byte(&in) % 24;
            veda_task_fn fn = (byte(&in) & 7) ? fz_task : NULL;
            int nul = (byte(&in) & 15) == 0, noopts = (byte(&in) & 3) == 0;
            int valid = v && fn && !nul && (noopts || (o.priority >= 0 && o.priority <= 4 && o.deadline_ns >= 0 && o.struct_size >= 16));
            veda_future *f = NULL;
            st = veda_submit(r, fn, code, noopts ? NULL : &o, nul ? NULL : &f);
            check(st, !valid, "veda_submit");
            if (st == VEDA_OK) {
                int slot = byte(&in) % 4;
                check(veda_future_wait(f_live[slot], -1), 0, "wait old");
                check(veda_future_release(f_live[slot]), 0, "release old");
                f_live[slot] = f;
            }
            break;
        }
        case 10: { veda_future *f = pick_future(&in, &v); int64_t t = pick_i64(&in); if (t > 1000000) t = 1000000;
            check(veda_future_wait(f, t), !v, "veda_future_wait"); break; }
        case 11: { veda_future *f = pick_future(&in, &v); int32_t d = veda_future_is_done(f); if (v ? (d != 0 && d != 1) : d != -1) abort(); break; }
        case 12: { veda_future *f = pick_future(&in, &v); veda_callback_fn cb = (byte(&in) & 7) ? fz_cb : NULL;
            check(veda_future_then(f, cb, NULL), !v || !cb, "veda_future_then"); break; }
        case 13: { veda_future *f = pick_future(&in, &v); if (v) break; check(veda_future_release(f), 1, "veda_future_release"); break; }
        case 14: { /* saxpy */
            veda_runtime *r = pick_rt(&in, &v); int64_t n = pick_i64(&in); uint8_t m = byte(&in);
            const float *x = (m & 1) ? fbuf[0] : NULL; float *y = (m & 2) ? fbuf[1] : NULL;
            if (n > CAP) { if (m & 4) x = NULL; else y = NULL; }
            int valid = v && n >= 0 && (n == 0 || (x && y));
            check(veda_saxpy_f32(r, n, 0.5f, x, y), !valid, "veda_saxpy_f32");
            break;
        }
        case 15: { /* sum */
            veda_runtime *r = pick_rt(&in, &v); int64_t n = pick_i64(&in); uint8_t m = byte(&in);
            const double *x = (m & 1) ? dbuf : NULL; double *out = (m & 2) ? &dout : NULL;
            if (n > CAP) x = NULL;
            int valid = v && n >= 0 && out && (n == 0 || x);
            check(veda_sum_f64(r, n, x, out), !valid, "veda_sum_f64");
            break;
        }
        case 16: { /* sgemm */
            veda_runtime *r = pick_rt(&in, &v);
            int64_t M = pick_i64(&in), N = pick_i64(&in), K = pick_i64(&in);
            int64_t lda = pick_i64(&in), ldb = pick_i64(&in), ldc = pick_i64(&in);
            uint8_t m = byte(&in);
            const float *a = (m & 1) ? fbuf[0] : NULL, *b = (m & 2) ? fbuf[1] : NULL;
            float *c = (m & 4) ? fbuf[2] : NULL;
            if (span(M, K, lda) > CAP) a = NULL;
            if (span(K, N, ldb) > CAP) b = NULL;
            if (span(M, N, ldc) > CAP) c = NULL;
            int dims = M >= 0 && N >= 0 && K >= 0 && lda >= (K > 1 ? K : 1) && ldb >= (N > 1 ? N : 1) && ldc >= (N > 1 ? N : 1);
            int empty = M == 0 || N == 0;
            int valid = v && dims && (empty || (c && (K == 0 || (a && b))));
            check(veda_sgemm(r, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, c, ldc), !valid, "veda_sgemm");
            break;
        }
        case 17: case 18: { /* metrics */
            veda_runtime *r = pick_rt(&in, &v); uint8_t m = byte(&in);
            static char mbuf[4096];
            size_t cap = (m & 1) ? (size_t)(byte(&in)) * 16 : 0, len = 0;
            char *buf = (m & 2) ? mbuf : NULL;
            size_t *lp = (m & 4) ? &len : NULL;
            int valid = v && lp && !(buf == NULL && cap > 0);
            st = op == 17 ? veda_metrics_json(r, buf, cap, lp) : veda_metrics_prometheus(r, buf, cap, lp);
            check(st, !valid, "veda_metrics");
            if (st == VEDA_OK && buf && cap > 0 && strlen(buf) >= cap) abort();
            break;
        }
        case 20: { /* sum_f32 */
            veda_runtime *r = pick_rt(&in, &v); int64_t n = pick_i64(&in); uint8_t m = byte(&in);
            const float *x = (m & 1) ? fbuf[0] : NULL; double *out = (m & 2) ? &dout : NULL;
            if (n > CAP) x = NULL;
            int valid = v && n >= 0 && out && (n == 0 || x);
            check(veda_sum_f32(r, n, x, out), !valid, "veda_sum_f32");
            break;
        }
        case 21: { /* device_info_get */
            veda_runtime *r = pick_rt(&in, &v); int32_t idx = (int32_t)pick_i64(&in); uint8_t m = byte(&in);
            veda_device_info d;
            veda_device_info_init(&d);
            if (m & 1) d.struct_size = (uint32_t)pick_i64(&in) % (sizeof d + 16);
            if (d.struct_size > sizeof d) d.struct_size = sizeof d; /* the struct we own is this big */
            int32_t count = v ? veda_device_count(r) : 0;
            int valid = v && !(m & 2) && idx >= 0 && idx < count &&
                        d.struct_size >= offsetof(veda_device_info, compute_units) + 4;
            check(veda_device_info_get(r, idx, (m & 2) ? NULL : &d), !valid, "veda_device_info_get");
            break;
        }
        case 22: { /* pin_device, then back to automatic */
            veda_runtime *r = pick_rt(&in, &v); int32_t idx = (int32_t)pick_i64(&in);
            int32_t count = v ? veda_device_count(r) : 0;
            check(veda_runtime_pin_device(r, idx), !(v && idx >= -1 && idx < count), "veda_runtime_pin_device");
            if (v) check(veda_runtime_pin_device(r, -1), 0, "veda_runtime_pin_device(-1)");
            break;
        }
        case 23: { /* kernel calls on handles that are no kernels */
            veda_kernel *k = (veda_kernel *)(uintptr_t)pick_i64(&in);
            veda_arg a = VEDA_ARG_INIT(byte(&in) % 5, fbuf[1], (size_t)(byte(&in) % 9));
            check(veda_kernel_run_1d(k, pick_i64(&in), &a, (int32_t)(byte(&in) % 3) - 1), 1, "veda_kernel_run_1d");
            check(veda_kernel_destroy(k), 1, "veda_kernel_destroy");
            break;
        }
        default: { /* pure C functions and destroy of bad runtimes */
            if (veda_status_string((veda_status)pick_i64(&in)) == NULL) abort();
            veda_runtime *r = pick_rt(&in, &v2);
            if (!v2) check(veda_runtime_destroy(r), 1, "veda_runtime_destroy");
            break;
        }
        }
    }
    return 0;
}
