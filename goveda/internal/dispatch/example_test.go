package dispatch_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// The runtime's protocol: Choose, run, End; Fallback after a device error.
func ExampleDispatcher() {
	d, _ := dispatch.NewDispatcher([]dispatch.DeviceInfo{
		{Index: 0, Kind: dispatch.KindCPU, Name: "cpu"},
		{Index: 1, Kind: dispatch.KindOpenCL, Name: "gpu", Bandwidth: 12e9},
	}, dispatch.Options{Record: true})

	req := dispatch.Request{Kernel: "sgemm", Bytes: 32 << 20, TransferBytes: 48 << 20}
	dec, _ := d.Choose(req)
	fmt.Println(dec.Device, dec.Reason)

	// The GPU runs out of memory: end with the error, then fall back.
	d.End(dec, dispatch.Timing{}, errors.New("veda: out of memory"))
	fb, _ := d.Fallback(req, dec.Device)
	fmt.Println(fb.Device, fb.Reason)
	d.End(fb, dispatch.Timing{Compute: 40 * time.Millisecond}, nil)

	st := d.Stats()
	fmt.Println(st[0].Completed, st[1].Failed, len(d.Decisions()))
	// Output:
	// 1 calibrating: threshold
	// 0 fallback after device error
	// 1 1 2
}
