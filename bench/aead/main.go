// Command aead benchmarks the main job (goveda/streamaead: Tink's AES-GCM-HKDF streaming AEAD,
// 1 MiB segments) against its peers, measured in the same run:
//
//  1. Throughput on an in-memory stream (default 1 GiB), encrypt and decrypt, in interleaved
//     rounds (peer, then each mode) so that the machine's drift hits all alike: Go's
//     single-threaded streaming seal/open (the serial writer and reader: Tink's loop with Go's
//     AES-GCM), the parallel job on the CPU only, on each device alone, and with automatic
//     placement; medians and per-round ratios.
//  2. openssl speed -evp aes-256-gcm -bytes 1048576 (one core), when openssl is present.
//  3. Peak RSS of `veda encrypt` on a 4 GiB stream piped through stdin, against the job's byte
//     budget + 2 segments + the baseline (the same process on an empty input).
//
// Run: go run ./bench/aead [-size 1GiB] [-rounds 5] [-rss-size 4GiB] [-veda build/veda].
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/streamaead"
)

func main() {
	size := flag.Int("size", 1<<30, "stream size in bytes for the throughput part")
	rounds := flag.Int("rounds", 5, "interleaved rounds (the median is shown)")
	devSize := flag.Int("device-size", 64<<20, "stream size for device-only modes (they can be slow)")
	workers := flag.Int("workers", 0, "CPU workers (0: automatic)")
	rssSize := flag.Int64("rss-size", 4<<30, "stream size for the peak-RSS part (0: skip)")
	budget := flag.Int64("rss-budget", 64<<20, "byte budget for the peak-RSS part (VEDA_MEM_FRACTION is set to give about this)")
	veda := flag.String("veda", "build/veda", "the veda binary for the peak-RSS part")
	quick := flag.Bool("quick", false, "256 MiB, 3 rounds, 1 GiB RSS stream")
	inflight := flag.Int("inflight", 0, "segments in flight (0: the job's default)")
	flag.Parse()
	if *quick {
		*size, *rounds, *rssSize = 256<<20, 3, 1<<30
	}
	status := 0
	jobOpts.MaxInFlight = *inflight
	if err := throughput(*size, *devSize, *rounds, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "bench/aead:", err)
		status = 1
	}
	if *rssSize > 0 {
		if err := peakRSS(*veda, *rssSize, *budget); err != nil {
			fmt.Fprintln(os.Stderr, "bench/aead: peak RSS:", err)
			status = 1
		}
	}
	os.Exit(status)
}

// jobOpts are the options of every job run.
var jobOpts streamaead.Options

type mode struct {
	name string
	pin  int // -2: the serial peer; -1 automatic; else the pinned device
	n    int // stream bytes
	enc  []float64
	dec  []float64
	segs []int64
	// cpuEnc, cpuDec: CPU seconds (user+sys of this process) per GiB of plaintext, one per run:
	// the work each mode spends, which a busy machine does not distort as it does wall time.
	cpuEnc, cpuDec []float64
}

// cpuSeconds returns this process's user+sys CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func throughput(size, devSize, rounds, workers int) error {
	rt, err := goveda.New(goveda.Config{Workers: workers})
	if err != nil {
		return err
	}
	defer rt.Close()
	devs, err := rt.Devices()
	if err != nil {
		return err
	}
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(data); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	key := make([]byte, 32)
	a, _ := streamaead.New(key, 0)
	ct := bytes.NewBuffer(make([]byte, 0, size+size/1000+4096))
	pt := bytes.NewBuffer(make([]byte, 0, size))
	modes := []*mode{{name: "go single-threaded streaming (peer)", pin: -2, n: size}, {name: "veda cpu only", pin: 0, n: size}}
	for i := 1; i < len(devs); i++ {
		modes = append(modes, &mode{name: fmt.Sprintf("veda %s%d only (%s)", devs[i].Kind, i, short(devs[i].Name)), pin: i, n: min(devSize, size)})
	}
	modes = append(modes, &mode{name: "veda automatic", pin: -1, n: size})
	ctx := context.Background()
	run := func(m *mode) error {
		in := data[:m.n]
		ct.Reset()
		c0 := cpuSeconds()
		t := time.Now()
		var st streamaead.Stats
		if m.pin == -2 {
			w, _ := a.NewEncryptingWriter(ct, nil)
			w.Write(in)
			if err := w.Close(); err != nil {
				return err
			}
		} else {
			if err := rt.PinDevice(m.pin); err != nil {
				return err
			}
			if st, err = a.Encrypt(ctx, rt, ct, bytes.NewReader(in), nil, jobOpts); err != nil {
				return err
			}
		}
		m.enc = append(m.enc, float64(m.n)/time.Since(t).Seconds()/1e9)
		m.cpuEnc = append(m.cpuEnc, (cpuSeconds()-c0)/(float64(m.n)/(1<<30)))
		m.segs = st.PerDevice
		pt.Reset()
		c0 = cpuSeconds()
		t = time.Now()
		if m.pin == -2 {
			rd, err := a.NewDecryptingReader(bytes.NewReader(ct.Bytes()), nil)
			if err != nil {
				return err
			}
			if _, err := pt.ReadFrom(rd); err != nil {
				return err
			}
		} else if _, err := a.Decrypt(ctx, rt, pt, bytes.NewReader(ct.Bytes()), nil, jobOpts); err != nil {
			return err
		}
		m.dec = append(m.dec, float64(m.n)/time.Since(t).Seconds()/1e9)
		m.cpuDec = append(m.cpuDec, (cpuSeconds()-c0)/(float64(m.n)/(1<<30)))
		rt.PinDevice(-1)
		if !bytes.Equal(pt.Bytes(), in) {
			return fmt.Errorf("%s: round trip differs", m.name)
		}
		return nil
	}
	for _, m := range modes { // warm-up: page faults, program builds, the cost model's first samples
		if err := run(m); err != nil {
			return err
		}
		m.enc, m.dec, m.cpuEnc, m.cpuDec = nil, nil, nil, nil
	}
	for i := 0; i < rounds; i++ {
		for _, m := range modes {
			if err := run(m); err != nil {
				return err
			}
		}
	}
	ossl, osslErr := openssl()
	fmt.Printf("== bench/aead: Tink AES-GCM-HKDF streaming AEAD, 1 MiB segments, in memory; %d workers; median of %d interleaved rounds\n", rt.Workers(), rounds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mode\tstream\tencrypt GB/s (min-max)\tdecrypt GB/s (min-max)\tCPU s/GiB enc, dec\tsegments per device (last encrypt)")
	for _, m := range modes {
		fmt.Fprintf(tw, "%s\t%d MiB\t%.2f (%.2f-%.2f)\t%.2f (%.2f-%.2f)\t%.3f, %.3f\t%v\n", m.name, m.n>>20, med(m.enc), slices.Min(m.enc), slices.Max(m.enc),
			med(m.dec), slices.Min(m.dec), slices.Max(m.dec), med(m.cpuEnc), med(m.cpuDec), m.segs)
	}
	if osslErr == nil {
		fmt.Fprintf(tw, "openssl speed -evp aes-256-gcm -bytes 1048576 (1 core)\t1 MiB\t%.2f\t\t\n", ossl)
	} else {
		fmt.Fprintf(tw, "openssl\t\tskipped: %v\t\t\n", osslErr)
	}
	tw.Flush()
	peer, cpu, auto := modes[0], modes[1], modes[len(modes)-1]
	best := func(get func(*mode) []float64, i int) float64 {
		b := get(cpu)[i]
		for _, m := range modes[2 : len(modes)-1] {
			b = max(b, get(m)[i])
		}
		return b
	}
	ratios := func(name string, get func(*mode) []float64) {
		var vsPeer, vsBest []float64
		for i := range get(peer) {
			vsPeer = append(vsPeer, get(cpu)[i]/get(peer)[i])
			vsBest = append(vsBest, get(auto)[i]/best(get, i))
		}
		fmt.Printf("%s: cpu only / go single-threaded = %.2fx (target >= 1.8); automatic / best of cpu-only and device-only = %.3f (target >= 0.95)",
			name, med(vsPeer), med(vsBest))
		if osslErr == nil {
			fmt.Printf("; cpu only / (%d x openssl) = %.2f (target >= 0.85)", rt.Workers(), med(get(cpu))/(float64(rt.Workers())*ossl))
		}
		fmt.Println()
	}
	ratios("encrypt", func(m *mode) []float64 { return m.enc })
	ratios("decrypt", func(m *mode) []float64 { return m.dec })
	return nil
}

func short(s string) string {
	if len(s) > 24 {
		return s[:23] + "~"
	}
	return s
}

func med(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// openssl returns openssl's one-core AES-256-GCM GB/s at 1 MiB.
func openssl() (float64, error) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		return 0, fmt.Errorf("openssl not found")
	}
	out, err := exec.Command(path, "speed", "-evp", "aes-256-gcm", "-bytes", "1048576", "-seconds", "2").Output()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && strings.EqualFold(f[0], "AES-256-GCM") && strings.HasSuffix(f[1], "k") {
			if v, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "k"), 64); err == nil {
				return v * 1000 / 1e9, nil
			}
		}
	}
	return 0, fmt.Errorf("cannot parse openssl's output")
}

// peakRSS runs `veda encrypt` on an empty stream (the baseline) and on a stream of size bytes
// piped through stdin, with VEDA_MEM_FRACTION set for a budget of about budget bytes, and
// compares the peak RSS (getrusage of the child) with budget + 2 segments + baseline.
func peakRSS(veda string, size, budget int64) error {
	if _, err := os.Stat(veda); err != nil {
		return fmt.Errorf("%s: %v (run make cli)", veda, err)
	}
	rt, err := goveda.New(goveda.Config{})
	if err != nil {
		return err
	}
	p, err := rt.Profile()
	rt.Close()
	if err != nil {
		return err
	}
	frac := float64(budget) / float64(p.AvailableMemory)
	dir, err := os.MkdirTemp("", "veda-bench-aead")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keyFile := dir + "/key"
	if err := os.WriteFile(keyFile, streamaead.FormatKey(make([]byte, 32)), 0o600); err != nil {
		return err
	}
	child := func(n int64) (int64, time.Duration, error) {
		cmd := exec.Command(veda, "encrypt", "-key", keyFile, "-in", "-", "-out", "/dev/null", "-quiet")
		cmd.Env = append(os.Environ(), "VEDA_MEM_FRACTION="+strconv.FormatFloat(frac, 'g', 6, 64))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return 0, 0, err
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, 0, err
		}
		// Peak RSS from the child's own VmHWM (its address space's high-water mark), polled:
		// getrusage's maxrss of a child forked from this big process counts this process's
		// RSS at the fork.
		var hwm atomic.Int64
		stop := make(chan struct{})
		polled := make(chan struct{})
		go func() {
			defer close(polled)
			for {
				if v := vmHWM(cmd.Process.Pid); v > hwm.Load() {
					hwm.Store(v)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		buf := make([]byte, 4<<20)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		for left := n; left > 0; {
			k := min(left, int64(len(buf)))
			if _, err := stdin.Write(buf[:k]); err != nil {
				break
			}
			left -= k
		}
		stdin.Close()
		// The child's stdout is /dev/null and its stdin is closed: it exits soon after the last
		// segment; the poller reads VmHWM until then.
		werr := cmd.Wait()
		close(stop)
		<-polled
		if werr != nil {
			return 0, 0, fmt.Errorf("%v: %s", werr, stderr.String())
		}
		return hwm.Load(), time.Since(t), nil
	}
	base, _, err := child(0)
	if err != nil {
		return err
	}
	peak, el, err := child(size)
	if err != nil {
		return err
	}
	limit := budget + 2*streamaead.DefaultSegmentSize + base
	verdict := "within"
	if peak > limit {
		verdict = "OVER"
	}
	fmt.Printf("peak RSS: veda encrypt of %d MiB from stdin (%.2f GB/s through the pipe): %.1f MiB; budget %.1f MiB (VEDA_MEM_FRACTION=%.5f) + 2 segments + baseline %.1f MiB = %.1f MiB: %s\n",
		size>>20, float64(size)/el.Seconds()/1e9, mib(peak), mib(budget), frac, mib(base), mib(limit), verdict)
	_ = io.Discard
	return nil
}

// vmHWM returns the VmHWM of process pid in bytes (0 if it cannot be read).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v * 1024
		}
	}
	return 0
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
