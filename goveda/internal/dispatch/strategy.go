package dispatch

import (
	"fmt"
	"strings"
	"time"
)

// Reasons recorded with each decision. The strings are part of the
// explained-decisions output (Go, C JSON, Python, `veda explain`).
const (
	ReasonCalibrating    = "calibrating: threshold"
	ReasonEarliestFinish = "earliest finish"
	ReasonSpillover      = "spillover"
	ReasonFallback       = "fallback after device error"
	ReasonPinned         = "pinned"
	ReasonRoundRobin     = "round robin"
	ReasonLeastLoaded    = "least loaded"
	ReasonWeighted       = "weighted capacity"
	ReasonAdaptive       = "adaptive throughput"
	ReasonExploration    = "exploration"
)

// Request describes one kernel call to place.
type Request struct {
	// Kernel names the kernel ("saxpy_f32", "sgemm", a user kernel's name).
	Kernel string
	// Bytes is the work size used for the cost model's size bucket (bytes
	// touched by the kernel).
	Bytes uint64
	// Elements is informational (recorded in decisions); may be 0.
	Elements uint64
	// TransferBytes is how many bytes must move host->device plus
	// device->host if the call runs on a non-CPU device.
	TransferBytes uint64
	// Devices restricts the candidates to these device indexes (for example
	// the devices that have a source for a user kernel); nil means all.
	Devices []int
	// Pinned forces Device (the runtime's pin_device); the strategy is not
	// consulted and the reason is "pinned".
	Pinned bool
	Device int

	// KeySeq is filled in by the dispatcher: how many decisions were made
	// before this one for the same (kernel, size bucket). Strategies use it
	// for periodic exploration.
	KeySeq uint64
}

// Candidate is one device's view at decision time, with the cost model's
// estimates already computed. Strategies only read it.
type Candidate struct {
	Device int
	Kind   DeviceKind
	// QueueDepth and QueuedBytes count calls chosen for the device and not
	// yet ended.
	QueueDepth  int
	QueuedBytes uint64
	// Backlog is the estimated time to drain the device's queue.
	Backlog time.Duration
	// Transfer is TransferBytes / measured bandwidth (0 for the CPU).
	Transfer time.Duration
	// Compute is the model's estimate for this kernel and size; valid only
	// when HasEstimate.
	Compute time.Duration
	// Finish = Backlog + Transfer + Compute (valid only when HasEstimate).
	Finish time.Duration
	// HasEstimate: the model has trusted data for this (kernel, device), in
	// this size bucket or a neighbouring one.
	HasEstimate bool
	// Trusted: this exact size bucket has at least MinSamples samples.
	Trusted bool
	// Samples in this exact bucket, and decisions for the bucket since this
	// device was last measured in it.
	Samples     int
	SinceSample uint64
	// LastCompute is the compute time of this request's bytes at the throughput of the device's
	// most recent sample in this exact bucket (0: none): unlike Compute, a median, it tells
	// whether the last re-measurement found the device still slow.
	LastCompute time.Duration
	// EMAThroughput is the device's EMA of measured throughput (bytes/s,
	// alpha 0.1, over all kernels); 0 until measured. PeakThroughput is the
	// highest EMA seen. Weight is the device's static weight (0: none).
	EMAThroughput  float64
	PeakThroughput float64
	Weight         float64
	// Energy is the estimated joules of the call on this device (valid only when HasEnergy):
	// the learned joules per byte x Bytes, else Watts x Compute (see energy.go).
	Energy    float64
	HasEnergy bool
	// HostCores: the device runs on the host's cores (DeviceInfo.HostCores); its Backlog
	// includes the CPU pool's.
	HostCores bool
}

// Choice is a strategy's answer: a device index from the candidates and the
// reason to record.
type Choice struct {
	Device int
	Reason string
}

// Strategy places one request on one of the candidates. Users may implement
// it to supply a custom policy.
//
// Choose is called with at least one candidate, by one goroutine at a time:
// the Dispatcher serializes calls under its lock, so an implementation may
// keep unsynchronized state. It must be fast (it runs on every kernel call)
// and must not call back into the Dispatcher. Returning a device that is not
// among the candidates makes the dispatcher use the first candidate.
type Strategy interface {
	Name() string
	Choose(req *Request, cands []Candidate) Choice
}

// Strategy names accepted by ParseStrategy (and VEDA_STRATEGY).
const (
	NameRoundRobin         = "round-robin"
	NameLeastLoaded        = "least-loaded"
	NameWeightedCapacity   = "weighted-capacity"
	NameAdaptiveThroughput = "adaptive-throughput"
	NameEarliestFinish     = "earliest-finish"
)

// StrategyNames lists the built-in strategies, default first.
var StrategyNames = []string{NameEarliestFinish, NameRoundRobin, NameLeastLoaded, NameWeightedCapacity, NameAdaptiveThroughput}

// ParseStrategy returns a new built-in strategy by name. Names are matched
// case-insensitively, and '_' is accepted for '-' ("earliest_finish"); the
// short forms "rr", "eft" and "dmda" are accepted too. An empty name gives
// the default, EarliestFinish. An unknown name is an error that lists the
// valid ones.
func ParseStrategy(name string) (Strategy, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	switch n {
	case "", NameEarliestFinish, "eft", "dmda":
		return NewEarliestFinish(EarliestFinishConfig{}), nil
	case NameRoundRobin, "rr", "roundrobin":
		return &RoundRobin{}, nil
	case NameLeastLoaded, "leastloaded":
		return &LeastLoaded{}, nil
	case NameWeightedCapacity, "weighted", "weightedcapacity":
		return &WeightedCapacity{}, nil
	case NameAdaptiveThroughput, "adaptive", "adaptivethroughput":
		return &AdaptiveThroughput{}, nil
	}
	return nil, fmt.Errorf("veda: unknown dispatch strategy %q (valid: %s)", name, strings.Join(StrategyNames, ", "))
}

// NewStrategyFromProfile returns the strategy a profile names, with the
// profile's GPU threshold applied to EarliestFinish.
func NewStrategyFromProfile(p Profile) (Strategy, error) {
	s, err := ParseStrategy(p.Strategy)
	if err != nil {
		return nil, err
	}
	if _, ok := s.(*EarliestFinish); ok {
		s = NewEarliestFinish(EarliestFinishConfig{GPUThreshold: p.GPUThreshold})
	}
	return s, nil
}
