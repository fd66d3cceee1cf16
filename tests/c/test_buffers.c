/* test_buffers: device-resident buffers, N-D and asynchronous launches through the C ABI.
 *   - on the OpenCL device (PoCL here): saxpy -> dot (result kept in a buffer) -> user kernel
 *     (VEDA_ARG_BUFFER) on resident buffers, every element checked, and zero copies in
 *     veda_device_transfers between writing the inputs and reading the results;
 *   - CPU (device 0) buffers with the deterministic results of veda_dot_f32;
 *   - async writes, kernel launches and reads in one device queue keep their order;
 *   - veda_kernel_run in 1, 2 and 3 dimensions with and without a local size;
 *   - every bad input of the section: out of range, destroyed, another device, zero/huge sizes,
 *     a local size that does not divide the global size, NULL and forged handles.
 * Without an OpenCL device the device part prints SKIP and the test returns 77 (unless
 * VEDA_REQUIRE_OPENCL=1). */
#include <math.h>
#include <stdint.h>
#include "vt.h"

static const char *SRC =
    "__kernel void scale_by(__global float *z, __global const float *y, __global const double *dot,\n"
    "                       const long n) {\n"
    "    long i = get_global_id(0);\n"
    "    if (i < n) z[i] = y[i] * (float)dot[0];\n"
    "}\n"
    "__kernel void inc(__global float *x, const long n) {\n"
    "    long i = get_global_id(0);\n"
    "    if (i < n) x[i] += 1.0f;\n"
    "}\n"
    "__kernel void fill3d(__global int *o) {\n"
    "    size_t x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);\n"
    "    o[(z * get_global_size(1) + y) * get_global_size(0) + x] = (int)(x + 100 * y + 10000 * z);\n"
    "}\n";

static void test_cpu_buffers(veda_runtime *rt) {
    enum { N = 70000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)(i % 7), y[i] = 1;
    veda_buffer *bx = NULL, *by = NULL, *bo = NULL;
    OK(veda_buffer_create(rt, 0, sizeof x, &bx));
    OK(veda_buffer_create(rt, 0, sizeof y, &by));
    OK(veda_buffer_create(rt, 0, 8, &bo));
    OK(veda_buffer_write(bx, 0, x, sizeof x));
    OK(veda_buffer_write(by, 0, y, sizeof y));
    OK(veda_saxpy_buffer(rt, 2.0f, bx, by, N));
    for (int i = 0; i < N; i++) y[i] = 2 * x[i] + 1;
    double want = 0, got = -1, kept = -1;
    OK(veda_dot_f32(rt, N, x, y, &want));
    OK(veda_dot_f32_buffer(rt, bx, by, N, NULL, &got));
    CHECK(got == want);
    OK(veda_dot_f32_buffer(rt, bx, by, N, bo, NULL));
    OK(veda_buffer_read(bo, 0, &kept, 8));
    CHECK(kept == want);
    double s = 0, ws = 0;
    OK(veda_sum_f32(rt, N, y, &ws));
    OK(veda_sum_f32_buffer(rt, by, N, NULL, &s));
    CHECK(s == ws);
    int32_t dev = -1;
    uint64_t bytes = 0;
    OK(veda_buffer_info(by, &dev, &bytes));
    CHECK(dev == 0 && bytes == sizeof y);
    OK(veda_buffer_destroy(bx));
    OK(veda_buffer_destroy(by));
    OK(veda_buffer_destroy(bo));
}

static void test_bad_inputs(veda_runtime *rt, int32_t ndev) {
    veda_buffer *b = (veda_buffer *)(uintptr_t)1;
    char buf[128] = {0};
    EXPECT_ERR_MSG(veda_buffer_create(rt, 0, 64, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_ERR_MSG(veda_buffer_create(NULL, 0, 64, &b), VEDA_ERR_INVALID_ARGUMENT, "rt");
    CHECK(b == NULL);
    EXPECT_ERR_MSG(veda_buffer_create(rt, ndev, 64, &b), VEDA_ERR_INVALID_ARGUMENT, "does not exist");
    EXPECT_ERR_MSG(veda_buffer_create(rt, -1, 64, &b), VEDA_ERR_INVALID_ARGUMENT, "does not exist");
    for (int32_t d = 0; d < ndev; d++) {
        EXPECT_ERR_MSG(veda_buffer_create(rt, d, 0, &b), VEDA_ERR_INVALID_ARGUMENT, "bytes");
        EXPECT_ERR_MSG(veda_buffer_create(rt, d, UINT64_MAX, &b), VEDA_ERR_INVALID_ARGUMENT, "too large");
        EXPECT_ERR_MSG(veda_buffer_create(rt, d, (uint64_t)1 << 61, &b), VEDA_ERR_INVALID_ARGUMENT, "bytes");
        CHECK(b == NULL);
        OK(veda_buffer_create(rt, d, 64, &b));
        EXPECT_ERR_MSG(veda_buffer_write(b, 60, buf, 8), VEDA_ERR_INVALID_ARGUMENT, "outside");
        EXPECT_ERR_MSG(veda_buffer_read(b, 65, buf, 0), VEDA_ERR_INVALID_ARGUMENT, "outside");
        EXPECT_ERR_MSG(veda_buffer_read(b, UINT64_MAX, buf, 1), VEDA_ERR_INVALID_ARGUMENT, "outside");
        EXPECT_ERR_MSG(veda_buffer_write(b, 0, NULL, 4), VEDA_ERR_INVALID_ARGUMENT, "src is NULL");
        EXPECT_ERR_MSG(veda_buffer_read(b, 0, (void *)(uintptr_t)16, 4), VEDA_ERR_INVALID_ARGUMENT, "not a valid address");
        EXPECT_ERR_MSG(veda_saxpy_buffer(rt, 1, b, b, 17), VEDA_ERR_INVALID_ARGUMENT, "floats");
        EXPECT_ERR_MSG(veda_saxpy_buffer(rt, 1, b, b, 0), VEDA_ERR_INVALID_ARGUMENT, "n is 0");
        EXPECT_ERR_MSG(veda_dot_f32_buffer(rt, b, b, 4, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "both NULL");
        veda_future *f = (veda_future *)(uintptr_t)1;
        EXPECT_ERR_MSG(veda_buffer_write_async(b, 0, buf, 4, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
        OK(veda_buffer_write_async(b, 62, buf, 4, &f)); /* found when it runs: the future fails */
        EXPECT_ERR_MSG(veda_future_wait(f, -1), VEDA_ERR_INVALID_ARGUMENT, "outside");
        OK(veda_future_release(f));
        OK(veda_buffer_destroy(b));
        EXPECT_ERR_MSG(veda_buffer_destroy(b), VEDA_ERR_INVALID_ARGUMENT, "already destroyed");
        EXPECT_ERR_MSG(veda_buffer_write(b, 0, buf, 4), VEDA_ERR_INVALID_ARGUMENT, "destroyed");
        EXPECT_ERR_MSG(veda_buffer_read(b, 0, buf, 4), VEDA_ERR_INVALID_ARGUMENT, "destroyed");
        EXPECT_ERR_MSG(veda_saxpy_buffer(rt, 1, b, b, 4), VEDA_ERR_INVALID_ARGUMENT, "destroyed");
    }
    EXPECT_ERR_MSG(veda_buffer_destroy(NULL), VEDA_ERR_INVALID_ARGUMENT, "b is NULL");
    EXPECT_ERR_MSG(veda_buffer_read((veda_buffer *)(uintptr_t)0x7777, 0, buf, 4), VEDA_ERR_INVALID_ARGUMENT,
                   "not a buffer handle");
    EXPECT_ERR_MSG(veda_buffer_read((veda_buffer *)rt, 0, buf, 4), VEDA_ERR_INVALID_ARGUMENT, "not a buffer handle");
    veda_transfer_stats ts = {0};
    EXPECT_ERR_MSG(veda_device_transfers(rt, 0, &ts), VEDA_ERR_INVALID_ARGUMENT, "struct_size");
    ts.struct_size = sizeof ts;
    EXPECT_ERR_MSG(veda_device_transfers(rt, ndev, &ts), VEDA_ERR_INVALID_ARGUMENT, "does not exist");
    EXPECT_ERR_MSG(veda_device_transfers(rt, 0, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
}

static void test_device(veda_runtime *rt, int32_t ocl) {
    enum { N = 50001 };
    static float x[N], y[N], gy[N], gz[N];
    for (int i = 0; i < N; i++) x[i] = (float)(i % 11) * 0.25f, y[i] = (float)(i % 3) - 1;
    veda_kernel *k = NULL;
    OK(veda_kernel_create(rt, SRC, NULL, "scale_by", &k));
    veda_buffer *bx, *by, *bz, *bd;
    OK(veda_buffer_create(rt, ocl, sizeof x, &bx));
    OK(veda_buffer_create(rt, ocl, sizeof y, &by));
    OK(veda_buffer_create(rt, ocl, sizeof y, &bz));
    OK(veda_buffer_create(rt, ocl, 8, &bd));
    OK(veda_buffer_write(bx, 0, x, sizeof x));
    OK(veda_buffer_write(by, 0, y, sizeof y));
    veda_transfer_stats before = {sizeof before, 0, 0, 0, 0}, after = {sizeof after, 0, 0, 0, 0};
    OK(veda_device_transfers(rt, ocl, &before));
    CHECK(before.h2d_copies >= 2 && before.h2d_bytes >= (int64_t)(2 * sizeof x));
    OK(veda_saxpy_buffer(rt, 0.5f, bx, by, N));
    OK(veda_dot_f32_buffer(rt, bx, by, N, bd, NULL));
    int64_t n = N;
    veda_arg args[4] = {VEDA_ARG_INIT(VEDA_ARG_BUFFER, bz, 0), VEDA_ARG_INIT(VEDA_ARG_BUFFER, by, 0),
                        VEDA_ARG_INIT(VEDA_ARG_BUFFER, bd, 0), VEDA_ARG_INIT(VEDA_ARG_SCALAR, &n, sizeof n)};
    OK(veda_kernel_run_1d(k, N, args, 4));
    OK(veda_device_transfers(rt, ocl, &after));
    CHECK(after.h2d_copies == before.h2d_copies && after.d2h_copies == before.d2h_copies);
    CHECK(after.h2d_bytes == before.h2d_bytes && after.d2h_bytes == before.d2h_bytes);
    double dot = 0, back = 0;
    OK(veda_buffer_read(bd, 0, &dot, 8));
    OK(veda_buffer_read(by, 0, gy, sizeof gy));
    OK(veda_buffer_read(bz, 0, gz, sizeof gz));
    double ref = 0;
    int bad = 0;
    for (int i = 0; i < N; i++) {
        float wy = 0.5f * x[i] + y[i];
        if (gy[i] != wy) bad++;
        ref += (double)x[i] * (double)wy;
    }
    CHECK(bad == 0);
    CHECK(fabs(dot - ref) <= 1e-9 * fabs(ref) + 1e-9);
    for (int i = 0; i < N; i++) if (gz[i] != gy[i] * (float)dot) bad++;
    CHECK(bad == 0);
    OK(veda_dot_f32_buffer(rt, bx, by, N, NULL, &back));
    CHECK(back == dot); /* kept on the device == read back, bit for bit */

    /* Mixing devices: a CPU buffer with device buffers. */
    veda_buffer *cpu = NULL;
    OK(veda_buffer_create(rt, 0, sizeof x, &cpu));
    EXPECT_ERR_MSG(veda_saxpy_buffer(rt, 1, cpu, by, N), VEDA_ERR_INVALID_ARGUMENT, "devices");
    EXPECT_ERR_MSG(veda_dot_f32_buffer(rt, bx, by, N, cpu, NULL), VEDA_ERR_INVALID_ARGUMENT, "devices");
    args[0].ptr = cpu;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, N, args, 4), VEDA_ERR_INVALID_ARGUMENT, "devices");
    args[0].ptr = (void *)(uintptr_t)0x7777;
    EXPECT_ERR_MSG(veda_kernel_run_1d(k, N, args, 4), VEDA_ERR_INVALID_ARGUMENT, "not a buffer handle");
    args[0].ptr = bz;
    /* N-D shape rules. */
    int64_t g1[1] = {N}, l3[1] = {2}, g0[1] = {0}; /* 50001 is odd */
    EXPECT_ERR_MSG(veda_kernel_run(k, 1, g1, l3, args, 4), VEDA_ERR_INVALID_ARGUMENT, "does not divide");
    EXPECT_ERR_MSG(veda_kernel_run(k, 1, g0, NULL, args, 4), VEDA_ERR_INVALID_ARGUMENT, "global size");
    EXPECT_ERR_MSG(veda_kernel_run(k, 4, g1, NULL, args, 4), VEDA_ERR_INVALID_ARGUMENT, "dims");
    EXPECT_ERR_MSG(veda_kernel_run(k, 0, g1, NULL, args, 4), VEDA_ERR_INVALID_ARGUMENT, "dims");
    EXPECT_ERR_MSG(veda_kernel_run(k, 1, NULL, NULL, args, 4), VEDA_ERR_INVALID_ARGUMENT, "global is NULL");
    OK(veda_kernel_run(k, 1, g1, NULL, args, 4));
    OK(veda_buffer_destroy(cpu));
    OK(veda_kernel_destroy(k));

    /* 3-D with and without a local size. */
    veda_kernel *k3 = NULL;
    OK(veda_kernel_create(rt, SRC, NULL, "fill3d", &k3));
    static int out[8 * 6 * 3];
    veda_arg oa = VEDA_ARG_INIT(VEDA_ARG_OUT, out, sizeof out);
    int64_t g3[3] = {8, 6, 3}, loc[3] = {4, 2, 1}, big[3] = {8, 6, 3 * 4096};
    for (int pass = 0; pass < 2; pass++) {
        memset(out, 0xff, sizeof out);
        OK(veda_kernel_run(k3, 3, g3, pass ? loc : NULL, &oa, 1));
        for (int z = 0; z < 3; z++)
            for (int yy = 0; yy < 6; yy++)
                for (int xx = 0; xx < 8; xx++) CHECK(out[(z * 6 + yy) * 8 + xx] == xx + 100 * yy + 10000 * z);
    }
    int64_t huge[3] = {8, 6, 4096}, hl[3] = {8, 6, 4096};
    (void)big;
    EXPECT_ERR_MSG(veda_kernel_run(k3, 3, huge, hl, &oa, 1), VEDA_ERR_INVALID_ARGUMENT, "local size");
    OK(veda_kernel_destroy(k3));

    /* Async: write, R increments, read, all queued without waiting, in order. */
    veda_kernel *ki = NULL;
    OK(veda_kernel_create(rt, SRC, NULL, "inc", &ki));
    enum { R = 20 };
    static float start[4096], res[4096];
    for (int i = 0; i < 4096; i++) start[i] = (float)i;
    veda_buffer *bq = NULL;
    OK(veda_buffer_create(rt, ocl, sizeof start, &bq));
    veda_future *fs[R + 2];
    OK(veda_buffer_write_async(bq, 0, start, sizeof start, &fs[0]));
    int64_t m = 4096, gm[1] = {4096};
    veda_arg ia[2] = {VEDA_ARG_INIT(VEDA_ARG_BUFFER, bq, 0), VEDA_ARG_INIT(VEDA_ARG_SCALAR, &m, sizeof m)};
    for (int r = 0; r < R; r++) OK(veda_kernel_run_async(ki, 1, gm, NULL, ia, 2, &fs[1 + r]));
    OK(veda_buffer_read_async(bq, 0, res, sizeof res, &fs[R + 1]));
    for (int i = 0; i < R + 2; i++) {
        OK(veda_future_wait(fs[i], -1));
        OK(veda_future_release(fs[i]));
    }
    for (int i = 0; i < 4096; i++) if (res[i] != (float)i + R) bad++;
    CHECK(bad == 0);
    EXPECT_ERR_MSG(veda_kernel_run_async(ki, 1, gm, NULL, ia, 2, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    OK(veda_kernel_destroy(ki));
    OK(veda_buffer_destroy(bq));
    OK(veda_buffer_destroy(bx));
    OK(veda_buffer_destroy(by));
    OK(veda_buffer_destroy(bz));
    OK(veda_buffer_destroy(bd));
}

int main(void) {
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    int32_t ndev = veda_device_count(rt), ocl = vt_opencl_index(rt);
    test_cpu_buffers(rt);
    test_bad_inputs(rt, ndev);
    if (ocl < 0) {
        OK(veda_runtime_destroy(rt));
        return vt_no_opencl("test_buffers");
    }
    test_device(rt, ocl);
    /* A buffer outliving its runtime: calls report CLOSED, destroy still frees it. */
    veda_buffer *late = NULL;
    OK(veda_buffer_create(rt, ocl, 64, &late));
    OK(veda_runtime_destroy(rt));
    char tmp[8];
    EXPECT_ST(veda_buffer_read(late, 0, tmp, 8), VEDA_ERR_CLOSED);
    OK(veda_buffer_destroy(late));
    VT_DONE("test_buffers");
}
