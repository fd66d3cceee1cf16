package goveda

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// The zero TaskOptions means PriorityNormal, as veda_task_options_init does in C.
func TestTaskOptionsZeroValueIsNormal(t *testing.T) {
	var zero Priority
	if zero != PriorityNormal || (TaskOptions{}).Priority != PriorityNormal {
		t.Fatalf("zero Priority is %v, want normal", zero)
	}
	// Scheduled as Normal: after High work queued later, before Low work queued earlier, FIFO
	// with other Normal work.
	rt := newRT(t, Config{Workers: 1, Policy: PolicyFixed})
	rt.pool.SetAgingStep(int64(time.Hour)) // no aging in this test
	release := blockWorker(t, rt)
	var mu sync.Mutex
	var order []string
	var futs []*Future[int]
	add := func(o TaskOptions, name string) {
		futs = append(futs, Submit(rt, o, func(context.Context) (int, error) {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return 0, nil
		}))
	}
	add(TaskOptions{Priority: PriorityLow}, "low")
	add(TaskOptions{}, "zero")
	add(TaskOptions{Priority: PriorityNormal}, "normal")
	add(TaskOptions{Priority: PriorityHigh}, "high")
	add(TaskOptions{Priority: PriorityRealtime}, "realtime")
	release()
	for _, f := range futs {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"realtime", "high", "zero", "normal", "low"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

// Every Priority constant is valid, ordered (lower runs first) and named; values outside are not.
func TestPriorityConstants(t *testing.T) {
	all := []Priority{PriorityRealtime, PriorityHigh, PriorityNormal, PriorityLow, PriorityBackground}
	names := []string{"realtime", "high", "normal", "low", "background"}
	if len(all) != numPriorities {
		t.Fatalf("%d constants, numPriorities %d", len(all), numPriorities)
	}
	for i, p := range all {
		if !p.valid() || p.String() != names[i] || p.level() != i {
			t.Fatalf("%d: valid %v, name %q, level %d", int(p), p.valid(), p.String(), p.level())
		}
	}
	for _, p := range []Priority{PriorityRealtime - 1, PriorityBackground + 1} {
		if p.valid() {
			t.Fatalf("Priority(%d) valid", int(p))
		}
	}
}
