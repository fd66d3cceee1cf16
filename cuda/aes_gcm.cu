/* aes_gcm.cu: AES-256-GCM seal and open of whole messages (VEDA's streaming segments), CUDA C.
 *
 * The same algorithm and arguments as opencl/aes_gcm.cl (see there and goveda/internal/aesgcm):
 * each thread takes L consecutive blocks of the message (right-aligned after `pad` zero blocks),
 * encrypts them in counter mode and Horner-sums its L ciphertext blocks with H's 4-bit table; the
 * block (blockDim.x threads, a power of two <= 256) combines the sums in a fixed tree with the
 * host's powers H^(L*2^l) and thread 0 writes the block's partial GHASH. The host computes the tag.
 * The T-table and H's table are copied into shared memory per block. Compiled by nvcc to PTX
 * (tests/cuda_compile_check.sh) or by NVRTC at run time; it includes no headers. */

#define GCM_MAX_THREADS 256

__constant__ unsigned int gcm_te0_const[256] = {
    0xc66363a5u, 0xf87c7c84u, 0xee777799u, 0xf67b7b8du, 0xfff2f20du, 0xd66b6bbdu, 
    0xde6f6fb1u, 0x91c5c554u, 0x60303050u, 0x02010103u, 0xce6767a9u, 0x562b2b7du, 
    0xe7fefe19u, 0xb5d7d762u, 0x4dababe6u, 0xec76769au, 0x8fcaca45u, 0x1f82829du, 
    0x89c9c940u, 0xfa7d7d87u, 0xeffafa15u, 0xb25959ebu, 0x8e4747c9u, 0xfbf0f00bu, 
    0x41adadecu, 0xb3d4d467u, 0x5fa2a2fdu, 0x45afafeau, 0x239c9cbfu, 0x53a4a4f7u, 
    0xe4727296u, 0x9bc0c05bu, 0x75b7b7c2u, 0xe1fdfd1cu, 0x3d9393aeu, 0x4c26266au, 
    0x6c36365au, 0x7e3f3f41u, 0xf5f7f702u, 0x83cccc4fu, 0x6834345cu, 0x51a5a5f4u, 
    0xd1e5e534u, 0xf9f1f108u, 0xe2717193u, 0xabd8d873u, 0x62313153u, 0x2a15153fu, 
    0x0804040cu, 0x95c7c752u, 0x46232365u, 0x9dc3c35eu, 0x30181828u, 0x379696a1u, 
    0x0a05050fu, 0x2f9a9ab5u, 0x0e070709u, 0x24121236u, 0x1b80809bu, 0xdfe2e23du, 
    0xcdebeb26u, 0x4e272769u, 0x7fb2b2cdu, 0xea75759fu, 0x1209091bu, 0x1d83839eu, 
    0x582c2c74u, 0x341a1a2eu, 0x361b1b2du, 0xdc6e6eb2u, 0xb45a5aeeu, 0x5ba0a0fbu, 
    0xa45252f6u, 0x763b3b4du, 0xb7d6d661u, 0x7db3b3ceu, 0x5229297bu, 0xdde3e33eu, 
    0x5e2f2f71u, 0x13848497u, 0xa65353f5u, 0xb9d1d168u, 0x00000000u, 0xc1eded2cu, 
    0x40202060u, 0xe3fcfc1fu, 0x79b1b1c8u, 0xb65b5bedu, 0xd46a6abeu, 0x8dcbcb46u, 
    0x67bebed9u, 0x7239394bu, 0x944a4adeu, 0x984c4cd4u, 0xb05858e8u, 0x85cfcf4au, 
    0xbbd0d06bu, 0xc5efef2au, 0x4faaaae5u, 0xedfbfb16u, 0x864343c5u, 0x9a4d4dd7u, 
    0x66333355u, 0x11858594u, 0x8a4545cfu, 0xe9f9f910u, 0x04020206u, 0xfe7f7f81u, 
    0xa05050f0u, 0x783c3c44u, 0x259f9fbau, 0x4ba8a8e3u, 0xa25151f3u, 0x5da3a3feu, 
    0x804040c0u, 0x058f8f8au, 0x3f9292adu, 0x219d9dbcu, 0x70383848u, 0xf1f5f504u, 
    0x63bcbcdfu, 0x77b6b6c1u, 0xafdada75u, 0x42212163u, 0x20101030u, 0xe5ffff1au, 
    0xfdf3f30eu, 0xbfd2d26du, 0x81cdcd4cu, 0x180c0c14u, 0x26131335u, 0xc3ecec2fu, 
    0xbe5f5fe1u, 0x359797a2u, 0x884444ccu, 0x2e171739u, 0x93c4c457u, 0x55a7a7f2u, 
    0xfc7e7e82u, 0x7a3d3d47u, 0xc86464acu, 0xba5d5de7u, 0x3219192bu, 0xe6737395u, 
    0xc06060a0u, 0x19818198u, 0x9e4f4fd1u, 0xa3dcdc7fu, 0x44222266u, 0x542a2a7eu, 
    0x3b9090abu, 0x0b888883u, 0x8c4646cau, 0xc7eeee29u, 0x6bb8b8d3u, 0x2814143cu, 
    0xa7dede79u, 0xbc5e5ee2u, 0x160b0b1du, 0xaddbdb76u, 0xdbe0e03bu, 0x64323256u, 
    0x743a3a4eu, 0x140a0a1eu, 0x924949dbu, 0x0c06060au, 0x4824246cu, 0xb85c5ce4u, 
    0x9fc2c25du, 0xbdd3d36eu, 0x43acacefu, 0xc46262a6u, 0x399191a8u, 0x319595a4u, 
    0xd3e4e437u, 0xf279798bu, 0xd5e7e732u, 0x8bc8c843u, 0x6e373759u, 0xda6d6db7u, 
    0x018d8d8cu, 0xb1d5d564u, 0x9c4e4ed2u, 0x49a9a9e0u, 0xd86c6cb4u, 0xac5656fau, 
    0xf3f4f407u, 0xcfeaea25u, 0xca6565afu, 0xf47a7a8eu, 0x47aeaee9u, 0x10080818u, 
    0x6fbabad5u, 0xf0787888u, 0x4a25256fu, 0x5c2e2e72u, 0x381c1c24u, 0x57a6a6f1u, 
    0x73b4b4c7u, 0x97c6c651u, 0xcbe8e823u, 0xa1dddd7cu, 0xe874749cu, 0x3e1f1f21u, 
    0x964b4bddu, 0x61bdbddcu, 0x0d8b8b86u, 0x0f8a8a85u, 0xe0707090u, 0x7c3e3e42u, 
    0x71b5b5c4u, 0xcc6666aau, 0x904848d8u, 0x06030305u, 0xf7f6f601u, 0x1c0e0e12u, 
    0xc26161a3u, 0x6a35355fu, 0xae5757f9u, 0x69b9b9d0u, 0x17868691u, 0x99c1c158u, 
    0x3a1d1d27u, 0x279e9eb9u, 0xd9e1e138u, 0xebf8f813u, 0x2b9898b3u, 0x22111133u, 
    0xd26969bbu, 0xa9d9d970u, 0x078e8e89u, 0x339494a7u, 0x2d9b9bb6u, 0x3c1e1e22u, 
    0x15878792u, 0xc9e9e920u, 0x87cece49u, 0xaa5555ffu, 0x50282878u, 0xa5dfdf7au, 
    0x038c8c8fu, 0x59a1a1f8u, 0x09898980u, 0x1a0d0d17u, 0x65bfbfdau, 0xd7e6e631u, 
    0x844242c6u, 0xd06868b8u, 0x824141c3u, 0x299999b0u, 0x5a2d2d77u, 0x1e0f0f11u, 
    0x7bb0b0cbu, 0xa85454fcu, 0x6dbbbbd6u, 0x2c16163au,
};

__constant__ unsigned long long gcm_last4[16] = {
    0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
    0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0};

/* Plain shifts (no intrinsic, so NVRTC needs no header); nvcc emits one SHF/PRMT for them. */
__device__ __forceinline__ unsigned int gcm_rotr(unsigned int x, unsigned int n) { return (x >> n) | (x << (32u - n)); }

__device__ __forceinline__ uint4 gcm_aes256(uint4 s, const unsigned int *__restrict__ rk, const unsigned int *te) {
    unsigned int s0 = s.x ^ rk[0], s1 = s.y ^ rk[1], s2 = s.z ^ rk[2], s3 = s.w ^ rk[3];
#pragma unroll
    for (int r = 1; r < 14; r++) {
        const unsigned int *k = rk + 4 * r;
        unsigned int t0 = te[s0 >> 24] ^ gcm_rotr(te[(s1 >> 16) & 0xff], 8) ^ gcm_rotr(te[(s2 >> 8) & 0xff], 16) ^ gcm_rotr(te[s3 & 0xff], 24) ^ k[0];
        unsigned int t1 = te[s1 >> 24] ^ gcm_rotr(te[(s2 >> 16) & 0xff], 8) ^ gcm_rotr(te[(s3 >> 8) & 0xff], 16) ^ gcm_rotr(te[s0 & 0xff], 24) ^ k[1];
        unsigned int t2 = te[s2 >> 24] ^ gcm_rotr(te[(s3 >> 16) & 0xff], 8) ^ gcm_rotr(te[(s0 >> 8) & 0xff], 16) ^ gcm_rotr(te[s1 & 0xff], 24) ^ k[2];
        unsigned int t3 = te[s3 >> 24] ^ gcm_rotr(te[(s0 >> 16) & 0xff], 8) ^ gcm_rotr(te[(s1 >> 8) & 0xff], 16) ^ gcm_rotr(te[s2 & 0xff], 24) ^ k[3];
        s0 = t0; s1 = t1; s2 = t2; s3 = t3;
    }
    const unsigned int *k = rk + 56;
#define GCM_SB(x) ((te[(x)] >> 8) & 0xffu)
    uint4 o;
    o.x = (GCM_SB(s0 >> 24) << 24) ^ (GCM_SB((s1 >> 16) & 0xff) << 16) ^ (GCM_SB((s2 >> 8) & 0xff) << 8) ^ GCM_SB(s3 & 0xff) ^ k[0];
    o.y = (GCM_SB(s1 >> 24) << 24) ^ (GCM_SB((s2 >> 16) & 0xff) << 16) ^ (GCM_SB((s3 >> 8) & 0xff) << 8) ^ GCM_SB(s0 & 0xff) ^ k[1];
    o.z = (GCM_SB(s2 >> 24) << 24) ^ (GCM_SB((s3 >> 16) & 0xff) << 16) ^ (GCM_SB((s0 >> 8) & 0xff) << 8) ^ GCM_SB(s1 & 0xff) ^ k[2];
    o.w = (GCM_SB(s3 >> 24) << 24) ^ (GCM_SB((s0 >> 16) & 0xff) << 16) ^ (GCM_SB((s1 >> 8) & 0xff) << 8) ^ GCM_SB(s2 & 0xff) ^ k[3];
#undef GCM_SB
    return o;
}

/* x * H through H's 4-bit table tab (hh = tab[0..15], hl = tab[16..31]). */
__device__ __forceinline__ void gcm_mul_table(unsigned long long xh, unsigned long long xl, const unsigned long long *tab,
                                              unsigned long long *rh, unsigned long long *rl) {
    unsigned int lo = (unsigned int)(xl & 0xf);
    unsigned long long zh = tab[lo], zl = tab[16 + lo];
    for (int i = 15; i >= 0; i--) {
        unsigned int b = (unsigned int)((i >= 8 ? (xl >> (8 * (15 - i))) : (xh >> (8 * (7 - i)))) & 0xff);
        unsigned int hi = b >> 4, rem;
        lo = b & 0xf;
        if (i != 15) {
            rem = (unsigned int)(zl & 0xf);
            zl = (zh << 60) | (zl >> 4);
            zh = (zh >> 4) ^ (gcm_last4[rem] << 48);
            zh ^= tab[lo];
            zl ^= tab[16 + lo];
        }
        rem = (unsigned int)(zl & 0xf);
        zl = (zh << 60) | (zl >> 4);
        zh = (zh >> 4) ^ (gcm_last4[rem] << 48);
        zh ^= tab[hi];
        zl ^= tab[16 + hi];
    }
    *rh = zh;
    *rl = zl;
}

/* x * y in GF(2^128), bit by bit (the tree's few products). */
__device__ __forceinline__ void gcm_mul(unsigned long long xh, unsigned long long xl, unsigned long long yh,
                                        unsigned long long yl, unsigned long long *rh, unsigned long long *rl) {
    unsigned long long zh = 0, zl = 0, vh = yh, vl = yl;
    for (int i = 0; i < 128; i++) {
        unsigned long long bit = i < 64 ? (xh >> (63 - i)) & 1 : (xl >> (127 - i)) & 1;
        unsigned long long m = 0ULL - bit;
        zh ^= vh & m;
        zl ^= vl & m;
        unsigned long long carry = 0ULL - (vl & 1);
        vl = (vl >> 1) | (vh << 63);
        vh = (vh >> 1) ^ (carry & 0xe100000000000000ULL);
    }
    *rh = zh;
    *rl = zl;
}

__device__ __forceinline__ unsigned long long gcm_be64(const unsigned char *b) {
    unsigned long long v = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
    return v;
}

__device__ __forceinline__ void gcm_segment(long long n, int pad, int L, const unsigned char *__restrict__ in,
                                            unsigned char *__restrict__ out, const unsigned int *__restrict__ keys,
                                            const unsigned long long *__restrict__ tabs, unsigned long long *partial,
                                            int hash_out) {
    __shared__ unsigned int te[256];
    __shared__ unsigned int rk[64];
    __shared__ unsigned long long htab[32];
    __shared__ unsigned long long scratch[2 * GCM_MAX_THREADS];
    unsigned int tid = threadIdx.x, w = blockDim.x;
    for (unsigned int i = tid; i < 256; i += w) te[i] = gcm_te0_const[i];
    for (unsigned int i = tid; i < 64; i += w) rk[i] = keys[i];
    for (unsigned int i = tid; i < 32; i += w) htab[i] = tabs[i];
    __syncthreads();
    long long item = (long long)blockIdx.x * w + tid;
    long long b0 = item * L - pad;
    unsigned long long yh = 0, yl = 0;
    for (int j = 0; j < L; j++) {
        long long b = b0 + j;
        unsigned long long xh = 0, xl = 0;
        if (b >= 0 && b * 16 < n) {
            long long off = b * 16;
            uint4 ctr;
            ctr.x = rk[60];
            ctr.y = rk[61];
            ctr.z = rk[62];
            ctr.w = rk[63] + 1u + (unsigned int)b;
            uint4 ks = gcm_aes256(ctr, rk, te);
            unsigned char kb[16], hb[16];
            unsigned int kw[4] = {ks.x, ks.y, ks.z, ks.w};
#pragma unroll
            for (int i = 0; i < 16; i++) kb[i] = (unsigned char)(kw[i / 4] >> (24 - 8 * (i % 4)));
            int m = n - off < 16 ? (int)(n - off) : 16;
            if (m == 16) {
                uint4 p4 = *reinterpret_cast<const uint4 *>(in + off); /* device buffers are 256-byte aligned */
                const unsigned char *p = reinterpret_cast<const unsigned char *>(&p4);
                uint4 c4;
                unsigned char *c = reinterpret_cast<unsigned char *>(&c4);
#pragma unroll
                for (int i = 0; i < 16; i++) {
                    c[i] = p[i] ^ kb[i];
                    hb[i] = hash_out ? c[i] : p[i];
                }
                *reinterpret_cast<uint4 *>(out + off) = c4;
            } else {
                for (int i = 0; i < 16; i++) hb[i] = 0;
                for (int i = 0; i < m; i++) {
                    unsigned char p = in[off + i], c = p ^ kb[i];
                    out[off + i] = c;
                    hb[i] = hash_out ? c : p;
                }
            }
            xh = gcm_be64(hb);
            xl = gcm_be64(hb + 8);
        }
        gcm_mul_table(yh ^ xh, yl ^ xl, htab, &yh, &yl);
    }
    scratch[2 * tid] = yh;
    scratch[2 * tid + 1] = yl;
    __syncthreads();
    for (unsigned int s = 1, lev = 0; s < w; s *= 2, lev++) {
        if ((tid & (2 * s - 1)) == 0) {
            unsigned long long ah, al;
            gcm_mul(scratch[2 * tid], scratch[2 * tid + 1], tabs[32 + 2 * lev], tabs[33 + 2 * lev], &ah, &al);
            scratch[2 * tid] = ah ^ scratch[2 * (tid + s)];
            scratch[2 * tid + 1] = al ^ scratch[2 * (tid + s) + 1];
        }
        __syncthreads();
    }
    if (tid == 0) {
        partial[2 * blockIdx.x] = scratch[0];
        partial[2 * blockIdx.x + 1] = scratch[1];
    }
}

/* Seal: out = in xor keystream, GHASH over out. */
extern "C" __global__ void __launch_bounds__(GCM_MAX_THREADS)
aes256gcm_seal(long long n, int pad, int L, const unsigned char *__restrict__ in, unsigned char *__restrict__ out,
               const unsigned int *__restrict__ keys, const unsigned long long *__restrict__ tabs, unsigned long long *partial) {
    gcm_segment(n, pad, L, in, out, keys, tabs, partial, 1);
}

/* Open: out = in xor keystream, GHASH over in (the ciphertext); the host checks the tag. */
extern "C" __global__ void __launch_bounds__(GCM_MAX_THREADS)
aes256gcm_open(long long n, int pad, int L, const unsigned char *__restrict__ in, unsigned char *__restrict__ out,
               const unsigned int *__restrict__ keys, const unsigned long long *__restrict__ tabs, unsigned long long *partial) {
    gcm_segment(n, pad, L, in, out, keys, tabs, partial, 0);
}
