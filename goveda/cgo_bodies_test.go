package goveda

import (
	"bytes"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// goid returns the calling goroutine's id (test only: tells which worker ran a body).
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// CgoBodies raises GOMAXPROCS to Workers+1 (never lowers it), unless the GOMAXPROCS variable
// is set: then the user's value stands.
func TestCgoBodiesKeepASpareP(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the environment: CgoBodies leaves it alone")
	}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	newRT(t, Config{Workers: 2, CgoBodies: true})
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("GOMAXPROCS = %d after a CgoBodies runtime of 2 workers, want 3", got)
	}
	runtime.GOMAXPROCS(8)
	newRT(t, Config{Workers: 2, CgoBodies: true})
	if got := runtime.GOMAXPROCS(0); got != 8 {
		t.Fatalf("GOMAXPROCS = %d, want 8 kept (never lowered)", got)
	}
	runtime.GOMAXPROCS(1)
	newRT(t, Config{Workers: 2})
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS = %d after a plain runtime, want 1 (unchanged)", got)
	}
}

// A GOMAXPROCS environment variable is the user's choice: CgoBodies then leaves GOMAXPROCS as
// it is, even below Workers+1.
func TestCgoBodiesLeaveAnExplicitGOMAXPROCS(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	t.Setenv("GOMAXPROCS", "1")
	newRT(t, Config{Workers: 2, CgoBodies: true})
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS = %d with GOMAXPROCS=1 in the environment, want 1 kept", got)
	}
}

// With CgoBodies a leaf runs in pieces that a worker that has run out of work joins (claims
// pieces of) while another worker is in it: lazy splitting alone cuts a range only when a task
// is stolen, so the slow first leaf here would run on one worker from start to end.
func TestCgoBodiesIdleWorkerJoinsARunningLeaf(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyFixed, CgoBodies: true})
	const n, slow = 64, 16
	var mu sync.Mutex
	ran := map[int]uint64{} // index -> goroutine that ran it
	err := rt.ParallelFor(bg, 0, n, 1, func(lo, hi int) error {
		g := goid()
		for i := lo; i < hi; i++ {
			if i < slow {
				time.Sleep(2 * time.Millisecond) // the first leaf holds all the work
			}
			mu.Lock()
			if _, dup := ran[i]; dup {
				mu.Unlock()
				t.Errorf("index %d ran twice", i)
				return nil
			}
			ran[i] = g
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ran) != n {
		t.Fatalf("%d of %d indices ran", len(ran), n)
	}
	gs := map[uint64]bool{}
	for i := 0; i < slow; i++ {
		gs[ran[i]] = true
	}
	if len(gs) < 2 {
		t.Fatalf("the %d slow indices all ran on one worker: the idle one never joined the leaf", slow)
	}
}

// Reduce leaves of a CgoBodies runtime fold in pieces and share halves with idle workers; the
// result must still combine left before right: a non-commutative combine (concatenation) gives
// exactly 0..n-1 in order, on every worker count.
func TestCgoBodiesReduceKeepsOrder(t *testing.T) {
	for _, w := range []int{1, 2, 3} {
		rt := newRT(t, Config{Workers: w, Policy: PolicyFixed, CgoBodies: true})
		const n = 3000
		got, err := Reduce(bg, rt, 0, n, 1, []int(nil), func(lo, hi int, acc []int) []int {
			for i := lo; i < hi; i++ {
				if i%100 == 0 {
					time.Sleep(200 * time.Microsecond) // uneven pieces, so halves get offered
				}
				acc = append(acc, i)
			}
			return acc
		}, func(a, b []int) []int { return append(slices.Clip(a), b...) })
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("workers %d: %d elements, want %d", w, len(got), n)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("workers %d: element %d is %d: combined out of order", w, i, v)
			}
		}
	}
}
