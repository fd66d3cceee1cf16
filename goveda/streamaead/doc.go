// Package streamaead is Google Tink's AES-GCM-HKDF streaming AEAD, byte for byte, with the
// parameters of Tink's AES256_GCM_HKDF_1MB template, and VEDA's main job built on it: a stream
// cut into segments that are sealed or opened in parallel on the CPU and the devices and written
// in order, in bounded memory (`veda encrypt`, `veda decrypt`).
//
// # Format (developers.google.com/tink/streaming-aead/aes_gcm_hkdf_streaming)
//
//	ciphertext = Header || Segment_0 || Segment_1 || ... || Segment_n
//	Header     = len(Header) (1 byte, 40) || Salt (32 random bytes) || NoncePrefix (7 random bytes)
//	DerivedKey = HKDF-SHA256(ikm = main key, salt = Salt, info = associated data, 32 bytes)
//	Segment_i  = AES-256-GCM(DerivedKey, nonce = NoncePrefix || i (4 bytes, big-endian) || last, no AD)
//
// where last is 1 for the final segment and 0 otherwise. Every ciphertext segment is
// SegmentSize bytes (1 MiB) except the last, which may be shorter; segment 0 is shorter by the
// header, so that header plus segment 0 fill one ciphertext segment. A stream of n plaintext
// bytes has one segment even when n == 0 (an empty last segment is 16 bytes, its tag), and a
// plaintext that fills its last segment exactly gets no extra empty segment (Tink's writer seals
// a full segment as non-last only once more plaintext arrives).
//
// # Glossary
//
//   - segment: one AES-GCM message of the stream; its sequence number is i.
//   - chunker: reads segments with one byte of look-ahead, so that a full segment knows whether
//     it is the last (as Tink's reader does).
//   - job: Encrypt or Decrypt, a goveda.Pipeline of three stages (below).
//
// # The job (Encrypt, Decrypt)
//
//  1. The source (serial, on a worker) reads segment i into a pooled buffer.
//  2. A hybrid parallel stage seals or opens it: the runtime's dispatcher places each segment on
//     the CPU (Go's crypto/cipher: AES-NI, VAES, PCLMULQDQ) or on a device (the aes256gcm_seal
//     and aes256gcm_open kernels of opencl/aes_gcm.cl and cuda/aes_gcm.cu, registered with the
//     device layer), by the same cost model as every built-in kernel; a device failure falls
//     back to the CPU. Results are bit-identical wherever a segment runs.
//  3. A serial in-order stage writes the segments in sequence order and returns the buffers.
//
// At most Options.MaxInFlight segments (default 64) are alive, and their buffers (two per
// segment) stay within the byte budget (default: the profile's memory budget). A failure at
// segment s (a wrong tag, a read or write error) writes every segment before s and drops the
// rest, so Decrypt's output is always a verified prefix. A wrong tag is recorded in the segment
// and raised by the writer, in order, so a damaged stream does not count as a device failure.
//
// # Rejected approaches
//
//   - A format of our own: an independent implementation must be able to check ours; Tink's is
//     published, and the tests check interop with tink-go in both directions.
//   - Handing whole segments' plaintext to the writer before its tag verified (decrypt then
//     verify): a consumer of stdout would see unauthenticated bytes.
//   - A reader goroutine and a writer goroutine beside the workers: on 2 cores they starve
//     behind two busy workers; every stage runs in worker tasks instead (goveda.Pipeline).
//
// Who may call: StreamingAEAD is immutable and safe for concurrent use; a writer or reader from
// NewEncryptingWriter/NewDecryptingReader belongs to one goroutine; Encrypt and Decrypt may run
// concurrently on one runtime.
package streamaead
