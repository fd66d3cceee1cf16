package goveda_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/veda-runtime/veda/goveda"
)

// A reader cuts the input into segments, a parallel stage transforms them, and an in-order writer
// emits them in source order; at most 4 segments (and 64 bytes) are in flight.
func ExamplePipeline() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()

	input := strings.Repeat("the quick brown fox jumps over the lazy dog ", 4)
	type segment struct{ data []byte }
	p, _ := goveda.NewPipeline(rt, goveda.PipelineOptions[*segment]{
		Name:             "upper",
		MaxInFlight:      4,
		MaxBytesInFlight: 64,
		Bytes:            func(s *segment) uint64 { return uint64(len(s.data)) },
	})
	_ = p.Stage("upper", goveda.StageParallel, func(_ context.Context, _ int64, s *segment) (*segment, error) {
		s.data = bytes.ToUpper(s.data)
		return s, nil
	})
	var out bytes.Buffer
	_ = p.Stage("write", goveda.StageSerialInOrder, func(_ context.Context, _ int64, s *segment) (*segment, error) {
		out.Write(s.data)
		return s, nil
	})
	const segSize = 16
	src := goveda.SourceFunc(func(_ context.Context, seq int64) (*segment, bool, error) {
		off := int(seq) * segSize
		if off >= len(input) {
			return nil, false, nil
		}
		return &segment{data: []byte(input[off:min(off+segSize, len(input))])}, true, nil
	})
	err := p.Run(context.Background(), src)
	fmt.Println(err, out.String() == strings.ToUpper(input), p.Stats().PeakInFlight <= 4)
	// Output: <nil> true true
}

// All yields the results in source order; a failure ends the sequence with its error, after the
// clean prefix.
func ExamplePipeline_All() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	p, _ := goveda.NewPipeline(rt, goveda.PipelineOptions[int]{})
	_ = p.Stage("check", goveda.StageParallel, func(_ context.Context, _ int64, x int) (int, error) {
		if x < 0 {
			return 0, errors.New("negative input")
		}
		return x * 10, nil
	})
	for v, err := range p.All(context.Background(), goveda.SourceSeq(slices.Values([]int{1, 2, 3, -4, 5}))) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(v)
	}
	// Output:
	// 10
	// 20
	// 30
	// error: veda: pipeline "pipeline-1": stage 0 ("check") failed at item 3: negative input
}

// A hybrid stage has a CPU body and a device body; the dispatcher picks one per item and the
// stage's metrics say where the items went (here the GPUs are disabled, so all ran on the CPU).
func ExamplePipeline_Hybrid() {
	rt, _ := goveda.New(goveda.Config{Workers: 2, DisableGPU: true})
	defer rt.Close()
	p, _ := goveda.NewPipeline(rt, goveda.PipelineOptions[[]float32]{Name: "scale"})
	err := p.Hybrid("scale", goveda.StageParallel, goveda.Hybrid[[]float32]{
		CPU: func(_ context.Context, _ int64, x []float32) ([]float32, error) {
			for i := range x {
				x[i] *= 2
			}
			return x, nil
		},
		Device: func(ctx context.Context, d goveda.Device, _ int64, x []float32) ([]float32, error) {
			return x, d.Saxpy(ctx, 1, x, x) // y = x + y doubles x on the device
		},
		Size: func(x []float32) uint64 { return uint64(4 * len(x)) },
	})
	fmt.Println(err)
	items := [][]float32{{1, 2}, {3}, {4, 5, 6}}
	_ = p.Run(context.Background(), goveda.SourceSlice(items))
	fmt.Println(items, p.Stats().Stages[0].DeviceItems)
	// Output:
	// <nil>
	// [[2 4] [6] [8 10 12]] map[0:3]
}
