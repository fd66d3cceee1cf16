package streamaead

import (
	"context"
	"errors"
	"fmt"
	"io"

	"time"

	"github.com/veda-runtime/veda/goveda"
)

// Options configure Encrypt and Decrypt. The zero value is the default.
type Options struct {
	// MaxInFlight bounds the segments alive at once (read, not yet written); 0: the profile's
	// hard cap (64). Each holds one buffer of a segment (sealed and opened in place).
	MaxInFlight int
	// MaxBytes bounds the bytes of those buffers; 0: the profile's memory budget.
	MaxBytes uint64
	// OnSegment, if set, is called for every written segment, in order, one call at a time, from
	// the job's serial write stage (on a worker of the runtime; it must not block long): where the
	// segment ran and why.
	OnSegment func(SegmentInfo)
	// Progress, if set, is called from the same stage at most every ProgressEvery (default
	// 500 ms) with the totals so far, and not at the end (Encrypt's result has them).
	Progress      func(Stats)
	ProgressEvery time.Duration
}

// SegmentInfo describes one processed segment.
type SegmentInfo struct {
	Segment    int64
	PlainBytes int
	// Decision is the dispatch decision that placed the seal or open (device, reason,
	// estimates when the runtime records decisions).
	Decision goveda.Decision
}

// Stats are a job's totals.
type Stats struct {
	Segments    int64
	PlainBytes  int64
	CipherBytes int64 // header included
	Elapsed     time.Duration
	// PerDevice[i] is the number of segments device i (0: the CPU) sealed or opened.
	PerDevice   []int64
	MaxInFlight int
}

// GBps returns the plaintext throughput in GB/s (10^9 bytes per second).
func (s Stats) GBps() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.PlainBytes) / s.Elapsed.Seconds() / 1e9
}

// inFlightCap is the profile's hard cap on in-flight segments (dispatch.DefaultInflightCap).
const inFlightCap = 64

// inFlight returns the job's bound on segments alive: Options.MaxInFlight (0: the profile's hard
// cap of 64), bounded by the byte budget (Options.MaxBytes, 0: the profile's memory budget) at
// one segment buffer each, and at least 1. The profile's own inflight_segments assumes
// 64 MiB segments, so the job bounds by bytes for its real segment size instead.
func (a *StreamingAEAD) inFlight(rt *goveda.Runtime, o Options) int {
	n, budget := o.MaxInFlight, o.MaxBytes
	if n <= 0 {
		n = inFlightCap
	}
	if budget == 0 {
		if p, err := rt.Profile(); err == nil {
			budget = p.MemoryBudget
		}
	}
	if budget > 0 {
		n = min(n, int(min(budget/uint64(a.segSize+1), 1<<20)))
	}
	return max(n, 1)
}

// Encrypt reads the plaintext from src and writes its ciphertext to dst in Tink's format, with
// associated data ad: the header, then the segments in order. It runs as a goveda pipeline: a
// serial source reads segments, a hybrid parallel stage seals each on the CPU (Go's AES-GCM) or
// on a device (the aes256gcm_seal kernel), picked per segment by rt's dispatcher, and a serial
// in-order stage writes them; at most Options' bound of segments are in memory. The output is
// byte-for-byte what Tink's NewEncryptingWriter writes for the same salt and nonce prefix.
//
// On error (a read or write error, ctx cancellation) dst holds a prefix of the ciphertext; the
// caller should discard it. Any goroutine; called from a task of rt, the worker helps run the job.
func (a *StreamingAEAD) Encrypt(ctx context.Context, rt *goveda.Runtime, dst io.Writer, src io.Reader, ad []byte, o Options) (Stats, error) {
	if err := checkNil("Encrypt", "rt", rt, "dst", dst, "src", src); err != nil {
		return Stats{}, err
	}
	start := time.Now()
	h, p, err := newHeader(a.key, a.segSize, ad)
	if err != nil {
		return Stats{}, err
	}
	gcm, err := rt.NewAESGCM(p.derived)
	if err != nil {
		return Stats{}, err
	}
	if _, err := dst.Write(h); err != nil {
		return Stats{}, err
	}
	j := newJob(a, rt, o, start)
	j.st.CipherBytes = HeaderSize
	c := chunker{r: src}
	// One buffer per segment: the plaintext and its look-ahead byte (saved by the chunker before
	// the seal overwrites it), then the ciphertext and tag in place.
	err = j.run(ctx, rt, "encrypt", "aes256gcm_seal", a.segSize, jobStages{
		read: func(s *segment) error {
			in, last, err := c.next(s.buf, plainSize(a.segSize, s.seq))
			if err != nil {
				return fmt.Errorf("veda: streamaead: reading segment %d: %w", s.seq, err)
			}
			s.in, s.last = in, last
			s.out = s.buf[:len(in)+TagSize]
			return nil
		},
		crypt: func(d goveda.Device, s *segment) error {
			var n [12]byte
			p.nonce(&n, s.seq, s.last)
			if err := d.SealAESGCM(gcm, s.out, n[:], s.in, nil); err != nil {
				return &SegmentError{Segment: s.seq, Err: err}
			}
			return nil
		},
		write: func(s *segment) error {
			if _, err := dst.Write(s.out); err != nil {
				return fmt.Errorf("veda: streamaead: writing segment %d: %w", s.seq, err)
			}
			j.done(s, len(s.in), len(s.out))
			return nil
		},
	})
	j.st.Elapsed = time.Since(start)
	return j.st, err
}

// Decrypt reads a Tink AES-GCM-HKDF stream from src and writes its plaintext to dst, with
// associated data ad. It runs as Encrypt's pipeline does, with the aes256gcm_open kernel; a
// segment's plaintext reaches dst only after its tag verified, in order, and the first failure
// stops the job: dst then holds the verified plaintext of every segment before it. A wrong key or
// associated data, a modified, reordered, dropped or duplicated segment, a truncated stream,
// trailing bytes or a bad header each return a *SegmentError naming the segment. Any goroutine.
func (a *StreamingAEAD) Decrypt(ctx context.Context, rt *goveda.Runtime, dst io.Writer, src io.Reader, ad []byte, o Options) (Stats, error) {
	if err := checkNil("Decrypt", "rt", rt, "dst", dst, "src", src); err != nil {
		return Stats{}, err
	}
	start := time.Now()
	h := make([]byte, HeaderSize)
	n, err := io.ReadFull(src, h)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Stats{}, fmt.Errorf("veda: streamaead: reading the header: %w", err)
	}
	p, err := parseHeader(a.key, a.segSize, h[:n], ad)
	if err != nil {
		return Stats{}, err
	}
	gcm, err := rt.NewAESGCM(p.derived)
	if err != nil {
		return Stats{}, err
	}
	j := newJob(a, rt, o, start)
	j.st.CipherBytes = HeaderSize
	c := chunker{r: src}
	err = j.run(ctx, rt, "decrypt", "aes256gcm_open", a.segSize+1, jobStages{
		read: func(s *segment) error {
			in, last, err := c.next(s.buf, cipherSize(a.segSize, s.seq))
			if err != nil {
				return fmt.Errorf("veda: streamaead: reading segment %d: %w", s.seq, err)
			}
			if len(in) < TagSize {
				return &SegmentError{Segment: s.seq, Last: true, Err: fmt.Errorf("%w: %d bytes, shorter than a tag", ErrTruncated, len(in))}
			}
			s.in, s.last = in, last
			s.out = s.buf[:len(in)-TagSize]
			return nil
		},
		crypt: func(d goveda.Device, s *segment) error {
			var n [12]byte
			p.nonce(&n, s.seq, s.last)
			err := d.OpenAESGCM(gcm, s.out, n[:], s.in, nil)
			if errors.Is(err, goveda.ErrAuthFailed) {
				// The segment is bad, not the device: the writer raises it in order, so that
				// every segment before it is still written and the device is not blamed.
				s.err = &SegmentError{Segment: s.seq, Last: s.last, Err: ErrAuth}
				return nil
			}
			if err != nil {
				return &SegmentError{Segment: s.seq, Err: err}
			}
			return nil
		},
		write: func(s *segment) error {
			if s.err != nil {
				return s.err
			}
			if _, err := dst.Write(s.out); err != nil {
				return fmt.Errorf("veda: streamaead: writing segment %d: %w", s.seq, err)
			}
			j.done(s, len(s.out), len(s.in))
			return nil
		},
	})
	j.st.Elapsed = time.Since(start)
	return j.st, err
}

// jobStages are the job's three stages. read fills s (serial, in order; s.seq is set); crypt
// seals or opens s on d (the CPU when d.Index() == 0), in parallel; write emits s (serial, in
// order).
type jobStages struct {
	read  func(s *segment) error
	crypt func(d goveda.Device, s *segment) error
	write func(s *segment) error
}

// run builds and runs the job's pipeline: source (read) -> hybrid parallel stage kernel (crypt,
// placed per segment by the dispatcher) -> serial in-order sink (write), bounded by
// j.st.MaxInFlight segments and their bytes. It returns the failure of the lowest segment,
// unwrapped to the job's own error (a *SegmentError, or a read or write error).
func (j *job) run(ctx context.Context, rt *goveda.Runtime, op, kernel string, bufSize int, st jobStages) error {
	cpu, err := rt.Device(0)
	if err != nil {
		return err
	}
	segBytes := uint64(bufSize)
	workSize := uint64(bufSize - TagSize - 1) // a full segment's plaintext (to within a byte)
	p, err := goveda.NewPipeline(rt, goveda.PipelineOptions[*segment]{
		Name:             "veda-" + op,
		MaxInFlight:      j.st.MaxInFlight,
		MaxBytesInFlight: uint64(j.st.MaxInFlight) * segBytes,
		Bytes:            func(*segment) uint64 { return segBytes },
		Drop:             func(_ int64, s *segment) { release(s) },
	})
	if err != nil {
		return err
	}
	err = p.Hybrid(op, goveda.StageParallel, goveda.Hybrid[*segment]{
		Kernel: kernel,
		CPU: func(_ context.Context, _ int64, s *segment) (*segment, error) {
			return s, st.crypt(cpu, s)
		},
		Device: func(_ context.Context, d goveda.Device, _ int64, s *segment) (*segment, error) {
			// Not in place on a device: the result lands in a scratch buffer and is copied over
			// the segment only on success, so that a device failing midway (the dispatcher then
			// falls back to the CPU body) cannot leave the input half overwritten.
			out := s.out
			scratch := getBuf(len(s.buf))
			s.out = scratch[:len(out)]
			err := st.crypt(d, s)
			if err == nil {
				copy(out, s.out)
			}
			s.out = out
			putBuf(scratch)
			return s, err
		},
		// Every segment is sized as a full one for the dispatcher: the stream's segments are one
		// workload, so they share one size bucket of the cost model (a shorter first or last
		// segment would otherwise open buckets of their own, each explored on every device).
		Size:     func(*segment) uint64 { return workSize },
		Transfer: func(*segment) uint64 { return 2 * workSize },
		Placed:   func(_ int64, s *segment, dec goveda.Decision) { s.dec = dec },
	})
	if err != nil {
		return err
	}
	err = p.Stage("write", goveda.StageSerialInOrder, func(_ context.Context, _ int64, s *segment) (*segment, error) {
		if err := st.write(s); err != nil {
			return s, err
		}
		release(s)
		return s, nil
	})
	if err != nil {
		return err
	}
	done := false // the source runs one call at a time (a serial stage)
	err = p.Run(ctx, goveda.SourceFunc(func(_ context.Context, seq int64) (*segment, bool, error) {
		if done {
			return nil, false, nil
		}
		if seq >= MaxSegments {
			return nil, false, &SegmentError{Segment: seq, Err: ErrTooLong}
		}
		s := newSegment(bufSize)
		s.seq = seq
		if err := st.read(s); err != nil {
			release(s)
			return nil, false, err
		}
		done = s.last
		return s, true, nil
	}))
	if err == nil {
		return nil
	}
	var se *SegmentError
	if errors.As(err, &se) {
		return se
	}
	var pe *goveda.PipelineError
	if errors.As(err, &pe) && pe.Err != nil {
		return pe.Err
	}
	return err
}

// job is the write stage's bookkeeping: touched by that serial stage only (one call at a time, in
// order, each call ordered after the previous by the pipeline's hand-off), and read by Encrypt or
// Decrypt after the run returned.
type job struct {
	st       Stats
	o        Options
	start    time.Time
	lastProg time.Time
}

func newJob(a *StreamingAEAD, rt *goveda.Runtime, o Options, start time.Time) *job {
	ndev := 1
	if ds, err := rt.Devices(); err == nil {
		ndev = len(ds)
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 500 * time.Millisecond
	}
	return &job{st: Stats{PerDevice: make([]int64, ndev), MaxInFlight: a.inFlight(rt, o)}, o: o, start: start, lastProg: start}
}

func (j *job) done(s *segment, plain, cipher int) {
	j.st.Segments++
	j.st.PlainBytes += int64(plain)
	j.st.CipherBytes += int64(cipher)
	if d := s.dec.Device; d >= 0 && d < len(j.st.PerDevice) {
		j.st.PerDevice[d]++
	}
	if j.o.OnSegment != nil {
		j.o.OnSegment(SegmentInfo{Segment: s.seq, PlainBytes: plain, Decision: s.dec})
	}
	if j.o.Progress != nil {
		if now := time.Now(); now.Sub(j.lastProg) >= j.o.ProgressEvery {
			j.lastProg = now
			snap := j.st
			snap.Elapsed = now.Sub(j.start)
			snap.PerDevice = append([]int64(nil), j.st.PerDevice...)
			j.o.Progress(snap)
		}
	}
}
