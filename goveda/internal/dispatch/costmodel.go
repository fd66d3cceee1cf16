package dispatch

import (
	"math"
	"math/bits"
	"time"
)

// Timing is what a device reports for one finished call: the three phase
// durations and the bytes moved each way. A CPU call has only Compute.
type Timing struct {
	H2D, Compute, D2H time.Duration
	BytesIn, BytesOut uint64
	// Joules is the call's measured energy, when the device layer measured it (0: unknown; the
	// model then uses the device's power x Compute).
	Joules float64
}

// Total returns H2D + Compute + D2H.
func (t Timing) Total() time.Duration { return t.H2D + t.Compute + t.D2H }

// DefaultBandwidth (bytes/s) is assumed for a non-CPU device whose
// host<->device bandwidth was never measured (roughly PCIe 3.0 x16).
const DefaultBandwidth = 12e9

// Bucket returns the cost model's size bucket for a size: floor(log2(bytes)),
// and 0 for 0 bytes.
func Bucket(bytes uint64) int {
	if bytes == 0 {
		return 0
	}
	return bits.Len64(bytes) - 1
}

const (
	numBuckets = 64
	maxWindow  = 32
)

// ModelConfig tunes the cost model. Zero fields take the defaults.
type ModelConfig struct {
	// Window is how many recent samples per (kernel, device, bucket) the
	// median is taken over (default 15, at most 32).
	Window int
	// MinSamples is how many samples make a bucket trusted (default 3).
	MinSamples int
}

func (c *ModelConfig) defaults() {
	if c.Window <= 0 {
		c.Window = 15
	}
	if c.Window > maxWindow {
		c.Window = maxWindow
	}
	if c.MinSamples <= 0 {
		c.MinSamples = 3
	}
}

// window holds the last samples (throughput in bytes/s) and their median.
// The median is what the model uses, so a single outlier, however large,
// cannot move an estimate once a bucket holds three or more samples.
type window struct {
	buf     [maxWindow]float64
	n, next int
	median  float64
	total   uint64 // samples ever added
	lastSeq uint64 // key sequence number at the last sample (+1; 0 = never)
}

func (w *window) add(x float64, size int) {
	w.buf[w.next] = x
	w.next = (w.next + 1) % size
	if w.n < size {
		w.n++
	}
	w.total++
	var tmp [maxWindow]float64
	copy(tmp[:w.n], w.buf[:w.n])
	// insertion sort: n <= 32
	for i := 1; i < w.n; i++ {
		for j := i; j > 0 && tmp[j] < tmp[j-1]; j-- {
			tmp[j], tmp[j-1] = tmp[j-1], tmp[j]
		}
	}
	if w.n%2 == 1 {
		w.median = tmp[w.n/2]
	} else {
		w.median = (tmp[w.n/2-1] + tmp[w.n/2]) / 2
	}
}

// kernelModel is the history of one kernel: per device, per size bucket.
type kernelModel struct {
	devs   [][numBuckets]window
	seq    [numBuckets]uint64 // decisions made per bucket
	energy energyModel        // joules per byte per device (energy.go)
}

// costModel is the history of measured throughput per (kernel, device, size
// bucket). Not safe for concurrent use: the Dispatcher guards it.
type costModel struct {
	cfg     ModelConfig
	ndev    int
	kernels map[string]*kernelModel
}

func newCostModel(cfg ModelConfig, ndev int) *costModel {
	cfg.defaults()
	return &costModel{cfg: cfg, ndev: ndev, kernels: make(map[string]*kernelModel)}
}

func (m *costModel) kernel(name string) *kernelModel {
	k := m.kernels[name]
	if k == nil {
		k = &kernelModel{devs: make([][numBuckets]window, m.ndev)}
		m.kernels[name] = k
	}
	return k
}

// add records one measured compute time. Samples with no duration are
// ignored (they carry no information about throughput).
func (m *costModel) add(k *kernelModel, dev int, bytes uint64, compute time.Duration) {
	if compute <= 0 || bytes == 0 {
		return
	}
	b := Bucket(bytes)
	w := &k.devs[dev][b]
	w.add(float64(bytes)/compute.Seconds(), m.cfg.Window)
	w.lastSeq = k.seq[b] + 1
}

// estimate returns the compute time for bytes on dev, the exact bucket's
// sample count, whether that bucket is trusted, and whether any estimate
// exists. A trusted bucket (MinSamples or more) gives the median of its
// window. Otherwise the estimate comes from the samples that exist, preferring
// trusted buckets: the exact bucket's median if it has samples; else, with
// two or more other buckets, the line time = latency + size/throughput
// through the two nearest (so launch latency is modelled); with one bucket,
// an optimistic scaling of its time to the size (square root of the size
// ratio above it, linear below it).
//
// Untrusted estimates are deliberately optimistic: an optimistic estimate
// gets the device chosen and so measured (self-correcting), while a
// pessimistic one could keep a fast device from ever being tried (StarPU's
// poisoned-model failure). A single sample is enough to give an estimate, so
// calibration costs one call per (kernel, device), not three per size bucket.
func (m *costModel) estimate(k *kernelModel, dev int, bytes uint64) (d time.Duration, samples int, trusted, ok bool) {
	b := Bucket(bytes)
	ws := &k.devs[dev]
	w := &ws[b]
	samples = w.n
	var sec float64
	switch {
	case w.n >= m.cfg.MinSamples:
		sec, trusted = float64(bytes)/w.median, true
	case w.n > 0:
		sec = float64(bytes) / w.median
	default:
		// The two nearest buckets with samples, trusted ones first.
		n1, n2 := -1, -1
		for _, minN := range [2]int{m.cfg.MinSamples, 1} {
			for dist := 1; dist < numBuckets && n2 < 0; dist++ {
				for _, nb := range [2]int{b - dist, b + dist} {
					if nb >= 0 && nb < numBuckets && ws[nb].n >= minN && nb != n1 {
						if n1 < 0 {
							n1 = nb
						} else if n2 < 0 {
							n2 = nb
						}
					}
				}
			}
			if n2 >= 0 {
				break
			}
		}
		if n1 < 0 {
			return 0, samples, false, false
		}
		// Representative size of a bucket: 1.5 * 2^bucket.
		size := float64(bytes)
		s1 := 1.5 * math.Exp2(float64(n1))
		t1 := s1 / ws[n1].median
		slope := -1.0
		if n2 >= 0 {
			s2 := 1.5 * math.Exp2(float64(n2))
			slope = (s2/ws[n2].median - t1) / (s2 - s1)
		}
		switch {
		case slope > 0:
			sec = max(0, t1-slope*s1) + slope*size
		case size > s1:
			sec = t1 * math.Sqrt(size/s1)
		default:
			sec = t1 * size / s1
		}
	}
	if sec > math.MaxInt64/1e9 {
		sec = math.MaxInt64 / 1e9
	}
	return time.Duration(sec * 1e9), samples, trusted, true
}
