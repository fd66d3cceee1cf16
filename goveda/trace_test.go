package goveda

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/trace"
)

// tracedWorkload runs nested parallel work on rt: a ParallelFor whose chunks run a Reduce, a
// Join tree, a Scope, futures and a kernel call. It returns the ParallelFor's n.
func tracedWorkload(t *testing.T, rt *Runtime) int {
	t.Helper()
	ctx := context.Background()
	const n = 1 << 14
	out := make([]float64, n)
	if err := rt.ParallelFor(ctx, 0, n, 256, func(lo, hi int) error {
		v, err := Reduce(ctx, rt, lo, hi, 16, 0.0, func(a, b int, acc float64) float64 {
			for i := a; i < b; i++ {
				acc += math.Sqrt(float64(i))
			}
			return acc
		}, func(a, b float64) float64 { return a + b })
		for i := lo; i < hi; i++ {
			out[i] = v
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var fib func(k int) (int, error)
	fib = func(k int) (int, error) {
		if k < 12 {
			a, b := 0, 1
			for i := 0; i < k; i++ {
				a, b = b, a+b
			}
			return a, nil
		}
		a, b, err := Join(rt, func() (int, error) { return fib(k - 1) }, func() (int, error) { return fib(k - 2) })
		return a + b, err
	}
	if v, err := fib(20); err != nil || v != 6765 {
		t.Fatalf("fib(20) = %d, %v", v, err)
	}
	if err := rt.Scope(ctx, func(s *Scope) {
		for i := 0; i < 8; i++ {
			s.Spawn(func() error { return nil })
		}
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := Submit(rt, TaskOptions{}, func(context.Context) (int, error) { return i, nil }).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rt.SumF32(ctx, make([]float32, 1<<16)); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTraceRecordsAValidTimeline(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyFixed})
	var buf bytes.Buffer
	if err := rt.StartTrace(&buf, TraceOptions{}); err != nil {
		t.Fatal(err)
	}
	if !rt.Tracing() {
		t.Fatal("Tracing() false while a trace runs")
	}
	// first a plain loop alone, whose chunks must tile the range
	const n = 1 << 15
	if err := rt.ParallelFor(context.Background(), 0, n, 64, func(lo, hi int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var loopTrace bytes.Buffer
	if err := rt.StopTrace(); err != nil {
		t.Fatal(err)
	}
	loopTrace = buf
	buf = bytes.Buffer{}
	if err := rt.StartTrace(&buf, TraceOptions{}); err != nil {
		t.Fatal(err)
	}
	tracedWorkload(t, rt)
	if err := rt.StopTrace(); err != nil {
		t.Fatal(err)
	}
	lf, err := trace.Read(bytes.NewReader(loopTrace.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	f, err := trace.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if errs := trace.Validate(f); len(errs) > 0 {
		t.Fatalf("invalid trace: %v", errs)
	}
	cats := map[string]int{}
	tracks := map[string]bool{}
	type span struct{ lo, hi int }
	var outer []span
	for _, e := range lf.TraceEvents {
		if e.Ph == "X" && (e.Cat == "chunk" || e.Name == "chunk") {
			outer = append(outer, span{int(e.Args["lo"].(float64)), int(e.Args["hi"].(float64))})
		}
	}
	for _, e := range f.TraceEvents {
		c := e.Cat
		if c == "" {
			c = e.Name
		}
		if e.Ph == "M" && e.Name == "thread_name" {
			tracks[e.Args["name"].(string)] = true
			continue
		}
		cats[e.Ph+":"+c]++
	}
	for _, want := range []string{"X:chunk", "X:task", "i:decision", "C:counter"} {
		if cats[want] == 0 {
			t.Errorf("no %s events; have %v", want, cats)
		}
	}
	if !tracks["worker 0"] || !tracks["worker 1"] {
		t.Errorf("worker tracks missing: %v", tracks)
	}
	// the ParallelFor's chunks cover [0, n) exactly once
	sort.Slice(outer, func(i, j int) bool { return outer[i].lo < outer[j].lo })
	next := 0
	for _, s := range outer {
		if s.lo != next {
			t.Fatalf("chunks do not tile [0,%d): gap or overlap at %d (next chunk %v)", n, next, s)
		}
		next = s.hi
	}
	if next != n {
		t.Fatalf("chunks end at %d, want %d", next, n)
	}
	if rt.Tracing() {
		t.Fatal("Tracing() true after StopTrace")
	}
	// the summary adds up per worker
	sum := trace.Summarize(f)
	for _, w := range sum.Workers {
		if tot := w.Busy + w.Helping + w.Idle + w.Parked; math.Abs(tot-sum.SpanUS) > 1e-3*sum.SpanUS+1 {
			t.Errorf("%s: busy+helping+idle+parked = %v, span %v", w.Name, tot, sum.SpanUS)
		}
	}
}

func TestTraceBadInput(t *testing.T) {
	rt, err := New(Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StopTrace(); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "no trace") {
		t.Fatalf("stop without a trace: %v", err)
	}
	if err := rt.StartTrace(nil, TraceOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil writer: %v", err)
	}
	if err := rt.StartTrace(&bytes.Buffer{}, TraceOptions{MaxEvents: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative MaxEvents: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "missing", "dir", "t.json")
	if err := rt.StartTraceFile(bad, TraceOptions{}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("unwritable path: %v", err)
	}
	if rt.Tracing() {
		t.Fatal("a failed start left a trace running")
	}
	if err := rt.StartTrace(&bytes.Buffer{}, TraceOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := rt.StartTrace(&bytes.Buffer{}, TraceOptions{}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "already") {
		t.Fatalf("second start: %v", err)
	}
	if err := rt.StartTraceFile(filepath.Join(t.TempDir(), "x.json"), TraceOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("second start to a file: %v", err)
	}
	if err := rt.StopTrace(); err != nil {
		t.Fatal(err)
	}
	rt.Close()
	if err := rt.StartTrace(&bytes.Buffer{}, TraceOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("start on a closed runtime: %v", err)
	}
}

// TestTraceFromEnvironment: VEDA_TRACE traces a runtime without code changes; the file is written
// at Close.
func TestTraceFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.json")
	t.Setenv("VEDA_TRACE", path)
	envTraceSeq.Store(0)
	rt, err := New(Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !rt.Tracing() {
		t.Fatal("VEDA_TRACE did not start a trace")
	}
	if err := rt.ParallelFor(context.Background(), 0, 1<<12, 64, func(lo, hi int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rt.Close()
	f, err := trace.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if errs := trace.Validate(f); len(errs) > 0 {
		t.Fatal(errs)
	}
	// a second runtime of the process writes its own file
	rt2, err := New(Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	rt2.Close()
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "env-rt2.json")); err != nil {
		t.Fatalf("second runtime's trace: %v", err)
	}
}

// TestTraceBytesPerEvent: the JSON stays compact, <= 100 bytes per event on a task-heavy run.
func TestTraceBytesPerEvent(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyDeterministic})
	var buf bytes.Buffer
	if err := rt.StartTrace(&buf, TraceOptions{}); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 20; k++ {
		if err := rt.ParallelFor(context.Background(), 0, 1<<16, 64, func(lo, hi int) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.StopTrace(); err != nil {
		t.Fatal(err)
	}
	f, err := trace.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	n := len(f.TraceEvents)
	if n < 1000 {
		t.Fatalf("only %d events", n)
	}
	if per := float64(buf.Len()) / float64(n); per > 100 {
		t.Fatalf("%.1f bytes per event (%d bytes, %d events), want <= 100", per, buf.Len(), n)
	} else {
		t.Logf("%.1f bytes per event over %d events", per, n)
	}
}

// TestTraceStopUnderLoad stops and restarts traces while submitters run (race detector).
func TestTraceStopUnderLoad(t *testing.T) {
	rt := newRT(t, Config{Workers: 4})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	for g := 0; g < 3; g++ {
		go func() {
			for ctx.Err() == nil {
				_ = rt.ParallelFor(ctx, 0, 1<<12, 16, func(lo, hi int) error { return nil })
			}
			done <- struct{}{}
		}()
	}
	for i := 0; i < 20; i++ {
		var buf bytes.Buffer
		if err := rt.StartTrace(&buf, TraceOptions{MaxEvents: 5000}); err != nil {
			t.Fatal(err)
		}
		if err := rt.StopTrace(); err != nil {
			t.Fatal(err)
		}
		f, err := trace.Read(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if errs := trace.Validate(f); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
	cancel()
	for g := 0; g < 3; g++ {
		<-done
	}
}

// TestTracePipelineStages: every stage run of every item is a slice named after the stage with
// the item's sequence number, and the in-flight counters are sampled.
func TestTracePipelineStages(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	p, err := NewPipeline(rt, PipelineOptions[int]{Name: "sq", MaxInFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Stage("square", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x * x, nil })
	sum := 0
	_ = p.Stage("sum", StageSerialInOrder, func(_ context.Context, _ int64, x int) (int, error) { sum += x; return x, nil })
	var buf bytes.Buffer
	if err := rt.StartTrace(&buf, TraceOptions{}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	src := SourceFunc(func(_ context.Context, seq int64) (int, bool, error) { return int(seq), seq < n, nil })
	if err := p.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if err := rt.StopTrace(); err != nil {
		t.Fatal(err)
	}
	f, err := trace.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if errs := trace.Validate(f); len(errs) > 0 {
		t.Fatal(errs)
	}
	seen := map[string]map[int]int{"square": {}, "sum": {}}
	counters := 0
	for _, e := range f.TraceEvents {
		if e.Ph == "X" && e.Cat == "stage" {
			seen[e.Name][int(e.Args["seq"].(float64))]++
			if e.Args["pipeline"] != "sq" {
				t.Fatalf("stage event without its pipeline: %v", e.Args)
			}
		}
		if e.Ph == "C" && strings.HasPrefix(e.Name, "pipeline sq ") {
			counters++
		}
	}
	for stage, m := range seen {
		for s := 0; s < n; s++ {
			if m[s] != 1 {
				t.Fatalf("stage %s item %d traced %d times", stage, s, m[s])
			}
		}
	}
	if counters < n {
		t.Fatalf("%d in-flight counter samples for %d items", counters, n)
	}
}

// TestTraceRecordsPanics: a recovered panic is an error instant in the trace.
func TestTraceRecordsPanics(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	var buf bytes.Buffer
	if err := rt.StartTrace(&buf, TraceOptions{}); err != nil {
		t.Fatal(err)
	}
	err := rt.ParallelFor(context.Background(), 0, 100, 10, func(lo, hi int) error {
		if lo == 50 {
			panic("boom at 50")
		}
		return nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PanicError, got %v", err)
	}
	if err := rt.StopTrace(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"name":"panic","cat":"error"`) || !strings.Contains(buf.String(), "boom at 50") {
		t.Fatalf("no panic instant in the trace")
	}
}
