package streamaead

import (
	"context"
	"sync"

	"github.com/veda-runtime/veda/goveda"
)

// TEMPORARY: this file is the job's own bounded, ordered segment pipeline, written against the
// narrow interface below until goveda's Pipeline (issue 12: serial source -> hybrid parallel
// stage -> serial in-order sink, bounded by the profile) is on main; the job then runs on that
// and this file goes away. It keeps the same contract: read is called serially in sequence order
// until it reports the last segment or fails; work runs in parallel on the runtime's workers;
// write is called serially in sequence order; at most maxInFlight segments are alive (read and
// not yet written or dropped); a failure at segment s writes every segment < s and drops the rest.

// segment is one item of the job: its buffers are reused across the stream.
type segment struct {
	seq  int64
	last bool
	in   []byte // what read filled (plaintext to seal, or ciphertext to open)
	out  []byte // what work produced
	// inBuf and outBuf are the full-capacity buffers in and out point into.
	inBuf, outBuf []byte
	dec           goveda.Decision
	err           error                    // read's error: the segment fails in the source
	fu            *goveda.Future[struct{}] // work's completion
}

// bufPools recycle segment buffers across jobs, one pool per buffer size (a few sizes per
// process: the plaintext and ciphertext sizes of the segment sizes in use).
var bufPools sync.Map // int -> *sync.Pool of *[]byte

// getBuf returns a buffer of n bytes (contents undefined). Any goroutine.
func getBuf(n int) []byte {
	p, _ := bufPools.LoadOrStore(n, &sync.Pool{})
	if b, ok := p.(*sync.Pool).Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, n)
}

// putBuf returns b (from getBuf) to its pool. Any goroutine.
func putBuf(b []byte) {
	if p, ok := bufPools.Load(cap(b)); ok {
		b = b[:cap(b)]
		p.(*sync.Pool).Put(&b)
	}
}

// newSegment returns a segment with input and output buffers of the given sizes.
func newSegment(in, out int) *segment {
	return &segment{inBuf: getBuf(in), outBuf: getBuf(out)}
}

// release returns s's buffers to the pools.
func release(s *segment) {
	putBuf(s.inBuf)
	putBuf(s.outBuf)
	s.inBuf, s.outBuf, s.in, s.out = nil, nil, nil, nil
}

// segmentStages are the three stages of the job.
type segmentStages struct {
	read  func(s *segment) error // serial, in order; sets s.in and s.last
	work  func(ctx context.Context, s *segment) error
	write func(s *segment) error // serial, in order
}

// runSegments runs st over segments from newSeg, at most maxInFlight alive, and returns the
// first failure (the prefix before it was written). Blocks until the source stopped and every
// started work finished, so nothing touches the buffers or the reader after it returns. Any
// goroutine but a worker of rt.
func runSegments(ctx context.Context, rt *goveda.Runtime, maxInFlight int, newSeg func() *segment, st segmentStages) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// free holds written segments for reuse; segments are created on demand, up to
	// maxInFlight, so a short stream allocates only what it uses.
	free := make(chan *segment, maxInFlight)
	created := 0 // owned by the source goroutine
	// ordered carries the segments in sequence order; it never blocks, since at most
	// maxInFlight segments exist.
	ordered := make(chan *segment, maxInFlight)
	go func() {
		defer close(ordered)
		for seq := int64(0); ; seq++ {
			var s *segment
			select {
			case s = <-free:
			default:
				if created < maxInFlight {
					s = newSeg()
					created++
					break
				}
				select {
				case s = <-free:
				case <-ctx.Done():
					return
				}
			}
			if ctx.Err() != nil {
				return
			}
			s.seq, s.last, s.err, s.fu, s.dec = seq, false, nil, nil, goveda.Decision{}
			if err := st.read(s); err != nil {
				s.err = err
				ordered <- s
				return
			}
			s.fu = goveda.Submit(rt, goveda.TaskOptions{Priority: goveda.PriorityNormal}, func(c context.Context) (struct{}, error) {
				return struct{}{}, st.work(c, s)
			})
			ordered <- s
			if s.last {
				return
			}
		}
	}()
	var first error
	for s := range ordered {
		if first != nil { // draining after a failure: wait for started work, drop the segment
			if s.fu != nil {
				_, _ = s.fu.Wait(context.Background())
			}
			release(s)
			continue
		}
		err := s.err
		if err == nil {
			_, err = s.fu.Wait(context.Background())
		}
		if err == nil {
			err = st.write(s)
		}
		if err != nil {
			first = err
			cancel(err)
			release(s)
			continue
		}
		free <- s
	}
	close(free)
	for s := range free {
		release(s)
	}
	if first == nil && ctx.Err() != nil { // the caller cancelled: the stream is incomplete
		first = context.Cause(ctx)
	}
	return first
}
