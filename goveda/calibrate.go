package goveda

import (
	"context"
	"fmt"
	"time"
)

// Calibrate: a short measurement of every built-in kernel on every device, on purpose (what
// `veda calibrate` runs), so that the cost model is trusted before real work arrives.

type callDeviceKey struct{}

// withCallDevice returns ctx with the built-in kernel calls made under it pinned to device
// index dev (for this call only; the runtime's PinDevice is untouched).
func withCallDevice(ctx context.Context, dev int) context.Context {
	return context.WithValue(ctx, callDeviceKey{}, dev)
}

func callDevice(ctx context.Context) (int, bool) {
	if ctx == nil {
		return 0, false
	}
	d, ok := ctx.Value(callDeviceKey{}).(int)
	return d, ok
}

// CalibrateOptions tunes Calibrate. Zero fields take the defaults.
type CalibrateOptions struct {
	// MinBytes and MaxBytes bound the sizes measured (default 4 KiB .. 32 MiB), every power of
	// four in between and both ends.
	MinBytes, MaxBytes int64
	// Reps is how many calls per (kernel, device, size) are measured (default 3, the cost
	// model's trusted sample count).
	Reps int
	// SgemmMaxBytes caps sgemm's size (default 1 MiB of A+B+C: sgemm grows as size^1.5).
	SgemmMaxBytes int64
}

// CalibrationSample is one measured (kernel, device, size): the median wall time per call.
type CalibrationSample struct {
	Kernel string        `json:"kernel"`
	Device int           `json:"device"`
	Bytes  int64         `json:"bytes"`
	Median time.Duration `json:"median_ns"`
}

// Calibrate runs every built-in kernel (saxpy_f32, sum_f32, dot_f32, sum_f64 where the device
// has fp64, sgemm) on every device for sizes from opts.MinBytes to opts.MaxBytes, opts.Reps
// times each, feeding the cost model exactly as real calls do, and then saves the model
// (SaveCalibration; nothing with VEDA_CALIBRATION=readonly or off). Other calls on rt are
// placed as usual meanwhile. Errors: a device failure, ctx cancellation (the model keeps what
// was measured). Any goroutine; blocks for seconds (about 1 s per device on this 2-core machine).
func (rt *Runtime) Calibrate(ctx context.Context, opts CalibrateOptions) ([]CalibrationSample, error) {
	if opts.MinBytes <= 0 {
		opts.MinBytes = 4 << 10
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 32 << 20
	}
	if opts.Reps <= 0 {
		opts.Reps = 3
	}
	if opts.SgemmMaxBytes <= 0 {
		opts.SgemmMaxBytes = 1 << 20
	}
	if opts.MaxBytes < opts.MinBytes || opts.MaxBytes > 1<<34 {
		return nil, invalidf("Calibrate: MinBytes %d, MaxBytes %d", opts.MinBytes, opts.MaxBytes)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	devs, err := rt.Devices()
	if err != nil {
		return nil, err
	}
	var sizes []int64
	for b := opts.MinBytes; b < opts.MaxBytes; b *= 4 {
		sizes = append(sizes, b)
	}
	sizes = append(sizes, opts.MaxBytes)
	big := sizes[len(sizes)-1]
	x := make([]float32, big/4)
	y := make([]float32, big/4)
	xd := make([]float64, big/8)
	for i := range x {
		x[i], y[i] = float32(i%7), 1
	}
	var out []CalibrationSample
	for _, d := range devs {
		dctx := withCallDevice(ctx, d.Index)
		for _, size := range sizes {
			n := int(size / 4)
			m := max(1, int(sqrtInt(size/12))) // sgemm m=n=k with 12 m^2 bytes of A, B, C
			kernels := []struct {
				name string
				ok   bool
				run  func() error
			}{
				{"saxpy_f32", true, func() error { return rt.Saxpy(dctx, 1, x[:n/2], y[:n/2]) }},
				{"sum_f32", true, func() error { _, err := rt.SumF32(dctx, x[:n]); return err }},
				{"dot_f32", true, func() error { _, err := rt.DotF32(dctx, x[:n/2], y[:n/2]); return err }},
				{"sum_f64", d.FP64, func() error { _, err := rt.SumF64(dctx, xd[:n/2]); return err }},
				{"sgemm", size <= opts.SgemmMaxBytes, func() error {
					return rt.Sgemm(dctx, m, m, m, 1, x[:m*m], m, y[:m*m], m, 0, x[m*m:2*m*m], m)
				}},
			}
			for _, k := range kernels {
				if !k.ok || n < 2 || (k.name == "sgemm" && 3*m*m > len(x)) {
					continue
				}
				times := make([]time.Duration, 0, opts.Reps)
				for r := 0; r < opts.Reps; r++ {
					start := time.Now()
					if err := k.run(); err != nil {
						return out, fmt.Errorf("calibrate %s on device %d, %d bytes: %w", k.name, d.Index, size, err)
					}
					times = append(times, time.Since(start))
				}
				out = append(out, CalibrationSample{Kernel: k.name, Device: d.Index, Bytes: size, Median: medianDur(times)})
			}
		}
	}
	return out, rt.SaveCalibration()
}

func sqrtInt(v int64) int64 {
	r := int64(0)
	for (r+1)*(r+1) <= v {
		r++
	}
	return r
}

func medianDur(ts []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ts...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}
