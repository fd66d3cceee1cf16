package dispatchtest

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// Executor runs kernel calls on devices. Run executes one call on one device,
// blocking until it is done, and reports its timing. It is called from many
// goroutines at once.
type Executor interface {
	Devices() []dispatch.DeviceInfo
	Run(ctx context.Context, device int, req dispatch.Request) (dispatch.Timing, error)
	// Reset prepares for a fresh run (same devices, same random streams).
	Reset()
}

// SimExecutor is a TEST DOUBLE Executor over simulated devices. Its Run only
// computes timings; RunWorkload drives it on a virtual clock (Simulate).
type SimExecutor struct {
	mk   func() []*SimDevice
	devs []*SimDevice
}

// NewSimExecutor returns an executor whose devices come from mk, called
// again on every Reset so that every run sees the same random streams.
func NewSimExecutor(mk func() []*SimDevice) *SimExecutor {
	s := &SimExecutor{mk: mk}
	s.Reset()
	return s
}

// Sim returns the current simulated devices.
func (s *SimExecutor) Sim() []*SimDevice { return s.devs }

// Devices returns the simulated devices' descriptions.
func (s *SimExecutor) Devices() []dispatch.DeviceInfo { return SimInfos(s.devs) }

// Reset rebuilds the simulated devices.
func (s *SimExecutor) Reset() { s.devs = s.mk() }

// Run returns the simulated timing without waiting.
func (s *SimExecutor) Run(_ context.Context, dev int, r dispatch.Request) (dispatch.Timing, error) {
	return s.devs[dev].Run(r.Kernel, r.Bytes, r.TransferBytes)
}

// WorkloadKernels are the kernels of the mixed workload, with their
// throughput factor (both devices scale alike, so the speed ratio stays 1:4).
var WorkloadKernels = []struct {
	Name   string
	Factor float64 // throughput multiplier
}{{"saxpy_f32", 1}, {"sum_f64", 2}, {"dot_f32", 1.5}, {"sgemm", 0.25}}

// Workload returns n calls with log-uniform sizes in [4 KiB, 64 MiB] and
// random kernels, in random order (seeded). With transfer, a GPU call moves
// its input bytes in and a quarter of them out.
func Workload(n int, seed uint64, transfer bool) []dispatch.Request {
	r := rand.New(rand.NewPCG(seed, 42))
	out := make([]dispatch.Request, n)
	lo, hi := math.Log2(4<<10), math.Log2(64<<20)
	for i := range out {
		size := uint64(math.Exp2(lo + r.Float64()*(hi-lo)))
		size &^= 3
		k := WorkloadKernels[r.IntN(len(WorkloadKernels))]
		out[i] = dispatch.Request{Kernel: k.Name, Bytes: size, Elements: size / 4}
		if transfer {
			out[i].TransferBytes = size + size/4
		}
	}
	return out
}

// SimDevices1to4 returns a constructor of two simulated devices (TEST
// DOUBLES) of compute speed 1:4: a CPU at 2 GB/s with 2 us latency and an
// OpenCL GPU at 8 GB/s with 20 us launch latency and 24 GB/s host<->device
// bandwidth; per-kernel factors from WorkloadKernels; jitter as given.
func SimDevices1to4(jitter float64) func() []*SimDevice {
	return func() []*SimDevice {
		f := map[string]float64{}
		for _, k := range WorkloadKernels {
			f[k.Name] = k.Factor
		}
		return []*SimDevice{
			{Info: dispatch.DeviceInfo{Kind: dispatch.KindCPU, Name: "sim-cpu (1x)"},
				Throughput: 2e9, Latency: 2 * time.Microsecond, KernelFactor: f, Jitter: jitter, Seed: 1},
			{Info: dispatch.DeviceInfo{Kind: dispatch.KindOpenCL, Name: "sim-gpu (4x)"},
				Throughput: 8e9, Latency: 20 * time.Microsecond, Bandwidth: 24e9, KernelFactor: f, Jitter: jitter, Seed: 2},
		}
	}
}

// WorkloadResult is the outcome of one run of a workload.
type WorkloadResult struct {
	Makespan time.Duration
	Calls    []int    // per device
	Bytes    []uint64 // per device
}

// RunWorkload executes reqs once with at most window calls in flight: placed
// by d when place is nil, else by the static placement place(i). A
// *SimExecutor runs on the virtual clock (Simulate); any other Executor runs
// for real through RunWall. Not safe for concurrent use with itself on one
// executor (it Resets it).
func RunWorkload(ex Executor, d *dispatch.Dispatcher, reqs []dispatch.Request, window int, place func(int) int) WorkloadResult {
	ex.Reset()
	if s, ok := ex.(*SimExecutor); ok {
		r := Simulate(d, s.devs, reqs, window, place)
		return WorkloadResult{Makespan: r.Makespan, Calls: r.Calls, Bytes: r.Bytes}
	}
	return RunWall(ex, d, reqs, window, place)
}

// RunWall drives a real Executor on the wall clock: window goroutines take
// calls in order, place them (d.Choose, or place(i) when place is non-nil),
// run them, End them, and retry a failed call once through d.Fallback.
// Blocks until all calls are done; the makespan is the elapsed wall time.
func RunWall(ex Executor, d *dispatch.Dispatcher, reqs []dispatch.Request, window int, place func(int) int) WorkloadResult {
	n := len(ex.Devices())
	res := WorkloadResult{Calls: make([]int, n), Bytes: make([]uint64, n)}
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < window; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(reqs) {
					return
				}
				req := reqs[i]
				var dec dispatch.Decision
				if place != nil {
					dec.Device = place(i)
				} else {
					var err error
					if dec, err = d.Choose(req); err != nil {
						panic(err)
					}
				}
				t, err := ex.Run(context.Background(), dec.Device, req)
				if place == nil {
					d.End(dec, t, err)
					if err != nil {
						if dec, err = d.Fallback(req, dec.Device); err == nil {
							t, err = ex.Run(context.Background(), dec.Device, req)
							d.End(dec, t, err)
						}
					}
				}
				mu.Lock()
				res.Calls[dec.Device]++
				res.Bytes[dec.Device] += req.Bytes
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Makespan = time.Since(start)
	return res
}

// FractionSplit returns a static placement for two devices that puts call i
// on device 1 while device 1's share of the bytes so far is below f, else on
// device 0. FractionSplit call i on device 1 while device 1's share of the
// bytes so far is below f (a static split by fraction of bytes).
func FractionSplit(reqs []dispatch.Request, f float64) func(int) int {
	place := make([]int, len(reqs))
	var total, fast float64
	for i, r := range reqs {
		total += float64(r.Bytes)
		if fast+float64(r.Bytes)/2 <= f*total {
			place[i] = 1
			fast += float64(r.Bytes)
		}
	}
	return func(i int) int { return place[i] }
}

// ThresholdSplit returns a static placement that puts calls of at least t
// bytes on device 1 and the others on device 0.
func ThresholdSplit(reqs []dispatch.Request, t uint64) func(int) int {
	return func(i int) int {
		if reqs[i].Bytes >= t {
			return 1
		}
		return 0
	}
}
