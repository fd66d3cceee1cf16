package dispatchtest

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// SimDevice is a TEST DOUBLE: a simulated device with a declared throughput,
// latency and host<->device bandwidth that produces timings for the cost
// model without running anything. It serves the dispatcher's tests and the
// dispatch benchmark (cmd/dispatchbench); the runtime never uses it for real
// work.
type SimDevice struct {
	Info dispatch.DeviceInfo
	// Throughput is compute bytes/s; Latency is added to every call
	// (launch overhead); Bandwidth is host<->device bytes/s (ignored for
	// dispatch.KindCPU; 0 means transfers are free).
	Throughput float64
	Latency    time.Duration
	Bandwidth  float64
	// KernelFactor scales Throughput per kernel name (missing: 1).
	KernelFactor map[string]float64
	// Jitter is the relative spread of a uniform noise on compute time
	// (0.05 = +-5%), drawn from a generator seeded with Seed.
	Jitter float64
	Seed   uint64
	// Slowdown, if set, multiplies the compute time of the n-th call (n from
	// 0): a timing spike or a device that was slow once.
	Slowdown func(n int) float64
	// Fail, if set, makes the n-th call fail with the returned error.
	Fail func(n int) error
	// Watts is the simulated power while busy (0: none). Each call then reports
	// Timing.Joules = Watts x its total time, as a device with an energy sensor
	// would, and SimInfos gives the dispatcher the same figure as Info.Watts.
	Watts float64

	runs int
	rng  *rand.Rand
}

// Run returns the simulated timing of one call of kernel over bytes with
// transferBytes to move (half in, half out) and the error from Fail. Not
// safe for concurrent use (one simulation drives it).
func (s *SimDevice) Run(kernel string, bytes, transferBytes uint64) (dispatch.Timing, error) {
	n := s.runs
	s.runs++
	if s.Fail != nil {
		if err := s.Fail(n); err != nil {
			return dispatch.Timing{}, err
		}
	}
	thr := s.Throughput
	if f, ok := s.KernelFactor[kernel]; ok {
		thr *= f
	}
	sec := float64(bytes) / thr
	if s.Jitter > 0 {
		if s.rng == nil {
			s.rng = rand.New(rand.NewPCG(s.Seed, 0x5eed))
		}
		sec *= 1 + s.Jitter*(2*s.rng.Float64()-1)
	}
	if s.Slowdown != nil {
		sec *= s.Slowdown(n)
	}
	t := dispatch.Timing{Compute: s.Latency + time.Duration(sec*1e9)}
	if s.Info.Kind != dispatch.KindCPU && transferBytes > 0 {
		t.BytesIn = transferBytes / 2
		t.BytesOut = transferBytes - t.BytesIn
		if s.Bandwidth > 0 {
			t.H2D = time.Duration(float64(t.BytesIn) / s.Bandwidth * 1e9)
			t.D2H = time.Duration(float64(t.BytesOut) / s.Bandwidth * 1e9)
		}
	}
	t.Joules = s.Watts * t.Total().Seconds()
	return t, nil
}

// Runs returns how many calls Run has simulated.
func (s *SimDevice) Runs() int { return s.runs }

// SimInfos returns the dispatch.DeviceInfo of each simulated device, indexed by
// position (Index is set to the position).
func SimInfos(devs []*SimDevice) []dispatch.DeviceInfo {
	out := make([]dispatch.DeviceInfo, len(devs))
	for i, s := range devs {
		out[i] = s.Info
		out[i].Index = i
		if out[i].Bandwidth == 0 && s.Info.Kind != dispatch.KindCPU {
			out[i].Bandwidth = s.Bandwidth
		}
		if out[i].Watts == 0 {
			out[i].Watts = s.Watts
		}
	}
	return out
}

// SimResult is the outcome of Simulate.
type SimResult struct {
	// Makespan is the virtual time at which the last call finished.
	Makespan time.Duration
	// Calls, Bytes and Busy are per device: calls run, bytes of work, and
	// busy virtual time.
	Calls []int
	Bytes []uint64
	Busy  []time.Duration
	// Joules is the energy per device (Timing.Joules summed; 0 without Watts).
	Joules []float64
	// Fallbacks counts calls re-placed after a device error.
	Fallbacks int
}

type simEvent struct {
	at  time.Duration
	seq int
	dec dispatch.Decision
	t   dispatch.Timing
	req dispatch.Request
	err error
}

type simHeap []simEvent

func (h simHeap) Len() int { return len(h) }
func (h simHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h simHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *simHeap) Push(x any)   { *h = append(*h, x.(simEvent)) }
func (h *simHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Simulate runs reqs in order over the simulated devs on a virtual clock,
// with at most window calls in flight (like window goroutines each issuing
// calls). Each device runs its calls one after another in arrival order
// (Lanes is ignored). When place is nil the dispatcher d places every call
// (Choose, then End at the call's virtual finish time, Fallback after an
// error, with d's clock set to the virtual clock); otherwise place(i) fixes the device of call i (a static split) and
// d may be nil. Deterministic for deterministic devices. Single goroutine.
func Simulate(d *dispatch.Dispatcher, devs []*SimDevice, reqs []dispatch.Request, window int, place func(i int) int) SimResult {
	if window < 1 {
		window = 1
	}
	res := SimResult{Calls: make([]int, len(devs)), Bytes: make([]uint64, len(devs)), Busy: make([]time.Duration, len(devs)),
		Joules: make([]float64, len(devs))}
	free := make([]time.Duration, len(devs))
	var h simHeap
	var now time.Duration
	seq := 0
	start := func(req dispatch.Request, dec dispatch.Decision) {
		dev := dec.Device
		t, err := devs[dev].Run(req.Kernel, req.Bytes, req.TransferBytes)
		begin := max(now, free[dev])
		end := begin + t.Total()
		free[dev] = end
		res.Calls[dev]++
		res.Bytes[dev] += req.Bytes
		res.Busy[dev] += t.Total()
		res.Joules[dev] += t.Joules
		heap.Push(&h, simEvent{at: end, seq: seq, dec: dec, t: t, req: req, err: err})
		seq++
	}
	if d != nil && place == nil {
		d.UseClock(func() time.Duration { return now })
	}
	next := 0
	for next < len(reqs) || h.Len() > 0 {
		for h.Len() < window && next < len(reqs) {
			req := reqs[next]
			var dec dispatch.Decision
			if place != nil {
				dec = dispatch.Decision{Device: place(next)}
			} else {
				var err error
				if dec, err = d.Choose(req); err != nil {
					panic("veda: dispatch: Simulate: " + err.Error())
				}
			}
			next++
			start(req, dec)
		}
		ev := heap.Pop(&h).(simEvent)
		now = ev.at
		res.Makespan = max(res.Makespan, now)
		if place != nil {
			continue
		}
		d.End(ev.dec, ev.t, ev.err)
		if ev.err != nil {
			dec, err := d.Fallback(ev.req, ev.dec.Device)
			if err != nil {
				panic("veda: dispatch: Simulate: " + err.Error())
			}
			res.Fallbacks++
			start(ev.req, dec)
		}
	}
	return res
}
