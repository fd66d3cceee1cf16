package sched

import (
	"strings"
	"sync"
	"testing"
)

// TestAdaptiveInjectGrowsAtOnce: a 2-worker adaptive pool shrunk to one active worker gets an
// Inject; the monitor grows to two for that Inject (reason "work submitted while workers were
// suspended"), not at its next tick (reason "N queued tasks" or a utilization). A tick can come
// first by chance, so the test passes if any of 5 rounds shows the urge; without the urge no
// round can.
func TestAdaptiveInjectGrowsAtOnce(t *testing.T) {
	var mu sync.Mutex
	var reasons []string
	p, err := New(Options{Workers: 2, Spin: 1, Adaptive: true, OnResize: func(from, to int, reason string) {
		if to > from {
			mu.Lock()
			reasons = append(reasons, reason)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for r := 0; r < 5; r++ {
		waitActive(t, p, 1)
		mu.Lock()
		reasons = nil
		mu.Unlock()
		if !p.RunRoot(2, func(w *Worker) {}) {
			t.Fatal("closed")
		}
		waitActive(t, p, 2)
		mu.Lock()
		got := append([]string(nil), reasons...)
		mu.Unlock()
		if len(got) > 0 && strings.Contains(got[0], "submitted while workers were suspended") {
			return
		}
		t.Logf("round %d: grew for %q", r, got)
	}
	t.Fatal("an Inject into a pool with a suspended worker never grew it at once")
}
