package streamaead

import (
	"sync"

	"github.com/veda-runtime/veda/goveda"
)

// segment is one item of the job's pipeline: a segment's input (plaintext to seal, or ciphertext
// to open) and its output, in place in one pooled buffer: sealing writes the ciphertext over the
// plaintext and appends the tag, opening writes the plaintext over the ciphertext. One buffer per
// segment halves the memory in flight and the cache traffic of two.
type segment struct {
	seq  int64
	last bool
	in   []byte // what the source read: buf[:len(in)]
	out  []byte // what the seal/open stage produced: buf[:len(out)], in place
	// buf is the full-capacity buffer in and out point into (nil once released).
	buf []byte
	dec goveda.Decision // where the seal/open ran and why (the hybrid stage's Placed)
	err error           // the segment's own failure (a wrong tag), raised in order by the writer
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

// newSegment returns a segment with a buffer of n bytes.
func newSegment(n int) *segment {
	return &segment{buf: getBuf(n)}
}

// release returns s's buffers to the pools; a second release is a no-op. The goroutine that owns
// s (the stage or Drop call that has it).
func release(s *segment) {
	putBuf(s.buf)
	s.buf, s.in, s.out = nil, nil, nil
}
