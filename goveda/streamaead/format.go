package streamaead

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Format constants of Tink's AES-GCM-HKDF streaming AEAD with 32-byte keys (AES256_GCM_HKDF_*).
const (
	// KeySize is the size of the main key and of the derived segment key.
	KeySize = 32
	// NoncePrefixSize is the random per-stream nonce prefix in the header.
	NoncePrefixSize = 7
	// HeaderSize is len(Header) || Salt || NoncePrefix: 1 + 32 + 7 bytes.
	HeaderSize = 1 + KeySize + NoncePrefixSize
	// TagSize is the AES-GCM tag at the end of every ciphertext segment.
	TagSize = 16
	// DefaultSegmentSize is the ciphertext segment size of AES256_GCM_HKDF_1MB.
	DefaultSegmentSize = 1 << 20
	// MinSegmentSize is the smallest ciphertext segment size: the first segment must hold the
	// header, a tag and at least one byte of plaintext.
	MinSegmentSize = HeaderSize + TagSize + 1
	// MaxSegmentSize bounds the segment size (every segment in flight holds a buffer of it).
	MaxSegmentSize = 64 << 20
	// MaxSegments is the number of segments a stream may have (the 4-byte segment counter;
	// Tink refuses segment number 2^32-1).
	MaxSegments = 1<<32 - 1
)

// params is one stream's derived state: the segment cipher and the nonce prefix. Immutable.
type params struct {
	segSize     int
	noncePrefix [NoncePrefixSize]byte
	derived     []byte      // HKDF-SHA256(key, salt, ad), 32 bytes
	aead        cipher.AEAD // AES-256-GCM under derived
}

// checkSegmentSize validates a ciphertext segment size.
func checkSegmentSize(n int) error {
	if n < MinSegmentSize || n > MaxSegmentSize {
		return fmt.Errorf("%w: segment size %d: must be between %d (header %d + tag %d + 1) and %d bytes",
			ErrSegmentSize, n, MinSegmentSize, HeaderSize, TagSize, MaxSegmentSize)
	}
	return nil
}

// plainSize is the plaintext capacity of segment seq (segment 0 shares its ciphertext segment
// with the header).
func plainSize(segSize int, seq int64) int {
	if seq == 0 {
		return segSize - TagSize - HeaderSize
	}
	return segSize - TagSize
}

// cipherSize is the ciphertext size of a full segment seq.
func cipherSize(segSize int, seq int64) int {
	if seq == 0 {
		return segSize - HeaderSize
	}
	return segSize
}

// newHeader draws a random salt and nonce prefix (crypto/rand), derives the segment key and
// returns the header bytes with the stream's params.
func newHeader(key []byte, segSize int, ad []byte) ([]byte, *params, error) {
	h := make([]byte, HeaderSize)
	h[0] = HeaderSize
	if _, err := rand.Read(h[1:]); err != nil {
		return nil, nil, fmt.Errorf("veda: streamaead: random salt: %w", err)
	}
	p, err := derive(key, segSize, h, ad)
	return h, p, err
}

// parseHeader checks a header read from a stream and derives its params.
func parseHeader(key []byte, segSize int, h []byte, ad []byte) (*params, error) {
	if len(h) < HeaderSize {
		return nil, &SegmentError{Segment: -1, Err: fmt.Errorf("%w: %d bytes, the header needs %d", ErrTruncated, len(h), HeaderSize)}
	}
	if h[0] != HeaderSize {
		return nil, &SegmentError{Segment: -1, Err: fmt.Errorf("%w: header length byte is %d, want %d", ErrBadHeader, h[0], HeaderSize)}
	}
	return derive(key, segSize, h, ad)
}

// derive computes DerivedKey = HKDF-SHA256(ikm = key, salt = Salt, info = ad, 32 bytes).
func derive(key []byte, segSize int, h []byte, ad []byte) (*params, error) {
	dk, err := hkdf.Key(sha256.New, key, h[1:1+KeySize], string(ad), KeySize)
	if err != nil {
		return nil, fmt.Errorf("veda: streamaead: hkdf: %w", err)
	}
	blk, err := aes.NewCipher(dk)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	p := &params{segSize: segSize, derived: dk, aead: g}
	copy(p.noncePrefix[:], h[1+KeySize:HeaderSize])
	return p, nil
}

// nonce writes segment seq's nonce, NoncePrefix || seq (4 bytes, big-endian) || last, into n.
func (p *params) nonce(n *[12]byte, seq int64, last bool) {
	copy(n[:NoncePrefixSize], p.noncePrefix[:])
	binary.BigEndian.PutUint32(n[NoncePrefixSize:], uint32(seq))
	n[11] = 0
	if last {
		n[11] = 1
	}
}
