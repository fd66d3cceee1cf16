/* test_user_kernels: OpenCL C user kernels through veda_kernel_*: results on the OpenCL device
 * checked element by element (fresh random inputs, misaligned host buffers, IN/OUT/INOUT and
 * scalar arguments), a compile error with its build log, pinning, destroy semantics, and bad
 * arguments for every function. Needs an OpenCL device (PoCL here): without one it prints SKIP
 * and returns 77 (CTest's SKIP_RETURN_CODE), unless VEDA_REQUIRE_OPENCL=1 makes that a failure.
 * The kernel argument checks that need no device run first either way. */
#include <math.h>
#include <stdint.h>
#include <time.h>
#include "vt.h"

static const char *SRC =
    "__kernel void axpy_scale(__global const float *x, __global float *y, __global float *z,\n"
    "                         const float a, const int n, const long off) {\n"
    "    int i = get_global_id(0);\n"
    "    if (i >= n) return;\n"
    "    z[i] = a * x[i] + y[i] + (float)off;\n"
    "    y[i] = y[i] * 2.0f;\n"
    "}\n"
    "__kernel void iota(__global int *o, const int base) {\n"
    "    int i = get_global_id(0);\n"
    "    o[i] = base + i;\n"
    "}\n";

static const char *BAD_SRC =
    "__kernel void broken(__global float *x) {\n"
    "    x[get_global_id(0)] = undefined_identifier_xyz * 2.0f;\n"
    "}\n";

static uint64_t rng;
static float rndf(void) {
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (float)((double)((rng * 2685821657736338717ull) >> 11) / 4503599627370496.0 * 200.0 - 100.0);
}

/* Argument and handle checks of create/run/destroy that need no device. */
static void test_handle_args(veda_runtime *rt) {
    veda_kernel *k = (veda_kernel *)(uintptr_t)1;
    EXPECT_ERR_MSG(veda_kernel_create(rt, SRC, NULL, "iota", NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_ERR_MSG(veda_kernel_create(NULL, SRC, NULL, "iota", &k), VEDA_ERR_INVALID_ARGUMENT, "rt");
    CHECK(k == NULL);
    EXPECT_ERR_MSG(veda_kernel_create(rt, SRC, NULL, NULL, &k), VEDA_ERR_INVALID_ARGUMENT, "name is NULL");
    EXPECT_ERR_MSG(veda_kernel_create(rt, SRC, NULL, "  ", &k), VEDA_ERR_INVALID_ARGUMENT, "name is empty");
    EXPECT_ERR_MSG(veda_kernel_create(rt, NULL, NULL, "iota", &k), VEDA_ERR_INVALID_ARGUMENT, "no source");
    EXPECT_ERR_MSG(veda_kernel_create(rt, "", "", "iota", &k), VEDA_ERR_INVALID_ARGUMENT, "no source");
    CHECK(k == NULL);
    int v = 0;
    veda_arg a = VEDA_ARG_INIT(VEDA_ARG_SCALAR, &v, sizeof v);
    EXPECT_ERR_MSG(veda_kernel_run_1d(NULL, 1, &a, 1), VEDA_ERR_INVALID_ARGUMENT, "k is NULL");
    EXPECT_ERR_MSG(veda_kernel_run_1d((veda_kernel *)(uintptr_t)0x7777, 1, &a, 1), VEDA_ERR_INVALID_ARGUMENT,
                   "not a kernel handle");
    EXPECT_ERR_MSG(veda_kernel_run_1d((veda_kernel *)rt, 1, &a, 1), VEDA_ERR_INVALID_ARGUMENT,
                   "not a kernel handle"); /* a runtime token is not a kernel token */
    EXPECT_ERR_MSG(veda_kernel_destroy(NULL), VEDA_ERR_INVALID_ARGUMENT, "k is NULL");
    EXPECT_ERR_MSG(veda_kernel_destroy((veda_kernel *)(uintptr_t)0x7777), VEDA_ERR_INVALID_ARGUMENT,
                   "not a kernel handle");
}

static void test_run_args(veda_kernel *k) {
    float buf[8] = {0};
    int v = 3;
    veda_arg ok[2] = {VEDA_ARG_INIT(VEDA_ARG_OUT, buf, sizeof buf), VEDA_ARG_INIT(VEDA_ARG_SCALAR, &v, sizeof v)};
    veda_arg a[2];
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, -1, ok, 2), VEDA_ERR_INVALID_ARGUMENT, "n is -1");
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, ok, -1), VEDA_ERR_INVALID_ARGUMENT, "nargs is -1");
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, NULL, 2), VEDA_ERR_INVALID_ARGUMENT, "args is NULL");
    memcpy(a, ok, sizeof a);
    a[1].kind = 7;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[1].kind is 7");
    memcpy(a, ok, sizeof a);
    a[0].kind = -1;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[0].kind is -1");
    memcpy(a, ok, sizeof a);
    a[0].struct_size = 0;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[0].struct_size");
    memcpy(a, ok, sizeof a);
    a[0].struct_size = 8;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[0].struct_size");
    memcpy(a, ok, sizeof a);
    a[1].struct_size = (uint32_t)sizeof(veda_arg) + 8;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[1].struct_size");
    memcpy(a, ok, sizeof a);
    a[0].ptr = NULL;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[0].ptr is NULL");
    memcpy(a, ok, sizeof a);
    a[0].ptr = (void *)(uintptr_t)0x10;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "not a valid address");
    memcpy(a, ok, sizeof a);
    a[1].ptr = NULL;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[1].ptr is NULL");
    memcpy(a, ok, sizeof a);
    a[1].bytes = 0;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[1].bytes is 0");
    memcpy(a, ok, sizeof a);
    a[1].bytes = 65;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "args[1].bytes is 65");
    memcpy(a, ok, sizeof a);
    a[0].bytes = SIZE_MAX;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, 8, a, 2), VEDA_ERR_INVALID_ARGUMENT, "too large");
    /* n == 0 checks the arguments and launches nothing. */
    OK(veda_kernel_run_1d(k, 0, ok, 2));
    /* Arrays of a larger (newer) veda_arg: the stride is args[0].struct_size. */
    struct { veda_arg a; uint64_t extra; } big[2];
    for (int i = 0; i < 2; i++) {
        big[i].a = ok[i];
        big[i].a.struct_size = sizeof big[0];
        big[i].extra = 0xdeadbeef;
    }
    OK(veda_kernel_run_1d(k, 8, &big[0].a, 2));
    int o[8];
    memcpy(o, buf, sizeof o); /* iota wrote ints */
    for (int i = 0; i < 8; i++) CHECK(o[i] == 3 + i);
}

static void test_axpy(veda_runtime *rt, veda_kernel *k, int64_t n) {
    /* Host buffers misaligned by 1, 2 and 3 bytes; values moved in and out with memcpy. */
    size_t bytes = (size_t)n * sizeof(float);
    char *rx = malloc(bytes + 1), *ry = malloc(bytes + 2), *rz = malloc(bytes + 3);
    float *x = malloc(bytes), *y = malloc(bytes), *z = malloc(bytes);
    for (int64_t i = 0; i < n; i++) { x[i] = rndf(); y[i] = rndf(); z[i] = NAN; }
    memcpy(rx + 1, x, bytes);
    memcpy(ry + 2, y, bytes);
    memcpy(rz + 3, z, bytes);
    float a = rndf();
    int32_t ni = (int32_t)n;
    int64_t off = 3;
    veda_arg args[6] = {
        VEDA_ARG_INIT(VEDA_ARG_IN, rx + 1, bytes), VEDA_ARG_INIT(VEDA_ARG_INOUT, ry + 2, bytes),
        VEDA_ARG_INIT(VEDA_ARG_OUT, rz + 3, bytes), VEDA_ARG_INIT(VEDA_ARG_SCALAR, &a, sizeof a),
        VEDA_ARG_INIT(VEDA_ARG_SCALAR, &ni, sizeof ni), VEDA_ARG_INIT(VEDA_ARG_SCALAR, &off, sizeof off)};
    OK(veda_kernel_run_1d(k, n, args, 6));
    float *gy = malloc(bytes), *gz = malloc(bytes), *gx = malloc(bytes);
    memcpy(gx, rx + 1, bytes);
    memcpy(gy, ry + 2, bytes);
    memcpy(gz, rz + 3, bytes);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        float want = a * x[i] + y[i] + 3.0f;
        float want_fma = fmaf(a, x[i], y[i]) + 3.0f;
        int okz = gz[i] == want || gz[i] == want_fma || fabsf(gz[i] - want) <= 1e-5f * (fabsf(want) + 1.0f);
        if (!okz || gy[i] != y[i] * 2.0f || gx[i] != x[i]) {
            if (bad < 5)
                fprintf(stderr, "n=%lld element %lld: z %g want %g, y %g want %g\n", (long long)n,
                        (long long)i, gz[i], want, gy[i], y[i] * 2.0f);
            bad++;
        }
    }
    CHECK(bad == 0);
    (void)rt;
    free(rx); free(ry); free(rz); free(x); free(y); free(z); free(gx); free(gy); free(gz);
}

static void test_compile_error(veda_runtime *rt) {
    veda_kernel *k = (veda_kernel *)(uintptr_t)1;
    EXPECT_ST(veda_kernel_create(rt, BAD_SRC, NULL, "broken", &k), VEDA_ERR_DEVICE);
    CHECK(k == NULL);
    const char *msg = veda_last_error();
    CHECK(strstr(msg, "veda_kernel_create") != NULL);
    CHECK(strstr(msg, "build log") != NULL);
    CHECK(strstr(msg, "undefined_identifier_xyz") != NULL); /* the compiler's own diagnostic */
    printf("compile error message: %zu bytes\n", strlen(msg));
    /* A kernel name missing from a valid program is a device error as well. */
    EXPECT_ST(veda_kernel_create(rt, SRC, NULL, "no_such_kernel", &k), VEDA_ERR_DEVICE);
    CHECK(k == NULL);
}

int main(void) {
    rng = 0x853c49e6748fea9bull ^ (uint64_t)time(NULL);
    printf("seed %llu\n", (unsigned long long)rng);
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    test_handle_args(rt);

    int32_t ndev = veda_device_count(rt), ocl = -1, cuda = -1;
    for (int32_t i = 1; i < ndev; i++) {
        veda_device_info d;
        veda_device_info_init(&d);
        OK(veda_device_info_get(rt, i, &d));
        if (d.kind == VEDA_DEVICE_OPENCL && ocl < 0) ocl = i;
        if (d.kind == VEDA_DEVICE_CUDA && cuda < 0) cuda = i;
    }
    /* No device has a source in its language: UNSUPPORTED (CUDA source only, no CUDA device). */
    if (cuda < 0) {
        veda_kernel *k = NULL;
        EXPECT_ST(veda_kernel_create(rt, NULL, "extern \"C\" __global__ void f(float *x) {}", "f", &k),
                  VEDA_ERR_UNSUPPORTED);
        CHECK(k == NULL);
    }
    if (ocl < 0) {
        OK(veda_runtime_destroy(rt));
        return vt_no_opencl("test_user_kernels");
    }

    OK(veda_runtime_pin_device(rt, ocl));
    OK(veda_runtime_record_decisions(rt, 1));
    veda_kernel *axpy = NULL, *iota = NULL;
    OK(veda_kernel_create(rt, SRC, NULL, "axpy_scale", &axpy));
    OK(veda_kernel_create(rt, SRC, NULL, "iota", &iota));
    CHECK(axpy != NULL && iota != NULL && axpy != iota);
    int64_t sizes[] = {1, 7, 1000, 65537, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) test_axpy(rt, axpy, sizes[i]);
    test_run_args(iota);
    /* The decisions name the user kernel and the pinned device. */
    size_t len = 0;
    OK(veda_decisions_json(rt, NULL, 0, &len));
    char *json = malloc(len);
    OK(veda_decisions_json(rt, json, len, &len));
    CHECK(strstr(json, "\"kernel\":\"user:axpy_scale\"") != NULL);
    char want_dev[32];
    snprintf(want_dev, sizeof want_dev, "\"device\":%d", ocl);
    CHECK(strstr(json, want_dev) != NULL);
    free(json);
    veda_device_info d;
    veda_device_info_init(&d);
    OK(veda_device_info_get(rt, ocl, &d));
    CHECK(d.completed >= 5 && d.bytes_from_device > 0 && d.busy_ns > 0);

    /* Pinned to the CPU: user kernels do not run there. */
    OK(veda_runtime_pin_device(rt, 0));
    int o[4];
    int base = 1;
    veda_arg ia[2] = {VEDA_ARG_INIT(VEDA_ARG_OUT, o, sizeof o), VEDA_ARG_INIT(VEDA_ARG_SCALAR, &base, sizeof base)};
    EXPECT_ST(veda_kernel_run_1d(iota, 4, ia, 2), VEDA_ERR_UNSUPPORTED);
    /* Automatic placement: only the OpenCL device has it, so it runs there. */
    OK(veda_runtime_pin_device(rt, -1));
    OK(veda_kernel_run_1d(iota, 4, ia, 2));
    CHECK(o[0] == 1 && o[1] == 2 && o[2] == 3 && o[3] == 4);

    test_compile_error(rt);

    /* Destroy: the handle is then detected as stale. */
    OK(veda_kernel_destroy(axpy));
    EXPECT_ERR_MSG(veda_kernel_destroy(axpy), VEDA_ERR_INVALID_ARGUMENT, "already destroyed");
    EXPECT_ERR_MSG(veda_kernel_run_1d(axpy, 4, ia, 2), VEDA_ERR_INVALID_ARGUMENT, "destroyed");
    /* A kernel outliving its runtime: run says CLOSED, destroy still frees it. */
    OK(veda_runtime_destroy(rt));
    EXPECT_ST(veda_kernel_run_1d(iota, 4, ia, 2), VEDA_ERR_CLOSED);
    OK(veda_kernel_destroy(iota));
    VT_DONE("test_user_kernels");
}
