package aesgcm

import "encoding/binary"

// SealReference seals plaintext into dst (len(plaintext)+TagSize bytes) by the kernels'
// algorithm, run on the host one work-item after another with geometry g: CTR per item, Horner
// per item, the group tree, then Tag. It exists to test the algorithm and the host half against
// crypto/cipher without a device; it is slow (bit-serial powers, one block at a time).
func (k *Key) SealReference(g Geometry, dst, nonce, plaintext, aad []byte) {
	n := len(plaintext)
	j0 := k.J0(nonce)
	ctr0 := binary.BigEndian.Uint32(j0[12:])
	var cb, ks [BlockSize]byte
	copy(cb[:], j0[:])
	for b := 0; b*BlockSize < n; b++ {
		binary.BigEndian.PutUint32(cb[12:], ctr0+1+uint32(b))
		k.block.Encrypt(ks[:], cb[:])
		for i := b * BlockSize; i < min(n, (b+1)*BlockSize); i++ {
			dst[i] = plaintext[i] ^ ks[i-b*BlockSize]
		}
	}
	partials := k.Partials(g, dst[:n])
	tag := k.Tag(g, partials, aad, n, j0)
	copy(dst[n:], tag[:])
}

// Partials returns the groups' partial GHASH values of ct as a device computes them.
func (k *Key) Partials(g Geometry, ct []byte) []uint64 {
	pow := k.HPow(g)
	out := make([]uint64, 2*g.Groups)
	item := make([]Block, g.W)
	for grp := 0; grp < g.Groups; grp++ {
		for it := 0; it < g.W; it++ {
			var y Block
			for j := 0; j < g.L; j++ {
				b := (grp*g.W+it)*g.L + j - g.Pad // real block index
				var x Block
				if b >= 0 {
					var blk [BlockSize]byte
					copy(blk[:], ct[b*BlockSize:min(len(ct), (b+1)*BlockSize)])
					x = Load(blk[:])
				}
				y = MulTable(y.Xor(x), &k.HTable)
			}
			item[it] = y
		}
		for l, s := 0, 1; s < g.W; l, s = l+1, s*2 {
			p := Block{pow[2*l], pow[2*l+1]}
			for it := 0; it < g.W; it += 2 * s {
				item[it] = Mul(item[it], p).Xor(item[it+s])
			}
		}
		out[2*grp], out[2*grp+1] = item[0].Hi, item[0].Lo
	}
	return out
}
