package streamaead_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/veda-runtime/veda/goveda/streamaead"
)

// BenchmarkEncrypt: 64 MiB per op, in memory to memory. Serial is the one-goroutine writer (Go's
// single-threaded streaming seal); CPU is the parallel job pinned to the CPU; Auto lets the
// dispatcher place segments.
func BenchmarkEncrypt(b *testing.B) {
	data := make([]byte, 64<<20)
	key := make([]byte, 32)
	a, _ := streamaead.New(key, 0)
	out := bytes.NewBuffer(make([]byte, 0, len(data)+len(data)/1000+4096))
	b.Run("Serial", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			out.Reset()
			w, _ := a.NewEncryptingWriter(out, nil)
			w.Write(data)
			w.Close()
		}
	})
	for _, c := range []struct {
		name string
		pin  int
	}{{"CPU", 0}, {"Auto", -1}} {
		b.Run(c.name, func(b *testing.B) {
			pin(b, c.pin)
			defer pin(b, -1)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				out.Reset()
				if _, err := a.Encrypt(context.Background(), rt, out, bytes.NewReader(data), nil, streamaead.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	_ = io.Discard
}
