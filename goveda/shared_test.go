package goveda

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// isolateShared runs the test with no shared instance live and restores the previous state
// afterwards (other tests of the package use Default).
func isolateShared(t *testing.T) {
	t.Helper()
	shared.mu.Lock()
	savedRT, savedRefs, savedPinned := shared.rt, shared.refs, shared.pinned
	shared.rt, shared.refs, shared.pinned = nil, 0, false
	shared.mu.Unlock()
	t.Cleanup(func() {
		shared.mu.Lock()
		leftover := shared.rt
		shared.rt, shared.refs, shared.pinned = savedRT, savedRefs, savedPinned
		shared.mu.Unlock()
		if leftover != nil {
			_ = leftover.closeNow()
			t.Errorf("test left the shared runtime live")
		}
	})
}

func TestSharedRefcount(t *testing.T) {
	isolateShared(t)
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	if a != b || !a.IsShared() {
		t.Fatalf("Shared returned two runtimes (%p, %p) or one not marked shared", a, b)
	}
	if n := SharedRefs(); n != 2 {
		t.Fatalf("SharedRefs = %d, want 2", n)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("first release: %v", err)
	}
	// Still running: one reference left.
	if err := b.ParallelFor(context.Background(), 0, 100, 1, func(lo, hi int) error { return nil }); err != nil {
		t.Fatalf("after one of two releases: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("last release: %v", err)
	}
	if n := SharedRefs(); n != 0 {
		t.Fatalf("SharedRefs after the last release = %d, want 0", n)
	}
	if err := b.ParallelFor(context.Background(), 0, 100, 1, func(lo, hi int) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("after the last release ParallelFor = %v, want ErrClosed", err)
	}
	// Once more than acquired: ErrClosed, nothing else changes.
	if err := b.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("extra release = %v, want ErrClosed", err)
	}
	// A new acquire starts a fresh pool.
	c, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Fatal("Shared after the last release returned the closed instance")
	}
	if err := a.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("release of a stale instance = %v, want ErrClosed", err)
	}
	if n := SharedRefs(); n != 1 {
		t.Fatalf("a stale release changed the live count: %d, want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSharedDefaultIsShared(t *testing.T) {
	isolateShared(t)
	d := Default()
	if d != Default() {
		t.Fatal("Default returned two runtimes")
	}
	if n := SharedRefs(); n != 1 {
		t.Fatalf("Default holds %d references, want 1 (it pins one, once)", n)
	}
	s, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	if s != d {
		t.Fatal("Shared and Default differ")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Default's pin keeps it running.
	if err := d.ParallelFor(context.Background(), 0, 10, 1, func(lo, hi int) error { return nil }); err != nil {
		t.Fatalf("Default's runtime stopped while pinned: %v", err)
	}
	if err := d.Close(); err != nil { // release the pin: the last reference
		t.Fatal(err)
	}
	if n := SharedRefs(); n != 0 {
		t.Fatalf("SharedRefs = %d, want 0", n)
	}
}

// TestSharedStress acquires and releases from many goroutines while tasks run on the shared
// pool: every pair balances, no release fails, and at the end no instance is live.
func TestSharedStress(t *testing.T) {
	isolateShared(t)
	hold, err := Shared() // keeps one instance live for most of the test
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				rt, err := Shared()
				if err != nil {
					errs <- err
					return
				}
				var n int64
				var mu sync.Mutex
				if err := rt.ParallelFor(context.Background(), 0, 64, 1, func(lo, hi int) error {
					mu.Lock()
					n += int64(hi - lo)
					mu.Unlock()
					return nil
				}); err != nil {
					errs <- err
				}
				if n != 64 {
					errs <- errors.New("veda: lost iterations")
				}
				if err := rt.Close(); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := SharedRefs(); n != 1 {
		t.Fatalf("SharedRefs = %d, want 1", n)
	}
	if err := hold.Close(); err != nil {
		t.Fatal(err)
	}
	// Churn with no holder: instances come and go; each acquire gets a live one.
	for i := 0; i < 20; i++ {
		rt, err := Shared()
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.ParallelFor(context.Background(), 0, 4, 1, func(lo, hi int) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := rt.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A task of the shared runtime may acquire and release it too (nesting, e.g. a C callback
// that calls veda_runtime_shared).
func TestSharedFromInsideTask(t *testing.T) {
	isolateShared(t)
	rt, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	err = rt.ParallelFor(context.Background(), 0, 8, 1, func(lo, hi int) error {
		inner, err := Shared()
		if err != nil {
			return err
		}
		if inner != rt {
			return errors.New("veda: a task saw another shared runtime")
		}
		return inner.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
}
