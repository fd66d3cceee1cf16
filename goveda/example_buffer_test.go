package goveda_test

import (
	"context"
	"fmt"

	"github.com/veda-runtime/veda/goveda"
)

// Buffers keep data on a device between calls: here on device 0 (the CPU, host memory), where
// the same code runs on an accelerator's index with no copy between the calls.
func ExampleToDevice() {
	rt, err := goveda.New(goveda.Config{Workers: 2, DisableGPU: true})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	ctx := context.Background()
	x, _ := goveda.ToDevice(ctx, rt, 0, []float32{1, 2, 3, 4})
	y, _ := goveda.ToDevice(ctx, rt, 0, []float32{10, 20, 30, 40})
	defer x.Destroy()
	defer y.Destroy()
	_ = rt.SaxpyBuffer(ctx, 2, x, y, 4)                 // y = 2x + y, in place
	w := goveda.WriteAsync(x, 0, []float32{1, 1, 1, 1}) // queued after the saxpy
	dot := rt.DotF32BufferAsync(x, y, 4, nil)           // queued after the write
	_, _ = w.Wait(ctx)
	v, _ := dot.Wait(ctx)
	got, _ := goveda.ToHost[float32](ctx, y)
	fmt.Println(got, v)
	// Output: [12 24 36 48] 120
}
