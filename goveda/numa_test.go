package goveda

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/sysfs/sysfstest"
)

// fibNUMA spawns a binary tree of joins: plenty of stealing.
func fibNUMA(rt *Runtime, n int) int {
	if n < 12 {
		a, b := 0, 1
		for i := 0; i < n; i++ {
			a, b = b, a+b
		}
		return a
	}
	x, y, _ := Join(rt, func() (int, error) { return fibNUMA(rt, n-1), nil }, func() (int, error) { return fibNUMA(rt, n-2), nil })
	return x + y
}

// On a fake topology of 2 NUMA nodes x 4 CPUs (a TEST DOUBLE of /sys/devices/system/node) with
// pinned workers, workers 0-3 sit on node 0 and 4-7 on node 1, and stealing prefers the local
// node: local steals outnumber remote ones, and remote ones happen (work crosses nodes).
func TestHierarchicalStealing(t *testing.T) {
	tr := sysfstest.New(t)
	tr.NUMA(2, 4)
	tr.Use()
	rt := newRT(t, Config{Workers: 8, Policy: PolicyFixed, PinWorkers: true})
	if got := rt.WorkerNodes(); !reflect.DeepEqual(got, []int{0, 0, 0, 0, 1, 1, 1, 1}) {
		t.Fatalf("worker nodes %v", got)
	}
	for round := 0; round < 5; round++ {
		if got, want := fibNUMA(rt, 27), 196418; got != want {
			t.Fatalf("fib = %d, want %d", got, want)
		}
	}
	// Work that keeps all 8 workers busy at once on this small machine (tasks that sleep), so
	// that thieves on both nodes find victims on both nodes.
	for round := 0; round < 4; round++ {
		if err := rt.ParallelFor(context.Background(), 0, 2048, 1, func(lo, hi int) error {
			for i := lo; i < hi; i++ {
				time.Sleep(20 * time.Microsecond)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A flat loop too: every index exactly once.
	var hits [1 << 14]atomic.Int32
	if err := rt.ParallelFor(context.Background(), 0, len(hits), 16, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			hits[i].Add(1)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range hits {
		if hits[i].Load() != 1 {
			t.Fatalf("index %d ran %d times", i, hits[i].Load())
		}
	}
	rt.Close()
	m := rt.Metrics()
	t.Logf("steals: %d local, %d remote (%d stolen, %d attempts)", m.LocalSteals, m.RemoteSteals, m.TasksStolen, m.StealAttempts)
	if m.RemoteSteals == 0 {
		t.Fatalf("no remote steal: the work never crossed nodes")
	}
	// A flat random victim choice would find 3 local victims of 7 (local:remote about 3:4).
	if m.LocalSteals < 2*m.RemoteSteals {
		t.Fatalf("local steals %d < 2 x remote steals %d: stealing does not prefer the local node", m.LocalSteals, m.RemoteSteals)
	}
}

// On one node (this machine's real topology, or a fake one) stealing stays flat: no locality
// counts, all workers on node 0.
func TestOneNodeFlatStealing(t *testing.T) {
	tr := sysfstest.New(t)
	tr.NUMA(1, 4)
	tr.Use()
	rt := newRT(t, Config{Workers: 4, Policy: PolicyFixed})
	if got, want := fibNUMA(rt, 24), 46368; got != want {
		t.Fatalf("fib = %d", got)
	}
	rt.Close()
	m := rt.Metrics()
	if m.LocalSteals != 0 || m.RemoteSteals != 0 || !reflect.DeepEqual(m.WorkerNodes, []int{0, 0, 0, 0}) {
		t.Fatalf("one node: local %d remote %d nodes %v", m.LocalSteals, m.RemoteSteals, m.WorkerNodes)
	}
}
