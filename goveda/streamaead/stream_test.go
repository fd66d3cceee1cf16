package streamaead_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/tinktest"
	"github.com/veda-runtime/veda/goveda/streamaead"
)

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// interopSizes for a segment size: empty, 1 byte, segment 0's plaintext minus one, exactly,
// plus one, one full ciphertext segment of plaintext, the segment minus the header, several
// segments and a partial.
func interopSizes(seg int) []int {
	p0 := seg - streamaead.HeaderSize - streamaead.TagSize
	p := seg - streamaead.TagSize
	return []int{0, 1, p0 - 1, p0, p0 + 1, seg, seg - streamaead.HeaderSize, p0 + p, p0 + 3*p, p0 + 3*p + 7}
}

// TestSerialInteropWithTink: the serial writer's output opens with Tink, Tink's output opens
// with the serial reader, for 4 KiB segments (many segments, fast) and 1 MiB.
func TestSerialInteropWithTink(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, seg := range []int{4096, 1 << 20} {
		key := randBytes(r, 32)
		ta := tinktest.AEAD(t, key, seg)
		va, err := streamaead.New(key, seg)
		if err != nil {
			t.Fatal(err)
		}
		sizes := interopSizes(seg)
		if seg == 1<<20 {
			sizes = append(sizes, 5<<20+3)
		}
		for _, n := range sizes {
			t.Run(fmt.Sprintf("seg%d/n%d", seg, n), func(t *testing.T) {
				pt, ad := randBytes(r, n), randBytes(r, r.IntN(20))
				var buf bytes.Buffer
				w, err := va.NewEncryptingWriter(&buf, ad)
				if err != nil {
					t.Fatal(err)
				}
				// Write in uneven pieces.
				for rest := pt; len(rest) > 0; {
					k := min(len(rest), 1+r.IntN(3*seg))
					if _, err := w.Write(rest[:k]); err != nil {
						t.Fatal(err)
					}
					rest = rest[k:]
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				got, err := tinktest.Decrypt(t, ta, buf.Bytes(), ad)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("tink cannot read veda's stream: %v", err)
				}
				ct := tinktest.Encrypt(t, ta, pt, ad)
				if len(ct) != buf.Len() {
					t.Fatalf("tink's ciphertext is %d bytes, veda's %d", len(ct), buf.Len())
				}
				dr, err := va.NewDecryptingReader(bytes.NewReader(ct), ad)
				if err != nil {
					t.Fatal(err)
				}
				got, err = io.ReadAll(dr)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("veda cannot read tink's stream: %v", err)
				}
			})
		}
	}
}
