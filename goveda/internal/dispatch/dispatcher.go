package dispatch

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoDevice is returned when a request has no usable candidate device or
// names a device that does not exist.
var ErrNoDevice = errors.New("veda: dispatch: no usable device")

// MaxRecordedCandidates bounds the per-candidate estimates kept in a
// Decision; more candidates are still considered, only not recorded.
const MaxRecordedCandidates = 8

// CandidateEstimate is one candidate's estimate as recorded in a Decision.
type CandidateEstimate struct {
	Device      int           `json:"device"`
	Kind        DeviceKind    `json:"kind"`
	QueueDepth  int           `json:"queue_depth"`
	Backlog     time.Duration `json:"backlog_ns"`
	Transfer    time.Duration `json:"transfer_ns"`
	Compute     time.Duration `json:"compute_ns"`
	Finish      time.Duration `json:"finish_ns"`
	HasEstimate bool          `json:"has_estimate"`
	Trusted     bool          `json:"trusted"`
	// Joules is the energy estimate (HasEnergy false: unknown).
	Joules    float64 `json:"joules"`
	HasEnergy bool    `json:"has_energy"`
}

// Decision is the result of Choose or Fallback: the chosen device, why, and
// the estimates it was based on. The caller must hand it back to End (or
// Abandon) exactly once, because it carries the reservation made on the
// device's queue.
type Decision struct {
	Seq           uint64
	Kernel        string
	Bytes         uint64
	Elements      uint64
	TransferBytes uint64
	Device        int
	Kind          DeviceKind
	Reason        string
	// Estimate is the estimated Transfer+Compute of the call on Device; it was
	// added to the device's backlog and is removed by End.
	Estimate time.Duration
	// UnixNano is the wall time of the decision (set only while recording).
	UnixNano int64
	// cpuShare is the CPU device also reserved for a call on a HostCores device (-1: none).
	cpuShare int
	n        int
	cands    [MaxRecordedCandidates]CandidateEstimate
}

// Candidates returns the recorded candidate estimates (a view into d).
func (d *Decision) Candidates() []CandidateEstimate { return d.cands[:d.n] }

// Options configures a Dispatcher. Zero fields take the defaults.
type Options struct {
	// Strategy places calls (default: EarliestFinish with default config).
	Strategy Strategy
	Model    ModelConfig
	// RingSize is the capacity of the decisions ring (default 1024).
	RingSize int
	// Record turns decision recording on from the start (default off; see
	// SetRecording).
	Record bool
	// ErrorCooldown is how many decisions a device is skipped for after a
	// failure (default 16), doubled per consecutive failure up to 64x.
	ErrorCooldown uint64
}

// deviceState is the dispatcher's view of one device. Fields in the first
// group are guarded by Dispatcher.mu; the atomics are the statistics that
// Stats reads without the lock. Every atomic is written only under mu (so
// writers are ordered by the mutex) and read by Stats with relaxed
// semantics: a snapshot may mix values from adjacent updates, which is fine
// for monitoring.
type deviceState struct {
	info DeviceInfo

	queueDepth  int
	queuedBytes uint64
	backlog     time.Duration // sum of reserved estimates
	expEnd      time.Duration // clock time when the queued work should be done (StarPU's exp_end)
	bw          window        // measured host<->device bandwidth samples
	ema, peak   float64       // bytes/s over all kernels
	errStreak   int
	skipUntil   uint64 // global decision seq until which the device is skipped

	dispatched atomic.Uint64 // relaxed: monitoring counter, written under mu
	completed  atomic.Uint64 // relaxed: monitoring counter, written under mu
	failed     atomic.Uint64 // relaxed: monitoring counter, written under mu
	depth      atomic.Int64  // relaxed: mirror of queueDepth for Stats
	bytesTo    atomic.Uint64 // relaxed: monitoring counter, written under mu
	bytesFrom  atomic.Uint64 // relaxed: monitoring counter, written under mu
	busyNs     atomic.Int64  // relaxed: monitoring counter, written under mu
	emaBits    atomic.Uint64 // relaxed: math.Float64bits of ema, for Stats
	peakBits   atomic.Uint64 // relaxed: math.Float64bits of peak, for Stats
	bwBits     atomic.Uint64 // relaxed: math.Float64bits of the bandwidth in use
}

// Dispatcher decides where kernel calls run and learns from their timings.
//
// All methods are safe for concurrent use by any goroutine. Choose, End,
// Fallback, Record and Abandon serialize on one mutex (a few hundred ns per
// call with two devices); Stats and SetRecording do not take it.
type Dispatcher struct {
	mu       sync.Mutex
	devs     []*deviceState
	strategy Strategy
	model    *costModel
	seq      uint64
	cooldown uint64
	cands    []Candidate // scratch, guarded by mu
	clock    func() time.Duration
	now      time.Duration // clock reading of the current operation, guarded by mu
	req      Request       // scratch copy passed to the strategy (avoids an escape), guarded by mu
	ring     decisionRing
	// recording: load-relaxed in Choose; a toggle may take effect one
	// decision late, which is harmless. Store from any goroutine.
	recording atomic.Bool
}

// NewDispatcher returns a dispatcher over devs, where devs[i].Index == i. At
// least one device is required. It does not start goroutines.
func NewDispatcher(devs []DeviceInfo, opts Options) (*Dispatcher, error) {
	if len(devs) == 0 {
		return nil, fmt.Errorf("%w: no devices", ErrNoDevice)
	}
	if opts.Strategy == nil {
		opts.Strategy = NewEarliestFinish(EarliestFinishConfig{})
	}
	if opts.ErrorCooldown == 0 {
		opts.ErrorCooldown = 16
	}
	d := &Dispatcher{strategy: opts.Strategy, model: newCostModel(opts.Model, len(devs)), cooldown: opts.ErrorCooldown}
	epoch := time.Now()
	d.clock = func() time.Duration { return time.Since(epoch) }
	for i, info := range devs {
		if info.Index != i {
			return nil, fmt.Errorf("veda: dispatch: device %d has Index %d (want position)", i, info.Index)
		}
		if info.Lanes <= 0 {
			info.Lanes = 1
		}
		s := &deviceState{info: info}
		s.bwBits.Store(f64bits(d.bandwidthOf(s))) // relaxed: see deviceState
		d.devs = append(d.devs, s)
	}
	d.ring.init(opts.RingSize)
	d.recording.Store(opts.Record) // relaxed: see Dispatcher.recording
	return d, nil
}

// UseClock replaces the monotonic clock that backlog times are measured
// against (for simulation on a virtual clock). Call it before the first
// Choose; any goroutine.
func (d *Dispatcher) UseClock(now func() time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clock = now
}

// Strategy returns the strategy in use (fixed for the dispatcher's life).
func (d *Dispatcher) Strategy() Strategy { return d.strategy }

// Devices returns a copy of the device descriptions.
func (d *Dispatcher) Devices() []DeviceInfo {
	out := make([]DeviceInfo, len(d.devs))
	for i, s := range d.devs {
		out[i] = s.info
	}
	return out
}

// SetRecording turns the decisions ring on or off. Any goroutine.
func (d *Dispatcher) SetRecording(on bool) { d.recording.Store(on) /* relaxed: see field */ }

// Recording reports whether decisions are being recorded. Any goroutine.
func (d *Dispatcher) Recording() bool { return d.recording.Load() /* relaxed: see field */ }

// bandwidthOf returns the host<->device bandwidth in use: the median of real
// transfers if any, else the start-up measurement, else DefaultBandwidth.
// Caller holds mu (or is the constructor).
func (d *Dispatcher) bandwidthOf(s *deviceState) float64 {
	switch {
	case s.bw.n > 0:
		return s.bw.median
	case s.info.Bandwidth > 0:
		return s.info.Bandwidth
	}
	return DefaultBandwidth
}

// Choose places req on a device, reserves it there (queue depth +1, backlog
// + estimate) and returns the decision. The caller must pass the decision to
// End when the call finishes (or to Abandon if it never runs). Any
// goroutine; takes the dispatcher's lock for O(devices) work. Errors:
// ErrNoDevice (wrapped) if a pinned or candidate index does not exist or no
// candidate is left.
func (d *Dispatcher) Choose(req Request) (Decision, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if req.Pinned {
		if req.Device < 0 || req.Device >= len(d.devs) {
			return Decision{}, fmt.Errorf("%w: pinned device %d of %d", ErrNoDevice, req.Device, len(d.devs))
		}
		ids := [1]int{req.Device}
		km, b := d.fill(&req, ids[:], false)
		return d.commit(&req, km, b, Choice{Device: req.Device, Reason: ReasonPinned}), nil
	}
	km, b := d.fill(&req, req.Devices, true)
	if len(d.cands) == 0 {
		return Decision{}, fmt.Errorf("%w: kernel %q has no candidate device", ErrNoDevice, req.Kernel)
	}
	d.req = req
	ch := d.strategy.Choose(&d.req, d.cands)
	d.req = Request{}
	if d.candIndex(ch.Device) < 0 {
		ch.Device = d.cands[0].Device
	}
	if ch.Reason == "" {
		ch.Reason = d.strategy.Name()
	}
	return d.commit(&req, km, b, ch), nil
}

// Fallback places req again after it failed on failedDevice: on a CPU
// device if one is among the candidates, else on the least-loaded other
// candidate. The reason is "fallback after device error". The failed call
// must have been passed to End with its error (which starts the device's
// cooldown). Any goroutine. Errors: ErrNoDevice (wrapped) if no other device
// can run it.
func (d *Dispatcher) Fallback(req Request, failedDevice int) (Decision, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := req.Devices
	if req.Pinned {
		ids = nil
	}
	km, b := d.fill(&req, ids, false)
	best := -1
	for i := range d.cands {
		c := &d.cands[i]
		if c.Device == failedDevice {
			continue
		}
		if best < 0 || (c.Kind == KindCPU && d.cands[best].Kind != KindCPU) ||
			(c.Kind == d.cands[best].Kind && c.QueueDepth < d.cands[best].QueueDepth) {
			best = i
		}
	}
	if best < 0 {
		return Decision{}, fmt.Errorf("%w: no fallback for kernel %q after device %d failed", ErrNoDevice, req.Kernel, failedDevice)
	}
	return d.commit(&req, km, b, Choice{Device: d.cands[best].Device, Reason: ReasonFallback}), nil
}

func (d *Dispatcher) candIndex(dev int) int {
	for i := range d.cands {
		if d.cands[i].Device == dev {
			return i
		}
	}
	return -1
}

// fill computes d.cands for req (ids nil: all devices). With skipFailed,
// devices in their error cooldown are left out unless that leaves none.
// Caller holds mu.
func (d *Dispatcher) fill(req *Request, ids []int, skipFailed bool) (*kernelModel, int) {
	km := d.model.kernel(req.Kernel)
	b := Bucket(req.Bytes)
	req.KeySeq = km.seq[b]
	d.seq++
	d.now = d.clock()
	d.cands = d.cands[:0]
	for pass := 0; pass < 2 && len(d.cands) == 0; pass++ {
		n := len(d.devs)
		if ids != nil {
			n = len(ids)
		}
		for j := 0; j < n; j++ {
			i := j
			if ids != nil {
				i = ids[j]
				if i < 0 || i >= len(d.devs) {
					continue
				}
			}
			s := d.devs[i]
			if pass == 0 && skipFailed && s.skipUntil > d.seq {
				continue
			}
			d.cands = append(d.cands, d.candidate(req, km, b, s))
		}
	}
	return km, b
}

// candidate computes one device's estimates. Caller holds mu.
func (d *Dispatcher) candidate(req *Request, km *kernelModel, b int, s *deviceState) Candidate {
	c := Candidate{
		Device: s.info.Index, Kind: s.info.Kind,
		QueueDepth: s.queueDepth, QueuedBytes: s.queuedBytes,
		Backlog:       max(0, s.expEnd-d.now),
		EMAThroughput: s.ema, PeakThroughput: s.peak, Weight: s.info.Weight,
	}
	if s.info.Kind != KindCPU && req.TransferBytes > 0 {
		c.Transfer = time.Duration(float64(req.TransferBytes) / d.bandwidthOf(s) * 1e9)
	}
	c.Compute, c.Samples, c.Trusted, c.HasEstimate = d.model.estimate(km, s.info.Index, req.Bytes)
	if s.info.Sharing && c.HasEstimate {
		// Processor sharing: the call's tasks interleave with the queued calls' tasks (work
		// stealing, no FIFO), so it waits about one share of its own time per queued call,
		// and never longer than the whole backlog.
		c.Backlog = min(c.Backlog, time.Duration(s.queueDepth)*c.Compute)
	}
	if s.info.HostCores {
		// The same cores: work queued on the CPU pool delays this device too.
		c.HostCores = true
		if cpu := d.hostCPU(); cpu != nil {
			c.Backlog += max(0, cpu.expEnd-d.now)
		}
	}
	c.Finish = c.Backlog + c.Transfer + c.Compute
	c.Energy, c.HasEnergy = d.energyOf(km, s, req.Bytes, c.Compute, c.HasEstimate)
	w := &km.devs[s.info.Index][b]
	if w.n > 0 && req.Bytes > 0 {
		size := d.model.cfg.Window
		if last := w.buf[(w.next+size-1)%size]; last > 0 {
			c.LastCompute = time.Duration(float64(req.Bytes) / last * 1e9)
		}
	}
	if w.lastSeq == 0 {
		c.SinceSample = km.seq[b] + 1
	} else {
		c.SinceSample = km.seq[b] - (w.lastSeq - 1)
	}
	return c
}

// commit reserves the chosen device and records the decision. Caller holds mu.
func (d *Dispatcher) commit(req *Request, km *kernelModel, b int, ch Choice) Decision {
	km.seq[b]++
	ci := d.candIndex(ch.Device)
	c := &d.cands[ci]
	s := d.devs[ch.Device]
	est := c.Transfer + c.Compute
	if !c.HasEstimate {
		// Unknown: guess from the device's EMA throughput, else nothing.
		if s.ema > 0 {
			est = c.Transfer + time.Duration(float64(req.Bytes)/s.ema*1e9)
		}
	}
	dec := Decision{
		Seq: d.seq, Kernel: req.Kernel, Bytes: req.Bytes, Elements: req.Elements,
		TransferBytes: req.TransferBytes, Device: ch.Device, Kind: s.info.Kind,
		Reason: ch.Reason, Estimate: est, cpuShare: -1,
	}
	if cpu := d.hostCPU(); s.info.HostCores && cpu != nil {
		// Counted against the CPU pool as well: the call occupies the same cores.
		dec.cpuShare = cpu.info.Index
		cpu.backlog += est
		cpu.expEnd = max(d.now, cpu.expEnd) + est/time.Duration(cpu.info.Lanes)
	}
	s.queueDepth++
	s.queuedBytes += req.Bytes
	s.backlog += est
	s.expEnd = max(d.now, s.expEnd) + est/time.Duration(s.info.Lanes)
	s.depth.Store(int64(s.queueDepth)) // relaxed: see deviceState
	s.dispatched.Add(1)                // relaxed: see deviceState
	if d.recording.Load() {            // relaxed: see Dispatcher.recording
		dec.n = min(len(d.cands), MaxRecordedCandidates)
		for i := 0; i < dec.n; i++ {
			x := &d.cands[i]
			dec.cands[i] = CandidateEstimate{Device: x.Device, Kind: x.Kind, QueueDepth: x.QueueDepth,
				Backlog: x.Backlog, Transfer: x.Transfer, Compute: x.Compute, Finish: x.Finish,
				HasEstimate: x.HasEstimate, Trusted: x.Trusted, Joules: x.Energy, HasEnergy: x.HasEnergy}
		}
		dec.UnixNano = time.Now().UnixNano()
		d.ring.push(&dec)
	}
	return dec
}

// hostCPU returns the CPU device (the first of kind CPU), or nil. Caller holds mu.
func (d *Dispatcher) hostCPU() *deviceState {
	for _, s := range d.devs {
		if s.info.Kind == KindCPU {
			return s
		}
	}
	return nil
}

// release undoes dec's reservation. Caller holds mu.
func (d *Dispatcher) release(dec *Decision) {
	if dec.Device < 0 || dec.Device >= len(d.devs) {
		return
	}
	if dec.cpuShare >= 0 && dec.cpuShare < len(d.devs) {
		cpu := d.devs[dec.cpuShare]
		cpu.backlog -= min(cpu.backlog, dec.Estimate)
		cpu.expEnd = d.clock() + cpu.backlog/time.Duration(cpu.info.Lanes)
		dec.cpuShare = -1
	}
	s := d.devs[dec.Device]
	if s.queueDepth > 0 {
		s.queueDepth--
	}
	s.queuedBytes -= min(s.queuedBytes, dec.Bytes)
	s.backlog -= min(s.backlog, dec.Estimate)
	// The device is free of this call now: what is left is the remaining
	// reserved work, starting now (exact for a device that runs its calls
	// in order; an approximation with Lanes > 1).
	s.expEnd = d.clock() + s.backlog/time.Duration(s.info.Lanes)
	s.depth.Store(int64(s.queueDepth)) // relaxed: see deviceState
}

// End releases dec's reservation and records how the call went: on success
// its timing feeds the cost model, the bandwidth model and the statistics;
// on failure (err != nil, e.g. a device error or out of memory) the device
// is skipped by automatic placement for a cooldown that doubles with each
// consecutive failure, after which exploration measures it again. Call it
// exactly once per decision. Any goroutine.
func (d *Dispatcher) End(dec Decision, t Timing, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.release(&dec)
	d.record(dec.Device, dec.Kernel, dec.Bytes, t, err)
}

// Abandon releases dec's reservation without recording anything (the call
// never ran, for example because its context was cancelled). Any goroutine.
func (d *Dispatcher) Abandon(dec Decision) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.release(&dec)
}

// Record feeds one measured call into the model and statistics without any
// reservation (for calls placed outside Choose, or calibration runs).
// Unknown devices are ignored. Any goroutine.
func (d *Dispatcher) Record(device int, kernel string, bytes uint64, t Timing, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record(device, kernel, bytes, t, err)
}

// SetBandwidth sets a device's host<->device bandwidth (bytes/s), for the
// runtime's one-time measurement at start-up. Real transfers recorded later
// take precedence. Any goroutine.
func (d *Dispatcher) SetBandwidth(device int, bytesPerSec float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if device < 0 || device >= len(d.devs) || bytesPerSec <= 0 {
		return
	}
	s := d.devs[device]
	s.info.Bandwidth = bytesPerSec
	s.bwBits.Store(f64bits(d.bandwidthOf(s))) // relaxed: see deviceState
}

// emaAlpha is the smoothing factor of per-device EMA throughput.
const emaAlpha = 0.1

// record is End/Record's body. Caller holds mu.
func (d *Dispatcher) record(device int, kernel string, bytes uint64, t Timing, err error) {
	if device < 0 || device >= len(d.devs) {
		return
	}
	s := d.devs[device]
	if err != nil {
		s.failed.Add(1) // relaxed: see deviceState
		s.errStreak++
		s.skipUntil = d.seq + d.cooldown<<min(s.errStreak-1, 6)
		return
	}
	s.errStreak = 0
	s.completed.Add(1)             // relaxed: see deviceState
	s.bytesTo.Add(t.BytesIn)       // relaxed: see deviceState
	s.bytesFrom.Add(t.BytesOut)    // relaxed: see deviceState
	s.busyNs.Add(int64(t.Total())) // relaxed: see deviceState
	km := d.model.kernel(kernel)
	d.model.add(km, device, bytes, t.Compute)
	d.recordEnergy(km, s, bytes, t)
	if t.Compute > 0 && bytes > 0 {
		thr := float64(bytes) / t.Compute.Seconds()
		if s.ema == 0 {
			s.ema = thr
		} else {
			s.ema += emaAlpha * (thr - s.ema)
		}
		s.peak = max(s.peak, s.ema)
		s.emaBits.Store(f64bits(s.ema))   // relaxed: see deviceState
		s.peakBits.Store(f64bits(s.peak)) // relaxed: see deviceState
	}
	if s.info.Kind != KindCPU {
		if tb, tt := t.BytesIn+t.BytesOut, t.H2D+t.D2H; tb >= 64<<10 && tt > 0 {
			// Small transfers measure latency, not bandwidth: skip them.
			s.bw.add(float64(tb)/tt.Seconds(), d.model.cfg.Window)
			s.bwBits.Store(f64bits(d.bandwidthOf(s))) // relaxed: see deviceState
		}
	}
}

// Estimate returns the model's compute-time estimate for (kernel, device,
// bytes) and whether it has one. Any goroutine; for tests and `veda explain`.
func (d *Dispatcher) Estimate(kernel string, device int, bytes uint64) (time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if device < 0 || device >= len(d.devs) {
		return 0, false
	}
	est, _, _, ok := d.model.estimate(d.model.kernel(kernel), device, bytes)
	return est, ok
}
