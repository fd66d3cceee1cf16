package dispatch

import (
	"math"
	"time"
)

func f64bits(f float64) uint64     { return math.Float64bits(f) }
func f64frombits(b uint64) float64 { return math.Float64frombits(b) }

// DeviceStats is a snapshot of one device's dispatch statistics.
type DeviceStats struct {
	Index int        `json:"index"`
	Kind  DeviceKind `json:"kind"`
	Name  string     `json:"name"`
	// Dispatched counts decisions placed on the device; Completed and Failed
	// count calls ended with and without error.
	Dispatched uint64 `json:"dispatched"`
	Completed  uint64 `json:"completed"`
	Failed     uint64 `json:"failed"`
	// QueueDepth is the number of chosen but not yet ended calls.
	QueueDepth int64 `json:"queue_depth"`
	// EMAThroughput is the EMA (alpha 0.1) of measured compute throughput
	// over all kernels in bytes/s; PeakThroughput is its highest value.
	EMAThroughput  float64 `json:"ema_throughput_bytes_per_sec"`
	PeakThroughput float64 `json:"peak_throughput_bytes_per_sec"`
	// Bandwidth is the host<->device bandwidth the model uses (bytes/s).
	Bandwidth float64 `json:"bandwidth_bytes_per_sec"`
	// BytesToDevice and BytesFromDevice sum Timing.BytesIn and BytesOut.
	BytesToDevice   uint64 `json:"bytes_to_device"`
	BytesFromDevice uint64 `json:"bytes_from_device"`
	// BusyTime sums Timing.Total() of completed calls.
	BusyTime time.Duration `json:"busy_ns"`
}

// Stats returns a snapshot of every device's statistics, by index. Any
// goroutine; lock-free (relaxed loads), so the fields of one device may come
// from adjacent updates. Cost O(devices), one allocation.
func (d *Dispatcher) Stats() []DeviceStats {
	out := make([]DeviceStats, len(d.devs))
	for i, s := range d.devs {
		out[i] = DeviceStats{
			Index: i, Kind: s.info.Kind, Name: s.info.Name,
			Dispatched:      s.dispatched.Load(),            // relaxed: monitoring
			Completed:       s.completed.Load(),             // relaxed: monitoring
			Failed:          s.failed.Load(),                // relaxed: monitoring
			QueueDepth:      s.depth.Load(),                 // relaxed: monitoring
			EMAThroughput:   f64frombits(s.emaBits.Load()),  // relaxed: monitoring
			PeakThroughput:  f64frombits(s.peakBits.Load()), // relaxed: monitoring
			Bandwidth:       f64frombits(s.bwBits.Load()),   // relaxed: monitoring
			BytesToDevice:   s.bytesTo.Load(),               // relaxed: monitoring
			BytesFromDevice: s.bytesFrom.Load(),             // relaxed: monitoring
			BusyTime:        time.Duration(s.busyNs.Load()), // relaxed: monitoring
		}
		if s.info.Kind == KindCPU {
			out[i].Bandwidth = 0
		}
	}
	return out
}
