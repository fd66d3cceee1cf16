package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/tinktest"
	"github.com/veda-runtime/veda/goveda/streamaead"
)

// cryptFixture is a temporary directory with a key file and a plaintext file of n bytes.
type cryptFixture struct {
	dir, key, plain string
	keyBytes, pt    []byte
}

func newCryptFixture(t *testing.T, n int) *cryptFixture {
	t.Helper()
	dir := t.TempDir()
	f := &cryptFixture{dir: dir, key: filepath.Join(dir, "key"), plain: filepath.Join(dir, "plain")}
	if st, _, errs := runCmd(t, "keygen", "-out", f.key); st != 0 {
		t.Fatalf("keygen: %d %s", st, errs)
	}
	var err error
	if f.keyBytes, err = streamaead.ReadKeyFile(f.key); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(n), 7))
	f.pt = make([]byte, n)
	for i := range f.pt {
		f.pt[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(f.plain, f.pt, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *cryptFixture) path(name string) string { return filepath.Join(f.dir, name) }

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeygen(t *testing.T) {
	f := newCryptFixture(t, 0)
	b := readFile(t, f.key)
	if len(b) != 65 || b[64] != '\n' {
		t.Fatalf("key file %q: want 64 hex characters and a newline", b)
	}
	if fi, _ := os.Stat(f.key); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if st, _, errs := runCmd(t, "keygen", "-out", f.key); st != 1 || !strings.Contains(errs, "already exists: a key file is never overwritten") {
		t.Errorf("keygen over an existing file: status %d, %q", st, errs)
	}
	if !bytes.Equal(readFile(t, f.key), b) {
		t.Error("keygen clobbered an existing key")
	}
	if st, _, _ := runCmd(t, "keygen"); st != 2 {
		t.Errorf("keygen without -out: status %d, want 2", st)
	}
}

// TestCryptInteropWithTink: files written by `veda encrypt` (automatic placement, and pinned on
// the CPU and on the OpenCL device) decrypt with Tink, and files written by Tink decrypt with
// `veda decrypt`, for several sizes.
func TestCryptInteropWithTink(t *testing.T) {
	seg := 1 << 20
	for _, n := range []int{0, 1, seg - 56, seg - 40, seg, 3<<20 + 11} {
		f := newCryptFixture(t, n)
		ta := tinktest.AEAD(t, f.keyBytes, seg)
		for _, dev := range []string{"auto", "cpu", "1"} {
			enc := f.path("enc." + dev)
			st, _, errs := runCmd(t, "encrypt", "-key", f.key, "-in", f.plain, "-out", enc, "-ad", "hdr", "-device", dev)
			if dev == "1" && st == 2 && strings.Contains(errs, "does not exist") {
				continue // no OpenCL device on this machine
			}
			if st != 0 {
				t.Fatalf("n=%d dev=%s: encrypt status %d: %s", n, dev, st, errs)
			}
			if !strings.Contains(errs, "veda encrypt: ") || !strings.Contains(errs, "GB/s") {
				t.Errorf("no summary line: %q", errs)
			}
			got, err := tinktest.Decrypt(t, ta, readFile(t, enc), []byte("hdr"))
			if err != nil || !bytes.Equal(got, f.pt) {
				t.Fatalf("n=%d dev=%s: Tink cannot decrypt veda's file: %v", n, dev, err)
			}
			tf := f.path("tink." + dev)
			if err := os.WriteFile(tf, tinktest.Encrypt(t, ta, f.pt, []byte("hdr")), 0o644); err != nil {
				t.Fatal(err)
			}
			dec := f.path("dec." + dev)
			if st, _, errs := runCmd(t, "decrypt", "-key", f.key, "-in", tf, "-out", dec, "-ad", "hdr", "-device", dev); st != 0 {
				t.Fatalf("n=%d dev=%s: decrypt of Tink's file: %d %s", n, dev, st, errs)
			}
			if !bytes.Equal(readFile(t, dec), f.pt) {
				t.Fatalf("n=%d dev=%s: veda decrypt of Tink's file differs", n, dev)
			}
			if fi, _ := os.Stat(dec); fi.Mode().Perm() != 0o600 {
				t.Errorf("decrypted file mode %v, want 0600", fi.Mode().Perm())
			}
		}
	}
}

// TestDecryptTamperCLI: every tamper case exits 1 naming the segment, never creates or clobbers
// the output file, leaves no temporary file, and to stdout writes only the verified prefix.
func TestDecryptTamperCLI(t *testing.T) {
	const seg = 4096
	p0, p := seg-56, seg-16
	f := newCryptFixture(t, p0+4*p+100)
	enc := f.path("enc")
	if st, _, errs := runCmd(t, "encrypt", "-key", f.key, "-in", f.plain, "-out", enc, "-segment", "4KiB"); st != 0 {
		t.Fatal(errs)
	}
	ct := readFile(t, enc)
	other := f.path("other.key")
	os.WriteFile(other, streamaead.FormatKey(streamaead.GenerateKey()), 0o600)
	cases := []struct {
		name, key string
		mod       func([]byte) []byte
		seg       string // expected in the message
		prefix    int    // plaintext bytes released to stdout
	}{
		{"modified byte", f.key, func(c []byte) []byte { c[2*seg+5] ^= 1; return c }, "segment 2", p0 + p},
		{"reordered", f.key, func(c []byte) []byte {
			x := append([]byte(nil), c[seg:2*seg]...)
			copy(c[seg:2*seg], c[2*seg:3*seg])
			copy(c[2*seg:3*seg], x)
			return c
		}, "segment 1", p0},
		{"dropped", f.key, func(c []byte) []byte { return append(c[:seg:seg], c[2*seg:]...) }, "segment 1", p0},
		{"duplicated", f.key, func(c []byte) []byte {
			return append(append(append([]byte(nil), c[:2*seg]...), c[seg:2*seg]...), c[2*seg:]...)
		}, "segment 2", p0 + p},
		{"truncated", f.key, func(c []byte) []byte { return c[:4*seg] }, "segment 3", p0 + 2*p},
		{"trailing bytes", f.key, func(c []byte) []byte { return append(c, 0) }, "segment 5", p0 + 4*p},
		{"bad header", f.key, func(c []byte) []byte { c[0] = 0; return c }, "header", 0},
		{"wrong key", other, func(c []byte) []byte { return c }, "segment 0", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := f.path("bad")
			os.WriteFile(bad, c.mod(append([]byte(nil), ct...)), 0o644)
			out := f.path("out")
			os.WriteFile(out, []byte("precious"), 0o644)
			st, _, errs := runCmd(t, "decrypt", "-key", c.key, "-in", bad, "-out", out, "-segment", "4KiB")
			if st != 1 || !strings.Contains(errs, c.seg) {
				t.Fatalf("status %d, stderr %q; want 1 naming %q", st, errs, c.seg)
			}
			if string(readFile(t, out)) != "precious" {
				t.Fatal("a failed decrypt clobbered the existing output file")
			}
			if m, _ := filepath.Glob(f.path(".out.veda-tmp-*")); len(m) != 0 {
				t.Fatalf("temporary files left: %v", m)
			}
			os.Remove(out)
			if st, _, _ := runCmd(t, "decrypt", "-key", c.key, "-in", bad, "-out", out, "-segment", "4KiB"); st != 1 {
				t.Fatal("status", st)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("a failed decrypt created its output file")
			}
			st, stdout, _ := runCmd(t, "decrypt", "-key", c.key, "-in", bad, "-segment", "4KiB")
			if st != 1 || stdout != string(f.pt[:c.prefix]) {
				t.Fatalf("to stdout: status %d, %d bytes released, want exactly the verified %d", st, len(stdout), c.prefix)
			}
		})
	}
}

func TestCryptUsageErrors(t *testing.T) {
	f := newCryptFixture(t, 10)
	short := f.path("short.key")
	os.WriteFile(short, []byte("abcd\n"), 0o600)
	nothex := f.path("nothex.key")
	os.WriteFile(nothex, []byte(strings.Repeat("zz", 32)+"\n"), 0o600)
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no key", []string{"encrypt", "-in", f.plain}, "-key FILE is required"},
		{"missing key file", []string{"encrypt", "-key", f.path("nope"), "-in", f.plain}, "no such file"},
		{"short key", []string{"encrypt", "-key", short, "-in", f.plain}, "holds 5 bytes"},
		{"malformed key", []string{"decrypt", "-key", nothex, "-in", f.plain}, "not hex"},
		{"segment too small", []string{"encrypt", "-key", f.key, "-in", f.plain, "-segment", "56"}, "between 57"},
		{"segment too large", []string{"encrypt", "-key", f.key, "-in", f.plain, "-segment", "65MiB"}, "between 57"},
		{"segment not a size", []string{"encrypt", "-key", f.key, "-in", f.plain, "-segment", "big"}, "not a size"},
		{"unreadable input", []string{"encrypt", "-key", f.key, "-in", f.path("missing")}, "no such file"},
		{"directory input", []string{"encrypt", "-key", f.key, "-in", f.dir}, "is a directory"},
		{"bad flag", []string{"decrypt", "-bogus"}, "usage: veda decrypt"},
		{"stray argument", []string{"encrypt", "-key", f.key, "x"}, "unexpected argument"},
		{"bad device", []string{"encrypt", "-key", f.key, "-in", f.plain, "-device", "99"}, "does not exist"},
		{"bad device name", []string{"encrypt", "-key", f.key, "-in", f.plain, "-device", "gpu"}, "want auto, cpu"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, _, errs := runCmd(t, c.args...)
			if st != 2 || !strings.Contains(errs, c.msg) {
				t.Fatalf("status %d, stderr %q; want 2 and %q", st, errs, c.msg)
			}
		})
	}
}

// TestCryptStatsAndProgress: -stats prints one line per segment with the device and reason and a
// placement summary; inputs over 64 MiB print progress (bytes, rate, ETA, segments per device).
func TestCryptStatsAndProgress(t *testing.T) {
	f := newCryptFixture(t, 65<<20)
	st, _, errs := runCmd(t, "encrypt", "-key", f.key, "-in", f.plain, "-out", f.path("enc"), "-stats", "-progress", "1ns")
	if st != 0 {
		t.Fatal(errs)
	}
	for _, want := range []string{"segment 0 (", "segment 65 (", "placement summary", "ETA", "GB/s, segments: cpu"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	n := 0
	for _, l := range strings.Split(errs, "\n") {
		if strings.HasPrefix(l, "segment ") {
			n++
		}
	}
	if n != 66 { // 65 MiB in segments of 1 MiB - 16 (the first 1 MiB - 56)
		t.Errorf("%d segment lines, want 66", n)
	}
	small := newCryptFixture(t, 1000)
	_, _, errs = runCmd(t, "encrypt", "-key", small.key, "-in", small.plain, "-out", small.path("enc"), "-progress", "1ns")
	if strings.Contains(errs, "ETA") {
		t.Errorf("progress for a small input: %q", errs)
	}
}
