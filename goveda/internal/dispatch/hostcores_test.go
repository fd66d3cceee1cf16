package dispatch

import (
	"fmt"
	"testing"
	"time"
)

func hostCoresDispatcher(t *testing.T) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher([]DeviceInfo{
		{Index: 0, Kind: KindCPU, Name: "cpu", Sharing: true},
		{Index: 1, Kind: KindOpenCL, Name: "pocl", HostCores: true},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The threshold rule never sends an uncalibrated call to a device on the host's cores, however
// large; exploration of it happens only below the threshold and on few calls.
func TestHostCoresNeverGetsUncalibratedThresholdCalls(t *testing.T) {
	d := hostCoresDispatcher(t)
	for i := 0; i < 200; i++ {
		// A new kernel each time: always uncalibrated.
		dec, err := d.Choose(Request{Kernel: fmt.Sprintf("k%d", i), Bytes: 64 << 20, TransferBytes: 64 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if dec.Device != 0 {
			t.Fatalf("call %d of 64 MiB went to the host-cores device (%s)", i, dec.Reason)
		}
		d.Abandon(dec)
	}
	// Small uncalibrated calls of one (kernel, bucket), the CPU's model measured: the host-cores
	// device is explored on at most 1 call in 2*HostExploreEvery until it has a sample.
	onHost := 0
	const calls = 64
	for i := 0; i < calls; i++ {
		dec, _ := d.Choose(Request{Kernel: "small", Bytes: 64 << 10, TransferBytes: 64 << 10})
		if dec.Device == 1 {
			onHost++
			d.Abandon(dec) // never measured: stays uncalibrated
			continue
		}
		d.End(dec, Timing{Compute: 50 * time.Microsecond}, nil)
	}
	if limit := calls/(2*8) + 1; onHost > limit {
		t.Fatalf("host-cores device explored on %d of %d uncalibrated calls, want <= %d", onHost, calls, limit)
	}
	if onHost == 0 {
		t.Fatal("host-cores device never explored")
	}
}

// A call placed on a host-cores device is counted against the CPU pool: the CPU's backlog grows
// by its estimate until it ends.
func TestHostCoresCallReservesCPU(t *testing.T) {
	d := hostCoresDispatcher(t)
	for i := 0; i < 5; i++ {
		d.Record(0, "k", 1<<20, Timing{Compute: 10 * time.Millisecond}, nil)
		d.Record(1, "k", 1<<20, Timing{Compute: time.Millisecond}, nil)
	}
	dec, err := d.Choose(Request{Kernel: "k", Bytes: 1 << 20, Pinned: true, Device: 1})
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	cpuBacklog := d.devs[0].backlog
	d.mu.Unlock()
	if cpuBacklog < time.Millisecond/2 {
		t.Fatalf("CPU backlog %v while a host-cores call runs, want about 1ms", cpuBacklog)
	}
	// While it runs, a CPU candidate sees the backlog; the host-cores candidate sees the CPU's.
	d.mu.Lock()
	km, b := d.fill(&Request{Kernel: "k", Bytes: 1 << 20}, nil, false)
	_ = km
	_ = b
	host := d.cands[1]
	d.mu.Unlock()
	if !host.HostCores || host.Backlog < time.Millisecond/2 {
		t.Fatalf("host-cores candidate: %+v", host)
	}
	d.End(dec, Timing{Compute: time.Millisecond}, nil)
	d.mu.Lock()
	cpuBacklog = d.devs[0].backlog
	d.mu.Unlock()
	if cpuBacklog != 0 {
		t.Fatalf("CPU backlog %v after the call ended, want 0", cpuBacklog)
	}
}

func TestModelExportImportRoundTrip(t *testing.T) {
	a := hostCoresDispatcher(t)
	for i := 0; i < 40; i++ { // more than the window: the oldest are dropped
		a.Record(0, "sum", 1<<20, Timing{Compute: time.Duration(100+i) * time.Microsecond}, nil)
	}
	a.Record(1, "sum", 1<<22, Timing{Compute: time.Millisecond}, nil)
	ws := a.ExportModel()
	if len(ws) != 2 || ws[0].Device != 0 || len(ws[0].Samples) != 15 || ws[1].Device != 1 {
		t.Fatalf("export: %+v", ws)
	}
	b := hostCoresDispatcher(t)
	if n := b.ImportModel(ws); n != 2 {
		t.Fatalf("imported %d windows", n)
	}
	for _, dev := range []int{0, 1} {
		for _, bytes := range []uint64{1 << 20, 1 << 22} {
			ea, oka := a.Estimate("sum", dev, bytes)
			eb, okb := b.Estimate("sum", dev, bytes)
			if ea != eb || oka != okb {
				t.Fatalf("device %d, %d bytes: estimate %v/%v after import, %v/%v before", dev, bytes, eb, okb, ea, oka)
			}
		}
	}
	// A new process's first call is placed by the model, not the seed rule.
	dec, _ := b.Choose(Request{Kernel: "sum", Bytes: 1 << 20})
	if dec.Reason == ReasonCalibrating || dec.Reason == ReasonExploration {
		t.Fatalf("first call after import: %s", dec.Reason)
	}
	b.Abandon(dec)
	// Bad windows are skipped; windows measured here are kept.
	bad := []ModelWindow{{Kernel: "x", Device: 9, Bucket: 1, Samples: []float64{1}},
		{Kernel: "x", Device: 0, Bucket: 99, Samples: []float64{1}},
		{Kernel: "x", Device: 0, Bucket: 3, Samples: []float64{-1}},
		{Kernel: "", Device: 0, Bucket: 3, Samples: []float64{1}},
		{Kernel: "sum", Device: 0, Bucket: 20, Samples: []float64{1}}}
	if n := b.ImportModel(bad); n != 0 {
		t.Fatalf("imported %d bad windows", n)
	}
}

// One outlier sample of a device in a bucket does not keep it away from that bucket: while its
// own samples are too few to be trusted, exploration measures it again.
func TestUntrustedOutlierIsRemeasured(t *testing.T) {
	d, err := NewDispatcher([]DeviceInfo{{Index: 0, Kind: KindCPU, Sharing: true}, {Index: 1, Kind: KindOpenCL}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const size = 12 << 20
	for i := 0; i < 5; i++ {
		d.Record(1, "saxpy", size, Timing{Compute: 2 * time.Millisecond}, nil)
	}
	d.Record(0, "saxpy", size, Timing{Compute: 20 * time.Millisecond}, nil) // an outlier; really 0.4 ms
	cpuCalls := 0
	for i := 0; i < 32; i++ {
		dec, _ := d.Choose(Request{Kernel: "saxpy", Bytes: size})
		c := 2 * time.Millisecond
		if dec.Device == 0 {
			cpuCalls++
			c = 400 * time.Microsecond
		}
		d.End(dec, Timing{Compute: c}, nil)
	}
	if cpuCalls < 20 {
		t.Fatalf("the CPU ran %d of 32 calls after one outlier sample; want it re-measured and chosen", cpuCalls)
	}
}
