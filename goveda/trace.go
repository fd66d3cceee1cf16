package goveda

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/device"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
	"github.com/veda-runtime/veda/goveda/internal/sched"
	"github.com/veda-runtime/veda/goveda/internal/trace"
)

// TraceOptions configure StartTrace. The zero value is valid.
type TraceOptions struct {
	// MaxEvents bounds the events kept in memory (default 1,000,000, about 64 MB). When full,
	// the oldest events are dropped and the file records how many (otherData.dropped_events).
	MaxEvents int
}

// traceState is a runtime's tracing: at most one trace at a time.
type traceState struct {
	mu   sync.Mutex
	rec  *trace.Recorder // guarded by mu; the one being recorded, or nil
	out  io.Writer       // where StopTrace writes it
	file *os.File        // non-nil when StartTraceFile opened out
	path string
	unix int64
}

// StartTrace starts recording a timeline of rt: task and chunk runs per worker, waits (helping
// or idle), parking, steals (flow arrows from the victim to the thief), dispatch decisions,
// kernel runs and transfers per device engine, pipeline stage runs, adaptive resizes and
// errors. StopTrace writes it to w as Chrome trace-event JSON, which Perfetto
// (ui.perfetto.dev) and chrome://tracing open. A join half that runs inline on the worker that
// forked it is part of its parent's slice (as a plain call would be); a stolen half is a slice of
// its own with a steal arrow.
//
// Errors: a trace already running (ErrInvalidArgument), a negative MaxEvents
// (ErrInvalidArgument), a closed runtime (ErrClosed). Cost while on: tens of nanoseconds per
// recorded event (one clock read and a slot write, no lock on workers); off, one branch.
// Any goroutine.
func (rt *Runtime) StartTrace(w io.Writer, opts TraceOptions) error {
	if w == nil {
		return invalidf("StartTrace: the writer is nil")
	}
	return rt.startTrace(w, nil, "", opts)
}

// StartTraceFile is StartTrace to a file: path is created (or truncated) now, so an unwritable
// path is an error here, not at StopTrace. Any goroutine.
func (rt *Runtime) StartTraceFile(path string, opts TraceOptions) error {
	if path == "" {
		return invalidf("trace path is empty")
	}
	if err := rt.checkOpen(); err != nil {
		return err
	}
	rt.tr.mu.Lock()
	busy := rt.tr.rec != nil
	rt.tr.mu.Unlock()
	if busy {
		return invalidf("a trace is already running (to %s); stop it first", rt.tr.describe())
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%w: cannot write the trace to %s: %v", ErrInvalidArgument, path, errors.Unwrap(err))
	}
	if err := rt.startTrace(f, f, path, opts); err != nil {
		f.Close()
		return err
	}
	return nil
}

func (t *traceState) describe() string {
	if t.path != "" {
		return t.path
	}
	return "a writer"
}

func (rt *Runtime) startTrace(w io.Writer, f *os.File, path string, opts TraceOptions) error {
	if err := rt.checkOpen(); err != nil {
		return err
	}
	if opts.MaxEvents < 0 {
		return invalidf("TraceOptions.MaxEvents is %d, must be >= 0", opts.MaxEvents)
	}
	rec, err := trace.NewRecorder(rt.pool.Workers(), rt.pool.Now(), trace.Options{MaxEvents: opts.MaxEvents})
	if err != nil {
		return invalidf("trace options: %v", err)
	}
	rt.tr.mu.Lock()
	defer rt.tr.mu.Unlock()
	if rt.tr.rec != nil {
		return invalidf("a trace is already running (to %s); stop it first", rt.tr.describe())
	}
	rt.tr.rec, rt.tr.out, rt.tr.file, rt.tr.path, rt.tr.unix = rec, w, f, path, time.Now().UnixNano()
	rt.traceTracks(rec)
	rt.pool.SetTracer(rec) // trace points that load it see a ready recorder (see sched/trace.go)
	return nil
}

// traceTracks names the device tracks that exist now (more are named as they are used).
func (rt *Runtime) traceTracks(rec *trace.Recorder) {
	if !rt.dev.ready.Load() { // load (acquire): infos is complete once ready
		return
	}
	for _, d := range rt.dev.infos {
		rt.nameDeviceTracks(rec, d.Index)
	}
}

// nameDeviceTracks names device d's engine tracks if they have no name yet. Any goroutine.
func (rt *Runtime) nameDeviceTracks(rec *trace.Recorder, d int) {
	name := "cpu"
	if rt.dev.ready.Load() && d < len(rt.dev.infos) { // load (acquire): infos is complete once ready
		name = rt.dev.infos[d].Kind.String()
	}
	if d == 0 {
		rec.NameTrackOnce(trace.TrackDevice(0, trace.EngineCompute), func() string { return "device 0 (cpu): kernels" })
		return
	}
	for _, e := range []struct {
		eng  trace.Engine
		what string
	}{{trace.EngineCompute, "compute"}, {trace.EngineH2D, "H2D"}, {trace.EngineD2H, "D2H"}} {
		rec.NameTrackOnce(trace.TrackDevice(d, e.eng), func() string { return fmt.Sprintf("device %d (%s): %s", d, name, e.what) })
	}
}

// StopTrace stops the trace and writes it (to the writer given to StartTrace, or the file of
// StartTraceFile, which it then closes). ErrInvalidArgument when no trace is running; a write
// error is returned as it is. Any goroutine; blocks while it writes (about 1 s per million
// events).
func (rt *Runtime) StopTrace() error {
	rt.tr.mu.Lock()
	rec, out, f, path, unix := rt.tr.rec, rt.tr.out, rt.tr.file, rt.tr.path, rt.tr.unix
	if rec == nil {
		rt.tr.mu.Unlock()
		return invalidf("no trace is running")
	}
	rt.pool.SetTracer(nil) // new trace points skip; those in flight end inside rec.Stop
	rt.tr.rec, rt.tr.out, rt.tr.file, rt.tr.path = nil, nil, nil, ""
	rt.tr.mu.Unlock()
	rec.Stop()
	err := rec.WriteJSON(out, trace.Meta{StartUnix: unix, Other: map[string]string{
		"policy": rt.cfg.Policy.String(), "workers": fmt.Sprint(rt.pool.Workers()),
	}})
	if f != nil {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("veda: writing the trace to %s: %w", path, err)
		}
	}
	return err
}

// Tracing reports whether a trace is being recorded. Any goroutine.
func (rt *Runtime) Tracing() bool { return rt.pool.Tracer() != nil }

// envTraceSeq numbers the runtimes that VEDA_TRACE traces in one process.
var envTraceSeq atomic.Int32

// startEnvTrace starts the trace VEDA_TRACE=path asks for (New calls it). The first runtime
// of the process writes path; later ones write path with "-rt2", "-rt3", ... before the
// extension. The trace is written when the runtime closes. A path that cannot be written is
// reported on stderr once and tracing stays off: the environment must not stop a program.
func (rt *Runtime) startEnvTrace() {
	path := os.Getenv("VEDA_TRACE")
	if path == "" {
		return
	}
	if n := envTraceSeq.Add(1); n > 1 {
		ext := filepath.Ext(path)
		path = strings.TrimSuffix(path, ext) + fmt.Sprintf("-rt%d", n) + ext
	}
	if err := rt.StartTraceFile(path, TraceOptions{}); err != nil {
		fmt.Fprintf(os.Stderr, "veda: VEDA_TRACE: %v (tracing stays off)\n", err)
		return
	}
	envTraced.Store(rt, struct{}{})
}

// envTraced holds the open runtimes whose VEDA_TRACE trace runs (for FlushTracesAtExit); Close
// removes its runtime.
var envTraced sync.Map // *Runtime -> struct{}

// FlushTracesAtExit writes the VEDA_TRACE traces of the runtimes that are still open, as Close
// would: for a host process that exits without closing them (a C program that never calls
// veda_runtime_destroy, a Python program that never closes its runtime). libveda.so calls it
// from an atexit handler; a Go program that wants the same calls it before os.Exit. Work still
// running keeps running; its later events are not recorded. Any goroutine; idempotent.
func FlushTracesAtExit() {
	envTraced.Range(func(k, _ any) bool {
		envTraced.Delete(k)
		k.(*Runtime).stopTraceAtClose()
		return true
	})
}

// stopTraceAtClose writes a trace still running at Close (VEDA_TRACE, or one the caller did not
// stop), so it is not lost.
func (rt *Runtime) stopTraceAtClose() {
	envTraced.Delete(rt)
	if rt.pool.Tracer() == nil {
		return
	}
	if err := rt.StopTrace(); err != nil {
		fmt.Fprintf(os.Stderr, "veda: writing the trace at Close: %v\n", err)
	}
}

// traceChunkStart returns w's trace buffer and the time, or nil when no trace runs or w is nil
// (a leaf that runs on an outside caller is not traced). Worker, or nil on a caller.
func traceChunkStart(w *sched.Worker) (*trace.Buffer, int64) {
	if w == nil {
		return nil, 0
	}
	if b := w.TraceBuffer(); b != nil {
		return b, w.Now()
	}
	return nil, 0
}

// traceChunkEnd records the chunk [lo, hi) that started at t0. Worker only.
func traceChunkEnd(w *sched.Worker, b *trace.Buffer, t0 int64, lo, hi int) {
	b.Add(trace.Event{Start: t0, Dur: w.Now() - t0, Track: trace.TrackWorker(w.ID()), Ph: trace.PhComplete,
		Cat: trace.CatChunk, Name: "chunk", A: int64(lo), B: int64(hi)})
}

// kernelTrace carries one kernel call's trace state from its decision to its run.
type kernelTrace struct {
	rec   *trace.Recorder // nil: no trace
	flow  int64
	start int64 // pool clock at the run's start
}

// traceDecision records a dispatch decision as an instant (chosen device, reason, estimate) with
// a flow arrow that ends at the device run. Any goroutine.
func (rt *Runtime) traceDecision(dec *dispatch.Decision) kernelTrace {
	rec := rt.pool.Tracer()
	if rec == nil {
		return kernelTrace{}
	}
	track := trace.TrackOutside()
	if w := rt.current(); w != nil {
		track = trace.TrackWorker(w.ID())
	}
	now := rt.pool.Now()
	id := rec.FlowID()
	rec.Add(trace.Event{Start: now, Track: track, Ph: trace.PhInstant, Cat: trace.CatDecision, Name: "dispatch " + dec.Kernel,
		Args: fmt.Sprintf(`"kernel":%q,"bytes":%d,"device":%d,"kind":%q,"reason":%q,"estimate_ns":%d`,
			dec.Kernel, dec.Bytes, dec.Device, dec.Kind.String(), dec.Reason, int64(dec.Estimate))})
	rec.Add(trace.Event{Start: now, Track: track, Ph: trace.PhFlowStart, Cat: trace.CatDispatch, Name: "dispatch", A: id})
	rt.traceDeviceQueue(rec, now, dec.Device)
	return kernelTrace{rec: rec, flow: id}
}

// traceDeviceQueue samples device d's queue depth (calls placed and not finished) as a counter.
func (rt *Runtime) traceDeviceQueue(rec *trace.Recorder, now int64, d int) {
	if !rt.dev.ready.Load() { // load (acquire): disp is set once ready
		return
	}
	for _, s := range rt.dev.disp.Stats() {
		if s.Index == d {
			rec.Add(trace.Event{Start: now, Track: trace.TrackOutside(), Ph: trace.PhCounter, Cat: trace.CatCounter,
				Name: fmt.Sprintf("device %d queue depth", d), A: int64(s.QueueDepth)})
		}
	}
}

// begin marks the start of the run. Any goroutine.
func (k *kernelTrace) begin(rt *Runtime) {
	if k.rec != nil {
		k.start = rt.pool.Now()
	}
}

// end records the run on the device's engine tracks: H2D, then compute, then D2H, as the
// device measured them within the call's wall time. Any goroutine.
func (k *kernelTrace) end(rt *Runtime, dec *dispatch.Decision, dt device.Timing, wall time.Duration, err error) {
	if k.rec == nil {
		return
	}
	rec, d, s := k.rec, dec.Device, k.start
	rt.nameDeviceTracks(rec, d)
	comp := int64(wall - dt.H2D - dt.D2H)
	if comp < 0 {
		comp = 0
	}
	if dt.H2D > 0 {
		rec.Add(trace.Event{Start: s, Dur: int64(dt.H2D), Track: trace.TrackDevice(d, trace.EngineH2D), Ph: trace.PhComplete,
			Cat: trace.CatH2D, Name: "h2d", A: dt.BytesIn})
	}
	cs := s + int64(dt.H2D)
	rec.Add(trace.Event{Start: cs, Dur: comp, Track: trace.TrackDevice(d, trace.EngineCompute), Ph: trace.PhComplete,
		Cat: trace.CatKernel, Name: dec.Kernel, A: int64(dec.Bytes)})
	if k.flow != 0 { // a fallback run after a device failure gets no second arrow end
		rec.Add(trace.Event{Start: cs, Track: trace.TrackDevice(d, trace.EngineCompute), Ph: trace.PhFlowEnd, Cat: trace.CatDispatch,
			Name: "dispatch", A: k.flow})
		k.flow = 0
	}
	if dt.D2H > 0 {
		rec.Add(trace.Event{Start: cs + comp, Dur: int64(dt.D2H), Track: trace.TrackDevice(d, trace.EngineD2H), Ph: trace.PhComplete,
			Cat: trace.CatD2H, Name: "d2h", A: dt.BytesOut})
	}
	rt.traceDeviceQueue(rec, rt.pool.Now(), d)
	if err != nil {
		rec.Add(trace.Event{Start: rt.pool.Now(), Track: trace.TrackDevice(d, trace.EngineCompute), Ph: trace.PhInstant,
			Cat: trace.CatError, Name: "error", Args: fmt.Sprintf(`"kernel":%q,"error":%q`, dec.Kernel, err.Error())})
	}
}

// traceStage records a pipeline stage run of item seq on the calling worker's track (or the
// outside track). A task of the pipeline's run.
func (rt *Runtime) traceStage(rec *trace.Recorder, pipeline, stage string, seq, start, end int64) {
	ev := trace.Event{Start: start, Dur: end - start, Ph: trace.PhComplete, Cat: trace.CatStage, Name: stage, A: seq,
		Args: fmt.Sprintf(`"pipeline":%q`, pipeline)}
	if w := rt.current(); w != nil {
		ev.Track = trace.TrackWorker(w.ID())
		rec.Worker(w.ID()).Add(ev) // w is the calling goroutine: its buffer's owner
		return
	}
	ev.Track = trace.TrackOutside()
	rec.Add(ev)
}

// traceInFlight samples a pipeline's items and bytes in flight as counters. Any goroutine.
func traceInFlight(rec *trace.Recorder, now int64, pipeline string, items int64, bytes uint64) {
	rec.Add(trace.Event{Start: now, Track: trace.TrackOutside(), Ph: trace.PhCounter, Cat: trace.CatCounter,
		Name: "pipeline " + pipeline + " items in flight", A: items})
	rec.Add(trace.Event{Start: now, Track: trace.TrackOutside(), Ph: trace.PhCounter, Cat: trace.CatCounter,
		Name: "pipeline " + pipeline + " bytes in flight", A: int64(bytes)})
}
