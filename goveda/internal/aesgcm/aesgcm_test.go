package aesgcm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestExpandKeyMatchesCryptoAES(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		key := make([]byte, 32)
		src := make([]byte, 16)
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		for j := range src {
			src[j] = byte(r.Uint32())
		}
		w := ExpandKey(key)
		got := make([]byte, 16)
		EncryptBlock(&w, got, src)
		want := make([]byte, 16)
		c, _ := aes.NewCipher(key)
		c.Encrypt(want, src)
		if !bytes.Equal(got, want) {
			t.Fatalf("key %x: got %x want %x", key, got, want)
		}
	}
}

func TestMulTableMatchesMul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		h := Block{r.Uint64(), r.Uint64()}
		x := Block{r.Uint64(), r.Uint64()}
		tab := NewTable(h)
		if got, want := MulTable(x, &tab), Mul(x, h); got != want {
			t.Fatalf("x=%x h=%x: table %x, bitwise %x", x, h, got, want)
		}
	}
	one := Block{Hi: 1 << 63}
	h := Block{r.Uint64(), r.Uint64()}
	if Mul(one, h) != h || Pow(h, 3) != Mul(Mul(h, h), h) {
		t.Fatal("field identity or Pow broken")
	}
}

// TestReferenceMatchesCryptoCipher checks the kernels' algorithm (per-item CTR and Horner, tree
// combine, host tag) against crypto/cipher for random keys, nonces (12 bytes and others), AAD,
// lengths and geometries.
func TestReferenceMatchesCryptoCipher(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	lengths := []int{0, 1, 15, 16, 17, 31, 255, 256, 257, 4095, 4096, 65536, 100000}
	for _, n := range lengths {
		for _, geo := range [][2]int{{64, 16}, {256, 4}, {8, 1}, {1, 3}} {
			key := make([]byte, 32)
			nlen := []int{12, 8, 60, 16}[r.IntN(4)]
			nonce := make([]byte, nlen)
			pt := make([]byte, n)
			aad := make([]byte, r.IntN(40))
			for _, b := range [][]byte{key, nonce, pt, aad} {
				for i := range b {
					b[i] = byte(r.Uint32())
				}
			}
			k, err := NewKey(key)
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := aes.NewCipher(key)
			var g cipher.AEAD
			if nlen == 12 {
				g, _ = cipher.NewGCM(blk)
			} else {
				g, _ = cipher.NewGCMWithNonceSize(blk, nlen)
			}
			want := g.Seal(nil, nonce, pt, aad)
			got := make([]byte, n+TagSize)
			k.SealReference(NewGeometry(n, geo[0], geo[1]), got, nonce, pt, aad)
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d geo=%v nonce=%d aad=%d: mismatch", n, geo, nlen, len(aad))
			}
		}
	}
}

func TestGeometry(t *testing.T) {
	for _, c := range []struct {
		n, w, l int
		want    Geometry
	}{
		{0, 64, 16, Geometry{Blocks: 0, Pad: 16, Groups: 1, W: 1, L: 16}},
		{1, 64, 16, Geometry{Blocks: 1, Pad: 15, Groups: 1, W: 1, L: 16}},
		{1 << 20, 64, 16, Geometry{Blocks: 65536, Pad: 0, Groups: 64, W: 64, L: 16}},
		{4096, 64, 16, Geometry{Blocks: 256, Pad: 0, Groups: 1, W: 16, L: 16}},
	} {
		if got := NewGeometry(c.n, c.w, c.l); got != c.want {
			t.Errorf("NewGeometry(%d,%d,%d) = %+v, want %+v", c.n, c.w, c.l, got, c.want)
		}
	}
}

// TestKnownAnswersCPUAndReference checks the vectors themselves against crypto/cipher (the CPU
// path), and the kernels' algorithm on the host against them.
func TestKnownAnswersCPUAndReference(t *testing.T) {
	for _, v := range KnownAnswers {
		key, iv, p, a := Bytes(v.Key), Bytes(v.IV), Bytes(v.P), Bytes(v.A)
		want := append(Bytes(v.C), Bytes(v.T)...)
		blk, _ := aes.NewCipher(key)
		g, _ := cipher.NewGCMWithNonceSize(blk, len(iv))
		if got := g.Seal(nil, iv, p, a); !bytes.Equal(got, want) {
			t.Errorf("%s: crypto/cipher %x, vector %x", v.Name, got, want)
		}
		k, _ := NewKey(key)
		got := make([]byte, len(p)+TagSize)
		k.SealReference(NewGeometry(len(p), 64, 16), got, iv, p, a)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: reference %x, vector %x", v.Name, got, want)
		}
	}
}

// BenchmarkTag is the host half of one device seal of a 1 MiB segment: the tree powers (HPow)
// and the tag from 64 group partials (Tag), as the CPU computes them after the kernel.
func BenchmarkTag(b *testing.B) {
	k, _ := NewKey(make([]byte, 32))
	for _, geo := range [][2]int{{64, 16}, {256, 4}} {
		g := NewGeometry(1<<20, geo[0], geo[1])
		partials := make([]uint64, 2*g.Groups)
		var j0 [16]byte
		b.Run(fmt.Sprintf("W%d_L%d", geo[0], geo[1]), func(b *testing.B) {
			for b.Loop() {
				_ = k.HPow(g)
				_ = k.Tag(g, partials, nil, 1<<20, j0)
			}
		})
	}
}
