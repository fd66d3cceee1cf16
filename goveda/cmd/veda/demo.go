package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

// Default sizes of `veda demo`: vector kernels in elements, sgemm as the square matrix order.
var (
	demoVectorSizes = []int{64 << 10, 1 << 20, 16 << 20}
	demoSgemmSizes  = []int{128, 512, 1024}
	quickVectorSize = []int{64 << 10, 1 << 20}
	quickSgemmSizes = []int{64, 256}
)

// demoKernels are the kernels `veda demo` runs, in table order.
var demoKernels = []string{"saxpy", "sum_f32", "dot_f32", "sgemm"}

// demoCase is one (kernel, size) with its inputs and the CPU's result (the reference).
type demoCase struct {
	kernel string
	n      int // elements, or the matrix order for sgemm
	a      float32
	x, y0  []float32 // vector inputs; sgemm: A and B (n x n, row-major)
	ref    demoResult
	hasRef bool
}

// demoResult is one run's output: a scalar (sum, dot) or a vector (saxpy's y, sgemm's C).
type demoResult struct {
	scalar float64
	vec    []float32
}

// demoRow is one line of the demo table.
type demoRow struct {
	c        *demoCase
	mode     string // "pinned" or "auto"
	device   string // the device that ran it ("a 3, b 2" when automatic dispatch varied)
	median   time.Duration
	check    string
	err      error
	mismatch bool
}

// cmdDemo is `veda demo`.
func cmdDemo(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	quick := fs.Bool("quick", false, "small sizes and fewer repetitions (a few seconds)")
	workers := fs.Int("workers", 0, "CPU workers (0: automatic)")
	reps := fs.Int("reps", 0, "repetitions per measurement, the median is shown (0: 5, or 3 with -quick)")
	strategy := fs.String("strategy", "", "dispatch strategy for the automatic rows (default: the runtime's)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: veda demo [-quick] [-workers N] [-reps N] [-strategy NAME]")
		fmt.Fprintln(fs.Output(), "Runs saxpy, sum_f32, dot_f32 and sgemm at a few sizes on every device (pinned), then")
		fmt.Fprintln(fs.Output(), "under automatic dispatch, and checks every result against the CPU's.")
		fs.PrintDefaults()
	}
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	if *workers < 0 || *reps < 0 {
		fmt.Fprintln(stderr, "veda demo: -workers and -reps must be >= 0")
		return 2
	}
	vsizes, msizes, nrep := demoVectorSizes, demoSgemmSizes, 5
	if *quick {
		vsizes, msizes, nrep = quickVectorSize, quickSgemmSizes, 3
	}
	if *reps > 0 {
		nrep = *reps
	}
	rt, err := goveda.New(goveda.Config{Workers: *workers, Strategy: *strategy})
	if err != nil {
		return failNew(stderr, "demo", err)
	}
	defer rt.Close()
	devs, err := rt.Devices()
	if err != nil {
		return fail(stderr, "demo", err)
	}

	cases := makeDemoCases(vsizes, msizes)
	// Device-major order: the CPU (device 0) runs first, so every later row has its reference.
	type step struct {
		c   *demoCase
		dev int // -1: automatic dispatch
	}
	var steps []step
	for d := 0; d < len(devs); d++ {
		for _, c := range cases {
			steps = append(steps, step{c, d})
		}
	}
	for _, c := range cases {
		steps = append(steps, step{c, -1})
	}

	prog := newProgress(stderr, len(steps))
	ctx := context.Background()
	var rows []demoRow
	for _, s := range steps {
		where := "auto"
		if s.dev >= 0 {
			where = deviceLabel(devs[s.dev])
		}
		prog.step(fmt.Sprintf("%s %s on %s", s.c.kernel, sizeLabel(s.c), where))
		if err := rt.PinDevice(s.dev); err != nil {
			prog.done()
			return fail(stderr, "demo", err)
		}
		row := runDemoRow(ctx, rt, devs, s.c, s.dev, nrep)
		rows = append(rows, row)
	}
	prog.done()
	_ = rt.PinDevice(-1)

	// Table: grouped by kernel and size, the pinned devices first, then automatic dispatch.
	order := map[*demoCase]int{}
	for i, c := range cases {
		order[c] = i
	}
	sort.SliceStable(rows, func(i, j int) bool { return order[rows[i].c] < order[rows[j].c] })
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "kernel\tsize\tmode\tdevice\ttime (median)\tthroughput\tcheck")
	status := 0
	for i, r := range rows {
		kernel, size := r.c.kernel, sizeLabel(r.c)
		if i > 0 && rows[i-1].c == r.c {
			kernel, size = "", "" // same case as the row above
		}
		tm, tp := "-", "-"
		if r.err == nil {
			tm, tp = formatDuration(r.median), throughput(r.c, r.median)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", kernel, size, r.mode, r.device, tm, tp, r.check)
		if r.err != nil || r.mismatch {
			status = 1
		}
	}
	w.Flush()
	fmt.Fprintf(stdout, "\n%d devices, %d workers, median of %d runs; throughput is bytes touched per second for\n",
		len(devs), rt.Workers(), nrep)
	fmt.Fprintln(stdout, "the vector kernels (saxpy 12 B, sum 4 B, dot 8 B per element) and 2n^3 FLOP/s for sgemm; times")
	fmt.Fprintln(stdout, "on a GPU include the host<->device copies. check: compared with the CPU's result.")
	// Placement summary of the automatic rows: which device the dispatcher used per case.
	placed := map[string]int{}
	var names []string
	nauto := 0
	for _, r := range rows {
		if r.mode != "auto" || r.err != nil {
			continue
		}
		nauto++
		if placed[r.device] == 0 {
			names = append(names, r.device)
		}
		placed[r.device]++
	}
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s in %d", n, placed[n]))
	}
	fmt.Fprintf(stdout, "automatic placement over %d cases: %s\n", nauto, strings.Join(parts, "; "))
	fmt.Fprintln(stdout, "why each call went where (estimates and reasons): veda explain")
	if status != 0 {
		fmt.Fprintln(stderr, "veda demo: some results are wrong or failed (MISMATCH/error rows above)")
	}
	return status
}

// makeDemoCases builds the inputs of every (kernel, size), seeded.
func makeDemoCases(vsizes, msizes []int) []*demoCase {
	r := rand.New(rand.NewPCG(7, 7))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = r.Float32()*2 - 1
		}
		return s
	}
	maxv := slices.Max(vsizes)
	x, y := fill(maxv), fill(maxv)
	var out []*demoCase
	for _, k := range demoKernels {
		if k == "sgemm" {
			for _, n := range msizes {
				out = append(out, &demoCase{kernel: k, n: n, a: 1, x: fill(n * n), y0: fill(n * n)})
			}
			continue
		}
		for _, n := range vsizes {
			out = append(out, &demoCase{kernel: k, n: n, a: 1.5, x: x[:n], y0: y[:n]})
		}
	}
	return out
}

// runDemoRow runs c nrep times on device dev (pinned already; -1 automatic) and checks the first
// result: against a Go reference on the CPU (which then becomes c's reference), against c's
// reference elsewhere.
func runDemoRow(ctx context.Context, rt *goveda.Runtime, devs []goveda.DeviceInfo, c *demoCase, dev, nrep int) demoRow {
	row := demoRow{c: c, mode: "pinned"}
	if dev < 0 {
		row.mode = "auto"
	} else {
		row.device = deviceLabel(devs[dev])
	}
	before := completedCounts(rt)
	times := make([]time.Duration, 0, nrep)
	var first demoResult
	var y []float32
	if c.kernel == "saxpy" || c.kernel == "sgemm" {
		y = make([]float32, len(c.y0))
	}
	// Run -1 is a warm-up (first touch of the output, program build, buffer pool): not timed.
	for i := -1; i < nrep; i++ {
		var res demoResult
		var err error
		if c.kernel == "saxpy" {
			copy(y, c.y0) // saxpy overwrites y: every run starts from the same input
		}
		start := time.Now()
		switch c.kernel {
		case "saxpy":
			err = rt.Saxpy(ctx, c.a, c.x, y)
			res.vec = y
		case "sum_f32":
			res.scalar, err = rt.SumF32(ctx, c.x)
		case "dot_f32":
			res.scalar, err = rt.DotF32(ctx, c.x, c.y0)
		case "sgemm":
			err = rt.Sgemm(ctx, c.n, c.n, c.n, 1, c.x, c.n, c.y0, c.n, 0, y, c.n)
			res.vec = y
		}
		el := time.Since(start)
		if err != nil {
			row.err = err
			row.check = "error: " + shortError(err)
			if dev < 0 {
				row.device = ranOn(rt, devs, before)
			}
			return row
		}
		if i < 0 {
			continue
		}
		times = append(times, el)
		if i == 0 {
			first = res
			if res.vec != nil {
				first.vec = slices.Clone(res.vec)
			}
		}
	}
	slices.Sort(times)
	row.median = times[len(times)/2]
	if dev < 0 {
		row.device = ranOn(rt, devs, before)
	}
	switch {
	case dev == 0:
		if err := checkAgainstGo(c, first); err != nil {
			row.check, row.mismatch = "MISMATCH (vs Go reference: "+err.Error()+")", true
		} else {
			row.check = "ok"
		}
		c.ref, c.hasRef = first, true
	case !c.hasRef:
		row.check = "unchecked (no CPU result)"
	default:
		if err := compareResults(c, first, c.ref); err != nil {
			row.check, row.mismatch = "MISMATCH ("+err.Error()+")", true
		} else {
			row.check = "ok"
		}
	}
	return row
}

// completedCounts returns each device's completed-call counter.
func completedCounts(rt *goveda.Runtime) []uint64 {
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

// ranOn names the devices whose completed count grew since before ("cpu:X", or "cpu:X 2, opencl:Y 3").
func ranOn(rt *goveda.Runtime, devs []goveda.DeviceInfo, before []uint64) string {
	after := completedCounts(rt)
	var parts []string
	var only string
	for i := range after {
		if i >= len(before) || after[i] == before[i] {
			continue
		}
		only = deviceLabel(devs[i])
		parts = append(parts, fmt.Sprintf("%s x%d", only, after[i]-before[i]))
	}
	switch len(parts) {
	case 0:
		return "?"
	case 1:
		return only
	}
	return strings.Join(parts, ", ")
}

// tolerance is the allowed |difference| between two float32 computations of a sum of k terms
// whose magnitudes add up to mag (a few ulps per term, for any summation order).
func tolerance(k int, mag float64) float64 {
	const eps32 = 1.0 / (1 << 23)
	return 4*math.Sqrt(float64(k))*eps32*mag + 1e-30
}

// compareResults reports whether got matches ref for c (nil when it does).
func compareResults(c *demoCase, got, ref demoResult) error {
	switch c.kernel {
	case "sum_f32", "dot_f32":
		mag := 0.0
		for i, v := range c.x {
			if c.kernel == "dot_f32" {
				mag += math.Abs(float64(v) * float64(c.y0[i]))
			} else {
				mag += math.Abs(float64(v))
			}
		}
		if d := math.Abs(got.scalar - ref.scalar); !(d <= tolerance(len(c.x), mag)) {
			return fmt.Errorf("%.9g vs %.9g", got.scalar, ref.scalar)
		}
	case "saxpy":
		for i := range ref.vec {
			mag := math.Abs(float64(c.a)*float64(c.x[i])) + math.Abs(float64(c.y0[i]))
			if d := math.Abs(float64(got.vec[i]) - float64(ref.vec[i])); !(d <= tolerance(2, mag)) {
				return fmt.Errorf("y[%d] = %g vs %g", i, got.vec[i], ref.vec[i])
			}
		}
	case "sgemm":
		// Every entry is a k-term dot product of values in [-1, 1): magnitude at most k.
		tol := tolerance(c.n, float64(c.n)/2)
		for i := range ref.vec {
			if d := math.Abs(float64(got.vec[i]) - float64(ref.vec[i])); !(d <= tol) {
				return fmt.Errorf("C[%d,%d] = %g vs %g", i/c.n, i%c.n, got.vec[i], ref.vec[i])
			}
		}
	}
	return nil
}

// checkAgainstGo checks the CPU's result against a float64 Go computation (sgemm: 256 sampled
// entries, so that the check stays cheap at n = 1024).
func checkAgainstGo(c *demoCase, got demoResult) error {
	var ref demoResult
	switch c.kernel {
	case "sum_f32":
		for _, v := range c.x {
			ref.scalar += float64(v)
		}
	case "dot_f32":
		for i, v := range c.x {
			ref.scalar += float64(v) * float64(c.y0[i])
		}
	case "saxpy":
		ref.vec = make([]float32, len(c.x))
		for i, v := range c.x {
			ref.vec[i] = float32(float64(c.a)*float64(v) + float64(c.y0[i]))
		}
	case "sgemm":
		n := c.n
		r := rand.New(rand.NewPCG(uint64(n), 1))
		tol := tolerance(n, float64(n)/2)
		for s := 0; s < 256; s++ {
			i, j := r.IntN(n), r.IntN(n)
			var v float64
			for k := 0; k < n; k++ {
				v += float64(c.x[i*n+k]) * float64(c.y0[k*n+j])
			}
			if d := math.Abs(float64(got.vec[i*n+j]) - v); !(d <= tol) {
				return fmt.Errorf("C[%d,%d] = %g, want %g", i, j, got.vec[i*n+j], v)
			}
		}
		return nil
	}
	return compareResults(c, got, ref)
}

// sizeLabel is "64Ki", "16Mi" for vector kernels and "512^3" for sgemm.
func sizeLabel(c *demoCase) string {
	if c.kernel == "sgemm" {
		return fmt.Sprintf("%d^3", c.n)
	}
	switch {
	case c.n >= 1<<20 && c.n%(1<<20) == 0:
		return fmt.Sprintf("%dMi", c.n>>20)
	case c.n >= 1<<10 && c.n%(1<<10) == 0:
		return fmt.Sprintf("%dKi", c.n>>10)
	}
	return fmt.Sprint(c.n)
}

// throughput is GB/s of bytes touched for the vector kernels, GFLOP/s for sgemm.
func throughput(c *demoCase, t time.Duration) string {
	if t <= 0 {
		return "-"
	}
	s := t.Seconds()
	switch c.kernel {
	case "sgemm":
		return fmt.Sprintf("%.1f GFLOP/s", 2*math.Pow(float64(c.n), 3)/s/1e9)
	case "saxpy":
		return fmt.Sprintf("%.1f GB/s", 12*float64(c.n)/s/1e9)
	case "dot_f32":
		return fmt.Sprintf("%.1f GB/s", 8*float64(c.n)/s/1e9)
	}
	return fmt.Sprintf("%.1f GB/s", 4*float64(c.n)/s/1e9)
}

// formatDuration prints d in us or ms with three significant digits.
func formatDuration(d time.Duration) string {
	us := float64(d) / 1e3
	switch {
	case us < 1000:
		return fmt.Sprintf("%.3g us", us)
	case us < 1e6:
		return fmt.Sprintf("%.3g ms", us/1e3)
	}
	return fmt.Sprintf("%.3g s", us/1e6)
}

// deviceLabel is "kind:name" cut to 40 characters.
func deviceLabel(d goveda.DeviceInfo) string {
	s := d.Kind.String() + ":" + d.Name
	if len(s) > 40 {
		s = s[:39] + "~"
	}
	return s
}

// shortError is err's message without a build log or other continuation lines.
func shortError(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// progress writes "[ k/n] what" lines to w: rewritten in place on a terminal, one per line
// otherwise (a log, a test buffer).
type progress struct {
	w     io.Writer
	n, k  int
	tty   bool
	width int
}

func newProgress(w io.Writer, n int) *progress {
	p := &progress{w: w, n: n, width: len(fmt.Sprint(n))}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// step announces the next step.
func (p *progress) step(what string) {
	p.k++
	line := fmt.Sprintf("[%*d/%d] %s", p.width, p.k, p.n, what)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// done clears the progress line on a terminal.
func (p *progress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
