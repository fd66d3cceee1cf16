/* aes_gcm.cl: AES-256-GCM seal and open of whole messages (VEDA's streaming segments), OpenCL C 1.2.
 *
 * One launch does CTR and GHASH together. The host (goveda/internal/aesgcm) cuts the message of n
 * bytes into items of L consecutive 16-byte blocks, right-aligned after `pad` zero blocks, so that
 * every work-group of W items covers W*L blocks (a leading zero block does not change GHASH):
 *   1. item k encrypts its blocks with AES-256 in counter mode (counter inc32(J0, 1 + block)),
 *      writing out[] (the last block may be partial);
 *   2. it Horner-sums its L blocks of ciphertext (seal: what it wrote; open: what it read), each
 *      zero-padded, multiplying by H through Shoup's 4-bit table of H;
 *   3. the group combines its W sums in a fixed tree, left*H^(L*2^l) xor right at level l (the
 *      host's precomputed powers), and item 0 writes the group's partial to partial[2g], [2g+1].
 * The host Horner-combines the partials, adds the associated data and the length block, and
 * computes the tag (Tag in goveda/internal/aesgcm), so the kernel needs no AAD and no J0 block
 * encryption of its own. Every byte is addressed as bytes: endianness does not matter.
 *
 * Arguments: n (bytes), pad (leading zero blocks), L (blocks per item), in, out (n bytes each),
 * keys (60 AES-256 round-key words, then the 4 words of J0), tabs (the 32 words of H's 4-bit
 * table, then 2 words per tree level: H^(L*2^l)), partial (2 words per group), scratch (__local,
 * 2 words per item; the local size must be a power of two). */

__constant uint aes_te0[256] = {
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

#define AES_TE0(x) aes_te0[(x)]
#define AES_TE1(x) rotate(aes_te0[(x)], 24u)
#define AES_TE2(x) rotate(aes_te0[(x)], 16u)
#define AES_TE3(x) rotate(aes_te0[(x)], 8u)
#define AES_SB(x) ((aes_te0[(x)] >> 8) & 0xffu)

/* AES-256 encryption of the block (s0, s1, s2, s3) (big-endian words) with round keys rk. */
inline uint4 aes256_encrypt(uint s0, uint s1, uint s2, uint s3, __constant const uint *rk) {
    uint t0, t1, t2, t3;
    s0 ^= rk[0]; s1 ^= rk[1]; s2 ^= rk[2]; s3 ^= rk[3];
    for (int r = 1; r < 14; r++) {
        __constant const uint *k = rk + 4 * r;
        t0 = AES_TE0(s0 >> 24) ^ AES_TE1((s1 >> 16) & 0xff) ^ AES_TE2((s2 >> 8) & 0xff) ^ AES_TE3(s3 & 0xff) ^ k[0];
        t1 = AES_TE0(s1 >> 24) ^ AES_TE1((s2 >> 16) & 0xff) ^ AES_TE2((s3 >> 8) & 0xff) ^ AES_TE3(s0 & 0xff) ^ k[1];
        t2 = AES_TE0(s2 >> 24) ^ AES_TE1((s3 >> 16) & 0xff) ^ AES_TE2((s0 >> 8) & 0xff) ^ AES_TE3(s1 & 0xff) ^ k[2];
        t3 = AES_TE0(s3 >> 24) ^ AES_TE1((s0 >> 16) & 0xff) ^ AES_TE2((s1 >> 8) & 0xff) ^ AES_TE3(s2 & 0xff) ^ k[3];
        s0 = t0; s1 = t1; s2 = t2; s3 = t3;
    }
    __constant const uint *k = rk + 56;
    uint4 o;
    o.x = (AES_SB(s0 >> 24) << 24) ^ (AES_SB((s1 >> 16) & 0xff) << 16) ^ (AES_SB((s2 >> 8) & 0xff) << 8) ^ AES_SB(s3 & 0xff) ^ k[0];
    o.y = (AES_SB(s1 >> 24) << 24) ^ (AES_SB((s2 >> 16) & 0xff) << 16) ^ (AES_SB((s3 >> 8) & 0xff) << 8) ^ AES_SB(s0 & 0xff) ^ k[1];
    o.z = (AES_SB(s2 >> 24) << 24) ^ (AES_SB((s3 >> 16) & 0xff) << 16) ^ (AES_SB((s0 >> 8) & 0xff) << 8) ^ AES_SB(s1 & 0xff) ^ k[2];
    o.w = (AES_SB(s3 >> 24) << 24) ^ (AES_SB((s0 >> 16) & 0xff) << 16) ^ (AES_SB((s1 >> 8) & 0xff) << 8) ^ AES_SB(s2 & 0xff) ^ k[3];
    return o;
}

__constant ulong gcm_last4[16] = {
    0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
    0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0};

/* (*zh, *zl) = x * H through H's 4-bit table (hh = tab[0..15], hl = tab[16..31]). */
inline void gcm_mul_table(ulong xh, ulong xl, __constant const ulong *tab, ulong *rh, ulong *rl) {
    uint lo = (uint)(xl & 0xf);
    ulong zh = tab[lo], zl = tab[16 + lo];
    for (int i = 15; i >= 0; i--) {
        uint b = (uint)((i >= 8 ? (xl >> (8 * (15 - i))) : (xh >> (8 * (7 - i)))) & 0xff);
        uint hi = b >> 4;
        lo = b & 0xf;
        uint rem;
        if (i != 15) {
            rem = (uint)(zl & 0xf);
            zl = (zh << 60) | (zl >> 4);
            zh = (zh >> 4) ^ (gcm_last4[rem] << 48);
            zh ^= tab[lo];
            zl ^= tab[16 + lo];
        }
        rem = (uint)(zl & 0xf);
        zl = (zh << 60) | (zl >> 4);
        zh = (zh >> 4) ^ (gcm_last4[rem] << 48);
        zh ^= tab[hi];
        zl ^= tab[16 + hi];
    }
    *rh = zh;
    *rl = zl;
}

/* (*rh, *rl) = x * y in GF(2^128), bit by bit (SP 800-38D Algorithm 1): the tree's few products. */
inline void gcm_mul(ulong xh, ulong xl, ulong yh, ulong yl, ulong *rh, ulong *rl) {
    ulong zh = 0, zl = 0, vh = yh, vl = yl;
    for (int i = 0; i < 128; i++) {
        ulong bit = i < 64 ? (xh >> (63 - i)) & 1 : (xl >> (127 - i)) & 1;
        ulong m = (ulong)0 - bit;
        zh ^= vh & m;
        zl ^= vl & m;
        ulong carry = (ulong)0 - (vl & 1);
        vl = (vl >> 1) | (vh << 63);
        vh = (vh >> 1) ^ (carry & 0xe100000000000000UL);
    }
    *rh = zh;
    *rl = zl;
}

inline ulong gcm_be64(uchar16 v, int upper) {
    uchar8 h = upper ? v.s89abcdef : v.s01234567;
    return ((ulong)h.s0 << 56) | ((ulong)h.s1 << 48) | ((ulong)h.s2 << 40) | ((ulong)h.s3 << 32) |
           ((ulong)h.s4 << 24) | ((ulong)h.s5 << 16) | ((ulong)h.s6 << 8) | (ulong)h.s7;
}

inline uchar16 gcm_bytes(uint4 w) {
    return (uchar16)((uchar)(w.x >> 24), (uchar)(w.x >> 16), (uchar)(w.x >> 8), (uchar)w.x,
                     (uchar)(w.y >> 24), (uchar)(w.y >> 16), (uchar)(w.y >> 8), (uchar)w.y,
                     (uchar)(w.z >> 24), (uchar)(w.z >> 16), (uchar)(w.z >> 8), (uchar)w.z,
                     (uchar)(w.w >> 24), (uchar)(w.w >> 16), (uchar)(w.w >> 8), (uchar)w.w);
}

inline void aes256gcm_segment(long n, int pad, int L, __global const uchar *in, __global uchar *out,
                              __constant const uint *keys, __constant const ulong *tabs, __global ulong *partial,
                              __local ulong *scratch, int hash_out) {
    __constant const uint *j0 = keys + 60;
    long item = get_global_id(0);
    long b0 = item * L - pad;
    ulong yh = 0, yl = 0;
    for (int j = 0; j < L; j++) {
        long b = b0 + j;
        ulong xh = 0, xl = 0;
        if (b >= 0 && b * 16 < n) {
            long off = b * 16;
            uint4 ks = aes256_encrypt(j0[0], j0[1], j0[2], j0[3] + 1u + (uint)b, keys);
            uchar16 k = gcm_bytes(ks);
            uchar16 h;
            if (off + 16 <= n) {
                uchar16 p = vload16(0, in + off);
                uchar16 c = p ^ k;
                vstore16(c, 0, out + off);
                h = hash_out ? c : p;
            } else {
                uchar tmp[16], kb[16];
                vstore16(k, 0, kb);
                int m = (int)(n - off);
                for (int i = 0; i < 16; i++) tmp[i] = 0;
                for (int i = 0; i < m; i++) {
                    uchar p = in[off + i];
                    uchar c = p ^ kb[i];
                    out[off + i] = c;
                    tmp[i] = hash_out ? c : p;
                }
                h = vload16(0, tmp);
            }
            xh = gcm_be64(h, 0);
            xl = gcm_be64(h, 1);
        }
        gcm_mul_table(yh ^ xh, yl ^ xl, tabs, &yh, &yl);
    }
    int lid = (int)get_local_id(0), w = (int)get_local_size(0);
    scratch[2 * lid] = yh;
    scratch[2 * lid + 1] = yl;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = 1, lev = 0; s < w; s *= 2, lev++) {
        if ((lid & (2 * s - 1)) == 0) {
            ulong ah, al;
            gcm_mul(scratch[2 * lid], scratch[2 * lid + 1], tabs[32 + 2 * lev], tabs[33 + 2 * lev], &ah, &al);
            scratch[2 * lid] = ah ^ scratch[2 * (lid + s)];
            scratch[2 * lid + 1] = al ^ scratch[2 * (lid + s) + 1];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        partial[2 * get_group_id(0)] = scratch[0];
        partial[2 * get_group_id(0) + 1] = scratch[1];
    }
}

/* Seal: out = in xor keystream; GHASH over out. */
__kernel void aes256gcm_seal(const long n, const int pad, const int L, __global const uchar *in, __global uchar *out,
                             __constant const uint *keys, __constant const ulong *tabs, __global ulong *partial,
                             __local ulong *scratch) {
    aes256gcm_segment(n, pad, L, in, out, keys, tabs, partial, scratch, 1);
}

/* Open: out = in xor keystream; GHASH over in (the ciphertext). The host checks the tag. */
__kernel void aes256gcm_open(const long n, const int pad, const int L, __global const uchar *in, __global uchar *out,
                             __constant const uint *keys, __constant const ulong *tabs, __global ulong *partial,
                             __local ulong *scratch) {
    aes256gcm_segment(n, pad, L, in, out, keys, tabs, partial, scratch, 0);
}
