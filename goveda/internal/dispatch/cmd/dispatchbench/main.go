// Command dispatchbench benchmarks VEDA's dispatch strategies on a mixed
// workload: many kernel calls of sizes 4 KiB..64 MiB in random order, over
// two devices of compute speed 1:4. It compares the makespan under each
// strategy with the best static split, found by sweeping the fraction of
// bytes sent to the fast device, in the same run. Target: earliest-finish
// within 10% of the best static split.
//
// Part 1 (-sim): the devices are simulated (dispatchtest.SimDevice test
// doubles) on a virtual clock, so a run is fast and deterministic.
//
// Part 2 (-real, real.go): the same kind of workload on the real devices
// through the real runtime (goveda.New with each strategy), against static
// splits of the calls between the CPU and one device, on the wall clock;
// medians of a few runs.
//
// It lives under goveda/internal so it may import package dispatch; from the
// module root (bench/run.sh does this):
//
//	go run ./goveda/internal/dispatch/cmd/dispatchbench [-calls 2000] [-seed 1] [-window 8] [-transfer=false]
//	go run ./goveda/internal/dispatch/cmd/dispatchbench -sim=false [-quick] [-real-calls 300] [-real-reps 3] [-real-step 0.1]
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
	"github.com/veda-runtime/veda/goveda/internal/dispatch/dispatchtest"
)

func main() {
	calls := flag.Int("calls", 2000, "number of kernel calls")
	seed := flag.Uint64("seed", 1, "workload seed")
	window := flag.Int("window", 8, "calls in flight (concurrent callers)")
	step := flag.Float64("step", 0.01, "split fraction sweep step")
	transfer := flag.Bool("transfer", true, "GPU calls pay host<->device transfers")
	jitter := flag.Float64("jitter", 0.05, "relative timing noise of the simulated devices")
	sim := flag.Bool("sim", true, "run part 1: simulated devices (1:4) on a virtual clock")
	realRun := flag.Bool("real", true, "run part 2: the real devices through the runtime (see real.go)")
	var rc realConfig
	rc.flags()
	flag.Parse()
	status := 0
	if *sim {
		runSim(*calls, *seed, *window, *step, *transfer, *jitter)
	}
	if *realRun {
		if *sim {
			fmt.Println()
		}
		rc.seed = *seed
		status = runReal(rc)
	}
	os.Exit(status)
}

// runSim is part 1: the strategies vs the best static split on simulated devices.
func runSim(calls int, seed uint64, window int, step float64, transfer bool, jitter float64) {

	ex := dispatchtest.NewSimExecutor(dispatchtest.SimDevices1to4(jitter))
	reqs := dispatchtest.Workload(calls, seed, transfer)
	var total uint64
	for _, r := range reqs {
		total += r.Bytes
	}
	fmt.Printf("workload: %d calls, %s total, sizes 4 KiB..64 MiB log-uniform, kernels %d, window %d, seed %d, transfers %v\n",
		calls, dispatch.FormatBytes(total), len(dispatchtest.WorkloadKernels), window, seed, transfer)
	for i, s := range ex.Sim() {
		fmt.Printf("device %d: %-14s throughput %.1f GB/s, latency %v, bandwidth %.0f GB/s\n",
			i, s.Info.Name, s.Throughput/1e9, s.Latency, s.Bandwidth/1e9)
	}

	// Best static split by fraction, swept in the same run.
	bestF, best := 0.0, dispatchtest.WorkloadResult{Makespan: math.MaxInt64}
	for f := 0.0; f <= 1+1e-9; f += step {
		r := dispatchtest.RunWorkload(ex, nil, reqs, window, dispatchtest.FractionSplit(reqs, f))
		if r.Makespan < best.Makespan {
			bestF, best = f, r
		}
	}
	// For information: the best static size threshold.
	bestT, bestThr := uint64(0), dispatchtest.WorkloadResult{Makespan: math.MaxInt64}
	for b := 12; b <= 27; b++ {
		t := uint64(1) << b
		r := dispatchtest.RunWorkload(ex, nil, reqs, window, dispatchtest.ThresholdSplit(reqs, t))
		if r.Makespan < bestThr.Makespan {
			bestT, bestThr = t, r
		}
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "placement\tmakespan\tvs best static\tfast-device bytes\tcalls slow/fast\t")
	row := func(name string, r dispatchtest.WorkloadResult) {
		share := float64(r.Bytes[1]) / float64(r.Bytes[0]+r.Bytes[1])
		fmt.Fprintf(w, "%s\t%v\t%+.1f%%\t%.1f%%\t%d/%d\t\n", name, r.Makespan.Round(time.Microsecond),
			100*(float64(r.Makespan)/float64(best.Makespan)-1), 100*share, r.Calls[0], r.Calls[1])
	}
	row(fmt.Sprintf("best static split (f=%.2f)", bestF), best)
	row(fmt.Sprintf("best static threshold (>=%s)", dispatch.FormatBytes(bestT)), bestThr)
	slow := dispatchtest.RunWorkload(ex, nil, reqs, window, func(int) int { return 0 })
	fast := dispatchtest.RunWorkload(ex, nil, reqs, window, func(int) int { return 1 })
	row("all on slow device", slow)
	row("all on fast device", fast)
	var eft dispatchtest.WorkloadResult
	for _, name := range dispatch.StrategyNames {
		s, _ := dispatch.ParseStrategy(name)
		d, err := dispatch.NewDispatcher(ex.Devices(), dispatch.Options{Strategy: s})
		if err != nil {
			panic(err)
		}
		r := dispatchtest.RunWorkload(ex, d, reqs, window, nil)
		if name == dispatch.NameEarliestFinish {
			eft = r
		}
		row(name, r)
	}
	// Fluid lower bound: both devices busy all the time at their whole-
	// workload rates (ignores that small calls favour the slow device).
	bound := time.Duration(1 / (1/float64(slow.Makespan) + 1/float64(fast.Makespan)))
	fmt.Fprintf(w, "fluid bound (both always busy)\t%v\t%+.1f%%\t\t\t\n", bound.Round(time.Microsecond),
		100*(float64(bound)/float64(best.Makespan)-1))
	w.Flush()
	ratio := float64(eft.Makespan) / float64(best.Makespan)
	verdict := "PASS"
	if ratio > 1.10 {
		verdict = "FAIL"
	}
	fmt.Printf("earliest-finish / best static split = %.3f (target <= 1.10): %s\n", ratio, verdict)
}
