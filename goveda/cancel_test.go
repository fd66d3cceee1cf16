package goveda

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// blockPool occupies every worker of rt until the returned release is called.
func blockPool(t *testing.T, rt *Runtime) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	started := make(chan struct{}, rt.Workers())
	for i := 0; i < rt.Workers(); i++ {
		Submit(rt, TaskOptions{Priority: PriorityRealtime}, func(context.Context) (int, error) {
			started <- struct{}{}
			<-gate
			return 0, nil
		})
	}
	for i := 0; i < rt.Workers(); i++ {
		<-started
	}
	return func() { close(gate) }
}

func TestFutureCancelBeforeStart(t *testing.T) {
	rt := sliceRT(t, 1)
	release := blockPool(t, rt)
	var ran atomic.Bool
	fu := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) {
		ran.Store(true)
		return 1, nil
	})
	if !fu.Cancel() {
		t.Fatal("Cancel of a queued task returned false")
	}
	// The Future fails at once, before the pool is free.
	if _, err := fu.Wait(context.Background()); !errors.Is(err, ErrCancelled) {
		t.Fatalf("Wait = %v, want ErrCancelled", err)
	}
	if fu.Cancel() { // twice is fine, and a no-op
		t.Fatal("second Cancel returned true")
	}
	release()
	rt.Close() // drains the queue: the cancelled job is popped and skipped
	if ran.Load() {
		t.Fatal("a task cancelled before it started ran")
	}
}

func TestFutureCancelRunningAndFinished(t *testing.T) {
	rt := sliceRT(t, 2)
	started := make(chan struct{})
	fu := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		return 7, context.Cause(ctx)
	})
	<-started
	if fu.Cancel() {
		t.Fatal("Cancel of a running task returned true")
	}
	v, err := fu.Wait(context.Background())
	if v != 7 || !errors.Is(err, ErrCancelled) {
		t.Fatalf("running task after Cancel: %d, %v; want 7 and its ctx's cause (ErrCancelled)", v, err)
	}
	done := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) { return 3, nil })
	if v, err := done.Wait(context.Background()); v != 3 || err != nil {
		t.Fatal(v, err)
	}
	if done.Cancel() || done.Cancel() {
		t.Fatal("Cancel of a finished task returned true")
	}
	if v, err := done.Wait(context.Background()); v != 3 || err != nil {
		t.Fatalf("Cancel changed a finished result: %d, %v", v, err)
	}
	// An early-failed Future (nil f) can be cancelled too.
	bad := Submit[int](rt, TaskOptions{}, nil)
	if bad.Cancel() {
		t.Fatal("Cancel of a failed Future returned true")
	}
}

type ctxKey struct{}

func TestSubmitContext(t *testing.T) {
	rt := sliceRT(t, 1)
	// The task sees the caller's context (values, and its cancellation).
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	got, err := SubmitContext(ctx, rt, TaskOptions{Priority: PriorityNormal}, func(c context.Context) (string, error) {
		s, _ := c.Value(ctxKey{}).(string)
		return s, nil
	}).Wait(context.Background())
	if got != "v" || err != nil {
		t.Fatalf("task ctx value = %q, %v", got, err)
	}
	// Already cancelled: never runs.
	var ran atomic.Int32
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := SubmitContext(cctx, rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) { ran.Add(1); return 0, nil })
	if _, err := f.Wait(context.Background()); !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	// Cancelled while queued: never runs, fails at once.
	release := blockPool(t, rt)
	qctx, qcancel := context.WithCancel(context.Background())
	q := SubmitContext(qctx, rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) { ran.Add(1); return 0, nil })
	qcancel()
	if _, err := q.Wait(context.Background()); !errors.Is(err, ErrCancelled) {
		t.Fatalf("ctx cancelled while queued: %v", err)
	}
	release()
	// Stress: many submissions cancelled at random moments; each Future settles exactly once.
	var futs []*Future[int]
	for i := 0; i < 500; i++ {
		fu := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(ctx context.Context) (int, error) { return 1, ctx.Err() })
		futs = append(futs, fu)
		if i%3 == 0 {
			fu.Cancel()
		}
	}
	for _, fu := range futs {
		if _, err := fu.Wait(context.Background()); err != nil && !errors.Is(err, ErrCancelled) {
			t.Fatal(err)
		}
	}
	rt.Close()
	if ran.Load() != 0 {
		t.Fatalf("%d cancelled tasks ran", ran.Load())
	}
}

// A ParallelFor whose ctx times out after 50 ms returns about then, not after the chunk that
// lazy splitting made (half the range): no piece starts after the timeout.
func TestParallelForTimeoutStopsWithinAPiece(t *testing.T) {
	rt := sliceRT(t, 2)
	const n = 2000 // 1 ms per index: 1 s of work on 2 workers
	var done atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := rt.ParallelFor(ctx, 0, n, 0, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			time.Sleep(time.Millisecond)
			done.Add(1)
		}
		return nil
	})
	d := time.Since(start)
	if errors.Is(err, ErrCancelled) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("ParallelFor = %v, want ErrTimeout (only)", err)
	}
	// A piece is at most about pieceTime (0.5 ms of sleeps doubling to ~1-2 ms here); the bound
	// is generous for a loaded machine but far below the ~500 ms a whole lazy chunk would take.
	if d > 300*time.Millisecond || done.Load() > n/4 {
		t.Fatalf("returned after %v having run %d of %d indices", d, done.Load(), n)
	}
	t.Logf("returned after %v, %d indices run", d, done.Load())
}

func TestParallelForCtxSeesFailure(t *testing.T) {
	rt := sliceRT(t, 2)
	boom := errors.New("boom")
	var sawCancel atomic.Bool
	err := rt.ParallelForCtx(context.Background(), 0, 2, 1, func(ctx context.Context, lo, hi int) error {
		if lo == 0 {
			time.Sleep(5 * time.Millisecond)
			return boom
		}
		select {
		case <-ctx.Done():
			sawCancel.Store(errors.Is(context.Cause(ctx), boom))
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("never cancelled")
		}
	})
	if err != boom || !sawCancel.Load() {
		t.Fatalf("ParallelForCtx = %v, saw cancel %v; want boom, true", err, sawCancel.Load())
	}
	if err := rt.ParallelForCtx(context.Background(), 0, 1, 1, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil body: %v", err)
	}
}

func TestScopeContext(t *testing.T) {
	rt := sliceRT(t, 2)
	boom := errors.New("boom")
	var sawCancel atomic.Bool
	err := rt.Scope(context.Background(), func(s *Scope) {
		s.SpawnCtx(func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				sawCancel.Store(errors.Is(context.Cause(ctx), boom))
				return nil
			case <-time.After(10 * time.Second):
				return errors.New("never cancelled")
			}
		})
		s.Spawn(func() error { time.Sleep(5 * time.Millisecond); return boom })
	})
	if err != boom || !sawCancel.Load() {
		t.Fatalf("Scope = %v, child saw cancel %v", err, sawCancel.Load())
	}
	// Context made after a failure is already done.
	err = rt.Scope(context.Background(), func(s *Scope) {
		s.Spawn(func() error { return boom })
		for !s.f.Stopped() {
			time.Sleep(time.Millisecond)
		}
		if s.Context().Err() == nil {
			t.Error("Context after a failure is not done")
		}
	})
	if err != boom {
		t.Fatal(err)
	}
	// The parent's cancellation reaches it.
	pctx, cancel := context.WithCancel(context.Background())
	_ = rt.Scope(pctx, func(s *Scope) {
		cancel()
		<-s.Context().Done()
	})
}

func TestJoinCtx(t *testing.T) {
	rt := sliceRT(t, 2)
	boom := errors.New("boom")
	a, b, err := JoinCtx(context.Background(), rt,
		func(context.Context) (int, error) { return 1, nil },
		func(context.Context) (int, error) { return 2, nil })
	if a != 1 || b != 2 || err != nil {
		t.Fatal(a, b, err)
	}
	var sawCancel atomic.Bool
	_, _, err = JoinCtx(context.Background(), rt,
		func(context.Context) (int, error) { time.Sleep(5 * time.Millisecond); return 0, boom },
		func(ctx context.Context) (int, error) {
			select {
			case <-ctx.Done():
				sawCancel.Store(true)
			case <-time.After(10 * time.Second):
			}
			return 0, nil
		})
	if err != boom {
		t.Fatalf("JoinCtx = %v, want boom", err)
	}
	if !sawCancel.Load() {
		// fb may also have been skipped (queued and never started): both are correct stops.
		t.Log("fb did not start (skipped after fa failed)")
	}
	var ran atomic.Int32
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = JoinCtx(cctx, rt,
		func(context.Context) (int, error) { ran.Add(1); return 0, nil },
		func(context.Context) (int, error) { ran.Add(1); return 0, nil })
	if !errors.Is(err, ErrCancelled) || ran.Load() != 0 {
		t.Fatalf("cancelled JoinCtx = %v, ran %d", err, ran.Load())
	}
	if _, _, err := JoinCtx[int, int](context.Background(), rt, nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}

// A loop whose bodies are CPU-bound Go code, on as many workers as the process has Ps, stops at
// its deadline from its own clock: the context's timer fires from Go's scheduler, which such
// workers leave only at Go's 10 ms preemption, and the loop used to run on until then. Counted,
// not timed: a piece may start after the deadline only if the deadline passed between a worker's
// check and its claim, so at most one per worker (before the fix: dozens, ~10 ms of 0.1 ms
// pieces). The error is the timeout with the context's own cause.
func TestParallelForDeadlineSeenOnItsOwnClock(t *testing.T) {
	workers := runtime.GOMAXPROCS(0)
	rt := sliceRT(t, workers)
	cause := errors.New("the frame is due")
	for _, withCtx := range []bool{false, true} {
		dl := time.Now().Add(30 * time.Millisecond)
		ctx, cancel := context.WithDeadlineCause(context.Background(), dl, cause)
		var late, calls atomic.Int64
		spin := func() {
			for end := time.Now().Add(100 * time.Microsecond); time.Now().Before(end); {
			}
		}
		body := func(lo, hi int) error {
			calls.Add(1)
			if !time.Now().Before(dl) {
				late.Add(1)
			}
			for i := lo; i < hi; i++ {
				spin()
			}
			return nil
		}
		var err error
		if withCtx {
			err = rt.ParallelForCtx(ctx, 0, 1<<20, 1, func(_ context.Context, lo, hi int) error { return body(lo, hi) })
		} else {
			err = rt.ParallelFor(ctx, 0, 1<<20, 1, body)
		}
		cancel()
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, cause) {
			t.Fatalf("ctx=%v: err = %v, want ErrTimeout with the context's cause", withCtx, err)
		}
		if late.Load() > int64(workers) {
			t.Fatalf("ctx=%v: %d of %d pieces started after the deadline (at most %d may)", withCtx, late.Load(), calls.Load(), workers)
		}
		t.Logf("ctx=%v: %d pieces, %d started after the deadline", withCtx, calls.Load(), late.Load())
	}
}

// A Reduce checks its deadline the same way: between leaves, and between the pieces of a leaf
// where leaves run in pieces (cgo bodies; a Go fold is one call per leaf, whose bound is one
// leaf). It returns the timeout error, wrapping context.DeadlineExceeded.
func TestReduceDeadlineSeenOnItsOwnClock(t *testing.T) {
	rt, err := New(Config{Workers: 2, CgoBodies: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = Reduce(ctx, rt, 0, 1<<40, 1<<16, 0, func(lo, hi, acc int) int {
		for i := lo; i < hi; i++ {
			acc += i & 7
		}
		return acc
	}, func(a, b int) int { return a + b })
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Reduce = %v, want ErrTimeout wrapping context.DeadlineExceeded", err)
	}
}

// Scope children that have not started are skipped once the Scope's deadline passed, seen on
// the scope's own clock (as TestParallelForDeadlineSeenOnItsOwnClock): with CPU-bound children
// on every P, at most one child per worker may start after it. The result is ErrTimeout with the
// context's cause, and the children's context is done.
func TestScopeDeadlineSeenOnItsOwnClock(t *testing.T) {
	workers := runtime.GOMAXPROCS(0)
	rt := sliceRT(t, workers)
	cause := errors.New("the batch is due")
	dl := time.Now().Add(30 * time.Millisecond)
	ctx, cancel := context.WithDeadlineCause(context.Background(), dl, cause)
	defer cancel()
	var late, ran atomic.Int64
	var sawDone atomic.Bool
	err := rt.Scope(ctx, func(s *Scope) {
		for i := 0; i < 2000; i++ { // 2000 x 100 us: 100 ms of work on 2 workers
			s.SpawnCtx(func(cctx context.Context) error {
				ran.Add(1)
				if !time.Now().Before(dl) {
					late.Add(1)
				}
				for end := time.Now().Add(100 * time.Microsecond); time.Now().Before(end); {
				}
				if cctx.Err() != nil {
					sawDone.Store(true)
				}
				return nil
			})
		}
	})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, cause) {
		t.Fatalf("Scope = %v, want ErrTimeout with the context's cause", err)
	}
	if late.Load() > int64(workers) {
		t.Fatalf("%d of %d children started after the deadline (at most %d may)", late.Load(), ran.Load(), workers)
	}
	t.Logf("%d children ran, %d started after the deadline, a child saw its context done: %v", ran.Load(), late.Load(), sawDone.Load())
}

// Sort stops at its deadline too, and reports the context's own cause.
func TestSortDeadlineCause(t *testing.T) {
	rt := sliceRT(t, runtime.GOMAXPROCS(0))
	s := make([]int, 1<<20)
	for i := range s {
		s[i] = len(s) - i
	}
	cause := errors.New("the index is due")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 5*time.Millisecond, cause)
	defer cancel()
	slow := func(a, b int) int {
		for end := time.Now().Add(time.Microsecond); time.Now().Before(end); {
		}
		return a - b
	}
	if err := SortFunc(ctx, rt, s, slow, Grain(256)); !errors.Is(err, ErrTimeout) || !errors.Is(err, cause) {
		t.Fatalf("SortFunc = %v, want ErrTimeout with the context's cause", err)
	}
}
