// Command hybrid measures a hybrid pipeline stage (a CPU body and a device body, picked per item
// by the runtime's dispatcher) against the same pipeline with the CPU body only, on the devices
// the runtime finds (PoCL's OpenCL device where it is installed). It prints where the items went,
// the dispatch reasons, and the throughput of both, medians of -rounds runs, in one process.
//
//	go run ./bench/pipeline/hybrid -workers 2 -items 128 -item-kib 1024
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

func main() {
	workers := flag.Int("workers", 2, "CPU workers")
	items := flag.Int("items", 128, "items per run")
	itemKiB := flag.Int("item-kib", 1024, "item size in KiB (float32 elements)")
	rounds := flag.Int("rounds", 5, "runs of each variant (medians)")
	flag.Parse()

	rt, err := goveda.New(goveda.Config{Workers: *workers, RecordDecisions: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer rt.Close()
	devs, _ := rt.Devices()
	for _, d := range devs {
		fmt.Printf("device %d: %s (%s)\n", d.Index, d.Name, d.Kind)
	}
	n := *itemKiB * 1024 / 4
	data := make([][]float32, *items)
	for i := range data {
		data[i] = make([]float32, n)
	}
	cpu := func(_ context.Context, _ int64, x []float32) ([]float32, error) {
		for i := range x {
			x[i] = 2*x[i] + 1
		}
		return x, nil
	}
	// y = a*x + y with x a ones vector: 2x+1 needs x and y; the device body uses the saxpy kernel
	// with a = 1 on (x, x) and adds the constant through a second saxpy on a ones vector.
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	dev := func(ctx context.Context, d goveda.Device, _ int64, x []float32) ([]float32, error) {
		if err := d.Saxpy(ctx, 1, x, x); err != nil {
			return nil, err
		}
		return x, d.Saxpy(ctx, 1, ones, x)
	}
	bytes := func(x []float32) uint64 { return uint64(4 * len(x)) }
	build := func(hybrid bool) *goveda.Pipeline[[]float32] {
		p, _ := goveda.NewPipeline(rt, goveda.PipelineOptions[[]float32]{Name: map[bool]string{true: "hybrid", false: "cpu"}[hybrid],
			MaxInFlight: 4 * *workers, Bytes: bytes})
		if hybrid {
			if err := p.Hybrid("double", goveda.StageParallel, goveda.Hybrid[[]float32]{Kernel: "bench:2x+1", CPU: cpu, Device: dev}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		} else {
			_ = p.Stage("double", goveda.StageParallel, cpu)
		}
		_ = p.Stage("sink", goveda.StageSerialInOrder, func(_ context.Context, _ int64, x []float32) ([]float32, error) { return x, nil })
		return p
	}
	hp, cp := build(true), build(false)
	run := func(p *goveda.Pipeline[[]float32]) time.Duration {
		t := time.Now()
		if err := p.Run(context.Background(), goveda.SourceSlice(data)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return time.Since(t)
	}
	run(hp) // calibration warm-up: the dispatcher measures each device
	run(cp)
	var th, tc []time.Duration
	for r := 0; r < *rounds; r++ {
		// Alternate which variant runs first: the second run of a round finds the items in a
		// different memory state (measured: up to 5% of the body's time).
		if r%2 == 0 {
			th = append(th, run(hp))
			tc = append(tc, run(cp))
		} else {
			tc = append(tc, run(cp))
			th = append(th, run(hp))
		}
	}
	med := func(v []time.Duration) time.Duration {
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return v[len(v)/2]
	}
	mb := float64(*items) * float64(*itemKiB) / 1024
	mh, mc := med(th), med(tc)
	st := hp.Stats().Stages[0]
	fmt.Printf("hybrid stage: %d items of %d KiB per run, %d workers, medians of %d\n", *items, *itemKiB, *workers, *rounds)
	fmt.Printf("  items per device (all runs, warm-up included): %v\n", st.DeviceItems)
	reasons := map[string]int{}
	if decs, err := rt.Decisions(); err == nil {
		for _, d := range decs {
			if d.Kernel == "bench:2x+1" {
				reasons[fmt.Sprintf("device %d: %s", d.Device, d.Reason)]++
			}
		}
	}
	fmt.Printf("  decisions (last 1024 kept): %v\n", reasons)
	fmt.Printf("  hybrid   %8.1f ms  %8.0f MiB/s\n", float64(mh.Microseconds())/1e3, mb/mh.Seconds())
	fmt.Printf("  cpu-only %8.1f ms  %8.0f MiB/s\n", float64(mc.Microseconds())/1e3, mb/mc.Seconds())
	fmt.Printf("  hybrid / cpu-only time ratio: %.3f\n", mh.Seconds()/mc.Seconds())
}
