package streamaead

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda"
)

// TEMPORARY: this file is the job's own bounded, ordered segment pipeline, written against the
// narrow interface below until goveda's Pipeline (issue 12: serial source -> hybrid parallel
// stage -> serial in-order sink, bounded by the profile) is on main; the job then runs on that
// and this file goes away. It keeps the same contract: read is called serially in sequence order
// until it reports the last segment or fails; work runs in parallel; write is called serially
// in sequence order; at most maxInFlight segments are alive (read and not yet written or
// dropped); a failure at segment s writes every segment < s and drops the rest.
//
// Every stage runs inside the runtime's worker tasks, as oneTBB's parallel_pipeline runs its
// filters on its own threads: each of W loops (W = workers) takes a free segment, reads the next
// one under the input lock, seals or opens it, and deposits it in the reorder buffer; whichever
// loop deposits the next segment to write becomes the writer and drains every ready segment in
// order. No extra goroutine competes with the workers for the cores (on 2 cores, a separate
// reader and writer goroutine starved behind two busy workers and halved the throughput).

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
// failure of the lowest segment (every segment before it was written). Blocks until every loop
// ended, so nothing touches the buffers, the reader or the writer after it returns. Any
// goroutine but a worker of rt (the loops run on the workers).
func runSegments(ctx context.Context, rt *goveda.Runtime, maxInFlight int, newSeg func() *segment, st segmentStages) error {
	p := &segPipe{st: st, newSeg: newSeg, max: maxInFlight, free: make(chan *segment, maxInFlight),
		stop: make(chan struct{}), pending: map[int64]*segment{}, failSeq: -1}
	loops := max(1, min(rt.Workers(), maxInFlight))
	serr := rt.Scope(ctx, func(sc *goveda.Scope) {
		for i := 0; i < loops; i++ {
			sc.Spawn(func() error { p.loop(ctx); return nil })
		}
	})
	close(p.free)
	for s := range p.free {
		release(s)
	}
	for _, s := range p.pending { // left only after a failure
		release(s)
	}
	if p.err != nil {
		return p.err
	}
	if serr != nil {
		return serr
	}
	if !p.eof { // cancelled before the last segment
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
	}
	return nil
}

// segPipe is one run's shared state.
type segPipe struct {
	st     segmentStages
	newSeg func() *segment
	max    int
	free   chan *segment // written segments for reuse (capacity max: sends never block)
	// created counts segments made so far (at most max). Atomic add: any loop may create one;
	// the count alone bounds the segments alive, no ordering with other memory is needed.
	created atomic.Int32
	stop    chan struct{} // closed at the end of input or on the first failure
	stopped atomic.Bool   // store-release in end, load-acquire in take: guards closing stop once

	inMu     sync.Mutex // the serial input stage: one read at a time, in order
	nextRead int64      // guarded by inMu
	eof      bool       // guarded by inMu; read only after Scope returned otherwise

	outMu     sync.Mutex // the reorder buffer and the failure
	pending   map[int64]*segment
	nextWrite int64
	writing   bool  // a loop is draining pending (the writer role)
	failSeq   int64 // lowest failed segment, -1 for none
	err       error // its error
}

// end closes stop once (end of input or failure): loops waiting for a free segment return.
func (p *segPipe) end() {
	if p.stopped.CompareAndSwap(false, true) { // acq-rel: one closer
		close(p.stop)
	}
}

// take returns a free segment, creating one while fewer than max exist, else waiting for one to
// be written; false once the input ended or failed.
func (p *segPipe) take() (*segment, bool) {
	select {
	case s := <-p.free:
		return s, true
	default:
	}
	if p.created.Add(1) <= int32(p.max) {
		return p.newSeg(), true
	}
	p.created.Add(-1)
	select {
	case s := <-p.free:
		return s, true
	case <-p.stop:
		return nil, false
	}
}

// loop is one worker's share of the pipeline.
func (p *segPipe) loop(ctx context.Context) {
	for {
		s, ok := p.take()
		if !ok {
			return
		}
		p.inMu.Lock()
		if p.eof || p.stopped.Load() { // load-acquire: pairs with end
			p.inMu.Unlock()
			p.free <- s
			return
		}
		s.seq, s.last, s.dec = p.nextRead, false, goveda.Decision{}
		p.nextRead++
		err := ctx.Err()
		if err != nil {
			err = context.Cause(ctx)
		} else {
			err = p.st.read(s)
		}
		if err == nil && s.last {
			p.eof = true
			p.end()
		}
		p.inMu.Unlock()
		if err == nil {
			err = p.st.work(ctx, s)
		}
		if err != nil {
			p.fail(s.seq, err)
			p.free <- s
			continue
		}
		p.deposit(s)
	}
}

// fail records a failure of segment seq: input stops, and segments after the lowest failed one
// are dropped.
func (p *segPipe) fail(seq int64, err error) {
	p.end()
	p.outMu.Lock()
	defer p.outMu.Unlock()
	if p.failSeq >= 0 && p.failSeq < seq {
		return
	}
	p.failSeq, p.err = seq, err
	for k, s := range p.pending {
		if k > seq {
			delete(p.pending, k)
			p.free <- s
		}
	}
}

// deposit puts a processed segment into the reorder buffer and, if no loop is writing, writes
// every segment that is next in order.
func (p *segPipe) deposit(s *segment) {
	p.outMu.Lock()
	if p.failSeq >= 0 && s.seq > p.failSeq {
		p.outMu.Unlock()
		p.free <- s
		return
	}
	p.pending[s.seq] = s
	if p.writing {
		p.outMu.Unlock()
		return
	}
	p.writing = true
	for {
		w, ok := p.pending[p.nextWrite]
		if !ok {
			break
		}
		delete(p.pending, p.nextWrite)
		p.outMu.Unlock()
		err := p.st.write(w)
		p.free <- w
		p.outMu.Lock()
		if err != nil {
			p.writing = false
			p.outMu.Unlock()
			p.fail(w.seq, err)
			return
		}
		p.nextWrite++
	}
	p.writing = false
	p.outMu.Unlock()
}
