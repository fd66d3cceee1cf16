package dispatch

import (
	"testing"
	"time"
)

func TestImplChooserTriesEachThenPicksFastest(t *testing.T) {
	c := NewImplChooser()
	impls := []string{"veda", "openblas"}
	cost := []time.Duration{2 * time.Millisecond, time.Millisecond} // openblas twice as fast
	var counts [2]int
	const calls = 640
	for i := 0; i < calls; i++ {
		idx := c.Choose("sgemm", 0, 1e8, impls)
		counts[idx]++
		c.Report("sgemm", 0, 1e8, impls, idx, cost[idx])
	}
	if counts[0] < implTrials {
		t.Fatalf("veda tried %d times, want >= %d", counts[0], implTrials)
	}
	// Trials plus one re-measurement per implExploreEvery calls at most.
	if limit := implTrials + calls/implExploreEvery + 1; counts[0] > limit {
		t.Fatalf("slow implementation chosen %d times of %d, want <= %d", counts[0], calls, limit)
	}
	st := c.Stats()
	if len(st) != 2 || !st[1].Chosen || st[0].Chosen {
		t.Fatalf("stats: %+v", st)
	}
}

func TestImplChooserAdaptsWhenCostsChange(t *testing.T) {
	c := NewImplChooser()
	impls := []string{"a", "b"}
	cost := []time.Duration{time.Millisecond, 3 * time.Millisecond}
	for i := 0; i < 100; i++ {
		idx := c.Choose("k", 1, 4096, impls)
		c.Report("k", 1, 4096, impls, idx, cost[idx])
	}
	cost[0] = 10 * time.Millisecond // "a" became slow (e.g. the machine got busy)
	last := -1
	for i := 0; i < 2000; i++ {
		last = c.Choose("k", 1, 4096, impls)
		c.Report("k", 1, 4096, impls, last, cost[last])
	}
	if last != 1 {
		t.Fatalf("after the change the chooser still runs %q", impls[last])
	}
}

func TestImplChooserSingleAndBuckets(t *testing.T) {
	c := NewImplChooser()
	if c.Choose("k", 0, 1, []string{"only"}) != 0 || len(c.Stats()) != 0 {
		t.Fatal("a single implementation needs no bookkeeping")
	}
	impls := []string{"x", "y"}
	// Different buckets are calibrated separately: the first call of a new bucket is a trial of impls[0].
	for i := 0; i < 10; i++ {
		idx := c.Choose("k", 0, 1<<10, impls)
		c.Report("k", 0, 1<<10, impls, idx, time.Duration(idx+1)*time.Microsecond)
	}
	if c.Choose("k", 0, 1<<20, impls) != 0 {
		t.Fatal("new bucket did not start with a trial")
	}
}

func TestImplChooserExportImport(t *testing.T) {
	a := NewImplChooser()
	impls := []string{"veda", "openblas"}
	cost := []time.Duration{3 * time.Millisecond, time.Millisecond}
	for i := 0; i < 10; i++ {
		idx := a.Choose("sgemm", 0, 1e9, impls)
		a.Report("sgemm", 0, 1e9, impls, idx, cost[idx])
	}
	b := NewImplChooser()
	if n := b.Import(a.Export()); n != 1 {
		t.Fatalf("imported %d", n)
	}
	// The first call of a new process goes to the measured-faster implementation, no trial.
	if idx := b.Choose("sgemm", 0, 1e9, impls); idx != 1 {
		t.Fatalf("first call after import chose %q", impls[idx])
	}
	bad := []ImplWindow{{Kernel: "k", Bucket: 3, Impls: []string{"a", "b"}, Samples: [][]float64{{1}}},
		{Kernel: "k", Bucket: 3, Impls: []string{"a", "b"}, Samples: [][]float64{{1}, {-1}}},
		{Kernel: "k", Bucket: 99, Impls: []string{"a", "b"}, Samples: [][]float64{{1}, {1}}}}
	if n := b.Import(bad); n != 0 {
		t.Fatalf("imported %d bad slots", n)
	}
}
