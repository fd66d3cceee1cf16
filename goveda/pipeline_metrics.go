package goveda

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
	"github.com/veda-runtime/veda/goveda/internal/relaxed"
)

// Per-pipeline and per-stage metrics. Counters are atomics updated by the tasks of a run; every
// one of them is a plain counter or a monotone maximum with no ordering role (a snapshot may be
// mid-run). Peaks are since the pipeline was created.

// PipelineStats is a snapshot of one pipeline's metrics (Pipeline.Stats, Metrics.Pipelines).
type PipelineStats struct {
	Name              string               `json:"name"`
	Runs              uint64               `json:"runs"`
	ItemsRead         uint64               `json:"items_read"`    // items the source produced
	ItemsPassed       uint64               `json:"items_passed"`  // items that passed the last stage
	ItemsDropped      uint64               `json:"items_dropped"` // items given to Drop
	PeakInFlight      int64                `json:"peak_in_flight"`
	PeakBytesInFlight uint64               `json:"peak_bytes_in_flight"`
	MaxInFlight       int64                `json:"max_in_flight"`       // the last run's bound
	MaxBytesInFlight  uint64               `json:"max_bytes_in_flight"` // the last run's bound
	Stages            []PipelineStageStats `json:"stages"`
}

// PipelineStageStats is a snapshot of one stage's metrics.
type PipelineStageStats struct {
	Name           string `json:"name"`
	Index          int    `json:"index"`
	Mode           string `json:"mode"`
	Items          uint64 `json:"items"`            // items the stage body ran on (failed ones included)
	Failed         uint64 `json:"failed"`           // items that failed in the stage
	BusyNs         int64  `json:"busy_ns"`          // time in the stage body, summed over items (sampled: 1 item in 32, scaled)
	WaitNs         int64  `json:"wait_ns"`          // time items waited for the stage (stash, task queue; sampled likewise)
	PeakQueueDepth int64  `json:"peak_queue_depth"` // most items waiting for the stage at once
	// DeviceItems counts, for a hybrid stage, the items run on each device index (0: the CPU).
	DeviceItems map[int]uint64 `json:"device_items,omitempty"`
}

type stageStats struct {
	name  string
	index int
	mode  StageMode

	// items: a parallel stage counts into par, a slot per worker (each written only by its
	// worker: a relaxed load+store, no read-modify-write on a line the workers share; measured:
	// the shared add was a few percent of a C pipeline's per-item cost), and items from any other
	// goroutine with an add; a serial stage counts here with a relaxed load+store (one holder at
	// a time, ordered by serialState's hand-off). Snapshots add them up.
	items     atomic.Uint64
	par       []paddedCount // len = the runtime's workers
	failed    atomic.Uint64 // add: counter
	busyNs    atomic.Int64  // add: counter
	waitNs    atomic.Int64  // add: counter
	depth     atomic.Int64  // add: items waiting for the stage now
	peakDepth atomic.Int64  // CAS-max: monotone

	devMu    sync.Mutex
	devItems map[int]uint64 // guarded by devMu (hybrid stages)
}

// paddedCount is one worker's counter, on its own cache line.
type paddedCount struct {
	n atomic.Uint64
	_ [56]byte
}

// ranItem counts one item that ran the stage's body. wid is the worker running it, or -1 (any
// other goroutine). Serial stages: the stage's current holder only.
func (s *stageStats) ranItem(wid int) {
	switch {
	case s.mode != StageParallel:
		relaxed.StoreUint64(&s.items, s.items.Load()+1) // load+store: one holder at a time
	case wid >= 0 && wid < len(s.par):
		c := &s.par[wid].n
		relaxed.StoreUint64(c, c.Load()+1) // load+store: only worker wid writes its slot
	default:
		s.items.Add(1) // add: any goroutine
	}
}

// itemCount is the number of items that ran the stage's body. Any goroutine (a snapshot).
func (s *stageStats) itemCount() uint64 {
	n := s.items.Load()
	for i := range s.par {
		n += s.par[i].n.Load()
	}
	return n
}

func (s *stageStats) ran(ns int64) { s.busyNs.Add(ns) }

func (s *stageStats) waited(ns int64) { s.waitNs.Add(ns) }

// queued adds d items to the stage's queue depth and raises the peak.
func (s *stageStats) queued(d int) {
	n := s.depth.Add(int64(d))
	if d > 0 {
		casMax(&s.peakDepth, n)
	}
}

func (s *stageStats) onDevice(dev int) {
	s.devMu.Lock()
	if s.devItems == nil {
		s.devItems = map[int]uint64{}
	}
	s.devItems[dev]++
	s.devMu.Unlock()
}

func casMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load() // load: CAS-max loop
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

type pipelineStats struct {
	name string

	mu     sync.Mutex
	stages []*stageStats // guarded by mu (appended by Stage)

	runs atomic.Uint64 // add: counter
	// Written only under the running run's admission lock (prun.mu; one run at a time per
	// pipeline), so each update is a load and a relaxed store (the unlock orders it for the
	// next writer), not a read-modify-write; snapshot loads.
	read     atomic.Uint64
	passedN  atomic.Uint64
	droppedN atomic.Uint64
	peakN    atomic.Int64  // monotone
	peakB    atomic.Int64  // monotone (bytes, as int64)
	maxItems atomic.Int64  // store per run: snapshot
	maxBytes atomic.Uint64 // store per run: snapshot
}

// stage adds the statistics of stage i, which runs on a pool of workers (one items slot each).
func (p *pipelineStats) stage(i int, name string, mode StageMode, workers int) *stageStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &stageStats{name: name, index: i, mode: mode, par: make([]paddedCount, workers)}
	p.stages = append(p.stages, s)
	return s
}

// resetStages forgets the stages (a Graph recompiles its stages).
func (p *pipelineStats) resetStages() {
	p.mu.Lock()
	p.stages = nil
	p.mu.Unlock()
}

func (p *pipelineStats) runStarted(items int64, bytes uint64) {
	p.runs.Add(1)
	p.maxItems.Store(items)
	p.maxBytes.Store(bytes)
}

// readLocked counts one item read, n items now alive. Caller holds the run's admission lock.
func (p *pipelineStats) readLocked(n int64) {
	relaxed.StoreUint64(&p.read, p.read.Load()+1) // load+store: see the fields
	if n > p.peakN.Load() {
		relaxed.StoreInt64(&p.peakN, n)
	}
}

// peakBytesLocked raises the peak of bytes in flight to b. Caller holds the run's admission lock.
func (p *pipelineStats) peakBytesLocked(b uint64) {
	if v := int64(min(b, 1<<63-1)); v > p.peakB.Load() {
		relaxed.StoreInt64(&p.peakB, v)
	}
}

// endedLocked counts one item that passed the last stage or was dropped. Caller holds the run's
// admission lock.
func (p *pipelineStats) endedLocked(passed bool) {
	if passed {
		relaxed.StoreUint64(&p.passedN, p.passedN.Load()+1)
	} else {
		relaxed.StoreUint64(&p.droppedN, p.droppedN.Load()+1)
	}
}

func (p *pipelineStats) snapshot() PipelineStats {
	out := PipelineStats{Name: p.name, Runs: p.runs.Load(), ItemsRead: p.read.Load(), ItemsPassed: p.passedN.Load(),
		ItemsDropped: p.droppedN.Load(), PeakInFlight: p.peakN.Load(), PeakBytesInFlight: uint64(p.peakB.Load()),
		MaxInFlight: p.maxItems.Load(), MaxBytesInFlight: p.maxBytes.Load()}
	p.mu.Lock()
	stages := append([]*stageStats(nil), p.stages...)
	p.mu.Unlock()
	for _, s := range stages {
		ss := PipelineStageStats{Name: s.name, Index: s.index, Mode: s.mode.String(), Items: s.itemCount(),
			Failed: s.failed.Load(), BusyNs: s.busyNs.Load(), WaitNs: s.waitNs.Load(), PeakQueueDepth: s.peakDepth.Load()}
		s.devMu.Lock()
		if len(s.devItems) > 0 {
			ss.DeviceItems = map[int]uint64{}
			for k, v := range s.devItems {
				ss.DeviceItems[k] = v
			}
		}
		s.devMu.Unlock()
		out.Stages = append(out.Stages, ss)
	}
	return out
}

// Stats returns a snapshot of the pipeline's metrics. Any goroutine.
func (p *Pipeline[T]) Stats() PipelineStats { return p.stats.snapshot() }

// pipeReg is a runtime's set of live pipelines (their stats) and its cached profile defaults.
type pipeReg struct {
	mu    sync.Mutex
	live  []*pipelineStats // guarded by mu; a pipeline is removed when it is garbage collected
	count int              // guarded by mu: names "pipeline-N"

	defOnce  sync.Once
	defItems int64
	defBytes uint64
}

var pipeRegs sync.Map // *Runtime -> *pipeReg

func pipelineRegistry(rt *Runtime) *pipeReg {
	if g, ok := pipeRegs.Load(rt); ok {
		return g.(*pipeReg)
	}
	g, _ := pipeRegs.LoadOrStore(rt, &pipeReg{})
	return g.(*pipeReg)
}

// registerPipeline creates the stats of a new pipeline named name ("pipeline-N" if empty).
func registerPipeline(rt *Runtime, name string) (*pipelineStats, string) {
	g := pipelineRegistry(rt)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.count++
	if name == "" {
		name = fmt.Sprintf("pipeline-%d", g.count)
	}
	st := &pipelineStats{name: name}
	g.live = append(g.live, st)
	return st, name
}

func (g *pipeReg) remove(st *pipelineStats) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, s := range g.live {
		if s == st {
			g.live = append(g.live[:i], g.live[i+1:]...)
			return
		}
	}
}

// pipelineDefaults returns the profile's in-flight segments and memory budget (the bounds of a
// pipeline that sets none). The device layer's profile if it was built, else a profile computed
// once for the pipelines (without device discovery). Any goroutine.
func (rt *Runtime) pipelineDefaults() (int64, uint64) {
	if rt.dev.ready.Load() { // load-acquire: pairs with the store in initDevices
		p := rt.dev.profile
		return int64(p.InflightSegments), p.MemoryBudget
	}
	g := pipelineRegistry(rt)
	g.defOnce.Do(func() {
		g.defItems, g.defBytes = dispatch.DefaultInflightCap, 1<<30
		p, err := dispatch.DynamicProfile(0, rt.cfg.MemFraction, 0, dispatch.WithConfig(dispatch.ProfileConfig{
			Workers: rt.userWorkers, MemFraction: rt.cfg.MemFraction}))
		if err == nil {
			g.defItems, g.defBytes = int64(p.InflightSegments), p.MemoryBudget
		}
		if g.defBytes == 0 {
			g.defBytes = 1 << 30
		}
	})
	return g.defItems, g.defBytes
}

// pipelineMetrics returns the stats of rt's live pipelines, merged by name, sorted by name.
func pipelineMetrics(rt *Runtime) []PipelineStats {
	v, ok := pipeRegs.Load(rt)
	if !ok {
		return nil
	}
	g := v.(*pipeReg)
	g.mu.Lock()
	live := append([]*pipelineStats(nil), g.live...)
	g.mu.Unlock()
	byName := map[string]*PipelineStats{}
	var names []string
	for _, st := range live {
		s := st.snapshot()
		m, ok := byName[s.Name]
		if !ok {
			byName[s.Name] = &s
			names = append(names, s.Name)
			continue
		}
		mergePipelineStats(m, &s)
	}
	sort.Strings(names)
	out := make([]PipelineStats, 0, len(names))
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out
}

// mergePipelineStats adds s into m (pipelines sharing a name): counters add, peaks take the max,
// stages merge by index.
func mergePipelineStats(m, s *PipelineStats) {
	m.Runs += s.Runs
	m.ItemsRead += s.ItemsRead
	m.ItemsPassed += s.ItemsPassed
	m.ItemsDropped += s.ItemsDropped
	m.PeakInFlight = max(m.PeakInFlight, s.PeakInFlight)
	m.PeakBytesInFlight = max(m.PeakBytesInFlight, s.PeakBytesInFlight)
	m.MaxInFlight = max(m.MaxInFlight, s.MaxInFlight)
	m.MaxBytesInFlight = max(m.MaxBytesInFlight, s.MaxBytesInFlight)
	for i, st := range s.Stages {
		if i >= len(m.Stages) {
			m.Stages = append(m.Stages, st)
			continue
		}
		d := &m.Stages[i]
		d.Items += st.Items
		d.Failed += st.Failed
		d.BusyNs += st.BusyNs
		d.WaitNs += st.WaitNs
		d.PeakQueueDepth = max(d.PeakQueueDepth, st.PeakQueueDepth)
		for k, v := range st.DeviceItems {
			if d.DeviceItems == nil {
				d.DeviceItems = map[int]uint64{}
			}
			d.DeviceItems[k] += v
		}
	}
}

// promLabel escapes a Prometheus label value.
func promLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// writePipelinePrometheus renders the pipelines' metrics, labelled by pipeline and stage.
func writePipelinePrometheus(b *strings.Builder, ps []PipelineStats) {
	if len(ps) == 0 {
		return
	}
	pm := func(name, typ, help string, v func(p *PipelineStats) float64) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for i := range ps {
			fmt.Fprintf(b, "%s{pipeline=\"%s\"} %s\n", name, promLabel(ps[i].Name), strconv.FormatFloat(v(&ps[i]), 'g', -1, 64))
		}
	}
	pm("veda_pipeline_runs_total", "counter", "Pipeline runs started.", func(p *PipelineStats) float64 { return float64(p.Runs) })
	pm("veda_pipeline_items_read_total", "counter", "Items the pipeline's source produced.", func(p *PipelineStats) float64 { return float64(p.ItemsRead) })
	pm("veda_pipeline_items_passed_total", "counter", "Items that passed the last stage.", func(p *PipelineStats) float64 { return float64(p.ItemsPassed) })
	pm("veda_pipeline_items_dropped_total", "counter", "Items dropped (failure, cancellation).", func(p *PipelineStats) float64 { return float64(p.ItemsDropped) })
	pm("veda_pipeline_peak_items_in_flight", "gauge", "Most items alive at once.", func(p *PipelineStats) float64 { return float64(p.PeakInFlight) })
	pm("veda_pipeline_peak_bytes_in_flight", "gauge", "Most declared bytes admitted at once.", func(p *PipelineStats) float64 { return float64(p.PeakBytesInFlight) })
	pm("veda_pipeline_max_items_in_flight", "gauge", "The last run's item bound.", func(p *PipelineStats) float64 { return float64(p.MaxInFlight) })
	pm("veda_pipeline_max_bytes_in_flight", "gauge", "The last run's byte bound.", func(p *PipelineStats) float64 { return float64(p.MaxBytesInFlight) })
	sm := func(name, typ, help string, v func(s *PipelineStageStats) float64) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for i := range ps {
			for j := range ps[i].Stages {
				s := &ps[i].Stages[j]
				fmt.Fprintf(b, "%s{pipeline=\"%s\",stage=\"%s\"} %s\n", name, promLabel(ps[i].Name), promLabel(s.Name), strconv.FormatFloat(v(s), 'g', -1, 64))
			}
		}
	}
	sm("veda_pipeline_stage_items_total", "counter", "Items a stage ran on.", func(s *PipelineStageStats) float64 { return float64(s.Items) })
	sm("veda_pipeline_stage_failed_total", "counter", "Items that failed in a stage.", func(s *PipelineStageStats) float64 { return float64(s.Failed) })
	sm("veda_pipeline_stage_busy_seconds_total", "counter", "Time in a stage's body.", func(s *PipelineStageStats) float64 { return float64(s.BusyNs) / 1e9 })
	sm("veda_pipeline_stage_wait_seconds_total", "counter", "Time items waited for a stage.", func(s *PipelineStageStats) float64 { return float64(s.WaitNs) / 1e9 })
	sm("veda_pipeline_stage_peak_queue_depth", "gauge", "Most items waiting for a stage at once.", func(s *PipelineStageStats) float64 { return float64(s.PeakQueueDepth) })
	hybrid := false
	for i := range ps {
		for j := range ps[i].Stages {
			hybrid = hybrid || len(ps[i].Stages[j].DeviceItems) > 0
		}
	}
	if hybrid {
		name := "veda_pipeline_stage_device_items_total"
		fmt.Fprintf(b, "# HELP %s Items a hybrid stage ran on each device.\n# TYPE %s counter\n", name, name)
		for i := range ps {
			for j := range ps[i].Stages {
				s := &ps[i].Stages[j]
				devs := make([]int, 0, len(s.DeviceItems))
				for d := range s.DeviceItems {
					devs = append(devs, d)
				}
				sort.Ints(devs)
				for _, d := range devs {
					fmt.Fprintf(b, "%s{pipeline=\"%s\",stage=\"%s\",device=\"%d\"} %d\n", name, promLabel(ps[i].Name), promLabel(s.Name), d, s.DeviceItems[d])
				}
			}
		}
	}
}
