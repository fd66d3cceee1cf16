package aesgcm

// sbox is the AES S-box, computed once from its definition (multiplicative inverse in GF(2^8),
// then the affine map), so that no table is copied by hand.
var sbox = func() (s [256]byte) {
	mul := func(a, b byte) byte {
		var p byte
		for ; b > 0; b >>= 1 {
			if b&1 != 0 {
				p ^= a
			}
			hi := a & 0x80
			a <<= 1
			if hi != 0 {
				a ^= 0x1b
			}
		}
		return p
	}
	for i := 0; i < 256; i++ {
		var inv byte
		for j := 1; i != 0 && j < 256; j++ {
			if mul(byte(i), byte(j)) == 1 {
				inv = byte(j)
				break
			}
		}
		x, v := inv, inv
		for k := 0; k < 4; k++ {
			x = x<<1 | x>>7
			v ^= x
		}
		s[i] = v ^ 0x63
	}
	return
}()

func subWord(w uint32) uint32 {
	return uint32(sbox[w>>24])<<24 | uint32(sbox[w>>16&0xff])<<16 | uint32(sbox[w>>8&0xff])<<8 | uint32(sbox[w&0xff])
}

// ExpandKey returns the AES-256 key expansion of key (FIPS-197 section 5.2); len(key) must be 32.
func ExpandKey(key []byte) [RoundKeyWords]uint32 {
	var w [RoundKeyWords]uint32
	for i := 0; i < 8; i++ {
		w[i] = uint32(key[4*i])<<24 | uint32(key[4*i+1])<<16 | uint32(key[4*i+2])<<8 | uint32(key[4*i+3])
	}
	rcon := uint32(1)
	for i := 8; i < RoundKeyWords; i++ {
		t := w[i-1]
		switch i % 8 {
		case 0:
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon <<= 1
		case 4:
			t = subWord(t)
		}
		w[i] = w[i-8] ^ t
	}
	return w
}

// EncryptBlock encrypts one block with the expanded key by the textbook rounds (for tests of the
// expansion against crypto/aes; the kernels use T-tables).
func EncryptBlock(w *[RoundKeyWords]uint32, dst, src []byte) {
	var s [16]byte
	copy(s[:], src)
	addRK := func(r int) {
		for c := 0; c < 4; c++ {
			k := w[4*r+c]
			s[4*c] ^= byte(k >> 24)
			s[4*c+1] ^= byte(k >> 16)
			s[4*c+2] ^= byte(k >> 8)
			s[4*c+3] ^= byte(k)
		}
	}
	xt := func(b byte) byte {
		if b&0x80 != 0 {
			return b<<1 ^ 0x1b
		}
		return b << 1
	}
	addRK(0)
	for r := 1; r <= Rounds; r++ {
		for i := range s {
			s[i] = sbox[s[i]]
		}
		// ShiftRows: row j rotates left by j (state is column-major: s[4*c+j]).
		var t [16]byte
		for c := 0; c < 4; c++ {
			for j := 0; j < 4; j++ {
				t[4*c+j] = s[4*((c+j)%4)+j]
			}
		}
		s = t
		if r != Rounds {
			for c := 0; c < 4; c++ {
				a0, a1, a2, a3 := s[4*c], s[4*c+1], s[4*c+2], s[4*c+3]
				s[4*c] = xt(a0) ^ xt(a1) ^ a1 ^ a2 ^ a3
				s[4*c+1] = a0 ^ xt(a1) ^ xt(a2) ^ a2 ^ a3
				s[4*c+2] = a0 ^ a1 ^ xt(a2) ^ xt(a3) ^ a3
				s[4*c+3] = xt(a0) ^ a0 ^ a1 ^ a2 ^ xt(a3)
			}
		}
		addRK(r)
	}
	copy(dst, s[:])
}
