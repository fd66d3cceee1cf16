package dispatch

import "github.com/veda-runtime/veda/goveda/internal/devkind"

// DeviceKind says what executes work on a device (devkind.Kind, the one definition).
type DeviceKind = devkind.Kind

const (
	KindCPU    = devkind.CPU    // the host CPU (the runtime's worker pool); always device 0 in VEDA
	KindOpenCL = devkind.OpenCL // a device reached through an OpenCL driver
	KindCUDA   = devkind.CUDA   // an NVIDIA device reached through the CUDA driver
)

// DeviceInfo is the static description of one device as the dispatcher sees
// it. The dispatcher never touches the device itself.
type DeviceInfo struct {
	// Index is the device's runtime index; NewDispatcher requires Index == position.
	Index int
	Kind  DeviceKind
	Name  string
	// Lanes is how many calls the device runs at once (default 1). Backlog
	// time is the queued estimate divided by Lanes.
	Lanes int
	// Bandwidth is the host<->device bandwidth in bytes/s measured once at
	// start-up (0: unknown, DefaultBandwidth is assumed until a real transfer
	// is recorded). Ignored for KindCPU.
	Bandwidth float64
	// Weight is the static weight for WeightedCapacity (0: use the measured
	// peak throughput).
	Weight float64
	// Sharing: concurrent calls on the device interleave (processor sharing,
	// as on VEDA's work-stealing CPU pool) instead of queueing one after
	// another, so a new call's wait is bounded by queue depth x its own time.
	Sharing bool
	// HostCores: the device computes on the host's own cores (an OpenCL device of type CPU,
	// such as PoCL). The seed rule never sends it an uncalibrated call, it is explored rarely
	// (see EarliestFinish), and a call placed on it is also reserved on the CPU pool's
	// backlog, since both run on the same cores.
	HostCores bool
	// Watts is the device's active power while it runs a call (0: unknown). With it the cost
	// model learns joules per byte per (kernel, device); see energy.go and SetPower.
	Watts float64
}
