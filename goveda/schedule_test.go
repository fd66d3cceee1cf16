package goveda

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// nestedProgram is a deterministic program with nested parallelism: a ParallelFor whose chunks
// each run a Reduce, then a Join tree, then a top-level Reduce. It returns its results: the per-
// chunk reductions, the join result and the top-level sum (float64 bits matter).
func nestedProgram(t *testing.T, rt *Runtime, n int) ([]float64, int, float64) {
	t.Helper()
	ctx := context.Background()
	out := make([]float64, n/256)
	if err := rt.ParallelFor(ctx, 0, n, 256, func(lo, hi int) error {
		for c := lo / 256; c < hi/256; c++ {
			v, err := Reduce(ctx, rt, c*256, c*256+256, 16, 0.0, func(a, b int, acc float64) float64 {
				for i := a; i < b; i++ {
					for r := 0; r < 40; r++ { // enough work per chunk that idle workers steal
						acc += math.Sqrt(float64(i+r)) / 3
					}
				}
				return acc
			}, func(a, b float64) float64 { return a + b })
			if err != nil {
				return err
			}
			out[c] = v
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var fib func(k int) (int, error)
	fib = func(k int) (int, error) {
		if k < 8 {
			a, b := 0, 1
			for i := 0; i < k; i++ {
				a, b = b, a+b
			}
			return a, nil
		}
		a, b, err := Join(rt, func() (int, error) { return fib(k - 1) }, func() (int, error) { return fib(k - 2) })
		return a + b, err
	}
	f, err := fib(18)
	if err != nil {
		t.Fatal(err)
	}
	total, err := Reduce(ctx, rt, 0, n, 64, 0.0, func(a, b int, acc float64) float64 {
		for i := a; i < b; i++ {
			acc += 1 / float64(i+1)
		}
		return acc
	}, func(a, b float64) float64 { return a + b })
	if err != nil {
		t.Fatal(err)
	}
	return out, f, total
}

func readSchedule(t *testing.T, path string) *sched.Schedule {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sched.UnmarshalSchedule(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameSchedule(a, b *sched.Schedule) (bool, string) {
	if a.Workers != b.Workers {
		return false, "worker counts differ"
	}
	for w := range a.Runs {
		if len(a.Runs[w]) != len(b.Runs[w]) {
			return false, "worker " + string(rune('0'+w)) + ": run counts differ"
		}
		for i := range a.Runs[w] {
			if a.Runs[w][i] != b.Runs[w][i] {
				return false, "worker " + string(rune('0'+w)) + ": runs differ"
			}
		}
	}
	return true, ""
}

func TestScheduleRecordReplay(t *testing.T) {
	for _, workers := range []int{2, 4} {
		t.Run(string(rune('0'+workers))+"workers", func(t *testing.T) {
			dir := t.TempDir()
			orig := filepath.Join(dir, "orig.json")
			// Record until the work spread over at least 2 workers (on a loaded machine a parked
			// worker may not wake before the program ends; such a schedule is valid but weak).
			var (
				wantOut            []float64
				wantFib            int
				wantTotal          float64
				s0                 *sched.Schedule
				runs, stolen, busy int
			)
			for attempt := 0; attempt < 10; attempt++ {
				rt, err := New(Config{Workers: workers, Policy: PolicyDeterministic, RecordSchedule: orig})
				if err != nil {
					t.Fatal(err)
				}
				wantOut, wantFib, wantTotal = nestedProgram(t, rt, 1<<14)
				rt.Close()
				s0 = readSchedule(t, orig)
				runs, stolen, busy = 0, 0, 0
				for _, r := range s0.Runs {
					runs += len(r)
					if len(r) > 0 {
						busy++
					}
					for _, x := range r {
						if x.From >= 0 {
							stolen++
						}
					}
				}
				if runs >= 100 && busy >= 2 {
					break
				}
			}
			if runs < 100 || busy < 2 {
				t.Fatalf("a weak recording after 10 tries: %d runs on %d workers, %d stolen", runs, busy, stolen)
			}
			t.Logf("%d workers: %d runs recorded on %d workers, %d stolen", workers, runs, busy, stolen)
			for k := 0; k < 3; k++ {
				again := filepath.Join(dir, "replay.json")
				rt, err := New(Config{Workers: workers, Policy: PolicyDeterministic, ReplaySchedule: orig, RecordSchedule: again})
				if err != nil {
					t.Fatal(err)
				}
				out, f, total := nestedProgram(t, rt, 1<<14)
				if err := rt.ScheduleError(); err != nil {
					t.Fatalf("replay %d: %v", k, err)
				}
				rt.Close()
				if f != wantFib || math.Float64bits(total) != math.Float64bits(wantTotal) {
					t.Fatalf("replay %d: results differ: %d %v vs %d %v", k, f, total, wantFib, wantTotal)
				}
				for i := range out {
					if math.Float64bits(out[i]) != math.Float64bits(wantOut[i]) {
						t.Fatalf("replay %d: chunk %d differs", k, i)
					}
				}
				if ok, why := sameSchedule(s0, readSchedule(t, again)); !ok {
					t.Fatalf("replay %d recorded another schedule: %s", k, why)
				}
			}
		})
	}
}

func TestScheduleMismatchIsAnErrorNotAHang(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.json")
	rt, err := New(Config{Workers: 2, Policy: PolicyDeterministic, RecordSchedule: orig})
	if err != nil {
		t.Fatal(err)
	}
	nestedProgram(t, rt, 1<<14)
	rt.Close()

	// another input size: the first loop's chunks have other ranges
	rt, err = New(Config{Workers: 2, Policy: PolicyDeterministic, ReplaySchedule: orig})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- rt.ParallelFor(context.Background(), 0, 1<<13, 256, func(lo, hi int) error { return nil })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInvalidArgument) || !errors.Is(err, sched.ErrSchedule) || !strings.Contains(err.Error(), "mismatch") {
			t.Fatalf("mismatch error: %v", err)
		}
		if strings.Count(err.Error(), "veda:") != 1 {
			t.Fatalf("the message stutters: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("replay of a mismatching schedule hung")
	}
	if rt.ScheduleError() == nil {
		t.Fatal("ScheduleError nil after a mismatch")
	}
	// the runtime goes on, unforced, and computes correctly
	_, f, _ := nestedProgram(t, rt, 1<<12)
	if f != 2584 {
		t.Fatalf("fib after mismatch: %d", f)
	}
	rt.Close()

	// another worker count: refused at New
	if _, err := New(Config{Workers: 4, Policy: PolicyDeterministic, ReplaySchedule: orig}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "recorded with 2 workers") {
		t.Fatalf("worker count: %v", err)
	}
	// another policy: refused
	if _, err := New(Config{Workers: 2, ReplaySchedule: orig}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "PolicyDeterministic") {
		t.Fatalf("policy: %v", err)
	}
	// corrupt and foreign files
	data, _ := os.ReadFile(orig)
	cases := map[string]string{
		"junk":     "not json",
		"foreign":  `{"format":"something-else","version":1}`,
		"version":  `{"format":"veda-schedule","version":9}`,
		"checksum": strings.Replace(string(data), `"from":-1`, `"from":-2`, 1),
		"truncate": string(data[:len(data)/2]),
	}
	for name, body := range cases {
		p := filepath.Join(dir, name+".json")
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := New(Config{Workers: 2, Policy: PolicyDeterministic, ReplaySchedule: p}); !errors.Is(err, ErrInvalidArgument) || !errors.Is(err, sched.ErrSchedule) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(Config{Workers: 2, Policy: PolicyDeterministic, ReplaySchedule: filepath.Join(dir, "missing.json")}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := New(Config{Workers: 2, Policy: PolicyDeterministic, RecordSchedule: filepath.Join(dir, "no", "such", "x.json")}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unwritable record path: %v", err)
	}
}

// TestScheduleFromEnvironment: VEDA_SCHEDULE_RECORD and VEDA_SCHEDULE_REPLAY work without code
// changes.
func TestScheduleFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "env.json")
	t.Setenv("VEDA_SCHEDULE_RECORD", p)
	rt, err := New(Config{Workers: 2, Policy: PolicyDeterministic})
	if err != nil {
		t.Fatal(err)
	}
	nestedProgram(t, rt, 1<<12)
	rt.Close()
	s := readSchedule(t, p)
	t.Setenv("VEDA_SCHEDULE_RECORD", "")
	t.Setenv("VEDA_SCHEDULE_REPLAY", p)
	p2 := filepath.Join(dir, "env2.json")
	rt, err = New(Config{Workers: 2, Policy: PolicyDeterministic, RecordSchedule: p2})
	if err != nil {
		t.Fatal(err)
	}
	nestedProgram(t, rt, 1<<12)
	if err := rt.ScheduleError(); err != nil {
		t.Fatal(err)
	}
	rt.Close()
	if ok, why := sameSchedule(s, readSchedule(t, p2)); !ok {
		t.Fatal(why)
	}
}
