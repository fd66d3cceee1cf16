package goveda_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/veda-runtime/veda/goveda"
)

// The CPU is always device 0; OpenCL and CUDA devices follow when their drivers load.
func ExampleRuntime_Devices() {
	rt, _ := goveda.New(goveda.Config{})
	defer rt.Close()
	devs, _ := rt.Devices()
	fmt.Println(devs[0].Index, devs[0].Kind)
	// Output: 0 cpu
}

// Built-in kernels are placed by the dispatcher; PinDevice forces a device, and the decision
// ring explains each placement.
func ExampleRuntime_Decisions() {
	rt, _ := goveda.New(goveda.Config{RecordDecisions: true})
	defer rt.Close()
	rt.PinDevice(0)
	x := []float32{1, 2, 3, 4}
	sum, _ := rt.SumF32(context.Background(), x)
	decs, _ := rt.Decisions()
	fmt.Println(sum, decs[0].Kernel, decs[0].Device, decs[0].Reason)
	// Output: 10 sum_f32 0 pinned
}

// A user kernel in OpenCL C (and/or CUDA C) runs on a device that has a source for it.
func ExampleRuntime_Kernel() {
	rt, _ := goveda.New(goveda.Config{})
	defer rt.Close()
	k, err := rt.Kernel(goveda.KernelSource{Name: "scale", OpenCL: `
		__kernel void scale(__global float *x, const float s, const int n) {
			int i = get_global_id(0); if (i < n) x[i] *= s;
		}`})
	if errors.Is(err, goveda.ErrUnsupported) {
		fmt.Println("[2 4 6]") // no OpenCL device on this machine
		return
	}
	defer k.Close()
	x := []float32{1, 2, 3}
	if err := k.Run(context.Background(), 3, goveda.InOut(x), goveda.Scalar(float32(2)), goveda.Scalar(int32(3))); err != nil {
		fmt.Println(err)
	}
	fmt.Println(x)
	// Output: [2 4 6]
}

// DistributeFrames spreads a batch over every device and returns results in input order.
func ExampleDistributeFrames() {
	rt, _ := goveda.New(goveda.Config{})
	defer rt.Close()
	frames := [][]float32{{1, 2}, {3, 4, 5}, {6}}
	sums, err := goveda.DistributeFrames(context.Background(), rt, frames,
		func(d goveda.Device, x []float32) (float64, error) { return d.SumF32(context.Background(), x) })
	fmt.Println(sums, err)
	// Output: [3 12 6] <nil>
}
