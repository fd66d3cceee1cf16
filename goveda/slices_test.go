package goveda

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func sliceRT(t testing.TB, workers int) *Runtime {
	rt, err := New(Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

var sliceSizes = []int{0, 1, 2, 3, 100, 4097, 50_000, 300_000}

func TestSortMatchesSlicesSort(t *testing.T) {
	ctx := context.Background()
	for _, workers := range []int{1, 2, 3} {
		rt := sliceRT(t, workers)
		for _, n := range []int{0, 1, 2, 3, 100, 4097, 40_000} {
			for _, kind := range []string{"random", "few", "sorted", "reversed"} {
				r := rand.New(rand.NewPCG(uint64(n), 7))
				s := make([]int64, n)
				for i := range s {
					switch kind {
					case "random":
						s[i] = r.Int64()
					case "few":
						s[i] = r.Int64N(5)
					case "sorted":
						s[i] = int64(i)
					case "reversed":
						s[i] = int64(n - i)
					}
				}
				want := slices.Clone(s)
				slices.Sort(want)
				for _, g := range []int{0, 16} {
					got := slices.Clone(s)
					if err := Sort(ctx, rt, got, Grain(g)); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("workers %d n %d %s grain %d: Sort differs from slices.Sort", workers, n, kind, g)
					}
				}
				got := slices.Clone(s)
				if err := SortFunc(ctx, rt, got, func(a, b int64) int { return cmp.Compare(b, a) }); err != nil {
					t.Fatal(err)
				}
				slices.Reverse(want)
				if !slices.Equal(got, want) {
					t.Fatalf("workers %d n %d %s: SortFunc descending differs", workers, n, kind)
				}
			}
		}
	}
}

func TestSortFloatsWithNaN(t *testing.T) {
	rt := sliceRT(t, 2)
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]float64, 100_000)
	for i := range s {
		s[i] = r.NormFloat64()
		if i%997 == 0 {
			s[i] = math.NaN()
		}
	}
	want := slices.Clone(s)
	slices.Sort(want)
	if err := Sort(context.Background(), rt, s, Grain(1000)); err != nil {
		t.Fatal(err)
	}
	for i := range s {
		if !(s[i] == want[i] || math.IsNaN(s[i]) && math.IsNaN(want[i])) {
			t.Fatalf("index %d: %v, want %v", i, s[i], want[i])
		}
	}
}

func TestSliceHelpers(t *testing.T) {
	ctx := context.Background()
	rt := sliceRT(t, 2)
	for _, n := range sliceSizes {
		r := rand.New(rand.NewPCG(uint64(n), 3))
		s := make([]int, n)
		for i := range s {
			s[i] = r.IntN(1000) - 500
		}
		for _, g := range []int{0, 1, 1000} {
			// ForEach: every index exactly once.
			seen := make([]atomic.Int32, n)
			if err := ForEach(ctx, rt, s, func(i int, v int) {
				if v != s[i] {
					panic("wrong element")
				}
				seen[i].Add(1)
			}, Grain(g)); err != nil {
				t.Fatal(err)
			}
			for i := range seen {
				if seen[i].Load() != 1 {
					t.Fatalf("n %d: index %d visited %d times", n, i, seen[i].Load())
				}
			}
			sq, err := MapSlice(ctx, rt, s, func(v int) int { return v * v }, Grain(g))
			if err != nil || len(sq) != n {
				t.Fatal(err, len(sq))
			}
			for i, v := range s {
				if sq[i] != v*v {
					t.Fatalf("MapSlice[%d] = %d", i, sq[i])
				}
			}
			idx, err := MapErr(ctx, rt, s, func(i, v int) (int, error) { return i + v, nil }, Grain(g))
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range s {
				if idx[i] != i+v {
					t.Fatalf("MapErr[%d] = %d", i, idx[i])
				}
			}
			pos, err := Filter(ctx, rt, s, func(v int) bool { return v > 0 }, Grain(g))
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			for _, v := range s {
				if v > 0 {
					want = append(want, v)
				}
			}
			if !slices.Equal(pos, want) {
				t.Fatalf("n %d grain %d: Filter differs (order or content)", n, g)
			}
			c, err := Count(ctx, rt, s, func(v int) bool { return v > 0 }, Grain(g))
			if err != nil || c != len(want) {
				t.Fatalf("Count = %d, %v; want %d", c, err, len(want))
			}
			lo, hi, err := MinMax(ctx, rt, s, Grain(g))
			if n == 0 {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("MinMax(empty) = %v", err)
				}
			} else if err != nil || lo != slices.Min(s) || hi != slices.Max(s) {
				t.Fatalf("MinMax = %d, %d, %v; want %d, %d", lo, hi, err, slices.Min(s), slices.Max(s))
			}
			// Find: any match is a match; a missing value gives -1.
			if n > 0 {
				target := s[r.IntN(n)]
				i, err := Find(ctx, rt, s, func(v int) bool { return v == target }, Grain(g))
				if err != nil || i < 0 || s[i] != target {
					t.Fatalf("Find = %d, %v", i, err)
				}
			}
			if i, err := Find(ctx, rt, s, func(v int) bool { return v == 10_000 }, Grain(g)); err != nil || i != -1 {
				t.Fatalf("Find(missing) = %d, %v", i, err)
			}
		}
	}
}

func TestMapErrStopsAtError(t *testing.T) {
	rt := sliceRT(t, 2)
	s := make([]int, 1_000_000)
	boom := errors.New("boom")
	var calls atomic.Int64
	out, err := MapErr(context.Background(), rt, s, func(i, v int) (int, error) {
		calls.Add(1)
		if i == 10 {
			return 0, boom
		}
		return v, nil
	}, Grain(100))
	if err != boom || out != nil {
		t.Fatalf("MapErr = %v, %v; want boom, nil", out != nil, err)
	}
	if calls.Load() == int64(len(s)) {
		t.Fatalf("MapErr ran every element after an early error")
	}
}

func TestFindStopsEarly(t *testing.T) {
	rt := sliceRT(t, 2)
	s := make([]int, 10_000_000)
	s[5] = 1
	var calls atomic.Int64
	i, err := Find(context.Background(), rt, s, func(v int) bool { calls.Add(1); return v == 1 }, Grain(1000))
	if err != nil || i != 5 && s[i] != 1 {
		t.Fatalf("Find = %d, %v", i, err)
	}
	if c := calls.Load(); c > int64(len(s))/2 {
		t.Fatalf("Find tested %d of %d elements after the match at 5", c, len(s))
	}
}

func TestSliceHelpersBadInput(t *testing.T) {
	ctx := context.Background()
	rt := sliceRT(t, 2)
	s := []int{3, 1, 2}
	checks := map[string]error{}
	checks["ForEach nil"] = ForEach[int](ctx, rt, s, nil)
	_, checks["MapSlice nil"] = MapSlice[int, int](ctx, rt, s, nil)
	_, checks["MapErr nil"] = MapErr[int, int](ctx, rt, s, nil)
	_, checks["Filter nil"] = Filter[int](ctx, rt, s, nil)
	_, checks["Find nil"] = Find[int](ctx, rt, s, nil)
	_, checks["Count nil"] = Count[int](ctx, rt, s, nil)
	checks["SortFunc nil"] = SortFunc[int](ctx, rt, s, nil)
	checks["Sort grain"] = Sort(ctx, rt, s, Grain(-1))
	checks["ForEach grain"] = ForEach(ctx, rt, s, func(int, int) {}, Grain(-1))
	_, _, checks["MinMax grain"] = MinMax(ctx, rt, s, Grain(-1))
	for name, err := range checks {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	// Panics become *PanicError.
	var pe *PanicError
	if _, err := MapSlice(ctx, rt, s, func(int) int { panic("x") }); !errors.As(err, &pe) {
		t.Errorf("MapSlice panic: %v", err)
	}
	// Cancelled contexts.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Sort(cctx, rt, make([]int, 100_000)); !errors.Is(err, ErrCancelled) {
		t.Errorf("Sort cancelled: %v", err)
	}
	if _, err := Count(cctx, rt, s, func(int) bool { return true }); !errors.Is(err, ErrCancelled) {
		t.Errorf("Count cancelled: %v", err)
	}
}

// A sort whose context times out while it runs returns promptly with ErrTimeout.
func TestSortTimeout(t *testing.T) {
	rt := sliceRT(t, 2)
	s := make([]int, 1<<20)
	for i := range s {
		s[i] = len(s) - i
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	slow := func(a, b int) int { time.Sleep(time.Microsecond); return cmp.Compare(a, b) }
	start := time.Now()
	err := SortFunc(ctx, rt, s, slow, Grain(256))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("SortFunc = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelled sort took %v", d)
	}
}

func benchSort(b *testing.B, par bool) {
	rt := sliceRT(b, 2)
	r := rand.New(rand.NewPCG(1, 1))
	src := make([]int64, 10_000_000)
	for i := range src {
		src[i] = r.Int64()
	}
	s := make([]int64, len(src))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		copy(s, src)
		b.StartTimer()
		if par {
			_ = Sort(context.Background(), rt, s)
		} else {
			slices.Sort(s)
		}
	}
}

func BenchmarkSort1e7Parallel(b *testing.B) { benchSort(b, true) }
func BenchmarkSort1e7Slices(b *testing.B)   { benchSort(b, false) }
