package goveda

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

func TestReduceErr(t *testing.T) {
	const n = 100_000
	sum := func(lo, hi int, acc int) (int, error) {
		for i := lo; i < hi; i++ {
			acc += i
		}
		return acc, nil
	}
	add := func(a, b int) int { return a + b }
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRT(t, tc.cfg)
			got, err := ReduceErr(bg, rt, 0, n, 0, 0, sum, add)
			if err != nil || got != n*(n-1)/2 {
				t.Fatalf("ReduceErr sum = %d, %v; want %d", got, err, n*(n-1)/2)
			}
			// A fold error anywhere is the result, as-is; the value is identity.
			boom := errors.New("boom")
			for _, bad := range []int{0, n / 3, n - 1} {
				got, err := ReduceErr(bg, rt, 0, n, 64, -7, func(lo, hi int, acc int) (int, error) {
					if lo <= bad && bad < hi {
						return acc, boom
					}
					return sum(lo, hi, acc)
				}, add)
				if !errors.Is(err, boom) || got != -7 {
					t.Fatalf("fold failing at %d: %d, %v; want identity -7, boom", bad, got, err)
				}
			}
			// A panic in fold is a *PanicError.
			_, err = ReduceErr(bg, rt, 0, n, 64, 0, func(lo, hi int, acc int) (int, error) {
				if lo == 0 {
					panic("kaput")
				}
				return acc, nil
			}, add)
			var pe *PanicError
			if !errors.As(err, &pe) || pe.Value != "kaput" {
				t.Fatalf("panicking fold: %v", err)
			}
		})
	}
}

// TestReduceErrStopsNewChunks: after the first chunk's error no new chunk starts (one worker,
// fixed splitting: the leftmost chunk runs first and fails, every other chunk is skipped).
func TestReduceErrStopsNewChunks(t *testing.T) {
	rt := newRT(t, Config{Workers: 1, Policy: PolicyFixed})
	var folded atomic.Int32
	boom := errors.New("boom")
	_, err := ReduceErr(bg, rt, 0, 10_000, 10, 0, func(lo, hi int, acc int) (int, error) {
		folded.Add(1)
		if lo == 0 {
			return acc, boom
		}
		return acc + hi - lo, nil
	}, func(a, b int) int { return a + b })
	if !errors.Is(err, boom) || folded.Load() != 1 {
		t.Fatalf("err %v after %d folded chunks, want boom after 1", err, folded.Load())
	}
}

func TestReduceErrArguments(t *testing.T) {
	rt := newRT(t, Config{Workers: 1})
	add := func(a, b int) int { return a + b }
	if _, err := ReduceErr[int](bg, rt, 0, 10, 0, 0, nil, add); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "ReduceErr") {
		t.Fatalf("nil fold: %v", err)
	}
	if _, err := ReduceErr(bg, rt, 5, 4, 0, 0, func(lo, hi, acc int) (int, error) { return acc, nil }, add); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("end < begin: %v", err)
	}
	if v, err := ReduceErr(bg, rt, 3, 3, 0, 42, func(lo, hi, acc int) (int, error) { return 0, errors.New("never") }, add); v != 42 || err != nil {
		t.Fatalf("empty range: %d, %v", v, err)
	}
}
