package streamaead

import (
	"errors"
	"fmt"
	"io"
)

// StreamingAEAD is Tink's AES-GCM-HKDF streaming AEAD for one 32-byte main key and one
// ciphertext segment size (DefaultSegmentSize: Tink's AES256_GCM_HKDF_1MB). It is immutable and
// safe for concurrent use; every stream it starts draws its own random salt and nonce prefix.
type StreamingAEAD struct {
	key     []byte
	segSize int
}

// New returns the streaming AEAD for key (32 bytes) and ciphertext segment size segmentSize (0:
// DefaultSegmentSize). Errors: ErrKey, ErrSegmentSize.
func New(key []byte, segmentSize int) (*StreamingAEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("veda: streamaead: %w (got %d)", ErrKey, len(key))
	}
	if segmentSize == 0 {
		segmentSize = DefaultSegmentSize
	}
	if err := checkSegmentSize(segmentSize); err != nil {
		return nil, fmt.Errorf("veda: streamaead: %w", err)
	}
	return &StreamingAEAD{key: append([]byte(nil), key...), segSize: segmentSize}, nil
}

// SegmentSize returns the ciphertext segment size.
func (a *StreamingAEAD) SegmentSize() int { return a.segSize }

// NewEncryptingWriter returns a writer that encrypts what is written to it into w, with
// associated data ad, on the calling goroutine (Go's AES-GCM). It writes the header at once. The
// caller must Close it to write the last segment; Close does not close w. Not safe for
// concurrent use.
func (a *StreamingAEAD) NewEncryptingWriter(w io.Writer, ad []byte) (io.WriteCloser, error) {
	if err := checkNil("NewEncryptingWriter", "w", w); err != nil {
		return nil, err
	}
	h, p, err := newHeader(a.key, a.segSize, ad)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return &encWriter{w: w, p: p, buf: make([]byte, 0, plainSize(a.segSize, 1)),
		out: make([]byte, 0, a.segSize)}, nil
}

// NewEncryptingWriter is StreamingAEAD.NewEncryptingWriter with 1 MiB segments (Tink's
// AES256_GCM_HKDF_1MB).
func NewEncryptingWriter(w io.Writer, key, ad []byte) (io.WriteCloser, error) {
	a, err := New(key, 0)
	if err != nil {
		return nil, err
	}
	return a.NewEncryptingWriter(w, ad)
}

// encWriter buffers one segment of plaintext; a full segment is sealed (not last) only when more
// plaintext arrives, so the last segment is sealed by Close, as Tink does.
type encWriter struct {
	w      io.Writer
	p      *params
	seq    int64
	buf    []byte
	out    []byte
	err    error
	closed bool
}

func (e *encWriter) Write(b []byte) (int, error) {
	if e.closed {
		return 0, ErrClosed
	}
	if e.err != nil {
		return 0, e.err
	}
	done := 0
	for {
		room := plainSize(e.p.segSize, e.seq) - len(e.buf)
		n := min(room, len(b)-done)
		e.buf = append(e.buf, b[done:done+n]...)
		done += n
		if done == len(b) {
			return done, nil
		}
		if err := e.seal(false); err != nil {
			e.err = err
			return done, err
		}
	}
}

func (e *encWriter) seal(last bool) error {
	if e.seq >= MaxSegments {
		return fmt.Errorf("veda: streamaead: %w", ErrTooLong)
	}
	var n [12]byte
	e.p.nonce(&n, e.seq, last)
	e.out = e.p.aead.Seal(e.out[:0], n[:], e.buf, nil)
	if _, err := e.w.Write(e.out); err != nil {
		return err
	}
	e.buf = e.buf[:0]
	e.seq++
	return nil
}

// Close seals and writes the last segment. A second Close is a no-op.
func (e *encWriter) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if e.err != nil {
		return e.err
	}
	return e.seal(true)
}

// chunker cuts a stream into segments with one byte of lookahead, so that it knows whether a
// full segment is the last. Single goroutine.
type chunker struct {
	r        io.Reader
	carry    byte
	hasCarry bool
}

// next reads up to size bytes into buf (cap(buf) > size) and reports whether the stream ended
// with them. Read errors other than EOF are returned as they are.
func (c *chunker) next(buf []byte, size int) (seg []byte, last bool, err error) {
	buf = buf[:size+1]
	off := 0
	if c.hasCarry {
		buf[0] = c.carry
		off = 1
	}
	m, err := io.ReadFull(c.r, buf[off:])
	total := off + m
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		c.hasCarry = false
		return buf[:total], true, nil
	case err != nil:
		return nil, false, err
	}
	c.carry, c.hasCarry = buf[size], true
	return buf[:size], false, nil
}

// NewDecryptingReader returns a reader of the plaintext of the stream r, encrypted with
// associated data ad. It reads and checks the header at once (blocking on r). Each segment's
// plaintext is released only after its tag verified; a failure is a *SegmentError naming the
// segment, and the reader then stays failed. Not safe for concurrent use.
func (a *StreamingAEAD) NewDecryptingReader(r io.Reader, ad []byte) (io.Reader, error) {
	if err := checkNil("NewDecryptingReader", "r", r); err != nil {
		return nil, err
	}
	h := make([]byte, HeaderSize)
	n, err := io.ReadFull(r, h)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	p, err := parseHeader(a.key, a.segSize, h[:n], ad)
	if err != nil {
		return nil, err
	}
	return &decReader{c: chunker{r: r}, p: p, in: make([]byte, a.segSize+1)}, nil
}

// NewDecryptingReader is StreamingAEAD.NewDecryptingReader with 1 MiB segments.
func NewDecryptingReader(r io.Reader, key, ad []byte) (io.Reader, error) {
	a, err := New(key, 0)
	if err != nil {
		return nil, err
	}
	return a.NewDecryptingReader(r, ad)
}

type decReader struct {
	c    chunker
	p    *params
	seq  int64
	in   []byte
	pt   []byte // verified plaintext not yet read
	done bool
	err  error
}

func (d *decReader) Read(b []byte) (int, error) {
	for len(d.pt) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		seg, last, err := d.c.next(d.in, cipherSize(d.p.segSize, d.seq))
		if err != nil {
			d.err = err
			return 0, err
		}
		pt, err := openSegment(d.p, d.seq, last, seg, seg[:0])
		if err != nil {
			d.err = err
			return 0, err
		}
		d.pt, d.done = pt, last
		d.seq++
	}
	n := copy(b, d.pt)
	d.pt = d.pt[n:]
	return n, nil
}

// openSegment opens ciphertext segment seq into dst (which may alias seg[:0]) on the CPU.
func openSegment(p *params, seq int64, last bool, seg, dst []byte) ([]byte, error) {
	if seq >= MaxSegments {
		return nil, &SegmentError{Segment: seq, Err: ErrTooLong}
	}
	if len(seg) < TagSize {
		return nil, &SegmentError{Segment: seq, Last: last, Err: fmt.Errorf("%w: %d bytes, shorter than a tag", ErrTruncated, len(seg))}
	}
	var n [12]byte
	p.nonce(&n, seq, last)
	pt, err := p.aead.Open(dst, n[:], seg, nil)
	if err != nil {
		return nil, &SegmentError{Segment: seq, Last: last, Err: ErrAuth}
	}
	return pt, nil
}
