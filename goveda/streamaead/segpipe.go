package streamaead

import (
	"context"

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
	free := make(chan *segment, maxInFlight)
	for i := 0; i < maxInFlight; i++ {
		free <- newSeg()
	}
	// ordered carries the segments in sequence order; it never blocks, since at most
	// maxInFlight segments exist.
	ordered := make(chan *segment, maxInFlight)
	go func() {
		defer close(ordered)
		for seq := int64(0); ; seq++ {
			var s *segment
			select {
			case s = <-free:
			case <-ctx.Done():
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
			continue
		}
		free <- s
	}
	if first == nil && ctx.Err() != nil { // the caller cancelled: the stream is incomplete
		first = context.Cause(ctx)
	}
	return first
}
