package streamaead_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/tinktest"
	"github.com/veda-runtime/veda/goveda/streamaead"
)

// TestStressConcurrentJobs runs many Encrypt and Decrypt jobs at once on one runtime, with tiny
// segments (down to the minimum, 57 bytes: one plaintext byte in segment 0) so that each job has
// hundreds of segments, random in-flight bounds and random sizes; every ciphertext must open with
// Tink and round-trip exactly.
func TestStressConcurrentJobs(t *testing.T) {
	const jobs = 8
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for j := 0; j < jobs; j++ {
		wg.Add(1)
		go func(j int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(j), 99))
			seg := []int{streamaead.MinSegmentSize, 100, 257, 4096}[j%4]
			key := randBytes(r, 32)
			a, err := streamaead.New(key, seg)
			if err != nil {
				errs <- err
				return
			}
			ta := tinktest.AEAD(t, key, seg)
			for it := 0; it < 4; it++ {
				pt := randBytes(r, r.IntN(40*seg))
				ad := randBytes(r, r.IntN(8))
				o := streamaead.Options{MaxInFlight: 1 + r.IntN(8)}
				var ct, back bytes.Buffer
				if _, err := a.Encrypt(context.Background(), rt, &ct, bytes.NewReader(pt), ad, o); err != nil {
					errs <- fmt.Errorf("job %d: encrypt: %w", j, err)
					return
				}
				if got, err := tinktest.Decrypt(t, ta, ct.Bytes(), ad); err != nil || !bytes.Equal(got, pt) {
					errs <- fmt.Errorf("job %d seg %d n %d: tink: %v", j, seg, len(pt), err)
					return
				}
				if _, err := a.Decrypt(context.Background(), rt, &back, bytes.NewReader(ct.Bytes()), ad, o); err != nil || !bytes.Equal(back.Bytes(), pt) {
					errs <- fmt.Errorf("job %d seg %d n %d: decrypt: %v", j, seg, len(pt), err)
					return
				}
			}
		}(j)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCancelledJob: a cancelled context stops the job with an error and leaves no goroutine
// touching the buffers (the race detector would see it).
func TestCancelledJob(t *testing.T) {
	a, _ := streamaead.New(make([]byte, 32), 4096)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ct bytes.Buffer
	if _, err := a.Encrypt(ctx, rt, &ct, bytes.NewReader(make([]byte, 1<<20)), nil, streamaead.Options{}); err == nil {
		t.Fatal("a cancelled encrypt succeeded")
	}
}
