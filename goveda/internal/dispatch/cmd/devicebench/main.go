// Command devicebench measures every built-in kernel on every device VEDA
// finds, each device pinned: sizes 64 KiB..64 MiB (bytes of input), the
// median of several runs, and for GPU and OpenCL devices the split of that
// run into transfer (host->device + device->host) and compute, from the
// device's own event times (device.Timing). The CPU (device 0, the
// runtime's workers running the C kernels) has compute only.
//
// It lives under goveda/internal so that it may import package device (the
// per-call Timing is not part of the public API); from the module root
// (bench/run.sh does this):
//
//	go run ./goveda/internal/dispatch/cmd/devicebench [-quick] [-reps 5] [-kernels saxpy,sgemm] [-devices 0,1]
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/internal/device"
)

// kernels in table order, and the input bytes per element of the vector kernels.
var (
	kernelNames  = []string{"saxpy", "sum_f32", "sum_f64", "dot_f32", "sgemm"}
	bytesPerElem = map[string]int{"saxpy": 8, "sum_f32": 4, "sum_f64": 8, "dot_f32": 8}
	// touched is the bytes read+written per element, for GB/s.
	touched = map[string]int{"saxpy": 12, "sum_f32": 4, "sum_f64": 8, "dot_f32": 8}
)

// bench is one device under test: the CPU through the runtime (pinned to device 0), or a
// device-layer device called directly so that its Timing is seen.
type bench struct {
	index int
	label string
	rt    *goveda.Runtime // CPU
	g     device.Device   // GPU/OpenCL
}

// sample is one measured call.
type sample struct {
	wall time.Duration
	t    device.Timing // zero for the CPU
}

func main() {
	quick := flag.Bool("quick", false, "sizes 64 KiB, 1 MiB, 16 MiB (sgemm up to 512) and 3 runs")
	reps := flag.Int("reps", 0, "runs per measurement, the median is shown (0: 5, or 3 with -quick)")
	kernelsFlag := flag.String("kernels", strings.Join(kernelNames, ","), "kernels to run")
	devicesFlag := flag.String("devices", "", "device indexes to run (default: all)")
	workers := flag.Int("workers", 0, "CPU workers (0: automatic)")
	flag.Parse()

	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20}
	orders := []int{64, 128, 256, 512, 1024}
	nrep := 5
	if *quick {
		sizes, orders, nrep = []int{64 << 10, 1 << 20, 16 << 20}, []int{64, 256, 512}, 3
	}
	if *reps > 0 {
		nrep = *reps
	}
	kernels := strings.Split(*kernelsFlag, ",")
	for _, k := range kernels {
		if !slices.Contains(kernelNames, k) {
			fmt.Fprintf(os.Stderr, "devicebench: unknown kernel %q (have %s)\n", k, strings.Join(kernelNames, ","))
			os.Exit(2)
		}
	}

	rt, err := goveda.New(goveda.Config{Workers: *workers})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devicebench:", err)
		os.Exit(1)
	}
	defer rt.Close()
	if err := rt.PinDevice(0); err != nil {
		fmt.Fprintln(os.Stderr, "devicebench:", err)
		os.Exit(1)
	}
	infos, err := rt.Devices()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devicebench:", err)
		os.Exit(1)
	}
	// The runtime's devices 1.. are the process-wide discovery's devices, in order.
	gpus := device.Discover().Devices()
	benches := []bench{{index: 0, label: "cpu:" + infos[0].Name, rt: rt}}
	for i, g := range gpus {
		benches = append(benches, bench{index: i + 1, label: g.Kind().String() + ":" + g.Info().Name, g: g})
	}
	if *devicesFlag != "" {
		var keep []bench
		for _, s := range strings.Split(*devicesFlag, ",") {
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(benches) {
				fmt.Fprintf(os.Stderr, "devicebench: no device %q (devices 0..%d)\n", s, len(benches)-1)
				os.Exit(2)
			}
			keep = append(keep, benches[i])
		}
		benches = keep
	}
	abs, _ := rt.AbsentBackends()
	fmt.Printf("devices: %d workers on the CPU", rt.Workers())
	for _, b := range benches {
		fmt.Printf("; %d = %s", b.index, b.label)
	}
	fmt.Println()
	for k, why := range abs {
		fmt.Printf("absent: %s (%s)\n", k, firstLine(why))
	}
	fmt.Printf("median of %d runs after one warm-up run; transfer = H2D + D2H and compute from device events\n", nrep)
	fmt.Println("(the CPU has compute only); other = wall - transfer - compute (launch, synchronisation, host-side")
	fmt.Println("staging); throughput = bytes read+written / wall (sgemm: 2n^3 FLOP / wall); compute only: / compute.")

	maxElems := 0
	for _, s := range sizes {
		maxElems = max(maxElems, s/4)
	}
	maxOrder := slices.Max(orders)
	maxElems = max(maxElems, 2*maxOrder*maxOrder)
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, maxElems)
	y := make([]float32, maxElems)
	for i := range x {
		x[i], y[i] = r.Float32()*2-1, r.Float32()*2-1
	}
	x64 := make([]float64, maxElems/2)
	for i := range x64 {
		x64[i] = float64(x[i])
	}
	c := make([]float32, maxOrder*maxOrder)

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "kernel\tsize\tdevice\twall\ttransfer\tcompute\tother\tthroughput\tcompute only\t")
	ctx := context.Background()
	failed := false
	for _, k := range kernels {
		var cases []int // elements, or the sgemm order
		if k == "sgemm" {
			cases = orders
		} else {
			for _, s := range sizes {
				cases = append(cases, s/bytesPerElem[k])
			}
		}
		for _, n := range cases {
			for _, b := range benches {
				call := func() (sample, error) {
					var s sample
					var err error
					start := time.Now()
					switch {
					case k == "saxpy" && b.g == nil:
						err = b.rt.Saxpy(ctx, 1.0001, x[:n], y[:n])
					case k == "saxpy":
						s.t, err = b.g.Saxpy(1.0001, x[:n], y[:n])
					case k == "sum_f32" && b.g == nil:
						_, err = b.rt.SumF32(ctx, x[:n])
					case k == "sum_f32":
						_, s.t, err = b.g.SumF32(x[:n])
					case k == "sum_f64" && b.g == nil:
						_, err = b.rt.SumF64(ctx, x64[:n])
					case k == "sum_f64":
						_, s.t, err = b.g.SumF64(x64[:n])
					case k == "dot_f32" && b.g == nil:
						_, err = b.rt.DotF32(ctx, x[:n], y[:n])
					case k == "dot_f32":
						_, s.t, err = b.g.DotF32(x[:n], y[:n])
					case k == "sgemm" && b.g == nil:
						err = b.rt.Sgemm(ctx, n, n, n, 1, x[:n*n], n, y[:n*n], n, 0, c[:n*n], n)
					case k == "sgemm":
						s.t, err = b.g.Sgemm(n, n, n, 1, x[:n*n], n, y[:n*n], n, 0, c[:n*n], n)
					}
					s.wall = time.Since(start)
					return s, err
				}
				fmt.Fprintf(os.Stderr, "\r\033[K%s %s on %s", k, sizeLabel(k, n), b.label)
				if _, err := call(); err != nil { // warm-up: program build, buffer pool, first touch
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t\t\t\t\t\t\n", k, sizeLabel(k, n), b.index, "error: "+firstLine(err.Error()))
					failed = true
					continue
				}
				samples := make([]sample, 0, nrep)
				for i := 0; i < nrep; i++ {
					s, err := call()
					if err != nil {
						failed = true
						break
					}
					samples = append(samples, s)
				}
				if len(samples) < nrep {
					fmt.Fprintf(w, "%s\t%s\t%d\terror\t\t\t\t\t\t\n", k, sizeLabel(k, n), b.index)
					continue
				}
				slices.SortFunc(samples, func(a, b sample) int { return int(a.wall - b.wall) })
				m := samples[len(samples)/2]
				transfer, compute, other := "-", fmtDur(m.wall), "-"
				comp := m.wall
				if b.g != nil {
					transfer, compute = fmtDur(m.t.H2D+m.t.D2H), fmtDur(m.t.Compute)
					other = fmtDur(max(m.wall-m.t.Total(), 0))
					comp = m.t.Compute
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", k, sizeLabel(k, n), b.index, fmtDur(m.wall),
					transfer, compute, other, rate(k, n, m.wall), rate(k, n, comp))
			}
		}
	}
	fmt.Fprint(os.Stderr, "\r\033[K")
	w.Flush()
	if failed {
		os.Exit(1)
	}
}

// sizeLabel is the input size in bytes for vector kernels, "n^3" for sgemm.
func sizeLabel(k string, n int) string {
	if k == "sgemm" {
		return fmt.Sprintf("%d^3", n)
	}
	b := n * bytesPerElem[k]
	if b >= 1<<20 {
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%d KiB", b>>10)
}

// rate is GB/s of bytes touched, or GFLOP/s for sgemm.
func rate(k string, n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if k == "sgemm" {
		return fmt.Sprintf("%.1f GFLOP/s", 2*math.Pow(float64(n), 3)/d.Seconds()/1e9)
	}
	return fmt.Sprintf("%.2f GB/s", float64(n*touched[k])/d.Seconds()/1e9)
}

// fmtDur prints d in us or ms with three significant digits.
func fmtDur(d time.Duration) string {
	us := float64(d) / 1e3
	if us < 1000 {
		return fmt.Sprintf("%.3g us", us)
	}
	return fmt.Sprintf("%.4g ms", us/1e3)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
