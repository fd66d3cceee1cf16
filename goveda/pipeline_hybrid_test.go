package goveda

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// TestPipelineHybrid runs a hybrid stage on every device the runtime has (PoCL counts where it is
// installed): each item is doubled by the CPU body or by a saxpy on the chosen device; every item
// must be right, the per-device counts must add up, and every pick is a recorded decision.
func TestPipelineHybrid(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, GPUThreshold: 64 << 10, RecordDecisions: true})
	devs, err := rt.Devices()
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var cpuRuns, devRuns atomic.Int64
	p, _ := NewPipeline(rt, PipelineOptions[[]float32]{Name: "hyb", MaxInFlight: 8,
		Bytes: func(x []float32) uint64 { return uint64(4 * len(x)) }})
	must(t, p.Hybrid("double", StageParallel, Hybrid[[]float32]{
		CPU: func(_ context.Context, _ int64, x []float32) ([]float32, error) {
			cpuRuns.Add(1)
			for i := range x {
				x[i] *= 2
			}
			return x, nil
		},
		Device: func(ctx context.Context, d Device, _ int64, x []float32) ([]float32, error) {
			if d.Index() == 0 {
				return nil, errors.New("the device body got the CPU")
			}
			devRuns.Add(1)
			return x, d.Saxpy(ctx, 1, x, x)
		},
	}))
	items := make([][]float32, n)
	for i := range items {
		size := 256 // 1 KiB: below the threshold
		if i%2 == 1 {
			size = 64 << 10 // 256 KiB: above
		}
		items[i] = make([]float32, size)
		for j := range items[i] {
			items[i][j] = float32(i + j%7)
		}
	}
	var sinkSeen int
	must(t, p.Stage("check", StageSerialInOrder, func(_ context.Context, seq int64, x []float32) ([]float32, error) {
		for j := range x {
			if x[j] != 2*float32(int(seq)+j%7) {
				return nil, errors.New("wrong value")
			}
		}
		sinkSeen++
		return x, nil
	}))
	if err := p.Run(bg, SourceSlice(items)); err != nil {
		t.Fatal(err)
	}
	st := p.Stats().Stages[0]
	var total uint64
	for _, c := range st.DeviceItems {
		total += c
	}
	if sinkSeen != n || total != n || int64(st.DeviceItems[0]) != cpuRuns.Load() {
		t.Fatalf("sink %d, device items %v, cpu runs %d, device runs %d", sinkSeen, st.DeviceItems, cpuRuns.Load(), devRuns.Load())
	}
	decs, err := rt.Decisions()
	if err != nil {
		t.Fatal(err)
	}
	mine := 0
	for _, d := range decs {
		if d.Kernel == "pipeline:hyb/double" {
			mine++
			if d.Reason == "" {
				t.Fatalf("decision without a reason: %+v", d)
			}
		}
	}
	if mine != n {
		t.Fatalf("%d decisions recorded for the stage, want %d", mine, n)
	}
	t.Logf("devices %d: items per device %v", len(devs), st.DeviceItems)
	// Bad input.
	if err := p.Hybrid("x", StageParallel, Hybrid[[]float32]{CPU: nil}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if err := p.Hybrid("x", StageParallel, Hybrid[[]float32]{CPU: func(_ context.Context, _ int64, x []float32) ([]float32, error) { return x, nil },
		Device: func(context.Context, Device, int64, []float32) ([]float32, error) { return nil, nil }, Devices: []int{99}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}
