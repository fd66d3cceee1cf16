/* test_devices: device discovery and info (struct_size versioning), pinning, decision recording,
 * the float32/strided/distributed sums against references, the config fields for dispatch, and
 * bad arguments for each of them. With VEDA_REQUIRE_OPENCL=1 (CMake sets it where PoCL is
 * installed) an OpenCL device must be found; without it, the OpenCL parts are skipped. */
#include <math.h>
#include <stdint.h>
#include "vt.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double rnd(void) { /* xorshift64*, uniform in [-1, 1) */
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 4503599627370496.0 - 1.0;
}

/* Reference sums in long double (64-bit mantissa): exact enough for the tolerances below. */
static double ref_sum_f32(const float *x, int64_t n) {
    long double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return (double)s;
}

static int close_to(double got, double want, double rel) {
    return fabs(got - want) <= rel * (fabs(want) + 1.0);
}

static void test_info(veda_runtime *rt, int *ocl) {
    int32_t n = veda_device_count(rt);
    CHECK(n >= 1);
    CHECK(veda_device_count(NULL) == -1);
    veda_device_info d;
    veda_device_info_init(&d);
    CHECK(d.struct_size == sizeof d);
    OK(veda_device_info_get(rt, 0, &d));
    CHECK(d.index == 0 && d.kind == VEDA_DEVICE_CPU);
    CHECK(d.name[0] != 0 && d.compute_units >= 1 && d.max_work_group_size >= 1 && d.fp64 == 1);
    CHECK(strlen(d.name) < sizeof d.name && strlen(d.vendor) < sizeof d.vendor);
    *ocl = -1;
    for (int32_t i = 0; i < n; i++) {
        veda_device_info_init(&d);
        OK(veda_device_info_get(rt, i, &d));
        CHECK(d.index == i);
        CHECK(d.kind >= VEDA_DEVICE_CPU && d.kind <= VEDA_DEVICE_CUDA);
        CHECK(i == 0 ? d.kind == VEDA_DEVICE_CPU : d.kind != VEDA_DEVICE_CPU);
        CHECK(d.name[0] != 0);
        printf("device %d: kind %d, %s / %s / %s, %llu bytes, %d units, driver %s\n", i, d.kind,
               d.name, d.vendor, d.platform, (unsigned long long)d.memory_bytes, d.compute_units,
               d.driver_version);
        if (d.kind == VEDA_DEVICE_OPENCL && *ocl < 0) {
            *ocl = i;
            CHECK(d.memory_bytes > 0 && d.compute_units >= 1 && d.max_work_group_size >= 1);
        }
    }

    /* struct_size: the mandatory prefix only; the bytes after it stay untouched. */
    union { veda_device_info d; unsigned char b[sizeof(veda_device_info) + 64]; } u;
    memset(&u, 0xAB, sizeof u);
    size_t prefix = offsetof(veda_device_info, compute_units) + sizeof(int32_t);
    u.d.struct_size = (uint32_t)prefix;
    OK(veda_device_info_get(rt, 0, &u.d));
    CHECK(u.d.struct_size == prefix && u.d.index == 0 && u.d.kind == VEDA_DEVICE_CPU);
    CHECK(u.d.compute_units >= 1 && u.d.name[0] != 0 && (unsigned char)u.d.name[0] != 0xAB);
    int untouched = 1;
    for (size_t i = prefix; i < sizeof u.b; i++) untouched &= u.b[i] == 0xAB;
    CHECK(untouched);
    /* A larger struct (a newer caller): sizeof is filled, the rest untouched. */
    memset(&u, 0xAB, sizeof u);
    u.d.struct_size = (uint32_t)sizeof u.b;
    OK(veda_device_info_get(rt, 0, &u.d));
    CHECK(u.d.struct_size == sizeof u.b && u.d.fp64 == 1 && u.d.queue_depth >= 0);
    untouched = 1;
    for (size_t i = sizeof(veda_device_info); i < sizeof u.b; i++) untouched &= u.b[i] == 0xAB;
    CHECK(untouched);

    /* Bad arguments. */
    veda_device_info_init(&d);
    EXPECT_ERR_MSG(veda_device_info_get(rt, n, &d), VEDA_ERR_INVALID_ARGUMENT, "index");
    EXPECT_ERR_MSG(veda_device_info_get(rt, -1, &d), VEDA_ERR_INVALID_ARGUMENT, "index");
    EXPECT_ERR_MSG(veda_device_info_get(rt, 0, NULL), VEDA_ERR_INVALID_ARGUMENT, "out");
    EXPECT_ERR_MSG(veda_device_info_get(NULL, 0, &d), VEDA_ERR_INVALID_ARGUMENT, "rt");
    d.struct_size = (uint32_t)prefix - 1;
    EXPECT_ERR_MSG(veda_device_info_get(rt, 0, &d), VEDA_ERR_INVALID_ARGUMENT, "struct_size");
    d.struct_size = 0;
    EXPECT_ERR_MSG(veda_device_info_get(rt, 0, &d), VEDA_ERR_INVALID_ARGUMENT, "struct_size");
    veda_device_info_init(NULL); /* does nothing */
}

static void test_pin(veda_runtime *rt, int ocl) {
    int32_t n = veda_device_count(rt);
    EXPECT_ERR_MSG(veda_runtime_pin_device(rt, n), VEDA_ERR_INVALID_ARGUMENT, "does not exist");
    EXPECT_ERR_MSG(veda_runtime_pin_device(rt, -2), VEDA_ERR_INVALID_ARGUMENT, "does not exist");
    EXPECT_ERR_MSG(veda_runtime_pin_device(rt, INT32_MAX), VEDA_ERR_INVALID_ARGUMENT, "does not exist");
    EXPECT_ST(veda_runtime_pin_device(NULL, 0), VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_runtime_pin_device(rt, 0));
    float x[3] = {1, 2, 3.5f};
    double s = 0;
    OK(veda_sum_f32(rt, 3, x, &s));
    CHECK(s == 6.5);
    if (ocl > 0) {
        OK(veda_runtime_pin_device(rt, ocl));
        OK(veda_sum_f32(rt, 3, x, &s));
        CHECK(s == 6.5);
        veda_device_info d;
        veda_device_info_init(&d);
        OK(veda_device_info_get(rt, ocl, &d));
        CHECK(d.completed >= 1 && d.dispatched >= d.completed && d.bytes_to_device >= 12);
    }
    OK(veda_runtime_pin_device(rt, -1));
}

static void test_decisions(veda_runtime *rt, int ocl) {
    size_t len = 0;
    char buf[64];
    EXPECT_ERR_MSG(veda_decisions_json(rt, NULL, 0, NULL), VEDA_ERR_INVALID_ARGUMENT, "len");
    EXPECT_ERR_MSG(veda_decisions_json(rt, NULL, 5, &len), VEDA_ERR_INVALID_ARGUMENT, "buf");
    EXPECT_ST(veda_decisions_json(NULL, buf, sizeof buf, &len), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_runtime_record_decisions(NULL, 1), VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_decisions_json(rt, buf, sizeof buf, &len));
    CHECK(len == 3 && strcmp(buf, "[]") == 0); /* recording is off by default */

    OK(veda_runtime_record_decisions(rt, 1));
    float x[100];
    for (int i = 0; i < 100; i++) x[i] = (float)i;
    double s = 0;
    OK(veda_sum_f32(rt, 100, x, &s));
    CHECK(s == 4950.0);
    if (ocl > 0) {
        OK(veda_runtime_pin_device(rt, ocl));
        OK(veda_dot_f32(rt, 100, x, x, &s));
        OK(veda_runtime_pin_device(rt, -1));
    }
    OK(veda_runtime_record_decisions(rt, 0));
    OK(veda_decisions_json(rt, NULL, 0, &len));
    CHECK(len > 20);
    /* Too small: a truncated, NUL-terminated prefix; len still the full size. */
    size_t len2 = 0;
    memset(buf, 'x', sizeof buf);
    OK(veda_decisions_json(rt, buf, 8, &len2));
    CHECK(len2 == len && strlen(buf) == 7 && buf[0] == '[');
    char *full = malloc(len);
    OK(veda_decisions_json(rt, full, len, &len2));
    CHECK(len2 == len && strlen(full) + 1 == len);
    CHECK(full[0] == '[' && full[len - 2] == ']');
    CHECK(strstr(full, "\"kernel\":\"sum_f32\"") != NULL);
    CHECK(strstr(full, "\"reason\"") != NULL && strstr(full, "\"device\"") != NULL);
    if (ocl > 0) {
        CHECK(strstr(full, "\"kernel\":\"dot_f32\"") != NULL);
        CHECK(strstr(full, "pinned") != NULL);
    }
    free(full);
}

static void test_sums(veda_runtime *rt, int ocl) {
    const int64_t n = 1000003;
    /* Misaligned float arrays (offset by one byte) are allowed. */
    char *rawx = malloc(n * sizeof(float) + 1), *rawy = malloc(n * sizeof(float) + 1);
    float *xa = malloc(n * sizeof(float)), *ya = malloc(n * sizeof(float));
    long double dot = 0;
    for (int64_t i = 0; i < n; i++) {
        xa[i] = (float)(rnd() * 1000.0);
        ya[i] = (float)rnd();
        dot += (long double)xa[i] * ya[i];
    }
    memcpy(rawx + 1, xa, n * sizeof(float));
    memcpy(rawy + 1, ya, n * sizeof(float));
    double want = ref_sum_f32(xa, n), s = 0;
    OK(veda_sum_f32(rt, n, (const float *)(rawx + 1), &s));
    CHECK(close_to(s, want, 1e-12));
    OK(veda_sum_f32(rt, n, xa, &s));
    CHECK(close_to(s, want, 1e-12));
    OK(veda_dot_f32(rt, n, (const float *)(rawx + 1), (const float *)(rawy + 1), &s));
    CHECK(close_to(s, (double)dot, 1e-12));
    if (ocl > 0) { /* the same on the OpenCL device */
        OK(veda_runtime_pin_device(rt, ocl));
        OK(veda_sum_f32(rt, n, (const float *)(rawx + 1), &s));
        CHECK(close_to(s, want, 1e-9));
        OK(veda_dot_f32(rt, n, xa, ya, &s));
        CHECK(close_to(s, (double)dot, 1e-9));
        OK(veda_runtime_pin_device(rt, -1));
    }
    s = -1;
    OK(veda_sum_f32(rt, 0, NULL, &s));
    CHECK(s == 0.0);
    s = -1;
    OK(veda_dot_f32(rt, 0, NULL, NULL, &s));
    CHECK(s == 0.0);
    EXPECT_ERR_MSG(veda_sum_f32(rt, -1, xa, &s), VEDA_ERR_INVALID_ARGUMENT, "n is -1");
    EXPECT_ERR_MSG(veda_sum_f32(rt, 5, NULL, &s), VEDA_ERR_INVALID_ARGUMENT, "x is NULL");
    EXPECT_ERR_MSG(veda_sum_f32(rt, 5, xa, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_ST(veda_sum_f32(NULL, 5, xa, &s), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ERR_MSG(veda_dot_f32(rt, -3, xa, ya, &s), VEDA_ERR_INVALID_ARGUMENT, "n is -3");
    EXPECT_ERR_MSG(veda_dot_f32(rt, 5, NULL, ya, &s), VEDA_ERR_INVALID_ARGUMENT, "x is NULL");
    EXPECT_ERR_MSG(veda_dot_f32(rt, 5, xa, NULL, &s), VEDA_ERR_INVALID_ARGUMENT, "y is NULL");
    EXPECT_ERR_MSG(veda_dot_f32(rt, 5, xa, ya, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_ST(veda_dot_f32(NULL, 5, xa, ya, &s), VEDA_ERR_INVALID_ARGUMENT);
    free(rawx); free(rawy); free(xa); free(ya);
}

static void test_strided(veda_runtime *rt) {
    enum { R = 300, C = 400 };
    double *a = malloc(sizeof(double) * R * C);
    float *f = malloc(sizeof(float) * R * C);
    for (int i = 0; i < R * C; i++) { a[i] = rnd() * 1e3; f[i] = (float)a[i]; }
    double s = 0;

    /* a[:, ::3] : shape (300, 134), strides (C*8, 24). */
    int64_t shape[2] = {R, (C + 2) / 3}, st[2] = {C * 8, 24};
    long double want = 0;
    for (int i = 0; i < R; i++) for (int j = 0; j < C; j += 3) want += a[i * C + j];
    OK(veda_sum_f64_strided(rt, a, 2, shape, st, &s));
    CHECK(close_to(s, (double)want, 1e-13));
    /* transposed: shape (C, R), strides (8, C*8): the whole array. */
    int64_t tshape[2] = {C, R}, tst[2] = {8, C * 8};
    want = 0;
    for (int i = 0; i < R * C; i++) want += a[i];
    OK(veda_sum_f64_strided(rt, a, 2, tshape, tst, &s));
    CHECK(close_to(s, (double)want, 1e-13));
    double dense = 0;
    OK(veda_sum_f64(rt, R * C, a, &dense));
    CHECK(s == dense); /* contiguous after reordering: exactly veda_sum_f64 */
    /* float32, reversed rows with step 7: base at the last element, negative stride. */
    int64_t n1 = (R * C + 6) / 7, sh1[1] = {n1}, st1[1] = {-7 * 4};
    want = 0;
    for (int64_t k = 0; k < n1; k++) want += f[R * C - 1 - 7 * k];
    OK(veda_sum_f32_strided(rt, f + R * C - 1, 1, sh1, st1, &s));
    CHECK(close_to(s, (double)want, 1e-12));
    /* a zero stride repeats one element. */
    int64_t sh0[1] = {1000}, st0[1] = {0};
    OK(veda_sum_f32_strided(rt, f + 5, 1, sh0, st0, &s));
    CHECK(close_to(s, 1000.0 * f[5], 1e-12));
    /* ndim 0: one element at base. */
    OK(veda_sum_f64_strided(rt, a + 7, 0, NULL, NULL, &s));
    CHECK(s == a[7]);
    /* An empty extent: 0, base may be NULL. */
    int64_t she[2] = {5, 0}, ste[2] = {8, 8};
    s = -1;
    OK(veda_sum_f64_strided(rt, NULL, 2, she, ste, &s));
    CHECK(s == 0.0);

    EXPECT_ERR_MSG(veda_sum_f64_strided(rt, a, -1, shape, st, &s), VEDA_ERR_INVALID_ARGUMENT, "ndim");
    EXPECT_ERR_MSG(veda_sum_f64_strided(rt, a, 33, shape, st, &s), VEDA_ERR_INVALID_ARGUMENT, "ndim");
    EXPECT_ERR_MSG(veda_sum_f64_strided(rt, a, 2, NULL, st, &s), VEDA_ERR_INVALID_ARGUMENT, "shape is NULL");
    EXPECT_ERR_MSG(veda_sum_f32_strided(rt, f, 2, shape, NULL, &s), VEDA_ERR_INVALID_ARGUMENT, "strides_bytes is NULL");
    EXPECT_ERR_MSG(veda_sum_f64_strided(rt, a, 2, shape, st, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_ERR_MSG(veda_sum_f64_strided(rt, NULL, 2, shape, st, &s), VEDA_ERR_INVALID_ARGUMENT, "base is NULL");
    EXPECT_ERR_MSG(veda_sum_f64_strided(rt, NULL, 0, NULL, NULL, &s), VEDA_ERR_INVALID_ARGUMENT, "base is NULL");
    int64_t neg[2] = {3, -1};
    EXPECT_ERR_MSG(veda_sum_f64_strided(rt, a, 2, neg, st, &s), VEDA_ERR_INVALID_ARGUMENT, "shape[1]");
    int64_t huge[2] = {INT64_MAX / 2, INT64_MAX / 2};
    EXPECT_ERR_MSG(veda_sum_f32_strided(rt, f, 2, huge, st, &s), VEDA_ERR_INVALID_ARGUMENT, "too many");
    EXPECT_ST(veda_sum_f32_strided(NULL, f, 2, shape, st, &s), VEDA_ERR_INVALID_ARGUMENT);
    free(a);
    free(f);
}

static void test_distribute(veda_runtime *rt) {
    enum { K = 7 };
    int64_t lens[K] = {1000, 0, 250000, -4, 17, 5, 300001};
    float *arrs[K];
    double want[K];
    for (int i = 0; i < K; i++) {
        int64_t m = lens[i] > 0 ? lens[i] : 0;
        arrs[i] = m ? malloc(m * sizeof(float)) : NULL;
        for (int64_t j = 0; j < m; j++) arrs[i][j] = (float)rnd();
        want[i] = m ? ref_sum_f32(arrs[i], m) : 0.0;
    }
    float *keep5 = arrs[5];
    arrs[5] = NULL; /* NULL with length 5: item 5 fails too */
    double sums[K];
    veda_status sts[K];
    for (int i = 0; i < K; i++) sts[i] = -1;
    EXPECT_ERR_MSG(veda_distribute_sum_f32(rt, K, (const float *const *)arrs, lens, sums, sts),
                   VEDA_ERR_INVALID_ARGUMENT, "item 3");
    CHECK(strstr(veda_last_error(), "2 of 7 items failed") != NULL);
    CHECK(strstr(veda_last_error(), "item 5") != NULL);
    for (int i = 0; i < K; i++) {
        if (i == 3 || i == 5) {
            CHECK(sts[i] == VEDA_ERR_INVALID_ARGUMENT);
            CHECK(isnan(sums[i]));
        } else {
            CHECK(sts[i] == VEDA_OK);
            CHECK(close_to(sums[i], want[i], 1e-9));
        }
    }
    /* All good, statuses NULL. */
    lens[3] = 0;
    arrs[5] = keep5;
    OK(veda_distribute_sum_f32(rt, K, (const float *const *)arrs, lens, sums, NULL));
    for (int i = 0; i < K; i++) CHECK(close_to(sums[i], i == 3 ? 0.0 : want[i], 1e-9));

    OK(veda_distribute_sum_f32(rt, 0, NULL, NULL, NULL, NULL));
    EXPECT_ERR_MSG(veda_distribute_sum_f32(rt, -1, (const float *const *)arrs, lens, sums, NULL),
                   VEDA_ERR_INVALID_ARGUMENT, "count");
    EXPECT_ERR_MSG(veda_distribute_sum_f32(rt, K, NULL, lens, sums, NULL), VEDA_ERR_INVALID_ARGUMENT, "arrays is NULL");
    EXPECT_ERR_MSG(veda_distribute_sum_f32(rt, K, (const float *const *)arrs, NULL, sums, NULL),
                   VEDA_ERR_INVALID_ARGUMENT, "lengths is NULL");
    EXPECT_ERR_MSG(veda_distribute_sum_f32(rt, K, (const float *const *)arrs, lens, NULL, NULL),
                   VEDA_ERR_INVALID_ARGUMENT, "sums is NULL");
    EXPECT_ST(veda_distribute_sum_f32(NULL, K, (const float *const *)arrs, lens, sums, NULL),
              VEDA_ERR_INVALID_ARGUMENT);
    for (int i = 0; i < K; i++) free(arrs[i]);
}

static void test_config(void) {
    veda_config cfg;
    veda_config_init(&cfg);
    CHECK(cfg.struct_size == sizeof cfg && cfg.strategy == NULL && cfg.gpu_threshold == 0 &&
          cfg.disable_gpu == 0 && cfg.record_decisions == 0);
    veda_runtime *rt = NULL;

    cfg.strategy = "bogus";
    EXPECT_ERR_MSG(veda_runtime_create(&cfg, &rt), VEDA_ERR_INVALID_ARGUMENT, "bogus");
    CHECK(rt == NULL);
    cfg.strategy = "";
    EXPECT_ERR_MSG(veda_runtime_create(&cfg, &rt), VEDA_ERR_INVALID_ARGUMENT, "strategy");

    /* disable_gpu: the CPU only; record_decisions: recording from the start. */
    veda_config_init(&cfg);
    cfg.num_workers = 2;
    cfg.strategy = "round-robin";
    cfg.gpu_threshold = 1;
    cfg.disable_gpu = 1;
    cfg.record_decisions = 1;
    OK(veda_runtime_create(&cfg, &rt));
    CHECK(veda_device_count(rt) == 1);
    float x[4] = {1, 2, 3, 4};
    double s = 0;
    OK(veda_sum_f32(rt, 4, x, &s));
    CHECK(s == 10.0);
    size_t len = 0;
    OK(veda_decisions_json(rt, NULL, 0, &len));
    CHECK(len > 3);
    OK(veda_runtime_destroy(rt));

    /* A caller built against the older, shorter veda_config: the fields after seed are not read
       (here they hold garbage). */
    union { veda_config c; unsigned char b[sizeof(veda_config)]; } u;
    memset(&u, 0xEE, sizeof u);
    veda_config_init(&cfg);
    memcpy(&u.c, &cfg, offsetof(veda_config, strategy));
    u.c.struct_size = (uint32_t)offsetof(veda_config, strategy);
    u.c.num_workers = 1;
    rt = NULL;
    OK(veda_runtime_create(&u.c, &rt));
    CHECK(veda_runtime_num_workers(rt) == 1);
    OK(veda_decisions_json(rt, NULL, 0, &len));
    CHECK(len == 3); /* record_decisions kept its default */
    OK(veda_runtime_destroy(rt));
}

static void test_closed(void) {
    veda_runtime *rt = vt_runtime(1, VEDA_POLICY_ADAPTIVE);
    OK(veda_runtime_destroy(rt));
    veda_device_info d;
    veda_device_info_init(&d);
    float x[2] = {1, 2};
    double s;
    size_t len;
    int64_t sh[1] = {2}, st[1] = {4};
    CHECK(veda_device_count(rt) == -1);
    EXPECT_ST(veda_device_info_get(rt, 0, &d), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_runtime_pin_device(rt, 0), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_runtime_record_decisions(rt, 1), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_decisions_json(rt, NULL, 0, &len), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_sum_f32(rt, 2, x, &s), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_dot_f32(rt, 2, x, x, &s), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_sum_f32_strided(rt, x, 1, sh, st, &s), VEDA_ERR_CLOSED);
    const float *arrs[1] = {x};
    int64_t lens[1] = {2};
    EXPECT_ST(veda_distribute_sum_f32(rt, 1, arrs, lens, &s, NULL), VEDA_ERR_CLOSED);
    /* A forged handle. */
    veda_runtime *forged = (veda_runtime *)(uintptr_t)0x12345678;
    EXPECT_ST(veda_sum_f32(forged, 2, x, &s), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_device_info_get(forged, 0, &d), VEDA_ERR_INVALID_ARGUMENT);
}

int main(void) {
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    int ocl = -1;
    test_info(rt, &ocl);
    CHECK(vt_opencl_index(rt) == ocl);
    if (ocl < 0) {
        if (vt_opencl_required()) {
            fprintf(stderr, "VEDA_REQUIRE_OPENCL=1 but no OpenCL device was found\n");
            vt_failures++;
        } else {
            printf("SKIP: no OpenCL device; the OpenCL parts of test_devices do not run\n");
        }
    }
    test_pin(rt, ocl);
    test_decisions(rt, ocl);
    test_sums(rt, ocl);
    test_strided(rt);
    test_distribute(rt);
    OK(veda_runtime_destroy(rt));
    test_config();
    test_closed();
    VT_DONE("test_devices");
}
