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
	// on holds rec while tracing; nil when off. Store by Start/Stop under mu; load (acquire) at
	// every trace point: the one predictable branch that tracing costs when off.
	on atomic.Pointer[trace.Recorder]
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
	rec, err := trace.NewRecorder(len(rt.workers), rt.now(), trace.Options{MaxEvents: opts.MaxEvents})
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
	rt.tr.on.Store(rec) // store (release): trace points that load it see a ready recorder
	return nil
}

// traceTracks names the device tracks that exist now.
func (rt *Runtime) traceTracks(rec *trace.Recorder) {
	if !rt.dev.ready.Load() {
		return
	}
	for _, d := range rt.dev.infos {
		if d.Index == 0 {
			continue
		}
		rec.NameTrack(trace.TrackDevice(d.Index, trace.EngineCompute), fmt.Sprintf("device %d %s: compute", d.Index, d.Name))
		rec.NameTrack(trace.TrackDevice(d.Index, trace.EngineH2D), fmt.Sprintf("device %d %s: H2D", d.Index, d.Name))
		rec.NameTrack(trace.TrackDevice(d.Index, trace.EngineD2H), fmt.Sprintf("device %d %s: D2H", d.Index, d.Name))
	}
	rec.NameTrack(trace.TrackDevice(0, trace.EngineCompute), "device 0 cpu: kernels")
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
	rt.tr.on.Store(nil) // store: new trace points skip; those in flight end inside rec.Stop
	rt.tr.rec, rt.tr.out, rt.tr.file, rt.tr.path = nil, nil, nil, ""
	rt.tr.mu.Unlock()
	rec.Stop()
	err := rec.WriteJSON(out, trace.Meta{StartUnix: unix, Other: map[string]string{
		"policy": rt.cfg.Policy.String(), "workers": fmt.Sprint(len(rt.workers)),
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
func (rt *Runtime) Tracing() bool { return rt.tr.on.Load() != nil }

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
}

// stopTraceAtClose writes a trace still running at Close (VEDA_TRACE, or one the caller did not
// stop), so it is not lost.
func (rt *Runtime) stopTraceAtClose() {
	if rt.tr.on.Load() == nil {
		return
	}
	if err := rt.StopTrace(); err != nil {
		fmt.Fprintf(os.Stderr, "veda: writing the trace at Close: %v\n", err)
	}
}
