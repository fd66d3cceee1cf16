// Command placement measures automatic placement against the faster pinned device, on every
// built-in vector kernel and size from 4 KiB to 32 MiB (issue 16's targets):
//
//  1. same process, after calibration: the median of -calls automatic calls of each (kernel,
//     size) against the faster of the pinned devices' medians (target: within 1.10x), and the
//     share of automatic calls spent exploring (target: at most 5%);
//  2. a new process on a calibrated machine: the first automatic call of each (kernel, size)
//     against the same pinned medians (target: within 1.10x). The child process loads the
//     calibration the parent saved (VEDA_CACHE_DIR is a fresh directory, so nothing else is
//     read).
//
// It prints one row per (kernel, size) and the worst ratios. Usage:
//
//	go run ./bench/placement [-calls 40] [-reps 7] [-quick]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

type kernel struct {
	name string
	run  func(ctx context.Context, rt *goveda.Runtime, x, y []float32, n int) error
}

var kernels = []kernel{
	{"saxpy_f32", func(ctx context.Context, rt *goveda.Runtime, x, y []float32, n int) error {
		return rt.Saxpy(ctx, 1e-7, x[:n], y[:n])
	}},
	{"sum_f32", func(ctx context.Context, rt *goveda.Runtime, x, y []float32, n int) error {
		_, err := rt.SumF32(ctx, x[:n])
		return err
	}},
	{"dot_f32", func(ctx context.Context, rt *goveda.Runtime, x, y []float32, n int) error {
		_, err := rt.DotF32(ctx, x[:n], y[:n])
		return err
	}},
}

// elems returns the element count of a call that touches bytes (saxpy and dot touch two arrays).
func elems(k string, bytes int64) int {
	if k == "sum_f32" {
		return int(bytes / 4)
	}
	return int(bytes / 8)
}

func median(ts []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

type row struct {
	Kernel string          `json:"kernel"`
	Bytes  int64           `json:"bytes"`
	Pinned []time.Duration `json:"pinned"` // per device index
	Auto   time.Duration   `json:"auto"`
	First  time.Duration   `json:"first"`
	OnDev  map[int]int     `json:"on_device"` // automatic calls per device
}

func main() {
	calls := flag.Int("calls", 40, "automatic calls per (kernel, size) in part 1")
	reps := flag.Int("reps", 7, "pinned calls per (kernel, size, device)")
	quick := flag.Bool("quick", false, "fewer sizes and calls")
	child := flag.String("child", "", "internal: run part 2 and write first-call times to this file")
	flag.Parse()
	sizes := []int64{4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 32 << 20}
	if *quick {
		sizes = []int64{4 << 10, 64 << 10, 1 << 20, 16 << 20, 32 << 20}
		*calls, *reps = 20, 5
	}
	big := elems("sum_f32", sizes[len(sizes)-1])
	x, y := make([]float32, big), make([]float32, big)
	for i := range x {
		x[i], y[i] = float32(i%13), 1
	}
	ctx := context.Background()
	if *child != "" {
		firstCalls(ctx, *child, sizes, x, y)
		return
	}
	dir, err := os.MkdirTemp("", "veda-placement")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	os.Setenv("VEDA_CACHE_DIR", dir)
	os.Setenv("VEDA_CALIBRATION", "on")
	rt, err := goveda.New(goveda.Config{RecordDecisions: true})
	if err != nil {
		fail(err)
	}
	devs, _ := rt.Devices()
	fmt.Printf("# devices:")
	for _, d := range devs {
		fmt.Printf(" %d=%s(%s)", d.Index, d.Kind, d.Name)
	}
	fmt.Printf("; %d workers\n", rt.Workers())
	t0 := time.Now()
	if _, err := rt.Calibrate(ctx, goveda.CalibrateOptions{MinBytes: sizes[0], MaxBytes: sizes[len(sizes)-1]}); err != nil {
		fail(err)
	}
	fmt.Printf("# calibration: %v\n", time.Since(t0).Round(time.Millisecond))
	var rows []row
	explored, autoCalls := 0, 0
	timeOne := func(k kernel, n, pin int) time.Duration {
		if err := rt.PinDevice(pin); err != nil {
			fail(err)
		}
		start := time.Now()
		if err := k.run(ctx, rt, x, y, n); err != nil {
			fail(err)
		}
		return time.Since(start)
	}
	for _, k := range kernels {
		for _, size := range sizes {
			n := elems(k.name, size)
			r := row{Kernel: k.name, Bytes: size}
			pinned := make([][]time.Duration, len(devs))
			var auto []time.Duration
			before, _ := rt.Decisions()
			// Rounds of one call of each mode, so that load drift on a shared machine hits
			// every mode alike; the pinned devices get -reps rounds, automatic -calls.
			for round := 0; round < max(*calls, *reps); round++ {
				if round < *reps {
					for _, d := range devs {
						pinned[d.Index] = append(pinned[d.Index], timeOne(k, n, d.Index))
					}
				}
				auto = append(auto, timeOne(k, n, -1))
			}
			after, _ := rt.Decisions()
			r.OnDev = map[int]int{}
			for _, d := range newDecisions(before, after) {
				if d.Reason == "pinned" {
					continue
				}
				r.OnDev[d.Device]++
				autoCalls++
				if d.Reason == "exploration" {
					explored++
				}
			}
			for _, p := range pinned {
				r.Pinned = append(r.Pinned, median(p))
			}
			r.Auto = median(auto)
			rows = append(rows, r)
		}
	}
	if err := rt.SaveCalibration(); err != nil {
		fail(err)
	}
	rt.Close()

	// Part 2: a new process on the calibrated machine.
	out := dir + "/first.json"
	cmd := exec.Command(os.Args[0], append(os.Args[1:], "-child", out)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("child process: %w", err))
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		fail(err)
	}
	var first map[string]time.Duration
	if err := json.Unmarshal(raw, &first); err != nil {
		fail(err)
	}

	fmt.Printf("%-10s %9s", "kernel", "bytes")
	for _, d := range devs {
		fmt.Printf(" %12s", fmt.Sprintf("pinned-%d", d.Index))
	}
	fmt.Printf(" %12s %7s %12s %7s %6s\n", "auto", "ratio", "first-call", "ratio", "placed")
	worstAuto, worstFirst, misplaced, autoOnBest, autoAll := 0.0, 0.0, 0, 0, 0
	var worstAutoAt, worstFirstAt string
	for _, r := range rows {
		best, bestDev := r.Pinned[0], 0
		for i, p := range r.Pinned {
			if p < best {
				best, bestDev = p, i
			}
		}
		firstDev := int(first[fmt.Sprintf("dev:%s/%d", r.Kernel, r.Bytes)])
		placed := "ok"
		if firstDev != bestDev {
			placed = fmt.Sprintf("dev %d", firstDev)
			misplaced++
		}
		r.First = first[fmt.Sprintf("%s/%d", r.Kernel, r.Bytes)]
		ra := float64(r.Auto) / float64(best)
		rf := float64(r.First) / float64(best)
		fmt.Printf("%-10s %9s", r.Kernel, human(r.Bytes))
		for _, p := range r.Pinned {
			fmt.Printf(" %12v", p.Round(time.Microsecond))
		}
		onBest, all := r.OnDev[bestDev], 0
		for _, c := range r.OnDev {
			all += c
		}
		autoOnBest += onBest
		autoAll += all
		fmt.Printf(" %12v %6.2fx %12v %6.2fx %6s\n", r.Auto.Round(time.Microsecond), ra, r.First.Round(time.Microsecond), rf, placed)
		if ra > worstAuto {
			worstAuto, worstAutoAt = ra, fmt.Sprintf("%s %s", r.Kernel, human(r.Bytes))
		}
		if rf > worstFirst {
			worstFirst, worstFirstAt = rf, fmt.Sprintf("%s %s", r.Kernel, human(r.Bytes))
		}
	}
	fmt.Printf("worst auto/faster-pinned after calibration: %.2fx (%s); exploring: %d of %d calls (%.1f%%); on the faster pinned device: %d of %d\n",
		worstAuto, worstAutoAt, explored, autoCalls, 100*float64(explored)/float64(max(autoCalls, 1)), autoOnBest, autoAll)
	fmt.Printf("worst first call of a new process/faster-pinned: %.2fx (%s); first calls on the faster pinned device: %d of %d\n",
		worstFirst, worstFirstAt, len(rows)-misplaced, len(rows))
}

// newDecisions returns the decisions in after that are not in before (by sequence number).
func newDecisions(before, after []goveda.Decision) []goveda.Decision {
	var last uint64
	if len(before) > 0 {
		last = before[len(before)-1].Seq
	}
	var out []goveda.Decision
	for _, d := range after {
		if d.Seq > last {
			out = append(out, d)
		}
	}
	return out
}

// firstCalls is part 2: one automatic call of each (kernel, size), timed, in a new process.
func firstCalls(ctx context.Context, path string, sizes []int64, x, y []float32) {
	rt, err := goveda.New(goveda.Config{RecordDecisions: true})
	if err != nil {
		fail(err)
	}
	defer rt.Close()
	if _, err := rt.Devices(); err != nil { // discovery and the device start-up, before timing
		fail(err)
	}
	info, _ := rt.Calibration()
	fmt.Printf("# new process: calibration %s (%d windows)\n", info.Status, info.Loaded)
	// Start the workers (one trivial loop): process start-up is not placement.
	_ = rt.ParallelFor(ctx, 0, 2, 1, func(lo, hi int) error { return nil })
	out := map[string]time.Duration{}
	for _, k := range kernels {
		for _, size := range sizes {
			n := elems(k.name, size)
			start := time.Now()
			if err := k.run(ctx, rt, x, y, n); err != nil {
				fail(err)
			}
			out[fmt.Sprintf("%s/%d", k.name, size)] = time.Since(start)
			if ds, _ := rt.Decisions(); len(ds) > 0 {
				// The device is stored as a duration of that many nanoseconds (one map).
				out[fmt.Sprintf("dev:%s/%d", k.name, size)] = time.Duration(ds[len(ds)-1].Device)
			}
		}
	}
	decs, _ := rt.Decisions()
	reasons := map[string]int{}
	for _, d := range decs {
		reasons[d.Reason]++
	}
	fmt.Printf("# new process: reasons of its first calls: %v\n", reasons)
	raw, _ := json.Marshal(out)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		fail(err)
	}
}

func human(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<10:
		return fmt.Sprintf("%d KiB", b>>10)
	}
	return fmt.Sprintf("%d B", b)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "placement:", strings.TrimSpace(err.Error()))
	os.Exit(1)
}
