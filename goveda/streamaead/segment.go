package streamaead

import (
	"sync"

	"github.com/veda-runtime/veda/goveda"
)

// segment is one item of the job's pipeline: a segment's input (plaintext to seal, or ciphertext
// to open) and output, with buffers from the pools.
type segment struct {
	seq  int64
	last bool
	in   []byte // what the source read
	out  []byte // what the seal/open stage produced
	// inBuf and outBuf are the full-capacity buffers in and out point into (nil once released).
	inBuf, outBuf []byte
	dec           goveda.Decision // where the seal/open ran and why (the hybrid stage's Placed)
	err           error           // the segment's own failure (a wrong tag), raised in order by the writer
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

// putBuf returns b (from getBuf; nil is ignored) to its pool. Any goroutine.
func putBuf(b []byte) {
	if b == nil {
		return
	}
	if p, ok := bufPools.Load(cap(b)); ok {
		b = b[:cap(b)]
		p.(*sync.Pool).Put(&b)
	}
}

// newSegment returns a segment with input and output buffers of the given sizes.
func newSegment(in, out int) *segment {
	return &segment{inBuf: getBuf(in), outBuf: getBuf(out)}
}

// release returns s's buffers to the pools; a second release is a no-op. The goroutine that owns
// s (the stage or Drop call that has it).
func release(s *segment) {
	putBuf(s.inBuf)
	putBuf(s.outBuf)
	s.inBuf, s.outBuf, s.in, s.out = nil, nil, nil, nil
}
