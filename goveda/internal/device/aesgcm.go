package device

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/aesgcm"
)

// AES-256-GCM seal and open of one whole message (a streaming segment) on a device: one launch of
// aes256gcm_seal or aes256gcm_open (opencl/aes_gcm.cl, cuda/aes_gcm.cu) does the CTR encryption and
// the per-group partial GHASH; the host finishes the tag (aesgcm.Key.Tag). The results equal
// crypto/cipher's bit for bit, for any nonce length and any associated data.

// ErrAuth is returned by OpenAESGCM when the tag does not match (the output is zeroed).
var ErrAuth = errors.New("veda: device: AES-GCM message authentication failed")

// gcmShape returns the work-group size W and blocks per item L the device's kernels use: L
// blocks per item keep a PoCL (CPU) work-item busy enough; a GPU wants more, shorter items.
func (d *gdev) gcmShape() (w, l int) {
	if d.info.Kind == KindCUDA {
		return 256, 4
	}
	return min(d.wg(), 64), 16
}

// SealAESGCM seals plaintext under k and nonce with additional data aad into dst, which must hold
// len(plaintext)+16 bytes (ciphertext, then the tag) and either start at plaintext's first byte
// (in place: the copy to the device completes before the copy back, in one in-order batch) or
// not overlap it.
func (d *gdev) SealAESGCM(k *aesgcm.Key, nonce, aad, plaintext, dst []byte) (Timing, error) {
	if k == nil || len(nonce) == 0 || len(dst) != len(plaintext)+aesgcm.TagSize {
		return Timing{}, fmt.Errorf("%w: aes256gcm_seal: key %v, nonce %d bytes, plaintext %d, dst %d (want plaintext+16)",
			ErrInvalidArgument, k != nil, len(nonce), len(plaintext), len(dst))
	}
	n := len(plaintext)
	j0 := k.J0(nonce)
	g, partials, t, err := d.gcmRun("aes256gcm_seal", k, j0, plaintext, dst[:n])
	if err != nil {
		return t, err
	}
	tag := k.Tag(g, partials, aad, n, j0)
	copy(dst[n:], tag[:])
	return t, nil
}

// OpenAESGCM opens ciphertext (message then 16-byte tag) under k and nonce with additional data
// aad into dst, which must hold len(ciphertext)-16 bytes (in place, or not overlapping). A wrong
// tag returns ErrAuth with dst zeroed, so that unauthenticated plaintext never leaves.
func (d *gdev) OpenAESGCM(k *aesgcm.Key, nonce, aad, ciphertext, dst []byte) (Timing, error) {
	if k == nil || len(nonce) == 0 || len(ciphertext) < aesgcm.TagSize || len(dst) != len(ciphertext)-aesgcm.TagSize {
		return Timing{}, fmt.Errorf("%w: aes256gcm_open: key %v, nonce %d bytes, ciphertext %d, dst %d (want ciphertext-16)",
			ErrInvalidArgument, k != nil, len(nonce), len(ciphertext), len(dst))
	}
	n := len(dst)
	j0 := k.J0(nonce)
	g, partials, t, err := d.gcmRun("aes256gcm_open", k, j0, ciphertext[:n], dst)
	if err != nil {
		return t, err
	}
	tag := k.Tag(g, partials, aad, n, j0)
	if subtle.ConstantTimeCompare(tag[:], ciphertext[n:]) != 1 {
		clear(dst)
		return t, ErrAuth
	}
	return t, nil
}

// gcmRun runs one seal or open launch over in (len(in) == len(out)) and returns the geometry and
// the groups' partial GHASH values. An empty message launches nothing.
func (d *gdev) gcmRun(name string, k *aesgcm.Key, j0 [16]byte, in, out []byte) (aesgcm.Geometry, []uint64, Timing, error) {
	w, l := d.gcmShape()
	n := len(in)
	g := aesgcm.NewGeometry(n, w, l)
	if n == 0 {
		return g, nil, Timing{}, nil
	}
	kern, err := d.builtin(name)
	if err != nil {
		return g, nil, Timing{}, err
	}
	var keys [aesgcm.RoundKeyWords + 4]uint32
	copy(keys[:], k.RoundKeys[:])
	for i := 0; i < 4; i++ {
		keys[aesgcm.RoundKeyWords+i] = uint32(j0[4*i])<<24 | uint32(j0[4*i+1])<<16 | uint32(j0[4*i+2])<<8 | uint32(j0[4*i+3])
	}
	var tabs [32 + 2*aesgcm.MaxLevels]uint64
	copy(tabs[:32], k.HTable[:])
	pow := k.HPow(g)
	copy(tabs[32:], pow[:])
	partials := make([]uint64, 2*g.Groups)
	bytes := int64(n)
	t, err := d.batch(func(get func(int64) (*Buffer, error)) error {
		bin, err := get(bytes)
		if err != nil {
			return err
		}
		bout, err := get(bytes)
		if err != nil {
			return err
		}
		bk, err := get(int64(len(keys)) * 4)
		if err != nil {
			return err
		}
		bt, err := get(int64(len(tabs)) * 8)
		if err != nil {
			return err
		}
		bp, err := get(int64(len(partials)) * 8)
		if err != nil {
			return err
		}
		if err := d.eng.write(bin, unsafe.Pointer(&in[0]), bytes); err != nil {
			return err
		}
		if err := d.eng.write(bk, unsafe.Pointer(&keys[0]), int64(len(keys))*4); err != nil {
			return err
		}
		if err := d.eng.write(bt, unsafe.Pointer(&tabs[0]), int64(len(tabs))*8); err != nil {
			return err
		}
		args := []karg{scalarOf(int64(n)), scalarOf(int32(g.Pad)), scalarOf(int32(g.L)),
			{buf: bin}, {buf: bout}, {buf: bk}, {buf: bt}, {buf: bp}}
		if d.info.Kind == KindOpenCL {
			args = append(args, karg{local: int64(g.W) * 16})
		}
		if err := d.eng.launch(kern, [3]int{g.Groups * g.W, 1, 1}, [3]int{g.W, 1, 1}, args); err != nil {
			return err
		}
		if err := d.eng.read(unsafe.Pointer(&out[0]), bout, bytes); err != nil {
			return err
		}
		return d.eng.read(unsafe.Pointer(&partials[0]), bp, int64(len(partials))*8)
	})
	return g, partials, t, err
}
