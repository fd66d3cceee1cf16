package streamaead_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/internal/tinktest"
	"github.com/veda-runtime/veda/goveda/streamaead"
)

var rt *goveda.Runtime

func TestMain(m *testing.M) {
	var err error
	rt, err = goveda.New(goveda.Config{})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	rt.Close()
	os.Exit(code)
}

// pocl returns the index of an OpenCL device, or -1.
func pocl(t testing.TB) int {
	ds, err := rt.Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Kind == goveda.DeviceOpenCL {
			return d.Index
		}
	}
	return -1
}

// placements are the runs of each interop case: automatic, the CPU pinned, and each OpenCL
// device pinned (PoCL here), so that segments really run on the device kernels.
func placements(t testing.TB) []int {
	out := []int{-1, 0}
	if i := pocl(t); i >= 0 {
		out = append(out, i)
	}
	return out
}

func pin(t testing.TB, d int) {
	t.Helper()
	if err := rt.PinDevice(d); err != nil {
		t.Fatal(err)
	}
}

// TestParallelInteropWithTink: the parallel job's ciphertext opens with Tink, Tink's opens with
// the job, on every placement, for 4 KiB segments (many segments) and 1 MiB (Tink's
// AES256_GCM_HKDF_1MB) including several MiB.
func TestParallelInteropWithTink(t *testing.T) {
	defer pin(t, -1)
	r := rand.New(rand.NewPCG(2, 2))
	ctx := context.Background()
	for _, seg := range []int{4096, 1 << 20} {
		key := randBytes(r, 32)
		ta := tinktest.AEAD(t, key, seg)
		va, _ := streamaead.New(key, seg)
		sizes := interopSizes(seg)
		if seg == 1<<20 {
			sizes = []int{0, 1, seg - 56, seg - 56 + 1, seg, seg - streamaead.HeaderSize, 3<<20 + 5}
		}
		for _, place := range placements(t) {
			pin(t, place)
			for _, n := range sizes {
				t.Run(fmt.Sprintf("seg%d/dev%d/n%d", seg, place, n), func(t *testing.T) {
					pt, ad := randBytes(r, n), randBytes(r, r.IntN(20))
					var ct bytes.Buffer
					st, err := va.Encrypt(ctx, rt, &ct, bytes.NewReader(pt), ad, streamaead.Options{MaxInFlight: 1 + r.IntN(6)})
					if err != nil {
						t.Fatal(err)
					}
					if st.PlainBytes != int64(n) || st.CipherBytes != int64(ct.Len()) {
						t.Fatalf("stats %+v for %d bytes in, %d out", st, n, ct.Len())
					}
					if place >= 0 && st.PerDevice[place] != st.Segments {
						t.Fatalf("pinned to %d but segments went %v", place, st.PerDevice)
					}
					got, err := tinktest.Decrypt(t, ta, ct.Bytes(), ad)
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("tink cannot read the job's stream: %v", err)
					}
					tct := tinktest.Encrypt(t, ta, pt, ad)
					var back bytes.Buffer
					if _, err := va.Decrypt(ctx, rt, &back, bytes.NewReader(tct), ad, streamaead.Options{MaxInFlight: 1 + r.IntN(6)}); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(back.Bytes(), pt) {
						t.Fatal("the job cannot read tink's stream")
					}
				})
			}
		}
	}
}

// tamper is one way of damaging a stream of 4 KiB segments with 5 full segments and a partial.
type tamper struct {
	name    string
	mod     func(ct []byte) []byte
	segment int64 // the segment the error must name (-1: the header)
	want    error
}

func tampers() []tamper {
	const seg = 4096
	s := func(i int) (int, int) { // byte range of ciphertext segment i in the file
		if i == 0 {
			return 0, seg
		}
		return i * seg, (i + 1) * seg
	}
	return []tamper{
		{"modified byte in segment 2", func(c []byte) []byte { c[2*seg+100] ^= 1; return c }, 2, streamaead.ErrAuth},
		{"modified tag of segment 0", func(c []byte) []byte { c[seg-1] ^= 0x80; return c }, 0, streamaead.ErrAuth},
		{"swapped segments 1 and 2", func(c []byte) []byte {
			a0, a1 := s(1)
			b0, b1 := s(2)
			x := append([]byte(nil), c[a0:a1]...)
			copy(c[a0:a1], c[b0:b1])
			copy(c[b0:b1], x)
			return c
		}, 1, streamaead.ErrAuth},
		{"dropped segment 3", func(c []byte) []byte { a0, a1 := s(3); return append(c[:a0:a0], c[a1:]...) }, 3, streamaead.ErrAuth},
		{"duplicated segment 1", func(c []byte) []byte {
			a0, a1 := s(1)
			out := append([]byte(nil), c[:a1]...)
			out = append(out, c[a0:a1]...)
			return append(out, c[a1:]...)
		}, 2, streamaead.ErrAuth},
		{"truncated inside the last segment", func(c []byte) []byte { return c[:len(c)-5] }, 5, streamaead.ErrAuth},
		{"truncated at a segment boundary", func(c []byte) []byte { return c[:5*seg] }, 4, streamaead.ErrAuth},
		{"truncated to a stub shorter than a tag", func(c []byte) []byte { return c[:5*seg+3] }, 5, streamaead.ErrTruncated},
		{"trailing bytes", func(c []byte) []byte { return append(c, 1, 2, 3) }, 5, streamaead.ErrAuth},
		{"bad header length", func(c []byte) []byte { c[0] = 41; return c }, -1, streamaead.ErrBadHeader},
		{"truncated header", func(c []byte) []byte { return c[:20] }, -1, streamaead.ErrTruncated},
		{"header only", func(c []byte) []byte { return c[:streamaead.HeaderSize] }, 0, streamaead.ErrTruncated},
		{"modified salt", func(c []byte) []byte { c[5] ^= 1; return c }, 0, streamaead.ErrAuth},
	}
}

// TestDecryptTamperNamesSegment: every kind of damage fails with a *SegmentError naming the
// right segment, on every placement, and the plaintext written before the failure is exactly the
// verified prefix (the segments before it), never more.
func TestDecryptTamperNamesSegment(t *testing.T) {
	defer pin(t, -1)
	const seg = 4096
	r := rand.New(rand.NewPCG(3, 3))
	key := randBytes(r, 32)
	va, _ := streamaead.New(key, seg)
	p0, p := seg-56, seg-16
	pt := randBytes(r, p0+4*p+1000)
	var ct bytes.Buffer
	if _, err := va.Encrypt(context.Background(), rt, &ct, bytes.NewReader(pt), nil, streamaead.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, place := range placements(t) {
		pin(t, place)
		for _, tc := range tampers() {
			t.Run(fmt.Sprintf("dev%d/%s", place, tc.name), func(t *testing.T) {
				bad := tc.mod(append([]byte(nil), ct.Bytes()...))
				var out bytes.Buffer
				_, err := va.Decrypt(context.Background(), rt, &out, bytes.NewReader(bad), nil, streamaead.Options{MaxInFlight: 3})
				var se *streamaead.SegmentError
				if !errors.As(err, &se) || se.Segment != tc.segment || !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want a SegmentError for segment %d wrapping %v", err, tc.segment, tc.want)
				}
				prefix := 0
				if tc.segment > 0 {
					prefix = p0 + int(tc.segment-1)*p
				}
				if out.Len() != prefix || !bytes.Equal(out.Bytes(), pt[:prefix]) {
					t.Fatalf("released %d bytes of plaintext, want the verified prefix of %d", out.Len(), prefix)
				}
			})
		}
	}
	// A wrong key and wrong associated data fail at segment 0.
	other, _ := streamaead.New(randBytes(r, 32), seg)
	for name, c := range map[string]struct {
		a  *streamaead.StreamingAEAD
		ad []byte
	}{"wrong key": {other, nil}, "wrong ad": {va, []byte("x")}} {
		var out bytes.Buffer
		_, err := c.a.Decrypt(context.Background(), rt, &out, bytes.NewReader(ct.Bytes()), c.ad, streamaead.Options{})
		var se *streamaead.SegmentError
		if !errors.As(err, &se) || se.Segment != 0 || out.Len() != 0 {
			t.Errorf("%s: err %v, %d bytes out", name, err, out.Len())
		}
	}
}

// TestNilArguments: a nil reader, writer or runtime is an error wrapping
// goveda.ErrInvalidArgument that names the argument, never a nil-pointer panic.
func TestNilArguments(t *testing.T) {
	a, err := streamaead.New(bytes.Repeat([]byte{3}, 32), 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background() // rt: the package's runtime (TestMain)
	var buf bytes.Buffer
	src := bytes.NewReader([]byte("x"))
	check := func(name, arg string, err error) {
		t.Helper()
		if !errors.Is(err, goveda.ErrInvalidArgument) || !strings.Contains(err.Error(), arg+" is nil") {
			t.Errorf("%s: error %v, want ErrInvalidArgument naming %s", name, err, arg)
		}
	}
	_, err = a.NewEncryptingWriter(nil, nil)
	check("NewEncryptingWriter", "w", err)
	_, err = a.NewDecryptingReader(nil, nil)
	check("NewDecryptingReader", "r", err)
	_, err = a.Encrypt(ctx, nil, &buf, src, nil, streamaead.Options{})
	check("Encrypt rt", "rt", err)
	_, err = a.Encrypt(ctx, rt, nil, src, nil, streamaead.Options{})
	check("Encrypt dst", "dst", err)
	_, err = a.Encrypt(ctx, rt, &buf, nil, nil, streamaead.Options{})
	check("Encrypt src", "src", err)
	_, err = a.Decrypt(ctx, nil, &buf, src, nil, streamaead.Options{})
	check("Decrypt rt", "rt", err)
	_, err = a.Decrypt(ctx, rt, nil, src, nil, streamaead.Options{})
	check("Decrypt dst", "dst", err)
	_, err = a.Decrypt(ctx, rt, &buf, nil, nil, streamaead.Options{})
	check("Decrypt src", "src", err)
}
