package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

// Mixed workload of `veda explain`: sizes log-uniform in [explainMinBytes, explainMaxBytes];
// sgemm's order is capped so that one call stays well under a second on a slow device.
const (
	explainMinBytes = 4 << 10
	explainMaxBytes = 64 << 20
	explainMaxOrder = 512
)

// explainKernels are the kernels of the mixed workload.
var explainKernels = []string{"saxpy_f32", "sum_f32", "sum_f64", "dot_f32", "sgemm"}

// explainCall is one call of the workload: a kernel and its size in bytes touched (sgemm: order).
type explainCall struct {
	kernel string
	n      int // elements, or the sgemm order
}

// cmdExplain is `veda explain`.
func cmdExplain(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	n := fs.Int("n", 40, "number of kernel calls shown")
	warmup := fs.Int("warmup", 100, "calls run first with recording off, so that the cost model has learned something")
	seed := fs.Uint64("seed", 1, "workload seed")
	window := fs.Int("window", 2, "concurrent callers (calls in flight)")
	workers := fs.Int("workers", 0, "CPU workers (0: automatic)")
	strategy := fs.String("strategy", "", "dispatch strategy (default: the runtime's)")
	asJSON := fs.Bool("json", false, "print the decisions as JSON (the runtime's DecisionsJSON)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: veda explain [-n N] [-warmup N] [-seed S] [-window W] [-workers N] [-strategy NAME] [-json]")
		fmt.Fprintln(fs.Output(), "Runs a mixed workload (random kernels, sizes 4 KiB..64 MiB) with decision recording on and")
		fmt.Fprintln(fs.Output(), "prints every dispatch decision: the chosen device, the reason, and each candidate's")
		fmt.Fprintln(fs.Output(), "estimated finish time (\"?\": no estimate yet).")
		fs.PrintDefaults()
	}
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	if *n < 1 || *window < 1 || *workers < 0 || *warmup < 0 {
		fmt.Fprintln(stderr, "veda explain: -n and -window must be >= 1, -workers and -warmup >= 0")
		return 2
	}
	rt, err := goveda.New(goveda.Config{Workers: *workers, Strategy: *strategy})
	if err != nil {
		return failNew(stderr, "explain", err)
	}
	defer rt.Close()
	devs, err := rt.Devices()
	if err != nil {
		return fail(stderr, "explain", err)
	}
	calls := explainWorkload(*warmup+*n, *seed)
	start := time.Now()
	if err := runExplainCalls(rt, calls[:*warmup], *window); err != nil {
		return fail(stderr, "explain", err)
	}
	if err := rt.SetRecordDecisions(true); err != nil {
		return fail(stderr, "explain", err)
	}
	if err := runExplainCalls(rt, calls[*warmup:], *window); err != nil {
		return fail(stderr, "explain", err)
	}
	elapsed := time.Since(start)

	if *asJSON {
		js, err := rt.DecisionsJSON()
		if err != nil {
			return fail(stderr, "explain", err)
		}
		stdout.Write(js)
		fmt.Fprintln(stdout)
		return 0
	}
	decs, err := rt.Decisions()
	if err != nil {
		return fail(stderr, "explain", err)
	}
	prof, _ := rt.Profile()
	fmt.Fprintf(stdout, "%d calls shown after %d unrecorded warm-up calls (seed %d, %d in flight, %v in all), strategy %s\n",
		*n, *warmup, *seed, *window, elapsed.Round(time.Millisecond), prof.Strategy)
	for _, d := range devs {
		fmt.Fprintf(stdout, "device %d: %s\n", d.Index, deviceLabel(d))
	}
	fmt.Fprintln(stdout)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprint(w, "seq\tkernel\tsize\tdevice\treason")
	for _, d := range devs {
		fmt.Fprintf(w, "\test. finish on %d", d.Index)
	}
	fmt.Fprintln(w)
	perDev := make([]int, len(devs))
	for _, dec := range decs {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d %s\t%s", dec.Seq, dec.Kernel, formatBytes(dec.Bytes), dec.Device, dec.Kind, dec.Reason)
		est := make([]string, len(devs))
		for i := range est {
			est[i] = "-" // not a candidate
		}
		for _, c := range dec.Candidates {
			if c.Device < 0 || c.Device >= len(est) {
				continue
			}
			if c.HasEstimate {
				est[c.Device] = fmt.Sprintf("%.3f ms", float64(c.Finish)/1e6)
				if !c.Trusted {
					est[c.Device] += " *"
				}
			} else {
				est[c.Device] = "?"
			}
		}
		for _, e := range est {
			fmt.Fprintf(w, "\t%s", e)
		}
		fmt.Fprintln(w)
		if dec.Device >= 0 && dec.Device < len(perDev) {
			perDev[dec.Device]++
		}
	}
	w.Flush()
	fmt.Fprintln(stdout)
	for i, c := range perDev {
		fmt.Fprintf(stdout, "device %d (%s): %d of the calls shown\n", i, devs[i].Kind, c)
	}
	fmt.Fprintln(stdout, "est. finish: the queued work ahead plus the estimated transfer and compute of the call;")
	fmt.Fprintln(stdout, "*: extrapolated from other sizes (fewer than 3 samples in this size bucket); \"?\": no")
	fmt.Fprintln(stdout, "estimate yet for this kernel on that device; \"-\": not a candidate.")
	return 0
}

// explainWorkload returns n seeded calls: random kernels, log-uniform sizes in bytes.
func explainWorkload(n int, seed uint64) []explainCall {
	r := rand.New(rand.NewPCG(seed, 99))
	lo, hi := math.Log2(explainMinBytes), math.Log2(explainMaxBytes)
	out := make([]explainCall, n)
	for i := range out {
		bytes := math.Exp2(lo + r.Float64()*(hi-lo))
		k := explainKernels[r.IntN(len(explainKernels))]
		c := explainCall{kernel: k}
		switch k {
		case "saxpy_f32":
			c.n = int(bytes / 12)
		case "sum_f32":
			c.n = int(bytes / 4)
		case "sum_f64", "dot_f32":
			c.n = int(bytes / 8)
		case "sgemm": // 12 n^2 bytes (A, B, C)
			c.n = min(max(int(math.Sqrt(bytes/12)), 8), explainMaxOrder)
		}
		out[i] = c
	}
	return out
}

// runExplainCalls runs calls with window callers, each with its own output buffers.
func runExplainCalls(rt *goveda.Runtime, calls []explainCall, window int) error {
	maxN := explainMaxBytes / 4
	r := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, maxN)
	x64 := make([]float64, explainMaxBytes/8)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	for i := range x64 {
		x64[i] = float64(x[i])
	}
	ctx := context.Background()
	var mu sync.Mutex
	next := 0
	var firstErr error
	var wg sync.WaitGroup
	for g := 0; g < window; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			y := make([]float32, maxN) // this caller's output (saxpy's y, sgemm's C)
			for {
				mu.Lock()
				i := next
				next++
				stop := firstErr != nil
				mu.Unlock()
				if i >= len(calls) || stop {
					return
				}
				c := calls[i]
				var err error
				switch c.kernel {
				case "saxpy_f32":
					err = rt.Saxpy(ctx, 0.5, x[:c.n], y[:c.n])
				case "sum_f32":
					_, err = rt.SumF32(ctx, x[:c.n])
				case "sum_f64":
					_, err = rt.SumF64(ctx, x64[:c.n])
				case "dot_f32":
					_, err = rt.DotF32(ctx, x[:c.n], x[maxN-c.n:])
				case "sgemm":
					nn := c.n * c.n
					err = rt.Sgemm(ctx, c.n, c.n, c.n, 1, x[:nn], c.n, x[nn:2*nn], c.n, 0, y[:nn], c.n)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("call %d (%s, n=%d): %w", i, c.kernel, c.n, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
