package device

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/aesgcm"
)

// gcmLengths are the lengths: 0, 1, 15, 16, 17, 4095, 65536 and a full 1 MiB segment
// (plus a Tink first segment, 1 MiB - 56).
var gcmLengths = []int{0, 1, 15, 16, 17, 4095, 65536, 1<<20 - 56, 1 << 20}

// TestAESGCMMatchesCPU seals and opens on every device with random keys and 12-byte nonces
// (Tink's kind) and checks every byte against crypto/cipher, then tampers with the tag.
func TestAESGCMMatchesCPU(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for _, d := range testDevices(t) {
		for _, n := range gcmLengths {
			t.Run(fmt.Sprintf("%s/%d", d.Info().Kind, n), func(t *testing.T) {
				key, nonce, pt := make([]byte, 32), make([]byte, 12), make([]byte, n)
				for _, b := range [][]byte{key, nonce, pt} {
					for i := range b {
						b[i] = byte(r.Uint32())
					}
				}
				blk, _ := aes.NewCipher(key)
				g, _ := cipher.NewGCM(blk)
				want := g.Seal(nil, nonce, pt, nil)
				k, err := aesgcm.NewKey(key)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, n+16)
				if _, err := d.SealAESGCM(k, nonce, nil, pt, got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("seal differs from crypto/cipher at byte %d", firstDiff(got, want))
				}
				back := make([]byte, n)
				if _, err := d.OpenAESGCM(k, nonce, nil, want, back); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(back, pt) {
					t.Fatalf("open differs from the plaintext at byte %d", firstDiff(back, pt))
				}
				bad := append([]byte(nil), want...)
				bad[r.IntN(len(bad))] ^= 1 << r.IntN(8)
				for i := range back {
					back[i] = 0xaa
				}
				if _, err := d.OpenAESGCM(k, nonce, nil, bad, back); !errors.Is(err, ErrAuth) {
					t.Fatalf("tampered open: err %v, want ErrAuth", err)
				}
				if bytes.ContainsFunc(back, func(r rune) bool { return r != 0 }) {
					t.Fatal("tampered open left plaintext in dst")
				}
			})
		}
	}
}

// TestAESGCMKnownAnswers runs the GCM specification's 256-bit test cases on every device.
func TestAESGCMKnownAnswers(t *testing.T) {
	for _, d := range testDevices(t) {
		for _, v := range aesgcm.KnownAnswers {
			k, _ := aesgcm.NewKey(aesgcm.Bytes(v.Key))
			iv, p, a := aesgcm.Bytes(v.IV), aesgcm.Bytes(v.P), aesgcm.Bytes(v.A)
			want := append(aesgcm.Bytes(v.C), aesgcm.Bytes(v.T)...)
			got := make([]byte, len(want))
			if _, err := d.SealAESGCM(k, iv, a, p, got); err != nil {
				t.Fatalf("%s %s: %v", d.Info().Kind, v.Name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s: seal %x, want %x", d.Info().Kind, v.Name, got, want)
			}
			back := make([]byte, len(p))
			if _, err := d.OpenAESGCM(k, iv, a, want, back); err != nil || !bytes.Equal(back, p) {
				t.Errorf("%s %s: open err %v", d.Info().Kind, v.Name, err)
			}
		}
	}
}

func TestAESGCMBadArguments(t *testing.T) {
	for _, d := range testDevices(t) {
		k, _ := aesgcm.NewKey(make([]byte, 32))
		for _, c := range []struct {
			name string
			err  error
		}{
			{"nil key", func() error { _, e := d.SealAESGCM(nil, make([]byte, 12), nil, nil, make([]byte, 16)); return e }()},
			{"empty nonce", func() error { _, e := d.SealAESGCM(k, nil, nil, nil, make([]byte, 16)); return e }()},
			{"short dst", func() error {
				_, e := d.SealAESGCM(k, make([]byte, 12), nil, make([]byte, 4), make([]byte, 16))
				return e
			}()},
			{"short ciphertext", func() error { _, e := d.OpenAESGCM(k, make([]byte, 12), nil, make([]byte, 15), nil); return e }()},
		} {
			if !errors.Is(c.err, ErrInvalidArgument) {
				t.Errorf("%s: err %v, want ErrInvalidArgument", c.name, c.err)
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkAESGCMSeal seals one message per op on each device, 1 MiB (a segment) and 64 MiB:
// MB/s is end to end (copies in and out included); kernel-GB/s is the message over the launch's
// device time (Timing.Compute), the seal kernel's rate on device-resident data.
func BenchmarkAESGCMSeal(b *testing.B) {
	var devs []Device
	for _, bk := range disc.Backends {
		devs = append(devs, bk.Devices...)
	}
	if len(devs) == 0 {
		b.Skip("no device")
	}
	k, _ := aesgcm.NewKey(make([]byte, 32))
	for _, d := range devs {
		for _, n := range []int{1 << 20, 64 << 20} {
			pt := make([]byte, n)
			dst := make([]byte, len(pt)+16)
			b.Run(fmt.Sprintf("%s/%dMiB", d.Info().Kind, n>>20), func(b *testing.B) {
				if _, err := d.SealAESGCM(k, make([]byte, 12), nil, pt, dst); err != nil { // build the program
					b.Fatal(err)
				}
				b.SetBytes(int64(n))
				var compute time.Duration
				for b.Loop() {
					t, err := d.SealAESGCM(k, make([]byte, 12), nil, pt, dst)
					if err != nil {
						b.Fatal(err)
					}
					compute += t.Compute
				}
				if compute > 0 {
					b.ReportMetric(float64(n)*float64(b.N)/compute.Seconds()/1e9, "kernel-GB/s")
				}
			})
		}
	}
}

// TestAESGCMInPlace: sealing over the plaintext's own storage (ciphertext then tag) and opening
// over the ciphertext's give crypto/cipher's bytes, as the streaming job uses them.
func TestAESGCMInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	for _, d := range testDevices(t) {
		for _, n := range []int{1, 17, 65536, 1<<20 - 16} {
			key, nonce := make([]byte, 32), make([]byte, 12)
			buf := make([]byte, n+16)
			for _, b := range [][]byte{key, nonce, buf[:n]} {
				for i := range b {
					b[i] = byte(r.Uint32())
				}
			}
			pt := append([]byte(nil), buf[:n]...)
			blk, _ := aes.NewCipher(key)
			g, _ := cipher.NewGCM(blk)
			want := g.Seal(nil, nonce, pt, nil)
			k, _ := aesgcm.NewKey(key)
			if _, err := d.SealAESGCM(k, nonce, nil, buf[:n], buf); err != nil || !bytes.Equal(buf, want) {
				t.Fatalf("%s n=%d: in-place seal differs (%v)", d.Info().Kind, n, err)
			}
			if _, err := d.OpenAESGCM(k, nonce, nil, buf, buf[:n]); err != nil || !bytes.Equal(buf[:n], pt) {
				t.Fatalf("%s n=%d: in-place open differs (%v)", d.Info().Kind, n, err)
			}
		}
	}
}
