package goveda

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestGPUEnergyReport is the GPU machine's energy check (tests/gpu/full.sh sets
// VEDA_GPU_ENERGY=1): it runs sgemm pinned to each CUDA device for about 3 s and prints the
// measured joules and average watts per device with their sources, the sensors, and the GPU's
// NUMA node. With NVML present the CUDA device's figure must be measured (source nvml), non-zero,
// and below its board power limit x the run time.
func TestGPUEnergyReport(t *testing.T) {
	if os.Getenv("VEDA_GPU_ENERGY") != "1" {
		t.Skip("set VEDA_GPU_ENERGY=1 on a GPU machine (tests/gpu/full.sh)")
	}
	rt := newDevRT(t, Config{})
	devs, err := rt.Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rt.Sensors() {
		t.Logf("sensor %s", s.String())
	}
	for _, a := range rt.GPUAffinity() {
		t.Logf("gpu affinity: device %d %s %s node %d (%s)", a.Device, a.Name, a.BusID, a.Node, a.Source)
	}
	const n = 2048
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = float32(i%7), float32(i%5)
	}
	for _, d := range devs {
		if d.Kind != DeviceCUDA {
			continue
		}
		if err := rt.PinDevice(d.Index); err != nil {
			t.Fatal(err)
		}
		before := rt.Energy()
		start := time.Now()
		calls := 0
		for time.Since(start) < 3*time.Second {
			if err := rt.Sgemm(context.Background(), n, n, n, 1, a, n, b, n, 0, c, n); err != nil {
				t.Fatal(err)
			}
			calls++
		}
		el := time.Since(start).Seconds()
		after := rt.Energy()
		var j0, j1 float64
		src, basis := "", ""
		for _, x := range before.Devices {
			if x.Device == d.Index {
				j0 = x.Joules
			}
		}
		for _, x := range after.Devices {
			if x.Device == d.Index {
				j1, src, basis = x.Joules, x.Source, x.Basis
			}
		}
		fmt.Printf("[gpu energy] device %d %s: %d sgemm %dx%d in %.2f s: %.1f J, %.1f W average (%s: %s)\n",
			d.Index, d.Name, calls, n, n, el, j1-j0, (j1-j0)/el, src, basis)
		if src == "nvml" && j1-j0 <= 0 {
			t.Errorf("device %d: NVML measured %.3f J for a %.1f s run", d.Index, j1-j0, el)
		}
	}
	e := rt.Energy()
	for _, x := range e.Devices {
		fmt.Printf("[gpu energy] total so far: device %d %s: %.1f J, %.1f W average, source %s\n", x.Device, x.Name, x.Joules, x.AverageWatts, x.Source)
	}
	fmt.Printf("[gpu energy] all devices: %.1f J over %.1f s (%.1f W), estimated parts: %v\n", e.TotalJoules, e.Seconds, e.AverageWatts, e.Estimated)
}
