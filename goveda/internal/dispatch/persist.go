package dispatch

import "sort"

// Persisting the cost model (StarPU keeps its performance models the same way): the integration
// layer exports the measured windows, saves them per machine, and imports them into the next
// process's dispatcher before its first call, so that it places calls as a calibrated one does.

// ModelWindow is the measured history of one (kernel, device, size bucket): throughput samples
// in bytes/s, oldest first (at most the window size).
type ModelWindow struct {
	Kernel  string    `json:"kernel"`
	Device  int       `json:"-"` // device index in this dispatcher; the caller maps it to a stable key
	Bucket  int       `json:"bucket"`
	Samples []float64 `json:"samples"`
}

// ExportModel returns every non-empty window of the cost model, sorted by kernel, device and
// bucket. Any goroutine; takes the lock for O(windows).
func (d *Dispatcher) ExportModel() []ModelWindow {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []ModelWindow
	for name, km := range d.model.kernels {
		for dev := range km.devs {
			for b := range km.devs[dev] {
				w := &km.devs[dev][b]
				if w.n == 0 {
					continue
				}
				size := d.model.cfg.Window
				s := make([]float64, 0, w.n)
				// Oldest first: the ring's next slot holds the oldest once it is full.
				start := 0
				if w.n == size {
					start = w.next
				}
				for i := 0; i < w.n; i++ {
					s = append(s, w.buf[(start+i)%size])
				}
				out = append(out, ModelWindow{Kernel: name, Device: dev, Bucket: b, Samples: s})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
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

// ImportModel adds saved windows to the cost model: each sample is added as if measured, in
// order, to a window that has no samples of its own yet (windows this process measured are
// kept). Windows naming a device or bucket that does not exist, or holding a sample that is not
// a positive finite throughput, are skipped. Imported windows count as never measured in this
// process, so exploration re-measures them after ExploreEvery calls. Returns how many windows
// were imported. Any goroutine.
func (d *Dispatcher) ImportModel(ws []ModelWindow) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, mw := range ws {
		if mw.Device < 0 || mw.Device >= len(d.devs) || mw.Bucket < 0 || mw.Bucket >= numBuckets || len(mw.Samples) == 0 || mw.Kernel == "" {
			continue
		}
		ok := true
		for _, x := range mw.Samples {
			if !(x > 0 && x < 1e300) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		km := d.model.kernel(mw.Kernel)
		w := &km.devs[mw.Device][mw.Bucket]
		if w.n > 0 {
			continue
		}
		samples := mw.Samples
		if len(samples) > d.model.cfg.Window {
			samples = samples[len(samples)-d.model.cfg.Window:]
		}
		for _, x := range samples {
			w.add(x, d.model.cfg.Window)
		}
		w.lastSeq = 0
		n++
	}
	return n
}
