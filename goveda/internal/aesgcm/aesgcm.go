// Package aesgcm is the host half of VEDA's AES-256-GCM device kernels (opencl/aes_gcm.cl,
// cuda/aes_gcm.cu): the key schedule, the GF(2^128) arithmetic of GHASH, the tables and powers of
// the hash subkey H that the kernels read, the first counter block J0, and the tag computed from
// the kernels' partial GHASH values. The CPU path of seal and open is Go's crypto/cipher; this
// package only prepares and finishes device calls, and its results are checked against
// crypto/cipher in its tests.
//
// # Glossary (NIST SP 800-38D)
//
//   - H = AES_K(0^128), the hash subkey. GHASH_H(X_1..X_m) = X_1*H^m + ... + X_m*H (Horner:
//     Y_i = (Y_{i-1} xor X_i) * H), multiplication in GF(2^128) with GCM's reflected bit order.
//   - J0 = IV || 0^31 || 1 for a 96-bit IV, else GHASH_H(IV || 0-pad || [0]64 || [len(IV)]64).
//   - Block i of the message (from 0) is xored with AES_K(inc32(J0, i+1)).
//   - Tag = AES_K(J0) xor GHASH_H(A || 0-pad || C || 0-pad || [len(A)]64 || [len(C)]64).
//
// # How a device computes GHASH in parallel
//
//  1. The ciphertext's m blocks (the last zero-padded) are left-padded with zero blocks up to
//     groups*W*L blocks: a leading zero block does not change a Horner sum that starts at 0.
//  2. Work-item k of a group takes L consecutive blocks, xors the keystream into them (CTR), and
//     Horner-sums its L ciphertext blocks with H (Shoup's 4-bit table of H, HTable).
//  3. The group combines its W item sums in a fixed tree: at level l, left*H^(L*2^l) xor right
//     (the precomputed powers HPow[l]), and writes one partial per group.
//  4. The host (Tag) Horner-combines the group partials with H^(W*L), adds the associated data's
//     GHASH and the length block, and encrypts J0 for the tag.
//
// Who may call: every function is pure or reads only its arguments; any goroutine.
package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"sync"
)

// KeySize is the AES-256 key size in bytes; TagSize the GCM tag size.
const (
	KeySize   = 32
	TagSize   = 16
	BlockSize = 16
	// Rounds is the number of AES-256 rounds; RoundKeyWords the expanded key's 32-bit words.
	Rounds        = 14
	RoundKeyWords = 4 * (Rounds + 1)
	// MaxLevels bounds the tree depth of a work-group (W <= 2^MaxLevels).
	MaxLevels = 12
)

// Block is a 128-bit GCM field element or data block as two big-endian halves: Hi holds bytes
// 0..7, Lo bytes 8..15.
type Block struct{ Hi, Lo uint64 }

// Load reads a block from 16 bytes.
func Load(b []byte) Block {
	return Block{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

// Put writes x into 16 bytes.
func (x Block) Put(b []byte) {
	binary.BigEndian.PutUint64(b[:8], x.Hi)
	binary.BigEndian.PutUint64(b[8:16], x.Lo)
}

// Xor returns x xor y.
func (x Block) Xor(y Block) Block { return Block{x.Hi ^ y.Hi, x.Lo ^ y.Lo} }

// Mul returns x*y in GCM's GF(2^128) (SP 800-38D Algorithm 1, bit by bit). About 0.3 us.
func Mul(x, y Block) Block {
	var z Block
	v := y
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = x.Hi >> (63 - i) & 1
		} else {
			bit = x.Lo >> (127 - i) & 1
		}
		if bit != 0 {
			z.Hi ^= v.Hi
			z.Lo ^= v.Lo
		}
		carry := v.Lo & 1
		v.Lo = v.Lo>>1 | v.Hi<<63
		v.Hi >>= 1
		if carry != 0 {
			v.Hi ^= 0xe100000000000000
		}
	}
	return z
}

// Pow returns h^n (h^0 is the field's one, the block 0x80 00..00).
func Pow(h Block, n uint64) Block {
	r := Block{Hi: 1 << 63}
	for n > 0 {
		if n&1 != 0 {
			r = Mul(r, h)
		}
		h = Mul(h, h)
		n >>= 1
	}
	return r
}

// Table is Shoup's 4-bit multiplication table of one element h: Table[i] (i < 16) is the high
// half and Table[16+i] the low half of the product of h by the 4-bit element i (in GCM's
// reflected order). The kernels multiply by H through it: 32 lookups per product.
type Table [32]uint64

// last4 is the reduction constant of the 4 bits shifted out of a product per step.
var last4 = [16]uint64{
	0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
	0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0,
}

// NewTable returns h's 4-bit table.
func NewTable(h Block) Table {
	var hh, hl [16]uint64
	vh, vl := h.Hi, h.Lo
	hh[8], hl[8] = vh, vl
	for i := 4; i > 0; i >>= 1 {
		t := (vl & 1) * 0xe1000000
		vl = vh<<63 | vl>>1
		vh = vh>>1 ^ t<<32
		hh[i], hl[i] = vh, vl
	}
	for i := 2; i <= 8; i *= 2 {
		vh, vl = hh[i], hl[i]
		for j := 1; j < i; j++ {
			hh[i+j] = vh ^ hh[j]
			hl[i+j] = vl ^ hl[j]
		}
	}
	var t Table
	copy(t[:16], hh[:])
	copy(t[16:], hl[:])
	return t
}

// MulTable returns x*h through h's table t; the kernels run this exact sequence.
func MulTable(x Block, t *Table) Block {
	byteAt := func(i int) uint64 {
		if i >= 8 {
			return x.Lo >> (8 * (15 - i)) & 0xff
		}
		return x.Hi >> (8 * (7 - i)) & 0xff
	}
	lo := byteAt(15) & 0xf
	zh, zl := t[lo], t[16+lo]
	for i := 15; i >= 0; i-- {
		b := byteAt(i)
		lo, hi := b&0xf, b>>4
		if i != 15 {
			rem := zl & 0xf
			zl = zh<<60 | zl>>4
			zh = zh>>4 ^ last4[rem]<<48
			zh ^= t[lo]
			zl ^= t[16+lo]
		}
		rem := zl & 0xf
		zl = zh<<60 | zl>>4
		zh = zh>>4 ^ last4[rem]<<48
		zh ^= t[hi]
		zl ^= t[16+hi]
	}
	return Block{zh, zl}
}

// Horner returns the GHASH Horner sum of data (zero-padded to whole blocks) continued from y:
// for each block X, y = (y xor X)*H, with h's table t.
func Horner(y Block, t *Table, data []byte) Block {
	for len(data) >= BlockSize {
		y = MulTable(y.Xor(Load(data)), t)
		data = data[BlockSize:]
	}
	if len(data) > 0 {
		var last [BlockSize]byte
		copy(last[:], data)
		y = MulTable(y.Xor(Load(last[:])), t)
	}
	return y
}

// Key is an AES-256 key prepared for the device kernels. Immutable after NewKey.
type Key struct {
	// RoundKeys is the FIPS-197 key expansion w[0..59] (big-endian words).
	RoundKeys [RoundKeyWords]uint32
	// H is the hash subkey AES_K(0); HTable its 4-bit table.
	H      Block
	HTable Table
	block  cipher.Block

	// mu guards the caches of powers of H (a few entries per device geometry): the tree powers
	// of a geometry and the 4-bit table of the group step H^(W*L), so that a device call's host
	// half costs a few microseconds, not a chain of bit-serial products.
	mu       sync.Mutex
	hpows    map[[2]int][2 * MaxLevels]uint64
	stepTabs map[uint64]*Table
}

// ErrKeySize is returned by NewKey for a key that is not 32 bytes.
var ErrKeySize = errors.New("veda: aesgcm: key must be 32 bytes (AES-256)")

// NewKey expands key (32 bytes) for the kernels. Cost: about 2 us.
func NewKey(key []byte) (*Key, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	k := &Key{RoundKeys: ExpandKey(key), block: blk}
	var z [BlockSize]byte
	blk.Encrypt(z[:], z[:])
	k.H = Load(z[:])
	k.HTable = NewTable(k.H)
	return k, nil
}

// Encrypt encrypts one block with the key (crypto/aes).
func (k *Key) Encrypt(dst, src []byte) { k.block.Encrypt(dst, src) }

// J0 returns the pre-counter block for nonce (any non-empty length; 12 bytes is the fast case).
func (k *Key) J0(nonce []byte) [BlockSize]byte {
	var j [BlockSize]byte
	if len(nonce) == 12 {
		copy(j[:], nonce)
		j[15] = 1
		return j
	}
	y := Horner(Block{}, &k.HTable, nonce)
	y = MulTable(y.Xor(Block{0, uint64(len(nonce)) * 8}), &k.HTable)
	y.Put(j[:])
	return j
}

// Geometry is how one device call cuts a message of n bytes: Groups work-groups of W items,
// each item L blocks, the message right-aligned after Pad zero blocks (see the package doc).
type Geometry struct {
	Blocks, Pad, Groups, W, L int
}

// NewGeometry returns the cut of n bytes for items of l blocks and groups of at most w items (w
// a power of two <= 2^MaxLevels): small messages get a smaller power-of-two group.
func NewGeometry(n, w, l int) Geometry {
	blocks := (n + BlockSize - 1) / BlockSize
	items := (blocks + l - 1) / l
	for w > 1 && w/2 >= items {
		w /= 2
	}
	groups := max(1, (items+w-1)/w)
	return Geometry{Blocks: blocks, Pad: groups*w*l - blocks, Groups: groups, W: w, L: l}
}

// HPow returns the tree's powers for g: HPow[2*l], HPow[2*l+1] are the halves of H^(L*2^l) for
// l < log2(W) (the rest zero). Cached per (W, L); any goroutine.
func (k *Key) HPow(g Geometry) [2 * MaxLevels]uint64 {
	key := [2]int{g.W, g.L}
	k.mu.Lock()
	out, ok := k.hpows[key]
	k.mu.Unlock()
	if ok {
		return out
	}
	out = hpow(k.H, g)
	k.mu.Lock()
	if k.hpows == nil {
		k.hpows = map[[2]int][2 * MaxLevels]uint64{}
	}
	k.hpows[key] = out
	k.mu.Unlock()
	return out
}

// stepTable returns the 4-bit table of H^n, cached; any goroutine.
func (k *Key) stepTable(n uint64) *Table {
	k.mu.Lock()
	t, ok := k.stepTabs[n]
	k.mu.Unlock()
	if ok {
		return t
	}
	nt := NewTable(Pow(k.H, n))
	k.mu.Lock()
	if k.stepTabs == nil {
		k.stepTabs = map[uint64]*Table{}
	}
	k.stepTabs[n] = &nt
	k.mu.Unlock()
	return &nt
}

func hpow(h Block, g Geometry) [2 * MaxLevels]uint64 {
	var out [2 * MaxLevels]uint64
	p := Pow(h, uint64(g.L))
	for l := 0; 1<<l < g.W; l++ {
		out[2*l], out[2*l+1] = p.Hi, p.Lo
		p = Mul(p, p)
	}
	return out
}

// Tag returns the GCM tag from the groups' partial GHASH values (partials[2*i], [2*i+1]: group
// i's halves), the associated data aad, the ciphertext length n in bytes and j0. Cost: one 4-bit
// table product per group (the step's table is cached), plus one power of H with associated
// data; any goroutine.
func (k *Key) Tag(g Geometry, partials []uint64, aad []byte, n int, j0 [BlockSize]byte) [TagSize]byte {
	y := Horner(Block{}, &k.HTable, aad)
	if g.Blocks > 0 {
		if len(aad) > 0 {
			y = Mul(y, Pow(k.H, uint64(g.Blocks)))
		}
		step := k.stepTable(uint64(g.W * g.L))
		var c Block
		for i := 0; i < g.Groups; i++ {
			if i > 0 {
				c = MulTable(c, step)
			}
			c = c.Xor(Block{partials[2*i], partials[2*i+1]})
		}
		y = y.Xor(c)
	}
	y = MulTable(y.Xor(Block{uint64(len(aad)) * 8, uint64(n) * 8}), &k.HTable)
	var ek [BlockSize]byte
	k.block.Encrypt(ek[:], j0[:])
	var tag [TagSize]byte
	y.Xor(Load(ek[:])).Put(tag[:])
	return tag
}
