package goveda

import (
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// KernelTime is the distribution of one device's kernel-call wall times (from the dispatch
// decision's start to the result, transfers included).
type KernelTime struct {
	Device int   `json:"device"`
	Count  int64 `json:"count"`
	SumNs  int64 `json:"sum_ns"`
	P50Ns  int64 `json:"p50_ns"`
	P99Ns  int64 `json:"p99_ns"`
	P999Ns int64 `json:"p999_ns"`
}

// kernelTimes keeps a histogram per device. Kernel calls take microseconds at least, so one
// mutex is cheap beside them. Any goroutine.
type kernelTimes struct {
	mu  sync.Mutex
	h   map[int]*hdrhistogram.Histogram
	sum map[int]int64
}

// record adds one call of d on device dev.
func (k *kernelTimes) record(dev int, d time.Duration) {
	ns := int64(d)
	if ns < 1 {
		ns = 1
	}
	k.mu.Lock()
	if k.h == nil {
		k.h, k.sum = map[int]*hdrhistogram.Histogram{}, map[int]int64{}
	}
	h := k.h[dev]
	if h == nil {
		h = hdrhistogram.New(1, 3_600_000_000_000, 2)
		k.h[dev] = h
	}
	_ = h.RecordValue(ns)
	k.sum[dev] += ns
	k.mu.Unlock()
}

// snapshot returns the per-device quantiles, by device index.
func (k *kernelTimes) snapshot() []KernelTime {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []KernelTime
	for _, dev := range slices.Sorted(func(yield func(int) bool) {
		for d := range k.h {
			if !yield(d) {
				return
			}
		}
	}) {
		h := k.h[dev]
		out = append(out, KernelTime{Device: dev, Count: h.TotalCount(), SumNs: k.sum[dev],
			P50Ns: h.ValueAtQuantile(50), P99Ns: h.ValueAtQuantile(99), P999Ns: h.ValueAtQuantile(99.9)})
	}
	return out
}
