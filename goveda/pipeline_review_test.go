package goveda

// Review tests for issue 12 (pipelines): rules of the issue that the other pipeline tests do not
// check, or check only loosely.

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestReviewPipelinePrometheusParses: the per-stage metrics (items, busy, wait, peak queue depth)
// and the pipeline's peaks are valid Prometheus text (parsed with expfmt), labelled by pipeline
// and stage, with the values the run implies.
func TestReviewPipelinePrometheusParses(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	p, _ := NewPipeline(rt, PipelineOptions[int]{Name: "review-prom", MaxInFlight: 6, MaxBytesInFlight: 1 << 20,
		Bytes: func(int) uint64 { return 100 }})
	must(t, p.Stage("work", StageParallel, func(_ context.Context, _ int64, x int) (int, error) {
		time.Sleep(100 * time.Microsecond)
		return x, nil
	}))
	must(t, p.Stage("write", StageSerialInOrder, func(_ context.Context, _ int64, x int) (int, error) {
		time.Sleep(200 * time.Microsecond) // slower than work: items queue for it
		return x, nil
	}))
	must(t, p.Run(bg, SourceSlice(make([]int, 200))))
	text := rt.Metrics().Prometheus()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus text does not parse: %v", err)
	}
	get := func(name string, labels map[string]string) float64 {
		t.Helper()
		f, ok := fams[name]
		if !ok {
			t.Fatalf("no metric family %s", name)
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
		t.Fatalf("%s has no series %v", name, labels)
		return 0
	}
	pl := map[string]string{"pipeline": "review-prom"}
	if v := get("veda_pipeline_items_passed_total", pl); v != 200 {
		t.Fatalf("items passed %v", v)
	}
	if v := get("veda_pipeline_peak_items_in_flight", pl); v < 1 || v > 6 {
		t.Fatalf("peak items %v", v)
	}
	if v := get("veda_pipeline_peak_bytes_in_flight", pl); v < 100 || v > 600 {
		t.Fatalf("peak bytes %v", v)
	}
	for _, s := range []string{"work", "write"} {
		sl := map[string]string{"pipeline": "review-prom", "stage": s}
		if v := get("veda_pipeline_stage_items_total", sl); v != 200 {
			t.Fatalf("stage %s items %v", s, v)
		}
		if v := get("veda_pipeline_stage_busy_seconds_total", sl); v <= 0 {
			t.Fatalf("stage %s busy %v", s, v)
		}
		get("veda_pipeline_stage_wait_seconds_total", sl)
		get("veda_pipeline_stage_peak_queue_depth", sl)
	}
	if v := get("veda_pipeline_stage_peak_queue_depth", map[string]string{"pipeline": "review-prom", "stage": "write"}); v < 1 {
		t.Fatalf("the slow serial stage never had a queue: peak depth %v", v)
	}
}

// TestReviewPipelineSerialNotStarved: "serial (stateful) stages are preferred by default, so one
// stateful stage never starves while parallel work piles up". With the pipeline's default
// priorities, a cheap in-order stage behind a parallel stage on a 2-worker pool must keep up:
// the in-order stage's stash never holds more than the items alive (trivially) and, more to the
// point, the run's items are written while the parallel stage still has work queued (the writer
// is not deferred to the end).
func TestReviewPipelineSerialNotStarved(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyFixed})
	const n = 400
	var parDone atomic.Int64
	var writtenWhilePar atomic.Int64
	p, _ := NewPipeline(rt, PipelineOptions[int]{MaxInFlight: 64})
	must(t, p.Stage("par", StageParallel, func(_ context.Context, _ int64, x int) (int, error) {
		time.Sleep(50 * time.Microsecond)
		parDone.Add(1)
		return x, nil
	}))
	var mu sync.Mutex
	must(t, p.Stage("write", StageSerialInOrder, func(_ context.Context, _ int64, x int) (int, error) {
		mu.Lock()
		if parDone.Load() < n {
			writtenWhilePar.Add(1)
		}
		mu.Unlock()
		return x, nil
	}))
	must(t, p.Run(bg, SourceSlice(make([]int, n))))
	// All but the last items (those whose parallel work ends last) must be written while the
	// parallel stage still runs.
	if w := writtenWhilePar.Load(); w < n-64 {
		t.Fatalf("only %d of %d items were written while parallel work remained: the serial stage starved", w, n)
	}
}
