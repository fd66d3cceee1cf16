package main

// Part 2: the mixed workload on the real devices through the real runtime.
//
// Every run issues the same calls (random kernels, sizes 4 KiB..64 MiB, random order, seeded)
// from window goroutines, as concurrent callers would, and the makespan is the wall time until
// the last call returns. Placements compared:
//
//   - each built-in strategy: a goveda.Runtime created with Config.Strategy, every call through
//     its automatic dispatch (rt.Saxpy, rt.SumF64, ...). "cold" is the first run on a fresh
//     runtime (the cost model learns while it runs); "warm" is a second run of the same calls
//     on that runtime.
//   - static splits: call i goes to the CPU or to the other device by dispatchtest.FractionSplit
//     (the device's share of the bytes so far stays at f), swept over f; each call is pinned
//     through a direct device handle (Runtime.Device(d)).
//
// The static splits use two devices (the CPU and -real-device); the strategies use every device
// the runtime finds. On a machine with more than one non-CPU device, hide the others (for
// example VEDA_OPENCL_LIBRARY=/none to drop OpenCL) for a like-for-like comparison.

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
	"github.com/veda-runtime/veda/goveda/internal/dispatch/dispatchtest"
)

// realConfig holds part 2's flags.
type realConfig struct {
	calls, reps, window, maxOrder, device int
	step                                  float64
	quick                                 bool
	seed                                  uint64
}

func (c *realConfig) flags() {
	flag.IntVar(&c.calls, "real-calls", 300, "real: kernel calls per run")
	flag.IntVar(&c.reps, "real-reps", 3, "real: runs per placement (the median is shown)")
	flag.IntVar(&c.window, "real-window", 4, "real: concurrent callers")
	flag.IntVar(&c.maxOrder, "real-max-order", 512, "real: largest sgemm order (an n x n x n sgemm)")
	flag.IntVar(&c.device, "real-device", -1, "real: the non-CPU device of the static splits (-1: the first)")
	flag.Float64Var(&c.step, "real-step", 0.1, "real: static split fraction sweep step")
	flag.BoolVar(&c.quick, "quick", false, "real: 150 calls, 1 run per placement, step 0.25")
}

// realCall is one call of the workload: a kernel and its length (sgemm: its order).
type realCall struct {
	kernel string
	n      int
	bytes  uint64 // bytes the runtime counts for the call (its cost-model size)
}

// realWorkload turns dispatchtest.Workload's requests into real calls of about the same bytes.
func realWorkload(reqs []dispatch.Request, maxOrder int) []realCall {
	out := make([]realCall, len(reqs))
	for i, r := range reqs {
		c := realCall{kernel: r.Kernel}
		switch r.Kernel {
		case "saxpy_f32":
			c.n = max(int(r.Bytes/12), 1)
			c.bytes = uint64(c.n) * 12
		case "sum_f64", "dot_f32":
			c.n = max(int(r.Bytes/8), 1)
			c.bytes = uint64(c.n) * 8
		case "sgemm":
			c.n = min(max(int(math.Sqrt(float64(r.Bytes)/12)), 8), maxOrder)
			c.bytes = uint64(c.n) * uint64(c.n) * 12
		default:
			panic("dispatchbench: no real kernel for " + r.Kernel)
		}
		out[i] = c
	}
	return out
}

// kernels is what both *goveda.Runtime (automatic dispatch) and goveda.Device (one device) offer.
type kernels interface {
	Saxpy(ctx context.Context, a float32, x, y []float32) error
	SumF64(ctx context.Context, x []float64) (float64, error)
	DotF32(ctx context.Context, x, y []float32) (float64, error)
	Sgemm(ctx context.Context, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error
}

// buffers are the shared read-only inputs of every call.
type buffers struct {
	x   []float32
	x64 []float64
}

func newBuffers(calls []realCall) *buffers {
	n := 0
	for _, c := range calls {
		if c.kernel == "sgemm" {
			n = max(n, 2*c.n*c.n)
		} else {
			n = max(n, c.n)
		}
	}
	r := rand.New(rand.NewPCG(5, 5))
	b := &buffers{x: make([]float32, n), x64: make([]float64, n)}
	for i := range b.x {
		b.x[i] = r.Float32()*2 - 1
		b.x64[i] = float64(b.x[i])
	}
	return b
}

// do runs c on k; y is the caller's output buffer.
func (b *buffers) do(ctx context.Context, k kernels, c realCall, y []float32) error {
	switch c.kernel {
	case "saxpy_f32":
		return k.Saxpy(ctx, 0.5, b.x[:c.n], y[:c.n])
	case "sum_f64":
		_, err := k.SumF64(ctx, b.x64[:c.n])
		return err
	case "dot_f32":
		_, err := k.DotF32(ctx, b.x[:c.n], b.x[len(b.x)-c.n:])
		return err
	case "sgemm":
		nn := c.n * c.n
		return k.Sgemm(ctx, c.n, c.n, c.n, 1, b.x[:nn], c.n, b.x[nn:2*nn], c.n, 0, y[:nn], c.n)
	}
	return fmt.Errorf("unknown kernel %q", c.kernel)
}

// runCalls issues calls from window goroutines (each with its own output buffer) and returns
// the makespan. exec runs one call.
func runCalls(calls []realCall, window, ylen int, exec func(i int, y []float32) error) (time.Duration, error) {
	var mu sync.Mutex
	next := 0
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < window; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			y := make([]float32, ylen)
			for {
				mu.Lock()
				i := next
				next++
				stop := firstErr != nil
				mu.Unlock()
				if i >= len(calls) || stop {
					return
				}
				if err := exec(i, y); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("call %d (%s, n=%d): %w", i, calls[i].kernel, calls[i].n, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// realResult is one placement's median run.
type realResult struct {
	name     string
	makespan time.Duration
	calls    []int    // per device, from the median run
	bytes    []uint64 // per device; nil when unknown
}

// runReal is part 2. It returns the exit status.
func runReal(rc realConfig) int {
	if rc.quick {
		rc.calls, rc.reps, rc.step = 150, 1, 0.25
	}
	if rc.calls < 1 || rc.reps < 1 || rc.window < 1 || rc.step <= 0 || rc.maxOrder < 8 {
		fmt.Fprintln(os.Stderr, "dispatchbench: -real-calls, -real-reps, -real-window >= 1, -real-step > 0, -real-max-order >= 8")
		return 2
	}
	reqs := dispatchtest.Workload(rc.calls, rc.seed, true)
	calls := realWorkload(reqs, rc.maxOrder)
	bufs := newBuffers(calls)
	ylen := 0
	var total uint64
	byBytes := make([]dispatch.Request, len(calls))
	for i, c := range calls {
		if c.kernel == "sgemm" {
			ylen = max(ylen, c.n*c.n)
		} else {
			ylen = max(ylen, c.n)
		}
		total += c.bytes
		byBytes[i] = dispatch.Request{Kernel: c.kernel, Bytes: c.bytes}
	}

	// One runtime for the static splits (its strategy does not matter: every call is pinned).
	srt, err := goveda.New(goveda.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dispatchbench:", err)
		return 1
	}
	defer srt.Close()
	devs, err := srt.Devices()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dispatchbench:", err)
		return 1
	}
	fmt.Printf("== real devices: %d calls, %s total, sizes 4 KiB..64 MiB log-uniform (sgemm up to %d^3), %d callers, seed %d, median of %d runs\n",
		len(calls), dispatch.FormatBytes(total), rc.maxOrder, rc.window, rc.seed, rc.reps)
	for _, d := range devs {
		fmt.Printf("device %d: %s %s (%d compute units)\n", d.Index, d.Kind, d.Name, d.ComputeUnits)
	}
	other := rc.device
	if other < 0 {
		other = 1
	}
	if len(devs) < 2 || other < 1 || other >= len(devs) {
		fmt.Printf("no device other than the CPU (or -real-device %d does not exist): nothing to split; strategies only\n", rc.device)
		other = -1
	}
	ctx := context.Background()
	median := func(rs []realResult) realResult {
		slices.SortFunc(rs, func(a, b realResult) int { return int(a.makespan - b.makespan) })
		return rs[len(rs)/2]
	}

	// Static splits: each call runs on its device through a direct device handle (no dispatch).
	handles := make([]goveda.Device, len(devs))
	for i := range devs {
		if handles[i], err = srt.Device(i); err != nil {
			fmt.Fprintln(os.Stderr, "dispatchbench:", err)
			return 1
		}
	}
	var static []realResult
	best := -1
	if other > 0 {
		frac := []float64{}
		for f := 0.0; f <= 1+1e-9; f += rc.step {
			frac = append(frac, math.Min(f, 1))
		}
		for _, f := range frac {
			place := dispatchtest.FractionSplit(byBytes, f)
			progress("static split f=%.2f", f)
			var rs []realResult
			for rep := 0; rep < rc.reps; rep++ {
				res := realResult{name: fmt.Sprintf("static f=%.2f", f), calls: make([]int, len(devs)), bytes: make([]uint64, len(devs))}
				var mu sync.Mutex
				ms, err := runCalls(calls, rc.window, ylen, func(i int, y []float32) error {
					d := 0
					if place(i) == 1 {
						d = other
					}
					err := bufs.do(ctx, handles[d], calls[i], y)
					mu.Lock()
					res.calls[d]++
					res.bytes[d] += calls[i].bytes
					mu.Unlock()
					return err
				})
				if err != nil {
					fmt.Fprintf(os.Stderr, "\ndispatchbench: static f=%.2f: %v\n", f, err)
					return 1
				}
				res.makespan = ms
				rs = append(rs, res)
			}
			static = append(static, median(rs))
			if best < 0 || static[len(static)-1].makespan < static[best].makespan {
				best = len(static) - 1
			}
		}
	}

	// Strategies: cold (fresh runtime) and warm (the same calls again on that runtime).
	var strat []realResult
	for _, name := range dispatch.StrategyNames {
		var cold, warm []realResult
		for rep := 0; rep < rc.reps; rep++ {
			progress("%s run %d/%d", name, rep+1, rc.reps)
			rt, err := goveda.New(goveda.Config{Strategy: name, RecordDecisions: true})
			if err != nil {
				fmt.Fprintln(os.Stderr, "\ndispatchbench:", err)
				return 1
			}
			if _, err := rt.Devices(); err != nil { // discovery and bandwidth probe: not timed
				fmt.Fprintln(os.Stderr, "\ndispatchbench:", err)
				rt.Close()
				return 1
			}
			for pass := 0; pass < 2; pass++ {
				before, seq0 := completed(rt), lastSeq(rt)
				ms, err := runCalls(calls, rc.window, ylen, func(i int, y []float32) error { return bufs.do(ctx, rt, calls[i], y) })
				if err != nil {
					fmt.Fprintf(os.Stderr, "\ndispatchbench: %s: %v\n", name, err)
					rt.Close()
					return 1
				}
				after := completed(rt)
				res := realResult{makespan: ms, calls: make([]int, len(after)), bytes: placedBytes(rt, seq0, len(after))}
				for d := range after {
					res.calls[d] = int(after[d] - before[d])
				}
				if pass == 0 {
					res.name = name + " (cold)"
					cold = append(cold, res)
				} else {
					res.name = name + " (warm)"
					warm = append(warm, res)
				}
			}
			rt.Close()
		}
		strat = append(strat, median(cold), median(warm))
	}
	progress("")

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "placement\tmakespan\tvs best static\t")
	for _, d := range devs {
		fmt.Fprintf(w, "calls on %d\t", d.Index)
	}
	if other > 0 {
		fmt.Fprintf(w, "bytes on %d\t", other)
	}
	fmt.Fprintln(w)
	row := func(r realResult, mark string) {
		vs := ""
		if best >= 0 {
			vs = fmt.Sprintf("%+.1f%%", 100*(float64(r.makespan)/float64(static[best].makespan)-1))
		}
		fmt.Fprintf(w, "%s%s\t%v\t%s\t", r.name, mark, r.makespan.Round(time.Millisecond/10), vs)
		for d := range devs {
			c := 0
			if d < len(r.calls) {
				c = r.calls[d]
			}
			fmt.Fprintf(w, "%d\t", c)
		}
		if other > 0 {
			var sum uint64
			for _, b := range r.bytes {
				sum += b
			}
			if sum > 0 {
				fmt.Fprintf(w, "%.1f%%\t", 100*float64(r.bytes[other])/float64(sum))
			} else {
				fmt.Fprint(w, "\t")
			}
		}
		fmt.Fprintln(w)
	}
	for i, r := range static {
		mark := ""
		if i == best {
			mark = " (best)"
		}
		row(r, mark)
	}
	for _, r := range strat {
		row(r, "")
	}
	w.Flush()
	if best >= 0 {
		for _, r := range strat {
			if r.name == dispatch.NameEarliestFinish+" (warm)" {
				fmt.Printf("earliest-finish (warm) / best static split = %.3f; (cold) includes learning from scratch\n",
					float64(r.makespan)/float64(static[best].makespan))
			}
		}
	}
	return 0
}

// progress rewrites a one-line status on stderr when it is a terminal ("" clears it).
func progress(format string, args ...any) {
	if st, err := os.Stderr.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return
	}
	fmt.Fprint(os.Stderr, "\r\033[K")
	if format != "" {
		fmt.Fprintf(os.Stderr, "[real] "+format, args...)
	}
}

// lastSeq returns the sequence number of rt's latest recorded decision (0: none).
func lastSeq(rt *goveda.Runtime) uint64 {
	decs, err := rt.Decisions()
	if err != nil || len(decs) == 0 {
		return 0
	}
	return decs[len(decs)-1].Seq
}

// placedBytes sums the bytes of the decisions after seq by device (nil when the decision ring
// no longer holds all of them).
func placedBytes(rt *goveda.Runtime, seq uint64, ndev int) []uint64 {
	decs, err := rt.Decisions()
	if err != nil || len(decs) == 0 || decs[0].Seq > seq+1 {
		return nil
	}
	out := make([]uint64, ndev)
	for _, d := range decs {
		if d.Seq > seq && d.Device >= 0 && d.Device < ndev {
			out[d.Device] += d.Bytes
		}
	}
	return out
}

// completed returns each device's completed-call counter.
func completed(rt *goveda.Runtime) []uint64 {
	devs, err := rt.Devices()
	if err != nil {
		return nil
	}
	out := make([]uint64, len(devs))
	for i, d := range devs {
		out[i] = d.Stats.Completed
	}
	return out
}
