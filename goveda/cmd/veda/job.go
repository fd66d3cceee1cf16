package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/streamaead"
)

// cmdJob is `veda job`: the main job on a deterministic in-memory stream (no file needed):
// encrypt with automatic placement, decrypt, check the SHA-256 of the round trip, then a table
// of CPU only, each device pinned and automatic placement, beside Go's single-threaded streaming
// AES-256-GCM and openssl's single-core figure measured in the same run.
func cmdJob(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	sizeFlag := fs.String("size", "256MiB", "stream size")
	devSizeFlag := fs.String("device-size", "8MiB", "stream size for the pinned non-CPU rows (they can be slow)")
	reps := fs.Int("reps", 3, "runs per table cell (the median is shown)")
	workers := fs.Int("workers", 0, "CPU workers (0: automatic)")
	noOpenSSL := fs.Bool("no-openssl", false, "skip the openssl peer")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: veda job [-size 256MiB] [-device-size 8MiB] [-reps 3] [-workers N] [-no-openssl]")
		fmt.Fprintln(fs.Output(), "The main job (veda encrypt/decrypt: Tink's AES-GCM-HKDF streaming AEAD, 1 MiB segments)")
		fmt.Fprintln(fs.Output(), "on a deterministic stream generated in memory, with a placement table and peers.")
		fs.PrintDefaults()
	}
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	size, err1 := parseStreamSize(*sizeFlag)
	devSize, err2 := parseStreamSize(*devSizeFlag)
	if err1 != nil || err2 != nil || *reps < 1 || *workers < 0 {
		fmt.Fprintf(stderr, "veda job: bad -size, -device-size, -reps or -workers (%v %v)\n", err1, err2)
		return 2
	}
	rt, err := goveda.New(goveda.Config{Workers: *workers})
	if err != nil {
		return failNew(stderr, "job", err)
	}
	defer rt.Close()
	devs, err := rt.Devices()
	if err != nil {
		return fail(stderr, "job", err)
	}
	ctx := context.Background()
	t0 := time.Now()
	data := deterministicStream(size, 1)
	key := sha256.Sum256([]byte("veda job demo key"))
	ad := []byte("veda job")
	a, _ := streamaead.New(key[:], 0)
	fmt.Fprintf(stdout, "== the main job: veda encrypt | veda decrypt, Tink's AES-GCM-HKDF streaming AEAD (AES256_GCM_HKDF_1MB)\n")
	fmt.Fprintf(stdout, "input: %s deterministic stream generated in memory in %.2f s; %d workers, %d devices\n",
		sizeText(int64(size)), time.Since(t0).Seconds(), rt.Workers(), len(devs))

	ct := bytes.NewBuffer(make([]byte, 0, size+size/1000+4096))
	pt := bytes.NewBuffer(make([]byte, 0, size))
	encrypt := func(in []byte) (streamaead.Stats, error) {
		ct.Reset()
		return a.Encrypt(ctx, rt, ct, bytes.NewReader(in), ad, streamaead.Options{})
	}
	decrypt := func(in []byte) (streamaead.Stats, error) {
		pt.Reset()
		return a.Decrypt(ctx, rt, pt, bytes.NewReader(in), ad, streamaead.Options{})
	}
	es, err := encrypt(data)
	if err != nil {
		return fail(stderr, "job", err)
	}
	fmt.Fprintf(stdout, "1. encrypt, automatic placement (cold): %s in %.3f s, %.2f GB/s; segments: %s\n",
		sizeText(es.PlainBytes), es.Elapsed.Seconds(), es.GBps(), perDevice(es.PerDevice, devs))
	ds, err := decrypt(ct.Bytes())
	if err != nil {
		return fail(stderr, "job", err)
	}
	fmt.Fprintf(stdout, "2. decrypt, automatic placement: %s in %.3f s, %.2f GB/s; segments: %s\n",
		sizeText(ds.PlainBytes), ds.Elapsed.Seconds(), ds.GBps(), perDevice(ds.PerDevice, devs))
	hin, hout := sha256.Sum256(data), sha256.Sum256(pt.Bytes())
	verdict := "match"
	if hin != hout {
		verdict = "MISMATCH"
	}
	fmt.Fprintf(stdout, "3. SHA-256 input      %x\n   SHA-256 round trip %x: %s\n", hin, hout, verdict)
	if hin != hout {
		return fail(stderr, "job", fmt.Errorf("the round trip differs from the input"))
	}

	// 4. The table. Each row pins the runtime (PinDevice) or leaves it automatic; the cost model
	// keeps learning across rows, so the automatic row runs warm.
	type row struct {
		mode, stream string
		enc, dec     float64
		segs         string
		err          error
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	measure := func(pin int, n int) row {
		if err := rt.PinDevice(pin); err != nil {
			return row{err: err}
		}
		defer rt.PinDevice(-1)
		in := data[:n]
		var enc, dec []float64
		var segs []int64
		for r := 0; r < *reps; r++ {
			es, err := encrypt(in)
			if err != nil {
				return row{err: err}
			}
			ds, err := decrypt(ct.Bytes())
			if err != nil {
				return row{err: err}
			}
			if !bytes.Equal(pt.Bytes(), in) {
				return row{err: fmt.Errorf("round trip differs")}
			}
			enc, dec = append(enc, es.GBps()), append(dec, ds.GBps())
			segs = es.PerDevice
		}
		return row{stream: sizeText(int64(n)), enc: median(enc), dec: median(dec), segs: perDevice(segs, devs)}
	}
	var rows []row
	r := measure(0, size)
	r.mode = "cpu only"
	rows = append(rows, r)
	cpuRow := r
	bestDev := 0.0
	for i := 1; i < len(devs); i++ {
		r := measure(i, min(devSize, size))
		r.mode = devTag(i, devs) + " pinned"
		rows = append(rows, r)
		bestDev = max(bestDev, r.enc)
	}
	r = measure(-1, size)
	r.mode = "automatic"
	rows = append(rows, r)
	autoRow := r

	// 5. Peers: Go's single-threaded streaming seal and open (the serial writer and reader: Tink's
	// loop with Go's AES-GCM, the same 1 MiB segments), and openssl's one core.
	goEnc, goDec := goSerialPeer(a, data, ad, *reps, ct, pt)

	fmt.Fprintf(stdout, "\n4. placement table (median of %d runs each; GB/s of plaintext, in memory to memory)\n", *reps)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mode\tstream\tencrypt GB/s\tdecrypt GB/s\tsegments per device (encrypt)")
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t\terror: %s\t\t\n", r.mode, shortError(r.err))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%s\n", r.mode, r.stream, r.enc, r.dec, r.segs)
	}
	fmt.Fprintf(tw, "go single-threaded streaming AES-256-GCM (peer)\t%s\t%.2f\t%.2f\tone goroutine\n", sizeText(int64(size)), goEnc, goDec)
	ossl := 0.0
	if !*noOpenSSL {
		if v, cmd, err := opensslGCM(); err == nil {
			ossl = v
			fmt.Fprintf(tw, "%s (peer, 1 core)\t1 MiB\t%.2f\t\tone core\n", cmd, v)
		} else {
			fmt.Fprintf(tw, "openssl (peer)\t\tskipped: %v\t\t\n", err)
		}
	}
	tw.Flush()
	if cpuRow.err == nil && goEnc > 0 {
		fmt.Fprintf(stdout, "ratios: cpu only / go single-threaded: encrypt %.2fx, decrypt %.2fx", cpuRow.enc/goEnc, cpuRow.dec/goDec)
		if ossl > 0 {
			fmt.Fprintf(stdout, "; cpu only / (%d x openssl 1 core): %.2f", rt.Workers(), cpuRow.enc/(float64(rt.Workers())*ossl))
		}
		if autoRow.err == nil {
			fmt.Fprintf(stdout, "; automatic / best pinned: %.2f", autoRow.enc/max(cpuRow.enc, bestDev))
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, "The same job on files: veda keygen -out k; veda encrypt -key k -in F -out F.enc [-stats]; veda decrypt -key k -in F.enc")
	return 0
}

// goSerialPeer measures the serial streaming writer and reader (one goroutine, Go's AES-GCM) on
// data; medians of reps runs, GB/s of plaintext.
func goSerialPeer(a *streamaead.StreamingAEAD, data, ad []byte, reps int, ct, pt *bytes.Buffer) (enc, dec float64) {
	var e, d []float64
	for r := 0; r < reps; r++ {
		ct.Reset()
		t := time.Now()
		w, _ := a.NewEncryptingWriter(ct, ad)
		w.Write(data)
		w.Close()
		e = append(e, float64(len(data))/time.Since(t).Seconds()/1e9)
		pt.Reset()
		t = time.Now()
		rd, err := a.NewDecryptingReader(bytes.NewReader(ct.Bytes()), ad)
		if err == nil {
			_, err = pt.ReadFrom(rd)
		}
		if err != nil || !bytes.Equal(pt.Bytes(), data) {
			return 0, 0
		}
		d = append(d, float64(len(data))/time.Since(t).Seconds()/1e9)
	}
	slices.Sort(e)
	slices.Sort(d)
	return e[len(e)/2], d[len(d)/2]
}

// opensslGCM runs `openssl speed -evp aes-256-gcm -bytes 1048576 -seconds 1` and returns its
// GB/s (one core) and the command.
func opensslGCM() (float64, string, error) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		return 0, "", fmt.Errorf("openssl not found")
	}
	cmd := "openssl speed -evp aes-256-gcm -bytes 1048576"
	out, err := exec.Command(path, "speed", "-evp", "aes-256-gcm", "-bytes", "1048576", "-seconds", "1").Output()
	if err != nil {
		return 0, cmd, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && strings.EqualFold(f[0], "AES-256-GCM") && strings.HasSuffix(f[1], "k") {
			v, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "k"), 64)
			if err == nil {
				return v * 1000 / 1e9, cmd, nil
			}
		}
	}
	return 0, cmd, fmt.Errorf("cannot parse openssl's output")
}

// parseStreamSize parses "256MiB", "1GiB", "4096".
func parseStreamSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	mult := 1
	for _, u := range []struct {
		suf string
		m   int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSuffix(t, u.suf), u.m
			break
		}
	}
	v, err := strconv.Atoi(strings.TrimSpace(t))
	if err != nil || v < 0 || v > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return v * mult, nil
}

// deterministicStream returns n bytes of a fixed pseudo-random stream (PCG seeded with seed).
func deterministicStream(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	i := 0
	for ; i+8 <= n; i += 8 {
		v := r.Uint64()
		b[i], b[i+1], b[i+2], b[i+3], b[i+4], b[i+5], b[i+6], b[i+7] =
			byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for v := r.Uint64(); i < n; i, v = i+1, v>>8 {
		b[i] = byte(v)
	}
	return b
}
