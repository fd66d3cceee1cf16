package goveda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/device"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// Devices and dispatch: the glue between the scheduler, the device layer (internal/device) and
// the dispatcher (internal/dispatch).
//
// Device 0 is always the CPU: the runtime's own workers running the C kernels. Devices 1.. are
// the OpenCL devices, then the CUDA devices, that the process-wide discovery found (drivers are
// loaded with dlopen at run time; none is needed). Discovery happens on the first call that
// needs a device (a built-in kernel, Devices, Kernel, DistributeFrames), not in New, so that a
// runtime that only schedules never pays for driver start-up.
//
// Every built-in kernel call asks the runtime's dispatcher where to run (Choose), runs there,
// and reports the measured timing back (End), so that the cost model learns. A device failure
// (a driver error, out of device memory) falls back to the CPU and is recorded as such. A
// pinned runtime (PinDevice) runs every kernel call on its pinned device and reports failures
// instead of falling back. Under PolicyDeterministic, built-in kernels run on the CPU unless a
// device is pinned, so that results are bit-identical across runs and machines.

// DeviceKind is the kind of a device. The values are VEDA_DEVICE_* in the C ABI.
type DeviceKind int

const (
	DeviceCPU    DeviceKind = 0 // the runtime's workers (device 0)
	DeviceOpenCL DeviceKind = 1 // an OpenCL device (a GPU, or a CPU through PoCL)
	DeviceCUDA   DeviceKind = 2 // an NVIDIA GPU through the CUDA driver API
)

// String returns "cpu", "opencl" or "cuda".
func (k DeviceKind) String() string { return dispatch.DeviceKind(k).String() }

// DeviceStats are a device's dispatch statistics: dispatched, completed and failed calls, queue
// depth, EMA throughput, bytes to and from the device, busy time.
type DeviceStats = dispatch.DeviceStats

// DeviceInfo describes one device of a runtime, with its statistics at the time of the call.
type DeviceInfo struct {
	Index            int        `json:"index"`
	Kind             DeviceKind `json:"kind"`
	Name             string     `json:"name"`
	Vendor           string     `json:"vendor"`
	Platform         string     `json:"platform"`
	DriverVersion    string     `json:"driver_version"`
	MemoryBytes      uint64     `json:"memory_bytes"`
	ComputeUnits     int        `json:"compute_units"`
	MaxWorkGroupSize int        `json:"max_work_group_size"`
	FP64             bool       `json:"fp64"`
	ComputeCap       string     `json:"compute_capability,omitempty"`
	HostCores        bool       `json:"host_cores"` // computes on the host's own cores (PoCL)
	// Transfers counts the device's host<->device copies (zero for the CPU).
	Transfers TransferStats `json:"transfers"`
	Stats     DeviceStats   `json:"stats"`
}

// Decision is one dispatch decision: which device ran a kernel call, why, and the estimates it
// rested on. Decisions returns the recorded ones (see Config.RecordDecisions); AESGCM's calls
// return theirs.
type Decision struct {
	Seq           uint64     `json:"seq"`            // the dispatcher's decision number, from 1
	UnixNano      int64      `json:"unix_nano"`      // wall time of the decision (recorded decisions only)
	Kernel        string     `json:"kernel"`         // "saxpy_f32", "sgemm", "user:<name>", ...
	Bytes         uint64     `json:"bytes"`          // bytes the kernel touches (the cost model's size)
	Elements      uint64     `json:"elements"`       // elements (work items) of the call
	TransferBytes uint64     `json:"transfer_bytes"` // bytes a device would copy in and out
	Device        int        `json:"device"`         // the chosen device's index (0 is the CPU)
	Kind          DeviceKind `json:"kind"`           // the chosen device's kind
	// Reason says why: "calibrating: threshold", "earliest finish", "exploration",
	// "spillover", "fallback after device error", "pinned", ...
	Reason string `json:"reason"`
	// Estimate is the estimated transfer plus compute time of the call on Device.
	Estimate time.Duration `json:"estimate_ns"`
	// Candidates holds each candidate device's estimate at the time of the decision (recorded
	// decisions only; at most a few devices).
	Candidates []CandidateEstimate `json:"candidates"`
}

// CandidateEstimate is one device's estimate in a Decision.
type CandidateEstimate struct {
	Device      int           `json:"device"`
	Kind        DeviceKind    `json:"kind"`
	QueueDepth  int           `json:"queue_depth"` // calls placed and not finished
	Backlog     time.Duration `json:"backlog_ns"`  // estimated time until the queue drains
	Transfer    time.Duration `json:"transfer_ns"` // estimated host<->device copies
	Compute     time.Duration `json:"compute_ns"`  // estimated compute
	Finish      time.Duration `json:"finish_ns"`   // backlog + transfer + compute
	HasEstimate bool          `json:"has_estimate"`
	Trusted     bool          `json:"trusted"` // the model had enough measurements
	Joules      float64       `json:"joules"`  // energy estimate (HasEnergy false: unknown)
	HasEnergy   bool          `json:"has_energy"`
}

// MarshalJSON encodes d with the keys of its field tags, as DecisionsJSON does: the decision's
// kind as its name ("cpu", "opencl", "cuda"), candidates' kinds as integers, durations in ns.
func (d Decision) MarshalJSON() ([]byte, error) {
	type plain Decision // no methods: no recursion
	return json.Marshal(struct {
		plain
		Kind string `json:"kind"`
	}{plain(d), d.Kind.String()})
}

// decisionOf converts the dispatcher's decision into the public one.
func decisionOf(d *dispatch.Decision) Decision {
	out := Decision{Seq: d.Seq, UnixNano: d.UnixNano, Kernel: d.Kernel, Bytes: d.Bytes, Elements: d.Elements,
		TransferBytes: d.TransferBytes, Device: d.Device, Kind: DeviceKind(d.Kind), Reason: d.Reason,
		Estimate: d.Estimate, Candidates: []CandidateEstimate{}}
	for _, c := range d.Candidates() {
		out.Candidates = append(out.Candidates, CandidateEstimate{Device: c.Device, Kind: DeviceKind(c.Kind),
			QueueDepth: c.QueueDepth, Backlog: c.Backlog, Transfer: c.Transfer, Compute: c.Compute,
			Finish: c.Finish, HasEstimate: c.HasEstimate, Trusted: c.Trusted, Joules: c.Joules, HasEnergy: c.HasEnergy})
	}
	return out
}

// Strategy is the pluggable placement policy (Config.CustomStrategy). Choose is called under the
// dispatcher's lock with the candidates' current estimates and must not block.
type Strategy = dispatch.Strategy

// DispatchRequest and DispatchCandidate are what a Strategy sees; DispatchChoice is its answer.
type (
	DispatchRequest   = dispatch.Request
	DispatchCandidate = dispatch.Candidate
	DispatchChoice    = dispatch.Choice
)

// Profile is the parallelism profile (cores, memory budget, in-flight segments, GPU workers,
// strategy, GPU threshold) with where each overridable value came from.
type Profile = dispatch.Profile

// devState is a runtime's device layer. init runs once (sync.Once); after it the fields are
// read-only except pinned and the dispatcher's own state.
type devState struct {
	once    sync.Once
	err     error
	disc    *device.Discovery
	gpus    []device.Device // gpus[i] is device i+1
	infos   []DeviceInfo    // static part, by index
	disp    *dispatch.Dispatcher
	profile dispatch.Profile
	fp64    []int // devices that can run sum_f64 (CPU included)
	cpuOnly []int // {0}
	// ready is set (release) once init succeeded; Metrics loads it (acquire) before reading
	// disp, so that it never waits for or triggers discovery.
	ready atomic.Bool
	// impl picks VEDA's or a vendor library's implementation per (kernel, device, size bucket)
	// (vendor.go); created by implOnce, then used under its own lock.
	implOnce sync.Once
	impl     *dispatch.ImplChooser
	// cal is the persistent calibration (calibration.go), loaded in initDevices.
	cal calState
	// queues[i] is device i's in-order queue (devqueue.go), made by queuesOnce.
	queuesOnce sync.Once
	queues     []*devQueue
	// pinned is the pinned device index, -1 for automatic dispatch. Relaxed atomic: a pin
	// applies to calls that start after it; a call already dispatched keeps its device.
	pinned atomic.Int32
}

// devices returns rt's device layer, discovering devices on first use. Any goroutine.
func (rt *Runtime) devices() (*devState, error) {
	ds := &rt.dev
	ds.once.Do(func() { ds.err = rt.initDevices(ds) })
	return ds, ds.err
}

// envDisableGPU reports VEDA_DISABLE_GPU=1.
func envDisableGPU() bool { return os.Getenv("VEDA_DISABLE_GPU") == "1" }

func (rt *Runtime) initDevices(ds *devState) error {
	if rt.cfg.DisableGPU || envDisableGPU() {
		reason := "disabled by VEDA_DISABLE_GPU=1"
		if rt.cfg.DisableGPU {
			reason = "disabled by Config.DisableGPU"
		}
		ds.disc = &device.Discovery{Absent: map[device.Kind]string{device.KindOpenCL: reason, device.KindCUDA: reason}}
	} else {
		ds.disc = device.Discover()
	}
	ds.gpus = ds.disc.Devices()
	prof, err := dispatch.DynamicProfile(0, rt.cfg.MemFraction, 0, dispatch.WithConfig(dispatch.ProfileConfig{
		Workers:      rt.userWorkers, // 0 unless the caller set it: the profile says where values came from
		MemFraction:  rt.cfg.MemFraction,
		GPUThreshold: rt.cfg.GPUThreshold,
		Strategy:     rt.cfg.Strategy,
		GPUDevices:   len(ds.gpus),
	}))
	if err != nil {
		return wrap(ErrInvalidArgument, err) // one "veda:" prefix, not three
	}
	// The profile reports what this runtime runs: its worker count (which Config.normalize
	// resolved: Config.Workers, VEDA_NUM_WORKERS, else the CPUs this process may use).
	if prof.CPUWorkers != rt.Workers() {
		prof.CPUWorkers = rt.Workers()
		prof.Sources["cpu_workers"] = "detected (CPUs this process may use)"
	}
	ds.profile = prof
	strat := rt.cfg.CustomStrategy
	if strat == nil {
		if strat, err = dispatch.NewStrategyFromProfile(prof); err != nil {
			return wrap(ErrInvalidArgument, err)
		}
	}
	// The CPU device has one name everywhere (device info, metrics, decisions): its brand.
	ds.infos = []DeviceInfo{cpuInfo(rt.Workers())}
	dinfos := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU, Name: ds.infos[0].Name, Lanes: 1, Sharing: true}}
	ds.fp64 = []int{0}
	ds.cpuOnly = []int{0}
	for i, g := range ds.gpus {
		in := g.Info()
		idx := i + 1
		dinfos = append(dinfos, dispatch.DeviceInfo{Index: idx, Kind: dispatch.DeviceKind(in.Kind), Name: in.Name, Lanes: 1,
			HostCores: in.HostCores})
		ds.infos = append(ds.infos, DeviceInfo{Index: idx, Kind: DeviceKind(in.Kind), Name: in.Name, Vendor: in.Vendor,
			Platform: in.Platform, DriverVersion: in.DriverVersion, MemoryBytes: in.MemoryBytes,
			ComputeUnits: in.ComputeUnits, MaxWorkGroupSize: in.MaxWorkGroupSize, FP64: in.FP64, ComputeCap: in.ComputeCap,
			HostCores: in.HostCores})
		if in.FP64 {
			ds.fp64 = append(ds.fp64, idx)
		}
	}
	strat = rt.energyAware(strat, dinfos, ds.infos)
	disp, err := dispatch.NewDispatcher(dinfos, dispatch.Options{Strategy: strat, Record: rt.cfg.RecordDecisions})
	if err != nil {
		return wrap(ErrInternal, err)
	}
	ds.disp = disp
	ds.pinned.Store(-1)
	// Host<->device bandwidth, measured once per device from a 4 MiB saxpy's copy-in (this also
	// builds or loads the device's program, so the first real call does not pay for it).
	for i, g := range ds.gpus {
		if bw := measureBandwidth(g); bw > 0 {
			disp.SetBandwidth(i+1, bw)
		}
	}
	device.BLAS() // load the CPU BLAS now (a dlopen), not on the first kernel call
	if err := rt.initCalibration(ds); err != nil {
		return err
	}
	ds.ready.Store(true)
	return nil
}

func cpuInfo(workers int) DeviceInfo {
	in := DeviceInfo{Index: 0, Kind: DeviceCPU, Name: "cpu", Vendor: "host", Platform: "veda",
		ComputeUnits: workers, MaxWorkGroupSize: 1, FP64: true}
	if p, err := dispatch.DynamicProfile(0, 0, 0); err == nil {
		if p.CPUBrand != "" {
			in.Name = p.CPUBrand
		}
		in.MemoryBytes = p.TotalMemory
	}
	return in
}

// bandwidths caches measureBandwidth per device: devices are shared by every runtime of the
// process (device.Discover), so the probe runs once per device, not once per runtime.
var bandwidths sync.Map // device.Device -> float64

// measureBandwidth returns the host-to-device bytes/s of one 4 MiB copy, or 0. Any goroutine.
func measureBandwidth(g device.Device) float64 {
	if v, ok := bandwidths.Load(g); ok {
		return v.(float64)
	}
	bw := probeBandwidth(g)
	bandwidths.Store(g, bw)
	return bw
}

func probeBandwidth(g device.Device) float64 {
	x := make([]float32, 1<<20)
	y := make([]float32, 1<<20)
	t, err := g.Saxpy(1, x, y)
	if err != nil || t.H2D <= 0 || t.BytesIn <= 0 {
		return 0
	}
	return float64(t.BytesIn) / t.H2D.Seconds()
}

// Devices returns every device of rt, CPU first (index 0), with current statistics. The first
// call discovers the devices. Any goroutine.
func (rt *Runtime) Devices() ([]DeviceInfo, error) {
	ds, err := rt.devices()
	if err != nil {
		return nil, err
	}
	out := append([]DeviceInfo(nil), ds.infos...)
	for _, s := range ds.disp.Stats() {
		if s.Index >= 0 && s.Index < len(out) {
			out[s.Index].Stats = s
		}
	}
	for i, g := range ds.gpus {
		out[i+1].Transfers = g.TransferStats()
	}
	return out, nil
}

// AbsentBackends returns, for each GPU backend ("opencl", "cuda") that contributed no device,
// why: the driver library paths tried with the loader's message, "no devices", or disabled.
func (rt *Runtime) AbsentBackends() (map[string]string, error) {
	ds, err := rt.devices()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, why := range ds.disc.Absent {
		out[k.String()] = why
	}
	return out, nil
}

// Profile returns the parallelism profile the runtime uses (detected hardware, memory budget,
// GPU workers, strategy, GPU threshold, and where each value came from).
func (rt *Runtime) Profile() (Profile, error) {
	ds, err := rt.devices()
	if err != nil {
		return Profile{}, err
	}
	return ds.profile, nil
}

// PinDevice makes every later kernel call on rt run on device index (no fallback: a device
// failure is returned); -1 restores automatic dispatch. An index that does not exist wraps
// ErrInvalidArgument. Any goroutine.
func (rt *Runtime) PinDevice(index int) error {
	if err := rt.checkOpen(); err != nil {
		return err
	}
	ds, err := rt.devices()
	if err != nil {
		return err
	}
	if index < -1 || index >= len(ds.infos) {
		return invalidf("PinDevice: index %d does not exist (devices 0..%d, or -1 for automatic)", index, len(ds.infos)-1)
	}
	ds.pinned.Store(int32(index))
	return nil
}

// PinnedDevice returns the pinned device index, or -1 for automatic dispatch.
func (rt *Runtime) PinnedDevice() int {
	ds, err := rt.devices()
	if err != nil {
		return -1
	}
	return int(ds.pinned.Load())
}

// SetRecordDecisions turns the decision ring on or off (Config.RecordDecisions sets it at start).
// Recording costs about 80 ns per kernel call. Any goroutine.
func (rt *Runtime) SetRecordDecisions(on bool) error {
	ds, err := rt.devices()
	if err != nil {
		return err
	}
	ds.disp.SetRecording(on)
	return nil
}

// Decisions returns the recorded dispatch decisions, oldest first (at most the last 1024).
func (rt *Runtime) Decisions() ([]Decision, error) {
	ds, err := rt.devices()
	if err != nil {
		return nil, err
	}
	recs := ds.disp.Decisions()
	out := make([]Decision, len(recs))
	for i := range recs {
		out[i] = decisionOf(&recs[i])
	}
	return out, nil
}

// DecisionsJSON returns Decisions as a JSON array, oldest first: "[]" when none is recorded.
func (rt *Runtime) DecisionsJSON() ([]byte, error) {
	ds, err := rt.devices()
	if err != nil {
		return nil, err
	}
	return ds.disp.DecisionsJSON()
}

// enterHeld admits one call that runs on the calling goroutine (a kernel call, a Device method,
// a DistributeFrames batch), or returns ErrClosed. While it is held, the work the call starts on
// the pool (its CPU path's ParallelFor) is admitted even after Close, so Close waits for the
// call and the call finishes. Match a nil with rt.pool.ExitHeld() on the same goroutine.
func (rt *Runtime) enterHeld() error {
	if !rt.pool.EnterHeld() {
		return fmt.Errorf("%w", ErrClosed)
	}
	return nil
}

// checkOpen returns ErrClosed after Close (for calls that start no work).
func (rt *Runtime) checkOpen() error {
	if rt.pool.Closed() {
		return fmt.Errorf("%w", ErrClosed)
	}
	return nil
}

// kcall is one built-in kernel call for dispatch.
type kcall struct {
	name     string
	bytes    uint64 // bytes the kernel touches (the cost model's size)
	elems    uint64
	transfer uint64       // bytes moved host->device + device->host on a GPU
	fp64     bool         // needs double precision on the device
	devices  []int        // candidate devices (user kernels); nil: by the rules in runKernel
	cpu      func() error // nil: the CPU cannot run it
	dev      func(d device.Device) (device.Timing, error)
	decided  *Decision // if non-nil, receives the decision the call finally ran under
}

// runKernel places kc with the dispatcher, runs it, reports the timing, and falls back to the
// CPU after a device failure (unless pinned). Any goroutine; blocks until done.
func (rt *Runtime) runKernel(ctx context.Context, kc *kcall) error {
	if err := rt.enterHeld(); err != nil {
		return err
	}
	defer rt.pool.ExitHeld()
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return ctxErr(ctx)
		}
	}
	ds, err := rt.devices()
	if err != nil {
		return err
	}
	req := dispatch.Request{Kernel: kc.name, Bytes: kc.bytes, Elements: kc.elems, TransferBytes: kc.transfer}
	pin := int(ds.pinned.Load())
	if p, ok := callDevice(ctx); ok { // one call pinned (calibration.go: Calibrate)
		pin = p
	}
	switch {
	case pin >= 0:
		req.Pinned, req.Device = true, pin
	case kc.devices != nil:
		req.Devices = kc.devices
	case rt.cfg.Policy == PolicyDeterministic || kc.dev == nil:
		req.Devices = ds.cpuOnly
	case kc.fp64:
		req.Devices = ds.fp64
	}
	dec, err := ds.disp.Choose(req)
	if err != nil {
		return wrap(ErrInternal, err)
	}
	tr := rt.traceDecision(&dec)
	for {
		var t dispatch.Timing
		var runErr error
		if dec.Device == 0 && kc.cpu == nil {
			ds.disp.Abandon(dec)
			return fmt.Errorf("%w: %s cannot run on the CPU (device 0)", ErrUnsupported, kc.name)
		}
		if dec.Device == 0 {
			start := time.Now()
			tr.begin(rt)
			runErr = kc.cpu()
			t.Compute = time.Since(start)
			tr.end(rt, &dec, device.Timing{Compute: t.Compute}, t.Compute, runErr)
			if runErr == nil {
				rt.ktimes.record(0, t.Compute)
			}
			if runErr != nil {
				ds.disp.Abandon(dec) // cancellation or closing: not a device fault
				return runErr
			}
			ds.disp.End(dec, t, nil)
			if kc.decided != nil {
				*kc.decided = decisionOf(&dec)
			}
			return nil
		}
		start := time.Now()
		tr.begin(rt)
		dt, derr := kc.dev(ds.gpus[dec.Device-1])
		// The model's compute time is the call's whole cost but the transfers: device
		// events miss the launch, queueing and host-side work, which dominate small calls
		// (PoCL: 8 us of kernel in a 137 us call).
		wall := time.Since(start)
		tr.end(rt, &dec, dt, wall, derr)
		if derr == nil {
			rt.ktimes.record(dec.Device, wall)
		}
		t = dispatch.Timing{H2D: dt.H2D, Compute: max(dt.Compute, wall-dt.H2D-dt.D2H), D2H: dt.D2H,
			BytesIn: uint64(max(dt.BytesIn, 0)), BytesOut: uint64(max(dt.BytesOut, 0))}
		if derr == nil {
			ds.disp.End(dec, t, nil)
			if kc.decided != nil {
				*kc.decided = decisionOf(&dec)
			}
			return nil
		}
		runErr = mapDeviceError(derr)
		ds.disp.End(dec, t, runErr)
		if req.Pinned {
			return runErr
		}
		next, ferr := ds.disp.Fallback(req, dec.Device)
		if ferr != nil {
			return runErr
		}
		dec = next
	}
}

// mapDeviceError wraps a device-layer error with the matching goveda sentinel, keeping the
// driver's message (and a build log).
func mapDeviceError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, device.ErrOutOfMemory):
		return wrap(ErrOutOfMemory, err)
	case errors.Is(err, device.ErrUnsupported):
		return wrap(ErrUnsupported, err)
	case errors.Is(err, device.ErrInvalidArgument):
		return wrap(ErrInvalidArgument, err)
	case errors.Is(err, device.ErrClosed):
		return wrap(ErrClosed, err)
	}
	return wrap(ErrDevice, err)
}

// bytesOf returns n*size as uint64, saturating.
func bytesOf(n int, size uintptr) uint64 {
	if n <= 0 {
		return 0
	}
	if uint64(n) > math.MaxUint64/uint64(size) {
		return math.MaxUint64
	}
	return uint64(n) * uint64(size)
}
