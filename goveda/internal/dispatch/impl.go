package dispatch

import (
	"sort"
	"sync"
	"time"
)

// ImplChooser picks, per (kernel, device, size bucket), the fastest of several implementations
// of one kernel by measurement: VEDA's own C kernel or a vendor library's (OpenBLAS sgemm, ...).
// It is the cost model's idea one level down: where the dispatcher picks the device, the chooser
// picks the code that runs on it.
//
// Protocol of one call:
//  1. Choose(kernel, device, work, impls) returns an index into impls. While an implementation
//     of that (kernel, device, bucket) has fewer than implTrials samples, it is the one chosen
//     (in impls order), so calibration costs implTrials calls per implementation and bucket.
//  2. After that the implementation with the lowest median time per unit of work is chosen;
//     every implExploreEvery-th call of a bucket re-measures the runner-up with the oldest
//     sample, so a choice made on a noisy machine can be revised (at most 1/32 of calls).
//  3. The caller times the call and reports it with Report (seconds for its work).
//
// Every call computes the right result whatever was chosen: trials are real calls. Any
// goroutine; Choose and Report take a mutex for about 100 ns.
type ImplChooser struct {
	mu    sync.Mutex
	slots map[implKey]*implSlot
}

const (
	implTrials       = 2  // samples per implementation before the choice is measured
	implExploreEvery = 32 // every Nth call of a bucket re-measures a runner-up
	implWindow       = 9  // samples per implementation the median is taken over
)

type implKey struct {
	kernel string
	device int
	bucket int
	impls  string // the candidate names joined: a different candidate list is another slot
}

type implSlot struct {
	names []string
	w     []window // seconds per unit of work (as "throughput" = work/second in window)
	last  []uint64 // call number of each implementation's last sample
	calls uint64
}

// NewImplChooser returns an empty chooser.
func NewImplChooser() *ImplChooser { return &ImplChooser{slots: map[implKey]*implSlot{}} }

func joinNames(impls []string) string {
	n := 0
	for _, s := range impls {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for _, s := range impls {
		b = append(b, s...)
		b = append(b, 0)
	}
	return string(b)
}

func (c *ImplChooser) slot(kernel string, device int, work float64, impls []string) *implSlot {
	k := implKey{kernel, device, Bucket(uint64(max(work, 1))), joinNames(impls)}
	s := c.slots[k]
	if s == nil {
		s = &implSlot{names: append([]string(nil), impls...), w: make([]window, len(impls)), last: make([]uint64, len(impls))}
		c.slots[k] = s
	}
	return s
}

// Choose returns the index in impls of the implementation to run for a call of work units
// (flops, bytes: any measure proportional to the cost) of kernel on device. One candidate:
// 0 without bookkeeping. Any goroutine.
func (c *ImplChooser) Choose(kernel string, device int, work float64, impls []string) int {
	if len(impls) <= 1 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slot(kernel, device, work, impls)
	s.calls++
	for i := range s.w {
		if s.w[i].total < implTrials {
			return i
		}
	}
	best := s.best()
	if s.calls%implExploreEvery == 0 {
		oldest := -1
		for i := range s.w {
			if i != best && (oldest < 0 || s.last[i] < s.last[oldest]) {
				oldest = i
			}
		}
		return oldest
	}
	return best
}

// best returns the implementation with the highest median work per second.
func (s *implSlot) best() int {
	b := 0
	for i := range s.w {
		if s.w[i].median > s.w[b].median {
			b = i
		}
	}
	return b
}

// Report records that impls[idx] did work units in d. Durations <= 0 are ignored.
func (c *ImplChooser) Report(kernel string, device int, work float64, impls []string, idx int, d time.Duration) {
	if len(impls) <= 1 || idx < 0 || idx >= len(impls) || d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slot(kernel, device, work, impls)
	s.w[idx].add(max(work, 1)/d.Seconds(), implWindow)
	s.last[idx] = s.calls
}

// ImplStat is one implementation's measurements in one bucket, for `veda info` and explain.
type ImplStat struct {
	Kernel  string  `json:"kernel"`
	Device  int     `json:"device"`
	Bucket  int     `json:"bucket"` // floor(log2(work))
	Impl    string  `json:"impl"`
	Samples uint64  `json:"samples"`
	Rate    float64 `json:"work_per_second"` // median
	Chosen  bool    `json:"chosen"`          // the current choice of its bucket
}

// Stats returns every measured implementation, sorted by kernel, device, bucket, impl order.
func (c *ImplChooser) Stats() []ImplStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ImplStat
	for k, s := range c.slots {
		b := s.best()
		for i, n := range s.names {
			out = append(out, ImplStat{Kernel: k.kernel, Device: k.device, Bucket: k.bucket, Impl: n,
				Samples: s.w[i].total, Rate: s.w[i].median, Chosen: i == b && s.w[i].total > 0})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kernel != b.Kernel {
			return a.Kernel < b.Kernel
		}
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		return a.Bucket < b.Bucket
	})
	return out
}

// ImplWindow is the saved measurements of one (kernel, device, bucket) slot of an ImplChooser:
// per implementation (in Impls order), work-per-second samples, oldest first.
type ImplWindow struct {
	Kernel  string      `json:"kernel"`
	Device  int         `json:"-"`
	Bucket  int         `json:"bucket"`
	Impls   []string    `json:"impls"`
	Samples [][]float64 `json:"samples"`
}

// Export returns every slot with samples. Any goroutine.
func (c *ImplChooser) Export() []ImplWindow {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ImplWindow
	for k, s := range c.slots {
		w := ImplWindow{Kernel: k.kernel, Device: k.device, Bucket: k.bucket, Impls: append([]string(nil), s.names...)}
		any := false
		for i := range s.w {
			win := &s.w[i]
			start := 0
			if win.n == implWindow {
				start = win.next
			}
			xs := make([]float64, 0, win.n)
			for j := 0; j < win.n; j++ {
				xs = append(xs, win.buf[(start+j)%implWindow])
			}
			any = any || len(xs) > 0
			w.Samples = append(w.Samples, xs)
		}
		if any {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kernel != out[j].Kernel {
			return out[i].Kernel < out[j].Kernel
		}
		if out[i].Device != out[j].Device {
			return out[i].Device < out[j].Device
		}
		return out[i].Bucket < out[j].Bucket
	})
	return out
}

// Import adds saved slots to slots that have no samples yet; invalid ones (bad bucket, sample
// lists not matching Impls, non-positive samples) are skipped. Returns how many were imported.
// Any goroutine.
func (c *ImplChooser) Import(ws []ImplWindow) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, w := range ws {
		if w.Kernel == "" || len(w.Impls) < 2 || len(w.Samples) != len(w.Impls) || w.Bucket < 0 || w.Bucket >= numBuckets {
			continue
		}
		ok := true
		for _, xs := range w.Samples {
			for _, x := range xs {
				ok = ok && x > 0 && x < 1e300
			}
		}
		if !ok {
			continue
		}
		k := implKey{w.Kernel, w.Device, w.Bucket, joinNames(w.Impls)}
		if s := c.slots[k]; s != nil {
			continue
		}
		s := &implSlot{names: append([]string(nil), w.Impls...), w: make([]window, len(w.Impls)), last: make([]uint64, len(w.Impls))}
		for i, xs := range w.Samples {
			if len(xs) > implWindow {
				xs = xs[len(xs)-implWindow:]
			}
			for _, x := range xs {
				s.w[i].add(x, implWindow)
			}
		}
		c.slots[k] = s
		n++
	}
	return n
}
