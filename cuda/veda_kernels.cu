/* veda_kernels.cu: VEDA's built-in kernels in CUDA C.
 *
 * Compiled to PTX by nvcc at build time (tests/cuda_compile_check.sh --emit)
 * or by NVRTC at run time, so it includes no headers. Launch rules (host side,
 * goveda/internal/device/cuda_kernels.go):
 *   saxpy_f32            1-D, 256 threads per block, any grid;
 *   sum_* / dot_f32      1-D, exactly 256 threads per block; the grid size is
 *                        fixed by n and the device, each block writes one
 *                        double partial; the host adds partials in order;
 *   sgemm_f32            256 threads, grid (ceil(n/64), ceil(m/64)).
 * Device buffers come from cuMemAlloc (256-byte aligned), so vector loads
 * from their start are aligned. */

#define VK_THREADS 256

extern "C" __global__ void __launch_bounds__(VK_THREADS)
saxpy_f32(long long n, float a, const float *__restrict__ x, float *__restrict__ y) {
    long long stride = (long long)gridDim.x * blockDim.x;
    long long n4 = n / 4;
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    float4 *y4 = reinterpret_cast<float4 *>(y);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) {
        float4 xv = x4[i], yv = y4[i];
        yv.x = a * xv.x + yv.x;
        yv.y = a * xv.y + yv.y;
        yv.z = a * xv.z + yv.z;
        yv.w = a * xv.w + yv.w;
        y4[i] = yv;
    }
    for (long long i = n4 * 4 + (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        y[i] = a * x[i] + y[i];
}

/* Fixed tree over the block's 256 accumulators; thread 0 writes the partial. */
__device__ __forceinline__ void vk_block_reduce(double acc, double *partial) {
    __shared__ double s[VK_THREADS];
    unsigned t = threadIdx.x;
    s[t] = acc;
    __syncthreads();
    for (unsigned w = VK_THREADS / 2; w > 0; w >>= 1) {
        if (t < w) s[t] += s[t + w];
        __syncthreads();
    }
    if (t == 0) partial[blockIdx.x] = s[0];
}

extern "C" __global__ void __launch_bounds__(VK_THREADS)
sum_f32(long long n, const float *__restrict__ x, double *__restrict__ partial) {
    long long stride = (long long)gridDim.x * blockDim.x;
    long long gid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n4 = n / 4;
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    double acc = 0.0;
    for (long long i = gid; i < n4; i += stride) {
        float4 v = x4[i];
        acc += ((double)v.x + (double)v.y) + ((double)v.z + (double)v.w);
    }
    for (long long i = n4 * 4 + gid; i < n; i += stride) acc += (double)x[i];
    vk_block_reduce(acc, partial);
}

extern "C" __global__ void __launch_bounds__(VK_THREADS)
sum_f64(long long n, const double *__restrict__ x, double *__restrict__ partial) {
    long long stride = (long long)gridDim.x * blockDim.x;
    long long n2 = n / 2;
    const double2 *x2 = reinterpret_cast<const double2 *>(x);
    double acc = 0.0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n2; i += stride) {
        double2 v = x2[i];
        acc += v.x + v.y;
    }
    for (long long i = n2 * 2 + (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) acc += x[i];
    vk_block_reduce(acc, partial);
}

extern "C" __global__ void __launch_bounds__(VK_THREADS)
dot_f32(long long n, const float *__restrict__ x, const float *__restrict__ y, double *__restrict__ partial) {
    long long stride = (long long)gridDim.x * blockDim.x;
    long long gid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n4 = n / 4;
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    const float4 *y4 = reinterpret_cast<const float4 *>(y);
    double acc = 0.0;
    for (long long i = gid; i < n4; i += stride) {
        float4 a = x4[i], b = y4[i];
        acc += ((double)a.x * b.x + (double)a.y * b.y) + ((double)a.z * b.z + (double)a.w * b.w);
    }
    for (long long i = n4 * 4 + gid; i < n; i += stride) acc += (double)x[i] * y[i];
    vk_block_reduce(acc, partial);
}

/* sgemm_f32: C = alpha*A*B + beta*C, row-major. 64x64 block tile, k-step 16,
 * 256 threads each computing a 4x4 register tile (rows ty*4+i, columns
 * tx+16*j). beta == 0 never reads C. */
#define VK_BM 64
#define VK_BN 64
#define VK_BK 16

/* out[0] = partial[0] + ... + partial[groups-1] in index order from 0.0 by one thread: the same
 * additions as the host's, so a result kept on the device is bit-identical to one read back. */
extern "C" __global__ void __launch_bounds__(VK_THREADS)
combine_f64(long long groups, const double *__restrict__ partial, double *__restrict__ out) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double s = 0.0;
    for (long long i = 0; i < groups; i++) s += partial[i];
    out[0] = s;
}

extern "C" __global__ void __launch_bounds__(VK_THREADS)
sgemm_f32(int m, int n, int k, float alpha, const float *__restrict__ A, int lda, const float *__restrict__ B,
          int ldb, float beta, float *__restrict__ C, int ldc) {
    __shared__ float As[VK_BK][VK_BM + 1];
    __shared__ float Bs[VK_BK][VK_BN];
    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;
    const int row0 = blockIdx.y * VK_BM, col0 = blockIdx.x * VK_BN;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < k; k0 += VK_BK) {
#pragma unroll
        for (int l = 0; l < 4; l++) {
            int idx = tid + l * VK_THREADS;
            int r = idx / VK_BK, c = idx % VK_BK;
            int gr = row0 + r, gc = k0 + c;
            As[c][r] = (gr < m && gc < k) ? A[(size_t)gr * lda + gc] : 0.0f;
        }
#pragma unroll
        for (int l = 0; l < 4; l++) {
            int idx = tid + l * VK_THREADS;
            int r = idx / VK_BN, c = idx % VK_BN;
            int gr = k0 + r, gc = col0 + c;
            Bs[r][c] = (gr < k && gc < n) ? B[(size_t)gr * ldb + gc] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < VK_BK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty * 4 + i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int r = row0 + ty * 4 + i;
        if (r >= m) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int c = col0 + tx + 16 * j;
            if (c >= n) continue;
            size_t ci = (size_t)r * ldc + c;
            C[ci] = (beta == 0.0f) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * C[ci];
        }
    }
}
