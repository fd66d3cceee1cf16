// Package tinktest builds Google Tink's streaming AEAD (github.com/tink-crypto/tink-go/v2, a
// test-only dependency: only _test files import this package) from a raw key, for the interop
// tests of goveda/streamaead and `veda encrypt`/`veda decrypt`. The keyset is a cleartext keyset
// built in memory, which is fine in tests only.
package tinktest

import (
	"bytes"
	"io"
	"testing"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	gcmhkdfpb "github.com/tink-crypto/tink-go/v2/proto/aes_gcm_hkdf_streaming_go_proto"
	commonpb "github.com/tink-crypto/tink-go/v2/proto/common_go_proto"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
	"google.golang.org/protobuf/proto"
)

// AEAD returns Tink's streaming AEAD for the raw key: an AES-GCM-HKDF streaming key with
// AES256_GCM_HKDF_1MB's parameters (HKDF-SHA256, 32-byte derived keys) and the given ciphertext
// segment size, in a cleartext keyset built here, in the test only.
func AEAD(t testing.TB, key []byte, segSize int) tink.StreamingAEAD {
	t.Helper()
	k := &gcmhkdfpb.AesGcmHkdfStreamingKey{
		Version:  0,
		KeyValue: key,
		Params: &gcmhkdfpb.AesGcmHkdfStreamingParams{
			CiphertextSegmentSize: uint32(segSize),
			DerivedKeySize:        32,
			HkdfHashType:          commonpb.HashType_SHA256,
		},
	}
	v, err := proto.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	ks := &tinkpb.Keyset{
		PrimaryKeyId: 1,
		Key: []*tinkpb.Keyset_Key{{
			KeyData: &tinkpb.KeyData{
				TypeUrl:         "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey",
				Value:           v,
				KeyMaterialType: tinkpb.KeyData_SYMMETRIC,
			},
			Status:           tinkpb.KeyStatusType_ENABLED,
			KeyId:            1,
			OutputPrefixType: tinkpb.OutputPrefixType_RAW,
		}},
	}
	var h *keyset.Handle = insecurecleartextkeyset.KeysetHandle(ks)
	a, err := streamingaead.New(h)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Encrypt encrypts pt with Tink.
func Encrypt(t testing.TB, a tink.StreamingAEAD, pt, ad []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := a.NewEncryptingWriter(&buf, ad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pt); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Decrypt decrypts ct with Tink.
func Decrypt(t testing.TB, a tink.StreamingAEAD, ct, ad []byte) ([]byte, error) {
	t.Helper()
	r, err := a.NewDecryptingReader(bytes.NewReader(ct), ad)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}
