package goveda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ledger counts, per sequence number, how often an item passed the sink and how often it was
// dropped, and checks the pipeline's rules at the end.
type ledger struct {
	mu      sync.Mutex
	passed  map[int64]int
	dropped map[int64]int
	read    atomic.Int64
}

func newLedger() *ledger { return &ledger{passed: map[int64]int{}, dropped: map[int64]int{}} }

func (l *ledger) pass(seq int64) { l.mu.Lock(); l.passed[seq]++; l.mu.Unlock() }
func (l *ledger) drop(seq int64) { l.mu.Lock(); l.dropped[seq]++; l.mu.Unlock() }

// check asserts exactly-once: every read item passed xor was dropped, exactly once; with a
// failure at fs (-1: cancelled, -2: none) the items below it passed and those above it dropped.
func (l *ledger) check(t *testing.T, fs int64, cancelled bool) {
	t.Helper()
	n := l.read.Load()
	for s := int64(0); s < n; s++ {
		p, d := l.passed[s], l.dropped[s]
		if p+d != 1 {
			t.Fatalf("item %d: passed %d times, dropped %d times (want exactly one of them once)", s, p, d)
		}
		if fs >= 0 && s < fs && p != 1 {
			t.Fatalf("item %d below the failure at %d was dropped (prefix broken)", s, fs)
		}
		if fs >= 0 && s >= fs && d != 1 {
			t.Fatalf("item %d at or above the failure at %d passed", s, fs)
		}
	}
	for s := range l.passed {
		if s >= n {
			t.Fatalf("item %d passed but was never read", s)
		}
	}
	for s := range l.dropped {
		if s >= n {
			t.Fatalf("item %d dropped but was never read", s)
		}
	}
	if fs == -2 && !cancelled && len(l.dropped) != 0 {
		t.Fatalf("%d items dropped in a run without failure", len(l.dropped))
	}
}

func countSource(l *ledger, n int64) Source[int64] {
	return SourceFunc(func(_ context.Context, seq int64) (int64, bool, error) {
		if seq >= n {
			return 0, false, nil
		}
		l.read.Add(1)
		return seq, true, nil
	})
}

func TestPipelineOrderAndModes(t *testing.T) {
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRT(t, tc.cfg)
			const n = 2000
			l := newLedger()
			p, err := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 16, Drop: func(s int64, _ int64) { l.drop(s) }})
			if err != nil {
				t.Fatal(err)
			}
			var inSerial, inOOO atomic.Int32
			var maxPar atomic.Int32
			var par atomic.Int32
			var oooSeen []int64
			var written []int64
			must(t, p.Stage("square", StageParallel, func(_ context.Context, seq, x int64) (int64, error) {
				c := par.Add(1)
				casMax32(&maxPar, c)
				if seq%7 == 0 {
					time.Sleep(time.Duration(seq%3) * 10 * time.Microsecond)
				}
				par.Add(-1)
				return x * x, nil
			}))
			must(t, p.Stage("ooo", StageSerialOutOfOrder, func(_ context.Context, seq, x int64) (int64, error) {
				if inOOO.Add(1) != 1 {
					t.Error("two items in a serial out-of-order stage at once")
				}
				oooSeen = append(oooSeen, seq)
				inOOO.Add(-1)
				return x + 1, nil
			}))
			must(t, p.Stage("par2", StageParallel, func(_ context.Context, seq, x int64) (int64, error) { return x, nil }))
			must(t, p.Stage("write", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) {
				if inSerial.Add(1) != 1 {
					t.Error("two items in a serial in-order stage at once")
				}
				if x != seq*seq+1 {
					t.Errorf("item %d: value %d, want %d", seq, x, seq*seq+1)
				}
				written = append(written, seq)
				inSerial.Add(-1)
				l.pass(seq)
				return x, nil
			}))
			if err := p.Run(bg, countSource(l, n)); err != nil {
				t.Fatal(err)
			}
			for i, s := range written {
				if s != int64(i) {
					t.Fatalf("in-order stage saw %d at position %d", s, i)
				}
			}
			if len(written) != n {
				t.Fatalf("wrote %d items, want %d", len(written), n)
			}
			sorted := slices.Clone(oooSeen)
			slices.Sort(sorted)
			for i, s := range sorted {
				if s != int64(i) {
					t.Fatalf("out-of-order stage missed or repeated item %d", i)
				}
			}
			l.check(t, -2, false)
			st := p.Stats()
			if st.ItemsPassed != n || st.ItemsRead != n || st.ItemsDropped != 0 || st.PeakInFlight > 16 || st.PeakInFlight < 1 {
				t.Fatalf("stats %+v", st)
			}
			for _, s := range st.Stages {
				if s.Items != n {
					t.Fatalf("stage %q ran %d items, want %d", s.Name, s.Items, n)
				}
			}
			// The pipeline runs again.
			written = written[:0]
			l2 := newLedger()
			l = l2
			if err := p.Run(bg, countSource(l2, 100)); err != nil || len(written) != 100 {
				t.Fatalf("second run: %v, %d written", err, len(written))
			}
		})
	}
}

func casMax32(a *atomic.Int32, v int32) {
	for {
		c := a.Load()
		if v <= c || a.CompareAndSwap(c, v) {
			return
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPipelineExactlyOnceRandom fails a random item in a random stage, or fails the source, or
// cancels at a random moment, and checks exactly-once, the prefix and the error.
func TestPipelineExactlyOnceRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	iters := 300
	if testing.Short() {
		iters = 60
	}
	rts := []*Runtime{newRT(t, Config{Workers: 1}), newRT(t, Config{Workers: 2}), newRT(t, Config{Workers: 4, Policy: PolicyFixed})}
	for it := 0; it < iters; it++ {
		rt := rts[it%len(rts)]
		n := int64(1 + rng.Intn(300))
		nst := 1 + rng.Intn(4)
		modes := make([]StageMode, nst)
		for i := range modes {
			modes[i] = StageMode(rng.Intn(3))
		}
		kind := rng.Intn(4) // 0 none, 1 stage failure, 2 source failure, 3 cancel
		failSeq := rng.Int63n(n)
		failStage := rng.Intn(nst)
		usePanic := rng.Intn(2) == 0
		maxIn := 1 + rng.Intn(20)
		ctx, cancel := context.WithCancel(bg)
		l := newLedger()
		p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: maxIn, Drop: func(s, _ int64) { l.drop(s) },
			MaxBytesInFlight: uint64(1 + rng.Intn(64)), Bytes: func(x int64) uint64 { return uint64(x % 5) }})
		var inOrderNext = make([]int64, nst)
		for k := 0; k < nst; k++ {
			k := k
			must(t, p.Stage(fmt.Sprintf("s%d", k), modes[k], func(_ context.Context, seq, x int64) (int64, error) {
				if modes[k] == StageSerialInOrder {
					if seq != inOrderNext[k] {
						t.Errorf("stage %d: in-order saw %d, want %d", k, seq, inOrderNext[k])
					}
					inOrderNext[k] = seq + 1
				}
				if rng := seq * 2654435761 % 13; rng == 0 {
					time.Sleep(time.Microsecond * time.Duration(seq%20))
				}
				if kind == 1 && k == failStage && seq == failSeq {
					if usePanic {
						panic("boom")
					}
					return 0, fmt.Errorf("item %d broke", seq)
				}
				if kind == 3 && seq == failSeq && k == failStage {
					cancel()
				}
				if k == nst-1 {
					l.pass(seq)
				}
				return x, nil
			}))
		}
		src := SourceFunc(func(_ context.Context, seq int64) (int64, bool, error) {
			if kind == 2 && seq == failSeq {
				return 0, false, errors.New("source broke")
			}
			if seq >= n {
				return 0, false, nil
			}
			l.read.Add(1)
			return seq, true, nil
		})
		err := p.Run(ctx, src)
		cancel()
		desc := fmt.Sprintf("iter %d: n=%d modes=%v kind=%d failSeq=%d failStage=%d maxIn=%d", it, n, modes, kind, failSeq, failStage, maxIn)
		switch kind {
		case 0:
			if err != nil {
				t.Fatalf("%s: %v", desc, err)
			}
			l.check(t, -2, false)
		case 1, 2:
			var pe *PipelineError
			if !errors.As(err, &pe) || pe.Seq != failSeq || !errors.Is(err, ErrTaskFailed) {
				t.Fatalf("%s: error %v", desc, err)
			}
			if kind == 1 && (pe.StageIndex != failStage || pe.Stage != fmt.Sprintf("s%d", failStage)) {
				t.Fatalf("%s: error names stage %d %q", desc, pe.StageIndex, pe.Stage)
			}
			if kind == 2 && pe.StageIndex != -1 {
				t.Fatalf("%s: source failure names stage %d", desc, pe.StageIndex)
			}
			if kind == 1 && usePanic && !strings.Contains(err.Error(), "panic: boom") {
				t.Fatalf("%s: %v", desc, err)
			}
			if kind == 2 && l.read.Load() != failSeq {
				t.Fatalf("%s: read %d items before the source failure at %d", desc, l.read.Load(), failSeq)
			}
			if modes[nst-1] == StageSerialInOrder {
				l.check(t, failSeq, false)
			} else {
				// An item above s may pass a parallel or out-of-order last stage before s
				// fails; everything else holds.
				l.check(t, -2, true)
				for s := int64(0); s < failSeq; s++ {
					if l.passed[s] != 1 {
						t.Fatalf("%s: item %d below the failure dropped", desc, s)
					}
				}
				if l.passed[failSeq] != 0 && kind == 1 {
					t.Fatalf("%s: the failed item passed", desc)
				}
			}
		case 3:
			if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
				t.Fatalf("%s: error %v, want cancelled", desc, err)
			}
			l.check(t, -1, true)
		}
		if st := p.Stats(); st.PeakInFlight > int64(maxIn) {
			t.Fatalf("%s: peak in flight %d > %d", desc, st.PeakInFlight, maxIn)
		}
		if t.Failed() {
			t.Fatal(desc)
		}
	}
}

// TestPipelineBounds checks the item and byte bounds against the test's own count of live items
// and the pipeline's peak counters; one oversize item is admitted alone.
func TestPipelineBounds(t *testing.T) {
	for _, tc := range testConfigs[:3] {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRT(t, tc.cfg)
			const n, maxIn, maxBytes = 500, 6, 1000
			sizes := make([]uint64, n)
			rng := rand.New(rand.NewSource(2))
			for i := range sizes {
				sizes[i] = uint64(rng.Intn(400))
			}
			sizes[100], sizes[300] = 5000, 1500 // larger than the budget: admitted alone
			var mu sync.Mutex
			live := map[int64]bool{}     // read and not finished
			admitted := map[int64]bool{} // entered the first stage and not finished
			var liveBytes, admittedBytes, peakAdm uint64
			end := func(seq int64) {
				mu.Lock()
				delete(live, seq)
				if admitted[seq] {
					admittedBytes -= sizes[seq]
					delete(admitted, seq)
				}
				liveBytes -= sizes[seq]
				mu.Unlock()
			}
			p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: maxIn, MaxBytesInFlight: maxBytes,
				Bytes: func(s int64) uint64 { return sizes[s] }})
			must(t, p.Stage("first", StageParallel, func(_ context.Context, seq, x int64) (int64, error) {
				mu.Lock()
				admitted[seq] = true
				admittedBytes += sizes[seq]
				peakAdm = max(peakAdm, admittedBytes)
				if sizes[seq] > maxBytes && len(admitted) != 1 {
					t.Errorf("oversize item %d runs with %d other admitted items", seq, len(admitted)-1)
				}
				if sizes[seq] <= maxBytes && admittedBytes > maxBytes {
					t.Errorf("admitted bytes %d > %d", admittedBytes, maxBytes)
				}
				mu.Unlock()
				time.Sleep(time.Duration(seq%4) * 20 * time.Microsecond)
				return x, nil
			}))
			must(t, p.Stage("par", StageParallel, func(_ context.Context, seq, x int64) (int64, error) {
				time.Sleep(time.Duration(seq%3) * 30 * time.Microsecond)
				return x, nil
			}))
			must(t, p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) {
				end(seq)
				return x, nil
			}))
			src := SourceFunc(func(_ context.Context, seq int64) (int64, bool, error) {
				if seq >= n {
					return 0, false, nil
				}
				mu.Lock()
				if len(live) >= maxIn {
					t.Errorf("source called with %d items alive (max %d)", len(live), maxIn)
				}
				live[seq] = true
				liveBytes += sizes[seq]
				mu.Unlock()
				return seq, true, nil
			})
			if err := p.Run(bg, src); err != nil {
				t.Fatal(err)
			}
			st := p.Stats()
			if st.PeakInFlight > maxIn || st.PeakBytesInFlight > 5000 {
				t.Fatalf("peaks %d items, %d bytes", st.PeakInFlight, st.PeakBytesInFlight)
			}
			if st.MaxInFlight != maxIn || st.MaxBytesInFlight != maxBytes {
				t.Fatalf("bounds in stats %d %d", st.MaxInFlight, st.MaxBytesInFlight)
			}
			if peakAdm > 5000 {
				t.Fatalf("admitted peak %d", peakAdm)
			}
		})
	}
}

// TestPipelineBytesNoOversize: with no item above the budget, the pipeline's byte peak never
// passes the budget.
func TestPipelineBytesNoOversize(t *testing.T) {
	rt := newRT(t, Config{Workers: 4, Policy: PolicyFixed})
	p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 64, MaxBytesInFlight: 100, Bytes: func(x int64) uint64 { return uint64(x%50 + 1) }})
	must(t, p.Stage("work", StageParallel, func(_ context.Context, seq, x int64) (int64, error) {
		time.Sleep(10 * time.Microsecond)
		return x, nil
	}))
	must(t, p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) { return x, nil }))
	if err := p.Run(bg, countSource(newLedger(), 2000)); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.PeakBytesInFlight > 100 || st.PeakBytesInFlight < 50 {
		t.Fatalf("peak bytes %d", st.PeakBytesInFlight)
	}
}

// TestPipelineStageGrowsBytes: a stage may change an item's bytes; the budget accounts for it.
func TestPipelineStageGrowsBytes(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	type item struct {
		seq int64
		buf []byte
	}
	p, _ := NewPipeline(rt, PipelineOptions[*item]{MaxInFlight: 8, MaxBytesInFlight: 64, Bytes: func(it *item) uint64 { return uint64(len(it.buf)) }})
	must(t, p.Stage("grow", StageParallel, func(_ context.Context, seq int64, it *item) (*item, error) {
		it.buf = make([]byte, 16)
		return it, nil
	}))
	must(t, p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq int64, it *item) (*item, error) { return it, nil }))
	src := SourceFunc(func(_ context.Context, seq int64) (*item, bool, error) {
		return &item{seq: seq}, seq < 500, nil
	})
	if err := p.Run(bg, src); err != nil {
		t.Fatal(err)
	}
	// Items enter at 0 bytes and grow to 16 in the first stage: up to 8 can grow at once (the
	// source then waits until the count is back under the budget).
	if st := p.Stats(); st.PeakBytesInFlight > 8*16 || st.PeakBytesInFlight < 16 || st.ItemsPassed != 500 {
		t.Fatalf("%+v", st)
	}
}

// TestPipelinePrefixWriter: an in-order writer has written exactly the prefix before the failure.
func TestPipelinePrefixWriter(t *testing.T) {
	rt := newRT(t, Config{Workers: 4, Policy: PolicyFixed})
	for _, fs := range []int64{0, 1, 17, 499} {
		var out []int64
		var dropped atomic.Int64
		p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 32, Drop: func(int64, int64) { dropped.Add(1) }})
		must(t, p.Stage("compress", StageParallel, func(_ context.Context, seq, x int64) (int64, error) {
			if seq == fs {
				return 0, errors.New("corrupt")
			}
			time.Sleep(time.Duration(seq%5) * 5 * time.Microsecond)
			return x, nil
		}))
		must(t, p.Stage("write", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) {
			out = append(out, seq)
			return x, nil
		}))
		l := newLedger()
		err := p.Run(bg, countSource(l, 1000))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(`stage 0 ("compress") failed at item %d: corrupt`, fs)) {
			t.Fatalf("error %v", err)
		}
		if int64(len(out)) != fs {
			t.Fatalf("wrote %d items before the failure at %d", len(out), fs)
		}
		for i, s := range out {
			if s != int64(i) {
				t.Fatalf("prefix has %d at %d", s, i)
			}
		}
		if dropped.Load() != l.read.Load()-fs {
			t.Fatalf("dropped %d of %d read, failure at %d", dropped.Load(), l.read.Load(), fs)
		}
	}
}

// TestPipelineTwoFailures: with two failing items, the error and the prefix follow the smaller.
func TestPipelineTwoFailures(t *testing.T) {
	rt := newRT(t, Config{Workers: 4, Policy: PolicyFixed})
	for i := 0; i < 50; i++ {
		l := newLedger()
		p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 16, Drop: func(s, _ int64) { l.drop(s) }})
		must(t, p.Stage("a", StageParallel, func(_ context.Context, seq, x int64) (int64, error) {
			if seq == 40 {
				return 0, errors.New("a40")
			}
			return x, nil
		}))
		must(t, p.Stage("b", StageParallel, func(_ context.Context, seq, x int64) (int64, error) {
			if seq == 30 {
				time.Sleep(time.Duration(i%3) * 100 * time.Microsecond)
				return 0, errors.New("b30")
			}
			return x, nil
		}))
		must(t, p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) { l.pass(seq); return x, nil }))
		err := p.Run(bg, countSource(l, 200))
		var pe *PipelineError
		if !errors.As(err, &pe) || pe.Seq != 30 || pe.Stage != "b" {
			t.Fatalf("error %v", err)
		}
		l.check(t, 30, false)
	}
}

func TestPipelineCancel(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	for i := 0; i < 30; i++ {
		l := newLedger()
		p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 8, Drop: func(s, _ int64) { l.drop(s) }})
		started := make(chan struct{})
		var once sync.Once
		must(t, p.Stage("slow", StageParallel, func(ctx context.Context, seq, x int64) (int64, error) {
			once.Do(func() { close(started) })
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Microsecond):
			}
			return x, nil
		}))
		must(t, p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) { l.pass(seq); return x, nil }))
		go func() {
			<-started
			time.Sleep(time.Duration(i*30) * time.Microsecond)
			p.Cancel()
		}()
		src := SourceFunc(func(_ context.Context, seq int64) (int64, bool, error) { l.read.Add(1); return seq, true, nil }) // endless
		err := p.Run(bg, src)
		if !errors.Is(err, ErrCancelled) {
			t.Fatalf("error %v", err)
		}
		l.mu.Lock()
		l.check(t, -1, true)
		l.mu.Unlock()
		if p.Running() {
			t.Fatal("still running after Run returned")
		}
	}
	// Cancel with no run: a no-op.
	p, _ := NewPipeline(rt, PipelineOptions[int]{})
	p.Cancel()
	// A context cancelled before the run.
	must(t, p.Stage("x", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x, nil }))
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := p.Run(ctx, SourceSlice([]int{1, 2, 3})); !errors.Is(err, ErrCancelled) {
		t.Fatalf("pre-cancelled: %v", err)
	}
	// A deadline.
	ctx, cancel = context.WithTimeout(bg, 5*time.Millisecond)
	defer cancel()
	endless := SourceFunc(func(ctx context.Context, seq int64) (int, bool, error) {
		time.Sleep(100 * time.Microsecond)
		return 0, true, nil
	})
	if err := p.Run(ctx, endless); !errors.Is(err, ErrTimeout) || errors.Is(err, ErrCancelled) {
		t.Fatalf("deadline: %v", err)
	}
}

// TestPipelineNested: stages call ParallelFor, Join, Scope, Submit+Wait and run another pipeline;
// with one worker this deadlocks unless stages run as tasks with helping waits.
func TestPipelineNested(t *testing.T) {
	for _, cfg := range []Config{{Workers: 1}, {Workers: 2}, {Workers: 3, Policy: PolicyFixed}} {
		t.Run(fmt.Sprint(cfg.Workers), func(t *testing.T) {
			rt := newRT(t, cfg)
			inner, _ := NewPipeline(rt, PipelineOptions[int]{Name: "inner", MaxInFlight: 4})
			must(t, inner.Stage("double", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return 2 * x, nil }))
			var innerSum atomic.Int64
			must(t, inner.Stage("sum", StageSerialInOrder, func(_ context.Context, _ int64, x int) (int, error) { innerSum.Add(int64(x)); return x, nil }))
			var innerMu sync.Mutex
			p, _ := NewPipeline(rt, PipelineOptions[int64]{Name: "outer", MaxInFlight: 8})
			var total atomic.Int64
			must(t, p.Stage("pfor", StageParallel, func(ctx context.Context, seq, x int64) (int64, error) {
				var s atomic.Int64
				if err := rt.ParallelFor(ctx, 0, 1000, 10, func(lo, hi int) error {
					for i := lo; i < hi; i++ {
						s.Add(int64(i))
					}
					return nil
				}); err != nil {
					return 0, err
				}
				a, b, err := Join(rt, func() (int64, error) { return 1, nil }, func() (int64, error) { return 2, nil })
				if err != nil {
					return 0, err
				}
				f := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int64, error) { return 3, nil })
				c, err := f.Wait(ctx)
				if err != nil {
					return 0, err
				}
				return x + s.Load() + a + b + c, nil
			}))
			must(t, p.Stage("inner", StageSerialOutOfOrder, func(ctx context.Context, seq, x int64) (int64, error) {
				if seq%10 == 0 {
					innerMu.Lock()
					defer innerMu.Unlock()
					if err := inner.Run(ctx, SourceSlice([]int{1, 2, 3})); err != nil {
						return 0, err
					}
				}
				return x, nil
			}))
			must(t, p.Stage("sum", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) {
				if x != seq+499500+6 {
					return 0, fmt.Errorf("item %d: %d", seq, x)
				}
				total.Add(1)
				return x, nil
			}))
			if err := p.Run(bg, countSource(newLedger(), 100)); err != nil {
				t.Fatal(err)
			}
			if total.Load() != 100 || innerSum.Load() != 10*12 {
				t.Fatalf("total %d, inner sum %d", total.Load(), innerSum.Load())
			}
			// Run from inside a task of the runtime (helping wait).
			f := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(ctx context.Context) (int, error) {
				return 0, inner.Run(ctx, SourceSlice([]int{5}))
			})
			if _, err := f.Wait(bg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPipelineSelfRun: a stage or source that runs its own pipeline gets an error, not a deadlock.
func TestPipelineSelfRun(t *testing.T) {
	rt := newRT(t, Config{Workers: 1})
	var p *Pipeline[int]
	p, _ = NewPipeline(rt, PipelineOptions[int]{})
	var inner error
	must(t, p.Stage("self", StageParallel, func(ctx context.Context, _ int64, x int) (int, error) {
		inner = p.Run(ctx, SourceSlice([]int{1}))
		return x, nil
	}))
	if err := p.Run(bg, SourceSlice([]int{1})); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(inner, ErrInvalidArgument) {
		t.Fatalf("self run: %v", inner)
	}
	srcErr := SourceFunc(func(ctx context.Context, seq int64) (int, bool, error) {
		if seq == 0 {
			inner = p.Run(ctx, SourceSlice([]int{1}))
			return 0, true, nil
		}
		return 0, false, nil
	})
	inner = nil
	if err := p.Run(bg, srcErr); err != nil || !errors.Is(inner, ErrInvalidArgument) {
		t.Fatalf("self run from the source: %v, %v", err, inner)
	}
	// A stage added during a run, SetPriority during a run.
	q, _ := NewPipeline(rt, PipelineOptions[int]{})
	var addErr, prioErr error
	must(t, q.Stage("add", StageParallel, func(context.Context, int64, int) (int, error) {
		addErr = q.Stage("late", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x, nil })
		prioErr = q.SetPriority(PriorityHigh)
		return 0, nil
	}))
	must(t, q.Run(bg, SourceSlice([]int{1})))
	if !errors.Is(addErr, ErrInvalidArgument) || !errors.Is(prioErr, ErrInvalidArgument) || q.Stages() != 1 {
		t.Fatalf("during a run: %v %v %d", addErr, prioErr, q.Stages())
	}
}

func TestPipelineBadInput(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	if _, err := NewPipeline[int](nil, PipelineOptions[int]{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := NewPipeline(rt, PipelineOptions[int]{MaxInFlight: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	p, _ := NewPipeline(rt, PipelineOptions[int]{})
	id := func(_ context.Context, _ int64, x int) (int, error) { return x, nil }
	cases := map[string]error{
		"nil fn":       p.Stage("a", StageParallel, nil),
		"mode 3":       p.Stage("a", StageMode(3), id),
		"mode -1":      p.Stage("a", StageMode(-1), id),
		"bad priority": p.Stage("a", StageParallel, id, StagePriority(Priority(9))),
		"no stage":     p.Run(bg, SourceSlice([]int{1})),
		"set priority": p.SetPriority(PriorityRealtime - 1),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	must(t, p.Stage("", StageParallel, id))
	for name, src := range map[string]Source[int]{"zero": {}, "nil func": SourceFunc[int](nil), "nil seq": SourceSeq[int](nil), "nil chan": SourceChan[int](nil)} {
		if err := p.Run(bg, src); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("source %s: %v", name, err)
		}
	}
	if p.Stats().Stages[0].Name != "stage-0" {
		t.Fatalf("default stage name %q", p.Stats().Stages[0].Name)
	}
	// Stage names are unique (metrics label stages by name): a taken name, given or default.
	must(t, p.Stage("write", StageSerialInOrder, id))
	if err := p.Stage("write", StageParallel, id); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "taken by stage 1") {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := p.Stage("stage-0", StageParallel, id); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("duplicate of a default name: %v", err)
	}
	if n := p.Stages(); n != 2 {
		t.Fatalf("refused stages were added: %d stages", n)
	}
	// A second concurrent run.
	block := make(chan struct{})
	q, _ := NewPipeline(rt, PipelineOptions[int]{})
	must(t, q.Stage("block", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { <-block; return x, nil }))
	done := make(chan error)
	go func() { done <- q.Run(bg, SourceSlice([]int{1})) }()
	for !q.Running() {
		time.Sleep(time.Millisecond)
	}
	if err := q.Run(bg, SourceSlice([]int{1})); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("concurrent run: %v", err)
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A closed runtime.
	rt2, _ := New(Config{Workers: 1})
	r2, _ := NewPipeline(rt2, PipelineOptions[int]{})
	must(t, r2.Stage("x", StageParallel, id))
	rt2.Close()
	if err := r2.Run(bg, SourceSlice([]int{1})); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed runtime: %v", err)
	}
}

func TestPipelineSources(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	p, _ := NewPipeline(rt, PipelineOptions[string]{})
	var got []string
	must(t, p.Stage("upper", StageParallel, func(_ context.Context, _ int64, s string) (string, error) { return strings.ToUpper(s), nil }))
	must(t, p.Stage("collect", StageSerialInOrder, func(_ context.Context, _ int64, s string) (string, error) { got = append(got, s); return s, nil }))
	words := []string{"a", "b", "c", "d"}
	must(t, p.Run(bg, SourceSeq(slices.Values(words))))
	must(t, p.Run(bg, SourceSeq(slices.Values(words)))) // opened afresh
	ch := make(chan string)
	go func() {
		for _, w := range words {
			ch <- w
		}
		close(ch)
	}()
	must(t, p.Run(bg, SourceChan(ch)))
	if strings.Join(got, "") != "ABCDABCDABCD" {
		t.Fatalf("got %v", got)
	}
	// An iter.Seq stopped early by a failure is stopped (its defer runs).
	stopped := make(chan struct{})
	seq := func(yield func(string) bool) {
		defer close(stopped)
		for i := 0; ; i++ {
			if !yield(fmt.Sprint(i)) {
				return
			}
		}
	}
	q, _ := NewPipeline(rt, PipelineOptions[string]{MaxInFlight: 4})
	must(t, q.Stage("fail", StageParallel, func(_ context.Context, s int64, x string) (string, error) {
		if s == 10 {
			return "", errors.New("stop")
		}
		return x, nil
	}))
	if err := q.Run(bg, SourceSeq(seq)); err == nil {
		t.Fatal("want an error")
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("iterator not stopped")
	}
	// A panicking source.
	pan := SourceFunc(func(context.Context, int64) (string, bool, error) { panic("src") })
	var pe *PipelineError
	var pp *PanicError
	if err := q.Run(bg, pan); !errors.As(err, &pe) || pe.StageIndex != -1 || !errors.As(err, &pp) {
		t.Fatalf("panicking source: %v", err)
	}
	// A channel source on a cancelled run stops waiting.
	never := make(chan string)
	ctx, cancel := context.WithTimeout(bg, 10*time.Millisecond)
	defer cancel()
	if err := q.Run(ctx, SourceChan(never)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("blocked channel source: %v", err)
	}
}

func TestPipelineAll(t *testing.T) {
	rt := newRT(t, Config{Workers: 3, Policy: PolicyFixed})
	var dropped atomic.Int64
	p, _ := NewPipeline(rt, PipelineOptions[int]{MaxInFlight: 8, Drop: func(int64, int) { dropped.Add(1) }})
	must(t, p.Stage("sq", StageParallel, func(_ context.Context, seq int64, x int) (int, error) {
		time.Sleep(time.Duration(seq%4) * 10 * time.Microsecond)
		if x == -1 {
			return 0, errors.New("negative")
		}
		return x * x, nil
	}))
	in := make([]int, 300)
	for i := range in {
		in[i] = i
	}
	i := 0
	for v, err := range p.All(bg, SourceSlice(in)) {
		if err != nil || v != i*i {
			t.Fatalf("item %d: %d, %v", i, v, err)
		}
		i++
	}
	if i != 300 {
		t.Fatalf("%d results", i)
	}
	// Early break: the rest is dropped, exactly once.
	seen := 0
	for v, err := range p.All(bg, SourceSlice(in)) {
		if err != nil || v != seen*seen {
			t.Fatal(v, err)
		}
		seen++
		if seen == 20 {
			break
		}
	}
	st := p.Stats()
	if st.ItemsRead-300 != 20+uint64(dropped.Load()) || st.ItemsPassed != 320 {
		t.Fatalf("after break: read %d, passed %d, dropped %d", st.ItemsRead, st.ItemsPassed, dropped.Load())
	}
	// A failure: the prefix, then the error at its position.
	in[50] = -1
	dropped.Store(0)
	var outs []int
	var last error
	for v, err := range p.All(bg, SourceSlice(in)) {
		if err != nil {
			last = err
			continue
		}
		outs = append(outs, v)
	}
	var pe *PipelineError
	if len(outs) != 50 || !errors.As(last, &pe) || pe.Seq != 50 {
		t.Fatalf("%d outputs, %v", len(outs), last)
	}
	// Bad input is yielded.
	empty, _ := NewPipeline(rt, PipelineOptions[int]{})
	for _, err := range empty.All(bg, SourceSlice(in)) {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatal(err)
		}
	}
	// A slow consumer is backpressure: in flight never above the bound.
	q, _ := NewPipeline(rt, PipelineOptions[int]{MaxInFlight: 3})
	must(t, q.Stage("id", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x, nil }))
	n := 0
	for range q.All(bg, SourceSlice(in[:100])) {
		time.Sleep(20 * time.Microsecond)
		n++
	}
	if n != 100 || q.Stats().PeakInFlight > 3 {
		t.Fatalf("%d items, peak %d", n, q.Stats().PeakInFlight)
	}
}

func TestPipelineMetrics(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	p, _ := NewPipeline(rt, PipelineOptions[int]{Name: `enc"rypt`, MaxInFlight: 4})
	must(t, p.Stage("seal", StageParallel, func(_ context.Context, _ int64, x int) (int, error) {
		time.Sleep(50 * time.Microsecond)
		return x, nil
	}))
	must(t, p.Stage("write", StageSerialInOrder, func(_ context.Context, _ int64, x int) (int, error) { return x, nil }))
	must(t, p.Run(bg, SourceSlice(make([]int, 50))))
	m := rt.Metrics()
	var found *PipelineStats
	for i := range m.Pipelines {
		if m.Pipelines[i].Name == `enc"rypt` {
			found = &m.Pipelines[i]
		}
	}
	if found == nil || found.ItemsPassed != 50 || len(found.Stages) != 2 || found.Stages[0].BusyNs < 50*50_000 ||
		found.Stages[1].Mode != "serial_in_order" || found.PeakInFlight > 4 {
		t.Fatalf("metrics %+v", found)
	}
	js, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Pipelines []PipelineStats `json:"pipelines"`
	}
	if err := json.Unmarshal(js, &back); err != nil || len(back.Pipelines) == 0 || !strings.Contains(string(js), `"peak_queue_depth"`) {
		t.Fatalf("json %s %v", js, err)
	}
	prom := m.Prometheus()
	for _, want := range []string{
		`veda_pipeline_items_passed_total{pipeline="enc\"rypt"} 50`,
		`veda_pipeline_stage_items_total{pipeline="enc\"rypt",stage="seal"} 50`,
		`veda_pipeline_stage_busy_seconds_total{pipeline="enc\"rypt",stage="write"}`,
		`veda_pipeline_peak_items_in_flight{pipeline="enc\"rypt"}`,
		`# TYPE veda_pipeline_stage_wait_seconds_total counter`,
	} {
		if !strings.Contains(prom, want) {
			t.Fatalf("prometheus lacks %q:\n%s", want, prom)
		}
	}
	// Unnamed pipelines get distinct names.
	a, _ := NewPipeline(rt, PipelineOptions[int]{})
	b, _ := NewPipeline(rt, PipelineOptions[int]{})
	if a.Name() == b.Name() || !strings.HasPrefix(a.Name(), "pipeline-") {
		t.Fatalf("names %q %q", a.Name(), b.Name())
	}
}

// TestPipelineDefaults: bounds of 0 take the profile's in-flight segments and memory budget.
func TestPipelineDefaults(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	p, _ := NewPipeline(rt, PipelineOptions[int]{})
	must(t, p.Stage("x", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x, nil }))
	must(t, p.Run(bg, SourceSlice([]int{1})))
	st := p.Stats()
	items, bytes := rt.pipelineDefaults()
	if st.MaxInFlight != items || st.MaxBytesInFlight != bytes || items < 1 || bytes < 1 {
		t.Fatalf("defaults %d %d, stats %d %d", items, bytes, st.MaxInFlight, st.MaxBytesInFlight)
	}
}

// TestPipelinePriorities: stage priorities route carry tasks through the injector; the run is
// still correct, and a serial stage keeps up under parallel pressure.
func TestPipelinePriorities(t *testing.T) {
	rt := newRT(t, Config{Workers: 3, Policy: PolicyFixed})
	p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 32})
	must(t, p.SetPriority(PriorityLow))
	must(t, p.Stage("work", StageParallel, func(_ context.Context, _ int64, x int64) (int64, error) {
		time.Sleep(20 * time.Microsecond)
		return x, nil
	}, StagePriority(PriorityBackground)))
	var order []int64
	must(t, p.Stage("write", StageSerialInOrder, func(_ context.Context, seq, x int64) (int64, error) {
		order = append(order, seq)
		return x, nil
	}, StagePriority(PriorityHigh)))
	must(t, p.Run(bg, countSource(newLedger(), 300)))
	for i, s := range order {
		if s != int64(i) {
			t.Fatalf("order %v", order[:i+1])
		}
	}
}

// TestPipelineStress runs many small pipelines at once on one runtime (race detector food).
func TestPipelineStress(t *testing.T) {
	rt := newRT(t, Config{Workers: 4, Policy: PolicyFixed})
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for it := 0; it < 20; it++ {
				l := newLedger()
				p, _ := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 1 + (g+it)%7, Drop: func(s, _ int64) { l.drop(s) }})
				var sum int64
				p.Stage("a", StageMode(it%3), func(_ context.Context, _ int64, x int64) (int64, error) { return x + 1, nil })
				p.Stage("b", StageParallel, func(_ context.Context, s int64, x int64) (int64, error) {
					if it%5 == 4 && s == 33 {
						return 0, errors.New("x")
					}
					return x, nil
				})
				p.Stage("c", StageSerialInOrder, func(_ context.Context, s int64, x int64) (int64, error) { sum += x; l.pass(s); return x, nil })
				err := p.Run(bg, countSource(l, 100))
				if it%5 == 4 {
					if err == nil {
						t.Error("want failure")
					}
					continue
				}
				if err != nil || sum != 5050 {
					t.Errorf("run: %v, sum %d", err, sum)
				}
			}
		}(g)
	}
	wg.Wait()
}
