package goveda

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"

	"github.com/veda-runtime/veda/goveda/internal/aesgcm"
	"github.com/veda-runtime/veda/goveda/internal/device"
)

// AES-256-GCM as built-in kernels: "aes256gcm_seal" and "aes256gcm_open" seal or open one whole
// message (a streaming segment) on the CPU (Go's crypto/cipher: AES-NI, VAES, PCLMULQDQ) or on a
// device (opencl/aes_gcm.cl, cuda/aes_gcm.cu), wherever the dispatcher places the call, with
// bit-identical results. goveda/streamaead builds Tink's streaming format on them.

// ErrAuthFailed is returned by AESGCM.Open when the message or its tag was modified, or the key,
// nonce or additional data differ from the seal's. No plaintext is released then.
var ErrAuthFailed = errors.New("veda: message authentication failed")

// GCMTagSize is the AES-GCM tag size in bytes (appended to every sealed message).
const GCMTagSize = aesgcm.TagSize

// AESGCM is a 32-byte AES-256-GCM key bound to a runtime. Seal and Open may be called from any
// goroutine at once; each call is placed by the runtime's dispatcher (CPU or device), so that a
// stream of calls spreads over every device. Nonces may be any non-empty length (12 bytes is
// the standard and fast case); reusing a nonce with one key breaks GCM, as always.
type AESGCM struct {
	rt   *Runtime
	aead map[int]cipher.AEAD // by nonce size; 12 always present; read-only after NewAESGCM
	blk  cipher.Block
	key  *aesgcm.Key
}

// NewAESGCM prepares key (32 bytes) for rt's seal and open kernels: the CPU cipher and the
// devices' round keys and GHASH tables (about 3 us). Errors: a key that is not 32 bytes wraps
// ErrInvalidArgument.
func (rt *Runtime) NewAESGCM(key []byte) (*AESGCM, error) {
	if len(key) != aesgcm.KeySize {
		return nil, invalidf("NewAESGCM: key is %d bytes, AES-256 needs 32", len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, invalidf("NewAESGCM: %v", err)
	}
	g, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, invalidf("NewAESGCM: %v", err)
	}
	k, err := aesgcm.NewKey(key)
	if err != nil {
		return nil, invalidf("NewAESGCM: %v", err)
	}
	return &AESGCM{rt: rt, aead: map[int]cipher.AEAD{12: g}, blk: blk, key: k}, nil
}

// cpuAEAD returns the CPU cipher for a nonce size.
func (g *AESGCM) cpuAEAD(nonceSize int) (cipher.AEAD, error) {
	if a, ok := g.aead[nonceSize]; ok {
		return a, nil
	}
	return cipher.NewGCMWithNonceSize(g.blk, nonceSize)
}

// Seal appends the sealed plaintext (ciphertext then the 16-byte tag) to dst and returns the
// result, as cipher.AEAD.Seal does. Errors: an empty nonce wraps ErrInvalidArgument; ErrClosed;
// ErrCancelled. Blocks until done; cost: about 0.3 ms per MiB on one core with AES-NI.
func (g *AESGCM) Seal(ctx context.Context, dst, nonce, plaintext, aad []byte) ([]byte, error) {
	out, tail := grow(dst, len(plaintext)+aesgcm.TagSize)
	if _, err := g.SealTo(ctx, tail, nonce, plaintext, aad); err != nil {
		return dst, err
	}
	return out, nil
}

// Open appends the opened plaintext of ciphertext (message then tag) to dst, as
// cipher.AEAD.Open does. A wrong tag returns ErrAuthFailed and dst unchanged.
func (g *AESGCM) Open(ctx context.Context, dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < aesgcm.TagSize {
		return dst, fmt.Errorf("%w: ciphertext of %d bytes is shorter than the tag", ErrAuthFailed, len(ciphertext))
	}
	out, tail := grow(dst, len(ciphertext)-aesgcm.TagSize)
	if _, err := g.OpenTo(ctx, tail, nonce, ciphertext, aad); err != nil {
		return dst, err
	}
	return out, nil
}

// grow returns dst extended by n bytes and the new n-byte tail.
func grow(dst []byte, n int) ([]byte, []byte) {
	total := len(dst) + n
	if cap(dst) < total {
		nd := make([]byte, len(dst), total)
		copy(nd, dst)
		dst = nd
	}
	out := dst[:total]
	return out, out[len(dst):]
}

// SealTo seals plaintext into out, which must be exactly len(plaintext)+16 bytes and either start
// at plaintext's first byte (in place) or not overlap it, and returns the dispatch decision that placed the call (after a device
// fallback, the fallback's). Errors as Seal; a wrong out length wraps ErrInvalidArgument.
func (g *AESGCM) SealTo(ctx context.Context, out, nonce, plaintext, aad []byte) (Decision, error) {
	if len(nonce) == 0 {
		return Decision{}, invalidf("AESGCM.Seal: empty nonce")
	}
	if len(out) != len(plaintext)+aesgcm.TagSize {
		return Decision{}, invalidf("AESGCM.SealTo: out is %d bytes, want len(plaintext)+16 = %d", len(out), len(plaintext)+aesgcm.TagSize)
	}
	a, err := g.cpuAEAD(len(nonce))
	if err != nil {
		return Decision{}, invalidf("AESGCM.Seal: %v", err)
	}
	var dec Decision
	n := len(plaintext)
	err = g.rt.runKernel(ctx, &kcall{name: "aes256gcm_seal", bytes: uint64(n), elems: uint64(n), transfer: 2 * uint64(n),
		decided: &dec,
		cpu: func() error {
			a.Seal(out[:0], nonce, plaintext, aad)
			return nil
		},
		dev: func(d device.Device) (device.Timing, error) { return d.SealAESGCM(g.key, nonce, aad, plaintext, out) }})
	return dec, err
}

// OpenTo opens ciphertext into out, which must be exactly len(ciphertext)-16 bytes, and returns
// the decision that placed the call. A wrong tag returns ErrAuthFailed with out zeroed.
func (g *AESGCM) OpenTo(ctx context.Context, out, nonce, ciphertext, aad []byte) (Decision, error) {
	if len(nonce) == 0 {
		return Decision{}, invalidf("AESGCM.Open: empty nonce")
	}
	if len(ciphertext) < aesgcm.TagSize || len(out) != len(ciphertext)-aesgcm.TagSize {
		return Decision{}, invalidf("AESGCM.OpenTo: out is %d bytes for a ciphertext of %d, want ciphertext-16", len(out), len(ciphertext))
	}
	a, err := g.cpuAEAD(len(nonce))
	if err != nil {
		return Decision{}, invalidf("AESGCM.Open: %v", err)
	}
	var dec Decision
	// authFailed is written by whichever path ran (one at a time: runKernel runs the CPU or a
	// device attempt, never both at once) and read after runKernel returned.
	authFailed := false
	n := len(out)
	err = g.rt.runKernel(ctx, &kcall{name: "aes256gcm_open", bytes: uint64(n), elems: uint64(n), transfer: 2 * uint64(n),
		decided: &dec,
		cpu: func() error {
			if _, err := a.Open(out[:0], nonce, ciphertext, aad); err != nil {
				clear(out)
				authFailed = true
			}
			return nil
		},
		dev: func(d device.Device) (device.Timing, error) {
			t, err := d.OpenAESGCM(g.key, nonce, aad, ciphertext, out)
			if errors.Is(err, device.ErrAuth) { // the device worked; the message is bad
				authFailed, err = true, nil
			}
			return t, err
		}})
	if err == nil && authFailed {
		err = ErrAuthFailed
	}
	return dec, err
}

// SealAESGCM seals plaintext with g into out (len(plaintext)+16 bytes; in place, starting at
// plaintext's first byte, or not overlapping it) on device d directly: no
// dispatch decision, no fallback (for hybrid pipeline stages, whose dispatcher already chose d).
// On the CPU (d.Index() == 0) it is crypto/cipher's Seal.
func (d Device) SealAESGCM(g *AESGCM, out, nonce, plaintext, aad []byte) error {
	if len(nonce) == 0 || len(out) != len(plaintext)+aesgcm.TagSize {
		return invalidf("Device.SealAESGCM: nonce %d bytes, out %d bytes for %d of plaintext (want plaintext+16)", len(nonce), len(out), len(plaintext))
	}
	if d.g == nil {
		a, err := g.cpuAEAD(len(nonce))
		if err != nil {
			return invalidf("Device.SealAESGCM: %v", err)
		}
		a.Seal(out[:0], nonce, plaintext, aad)
		return nil
	}
	_, err := d.g.SealAESGCM(g.key, nonce, aad, plaintext, out)
	return mapDeviceError(err)
}

// OpenAESGCM opens ciphertext with g into out (len(ciphertext)-16 bytes; in place or not
// overlapping) on device d directly. A
// wrong tag returns ErrAuthFailed with out zeroed; other errors are the device's.
func (d Device) OpenAESGCM(g *AESGCM, out, nonce, ciphertext, aad []byte) error {
	if len(nonce) == 0 || len(ciphertext) < aesgcm.TagSize || len(out) != len(ciphertext)-aesgcm.TagSize {
		return invalidf("Device.OpenAESGCM: nonce %d bytes, out %d bytes for %d of ciphertext (want ciphertext-16)", len(nonce), len(out), len(ciphertext))
	}
	if d.g == nil {
		a, err := g.cpuAEAD(len(nonce))
		if err != nil {
			return invalidf("Device.OpenAESGCM: %v", err)
		}
		if _, err := a.Open(out[:0], nonce, ciphertext, aad); err != nil {
			clear(out)
			return ErrAuthFailed
		}
		return nil
	}
	_, err := d.g.OpenAESGCM(g.key, nonce, aad, ciphertext, out)
	if errors.Is(err, device.ErrAuth) {
		return ErrAuthFailed
	}
	return mapDeviceError(err)
}
