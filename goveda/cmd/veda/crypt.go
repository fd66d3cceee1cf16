package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/streamaead"
)

// progressThreshold: inputs larger than this show progress on stderr.
const progressThreshold = 64 << 20

// cryptFlags are the flags of `veda encrypt` and `veda decrypt`.
type cryptFlags struct {
	key, in, out, ad, segment, device string
	stats, quiet                      bool
	workers                           int
	every                             time.Duration
}

// cmdEncrypt is `veda encrypt`; cmdDecrypt is `veda decrypt`.
func cmdEncrypt(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	return cmdCrypt("encrypt", fs, args, stdout, stderr)
}

func cmdDecrypt(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	return cmdCrypt("decrypt", fs, args, stdout, stderr)
}

func cmdCrypt(op string, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	var f cryptFlags
	fs.StringVar(&f.key, "key", "", "key file: 32 raw bytes, or 64 hex characters and a newline (veda keygen)")
	fs.StringVar(&f.in, "in", "-", "input file, - for stdin")
	fs.StringVar(&f.out, "out", "-", "output file, - for stdout (a file appears only when complete)")
	fs.StringVar(&f.ad, "ad", "", "associated data (authenticated, not encrypted; the same string must be given to decrypt)")
	fs.StringVar(&f.segment, "segment", "1MiB", "ciphertext segment size (Tink's AES256_GCM_HKDF_1MB uses 1MiB)")
	fs.StringVar(&f.device, "device", "auto", "where segments run: auto (the dispatcher), cpu, or a device index (veda info)")
	fs.BoolVar(&f.stats, "stats", false, "print where each segment ran and why (the dispatch decisions)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress and no summary line")
	fs.IntVar(&f.workers, "workers", 0, "CPU workers (0: automatic)")
	fs.DurationVar(&f.every, "progress", 500*time.Millisecond, "progress interval for inputs over 64 MiB (stderr)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: veda %s -key FILE [-in FILE|-] [-out FILE|-] [-ad STRING] [-device auto|cpu|N] [-stats] [-segment 1MiB] [-workers N] [-quiet] [-progress 500ms]\n", op)
		if op == "encrypt" {
			fmt.Fprintln(w, "Encrypts in Tink's AES-GCM-HKDF streaming format (AES256_GCM_HKDF_1MB: HKDF-SHA256, AES-256-GCM,")
			fmt.Fprintln(w, "1 MiB segments); segments are sealed in parallel on the CPU and the devices, written in order.")
		} else {
			fmt.Fprintln(w, "Decrypts Tink's AES-GCM-HKDF streaming format, verifying every segment's tag. A damaged stream")
			fmt.Fprintln(w, "fails naming the segment; to stdout, only verified plaintext is written.")
		}
		fmt.Fprintln(w, "Exit status: 0 ok, 1 failed (I/O, authentication), 2 bad usage, key, segment size or input.")
		fs.PrintDefaults()
	}
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "veda %s: "+format+"\n", append([]any{op}, a...)...)
		return 2
	}
	if f.key == "" {
		return usageErr("-key FILE is required (make one with: veda keygen -out FILE)")
	}
	if f.workers < 0 || f.every <= 0 {
		return usageErr("-workers must be >= 0 and -progress > 0")
	}
	key, err := streamaead.ReadKeyFile(f.key)
	if err != nil {
		return usageErr("%v", err)
	}
	seg, err := streamaead.ParseSegmentSize(f.segment)
	if err != nil {
		return usageErr("-segment: %v", err)
	}
	a, err := streamaead.New(key, seg)
	if err != nil {
		return usageErr("%v", err)
	}
	src, size, closeIn, err := openInput(f.in)
	if err != nil {
		return usageErr("%v", err)
	}
	defer closeIn()
	rt, err := goveda.New(goveda.Config{Workers: f.workers, RecordDecisions: f.stats})
	if err != nil {
		return usageErr("%v", err)
	}
	defer rt.Close()
	devs, err := rt.Devices()
	if err != nil {
		return fail(stderr, op, err)
	}
	switch f.device {
	case "auto":
	case "cpu":
		err = rt.PinDevice(0)
	default:
		i, perr := strconv.Atoi(f.device)
		if perr != nil {
			return usageErr("-device %q: want auto, cpu or a device index", f.device)
		}
		err = rt.PinDevice(i)
	}
	if err != nil {
		return usageErr("-device: %v", err)
	}

	var dst io.Writer = stdout
	var atomic *streamaead.AtomicFile
	if f.out != "-" {
		mode := os.FileMode(0o644)
		if op == "decrypt" {
			mode = 0o600 // plaintext
		}
		if atomic, err = streamaead.CreateAtomic(f.out, mode); err != nil {
			return fail(stderr, op, err)
		}
		defer atomic.Abort() // no-op after Commit
		dst = atomic
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prog := newProgressLine(stderr, size, devs, f.quiet)
	o := streamaead.Options{Progress: prog.update, ProgressEvery: f.every}
	var statLines []string
	if f.stats {
		o.OnSegment = func(s streamaead.SegmentInfo) { statLines = append(statLines, segmentLine(s, devs)) }
	}
	var st streamaead.Stats
	if op == "encrypt" {
		st, err = a.Encrypt(ctx, rt, dst, src, []byte(f.ad), o)
	} else {
		st, err = a.Decrypt(ctx, rt, dst, src, []byte(f.ad), o)
	}
	prog.clear()
	if f.stats {
		printStats(stderr, statLines)
	}
	if err == nil && atomic != nil {
		err = atomic.Commit()
	}
	if err != nil {
		var se *streamaead.SegmentError
		if errors.As(err, &se) && f.out == "-" && op == "decrypt" {
			fmt.Fprintf(stderr, "veda %s: stopped after %d verified segments (%s of plaintext written)\n", op, st.Segments, sizeText(st.PlainBytes))
		}
		return fail(stderr, op, err)
	}
	if !f.quiet {
		fmt.Fprintf(stderr, "veda %s: %s in %.3f s, %.2f GB/s, %d segments: %s\n", op, sizeText(st.PlainBytes),
			st.Elapsed.Seconds(), st.GBps(), st.Segments, perDevice(st.PerDevice, devs))
	}
	return 0
}

// openInput opens -in: "-" is stdin (size unknown, -1). An unreadable file is an error.
func openInput(path string) (io.Reader, int64, func(), error) {
	if path == "-" {
		return os.Stdin, -1, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		if fi.IsDir() {
			f.Close()
			return nil, 0, nil, fmt.Errorf("%s is a directory", path)
		}
		if fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	return f, size, func() { f.Close() }, nil
}

// devTag is a short name of device i: "cpu", "opencl1", "cuda2".
func devTag(i int, devs []goveda.DeviceInfo) string {
	if i == 0 {
		return "cpu"
	}
	if i < len(devs) {
		return fmt.Sprintf("%s%d", devs[i].Kind, i)
	}
	return fmt.Sprintf("device%d", i)
}

// perDevice formats segments per device: "cpu 1020, opencl1 4".
func perDevice(counts []int64, devs []goveda.DeviceInfo) string {
	var parts []string
	for i, c := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", devTag(i, devs), c))
	}
	return strings.Join(parts, ", ")
}

// segmentLine is one -stats line: the segment, its size, the device and the dispatcher's reason
// and estimates.
func segmentLine(s streamaead.SegmentInfo, devs []goveda.DeviceInfo) string {
	d := s.Decision
	var sb strings.Builder
	fmt.Fprintf(&sb, "segment %d (%s): %s, %s", s.Segment, sizeText(int64(s.PlainBytes)), devTag(d.Device, devs), d.Reason)
	if c := d.Candidates; len(c) > 0 {
		sb.WriteString("; finish estimates:")
		for _, e := range c {
			if e.HasEstimate {
				fmt.Fprintf(&sb, " %s %s", devTag(e.Device, devs), e.Finish.Round(time.Microsecond))
			} else {
				fmt.Fprintf(&sb, " %s unmeasured", devTag(e.Device, devs))
			}
		}
	}
	return sb.String()
}

// printStats prints the -stats lines and a count per (device, reason).
func printStats(w io.Writer, lines []string) {
	counts := map[string]int{}
	for _, l := range lines {
		fmt.Fprintln(w, l)
		head := l[strings.Index(l, "): ")+3:]
		if i := strings.Index(head, ";"); i >= 0 {
			head = head[:i]
		}
		counts[head]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "placement summary (device, reason: segments):")
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %d\n", k, counts[k])
	}
}

// progressLine prints bytes, rate, ETA and segments per device on stderr, for inputs over 64 MiB
// (or of unknown size once 64 MiB went through). One goroutine: the job's sink.
type progressLine struct {
	w       io.Writer
	size    int64
	devs    []goveda.DeviceInfo
	quiet   bool
	tty     bool
	printed bool
	last    time.Time
}

func newProgressLine(w io.Writer, size int64, devs []goveda.DeviceInfo, quiet bool) *progressLine {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressLine{w: w, size: size, devs: devs, quiet: quiet || (size >= 0 && size <= progressThreshold), tty: tty}
}

func (p *progressLine) update(s streamaead.Stats) {
	if p.quiet || s.PlainBytes+s.CipherBytes <= progressThreshold && p.size < 0 {
		return
	}
	p.last = time.Now()
	done := max(s.PlainBytes, s.CipherBytes)
	rate := float64(done) / max(s.Elapsed.Seconds(), 1e-9)
	line := fmt.Sprintf("%s", sizeText(done))
	if p.size > 0 {
		eta := time.Duration(float64(max(p.size-done, 0)) / max(rate, 1) * 1e9)
		line += fmt.Sprintf(" of %s (%.0f%%), ETA %s", sizeText(p.size), 100*float64(done)/float64(p.size), eta.Round(time.Second/10))
	}
	line += fmt.Sprintf(", %.2f GB/s, segments: %s", rate/1e9, perDevice(s.PerDevice, p.devs))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.printed = true
}

// clear ends the progress line on a terminal.
func (p *progressLine) clear() {
	if p.printed && p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// sizeText formats a byte count with a binary unit (info.go's formatBytes).
func sizeText(n int64) string { return formatBytes(uint64(max(n, 0))) }

// cmdKeygen is `veda keygen -out FILE`: a new random key as 64 hex characters and a newline,
// mode 0600. It never overwrites an existing file.
func cmdKeygen(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	out := fs.String("out", "", "key file to create (- for stdout); an existing file is never overwritten")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: veda keygen -out FILE|-")
		fmt.Fprintln(fs.Output(), "Writes a new random 256-bit key (crypto/rand) as 64 hex characters and a newline, mode 0600.")
		fs.PrintDefaults()
	}
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	if *out == "" {
		fmt.Fprintln(stderr, "veda keygen: -out FILE is required")
		return 2
	}
	text := streamaead.FormatKey(streamaead.GenerateKey())
	if *out == "-" {
		if _, err := stdout.Write(text); err != nil {
			return fail(stderr, "keygen", err)
		}
		return 0
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fail(stderr, "keygen", fmt.Errorf("%s already exists: a key file is never overwritten (remove it or choose another -out)", *out))
	}
	if err != nil {
		return fail(stderr, "keygen", err)
	}
	if _, err = f.Write(text); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return fail(stderr, "keygen", err)
	}
	return 0
}
