package goveda

import (
	"context"
	"fmt"

	"github.com/veda-runtime/veda/goveda/internal/device"
)

// Hybrid describes a stage with two bodies that do the same thing: CPU runs on a worker, Device on
// a device (a GPU, or an OpenCL device such as PoCL). For each item the runtime's dispatcher picks
// where it runs, as for a kernel call: uncalibrated (cold), items of at least the GPU threshold
// (Config.GPUThreshold) go to the least-loaded GPU and smaller ones to the CPU, spilling to an
// idle GPU when the CPU is saturated; calibrated (warm), the device with the earliest expected
// finish (queued work + transfer + compute, measured per size bucket). Every pick is a Decision
// with its reason (Runtime.Decisions, when recording is on), and the stage's metrics count the
// items per device (PipelineStageStats.DeviceItems). A device failure falls back to another
// candidate (the CPU last), as kernel calls do.
type Hybrid[T any] struct {
	// Kernel names the work for the cost model and the decisions ("" : "pipeline:<pipeline>/<stage>").
	// Stages that share a name share calibration.
	Kernel string
	// CPU is the CPU body (required).
	CPU StageFunc[T]
	// Device is the device body (required): d is the chosen device (never the CPU); it should run
	// the item there (d.Index() says which) and return the result.
	Device func(ctx context.Context, d Device, seq int64, item T) (T, error)
	// Devices restricts the devices Device may run on (indexes >= 1, as in Runtime.Devices); nil:
	// every device of the runtime.
	Devices []int
	// Size returns the item's work size in bytes for the dispatcher (its size bucket and the
	// threshold rule); nil: the item's declared bytes (PipelineOptions.Bytes).
	Size func(item T) uint64
	// Transfer returns the bytes an item moves to and from a device; nil: Size.
	Transfer func(item T) uint64
	// Placed, if set, is called once for each item that ran successfully, by the worker that ran
	// it, with the dispatch decision that placed it (device, reason; the candidates' estimates
	// when the runtime records decisions): for per-item reports such as `veda encrypt -stats`.
	Placed func(seq int64, item T, dec Decision)
}

type hybridStage[T any] struct {
	h       Hybrid[T]
	kernel  string
	devices []int // candidates: 0 (the CPU) and the device indexes
}

// Hybrid appends a hybrid stage (see Hybrid) named name, in mode. It discovers the runtime's
// devices if that did not happen yet. Errors wrap ErrInvalidArgument (a nil CPU or Device body, a
// device index that does not exist, and Stage's rules); ErrClosed on a closed runtime. Any
// goroutine.
func (p *Pipeline[T]) Hybrid(name string, mode StageMode, h Hybrid[T], opts ...StageOption) error {
	if h.CPU == nil || h.Device == nil {
		return invalidf("Pipeline %q: Hybrid stage %q: CPU and Device must both be set", p.name, name)
	}
	if err := p.rt.checkOpen(); err != nil {
		return err
	}
	ds, err := p.rt.devices()
	if err != nil {
		return err
	}
	hs := &hybridStage[T]{h: h, kernel: h.Kernel, devices: []int{0}}
	if h.Devices == nil {
		for i := range ds.gpus {
			hs.devices = append(hs.devices, i+1)
		}
	} else {
		for _, d := range h.Devices {
			if d < 1 || d > len(ds.gpus) {
				return invalidf("Pipeline %q: Hybrid stage %q: device %d does not exist (devices 1..%d; 0 is the CPU body)", p.name, name, d, len(ds.gpus))
			}
			if !containsInt(hs.devices, d) {
				hs.devices = append(hs.devices, d)
			}
		}
	}
	s := &stage[T]{name: name, mode: mode, hybrid: hs, fn: h.CPU}
	if err := p.addStage(s, opts); err != nil {
		return err
	}
	if hs.kernel == "" {
		hs.kernel = fmt.Sprintf("pipeline:%s/%s", p.name, s.name)
	}
	return nil
}

// run places one item and runs it there. A task of a run.
func (hs *hybridStage[T]) run(ctx context.Context, rt *Runtime, st *stage[T], seq int64, v T, declared uint64) (T, error) {
	size := declared
	if hs.h.Size != nil {
		size = hs.h.Size(v)
	}
	transfer := size
	if hs.h.Transfer != nil {
		transfer = hs.h.Transfer(v)
	}
	var out T
	ran := -1
	ds, err := rt.devices()
	if err != nil {
		return out, err
	}
	var dec Decision
	kc := &kcall{name: hs.kernel, bytes: size, elems: 1, transfer: transfer, devices: hs.devices, decided: &dec,
		cpu: func() error {
			var err error
			ran = 0
			out, err = hs.h.CPU(ctx, seq, v)
			return err
		},
		dev: func(g device.Device) (device.Timing, error) {
			idx := 0
			for i, d := range ds.gpus {
				if d == g {
					idx = i + 1
				}
			}
			ran = idx
			var err error
			out, err = hs.h.Device(ctx, Device{rt: rt, index: idx, g: g}, seq, v)
			return device.Timing{}, err
		}}
	err = rt.runKernel(ctx, kc)
	if ran >= 0 && err == nil {
		st.stats.onDevice(ran)
		if hs.h.Placed != nil {
			hs.h.Placed(seq, out, dec)
		}
	}
	return out, err
}
