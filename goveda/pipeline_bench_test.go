package goveda

import (
	"context"
	"testing"
)

// BenchmarkPipelineOverhead is the per-item cost of a serial source, an empty parallel stage and
// a serial in-order sink (tokens 4 x workers), in Go (no cgo): b.N items in one run.
func BenchmarkPipelineOverhead(b *testing.B) {
	rt := newRT(b, benchCfg)
	p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 8})
	_ = p.Stage("work", StageParallel, func(_ context.Context, _ int64, x int64) (int64, error) { return x, nil })
	var next int64
	_ = p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq int64, x int64) (int64, error) {
		if seq != next {
			b.Fatal("order")
		}
		next++
		return x, nil
	})
	n := int64(b.N)
	b.ResetTimer()
	if err := p.Run(bg, SourceFunc(func(_ context.Context, seq int64) (int64, bool, error) { return seq, seq < n, nil })); err != nil {
		b.Fatal(err)
	}
}

// benchCfg is the benchmark runtime (2 workers, as the oneTBB comparison in bench/pipeline).
var benchCfg = Config{Workers: 2}
