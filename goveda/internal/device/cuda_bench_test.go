package device

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// TestCUDABench prints device-resident throughput on the first CUDA device:
// saxpy and sum GB/s against cuMemcpyDtoD in the same run, and sgemm
// GFLOP/s at 4096^3. Runs only with VEDA_GPU_BENCH=1 (tests/gpu/run.sh).
func TestCUDABench(t *testing.T) {
	if os.Getenv("VEDA_GPU_BENCH") != "1" {
		t.Skip("set VEDA_GPU_BENCH=1")
	}
	d := cudaDevice(t).(*gdev)
	e := d.eng.(*cudaEngine)
	const n = 1 << 26 // 256 MiB of float32
	const reps = 20
	r := rand.New(rand.NewPCG(7, 8))
	host := make([]float32, n)
	for i := range host {
		host[i] = r.Float32()
	}
	saxpy, err := d.builtin("saxpy_f32")
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := d.builtin("sum_f32")
	t.Logf("device %s (cc %s, %d SMs, driver %s), PTX from %s", d.info.Name, d.info.ComputeCap, d.info.ComputeUnits, d.info.DriverVersion, e.ptxSource)
	sgemm, _ := d.builtin("sgemm_f32")
	d.mu.Lock()
	defer d.mu.Unlock()
	get := func(bytes int64) *Buffer {
		b, err := d.pool.get(bytes)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bx, by, bz, bp := get(4*n), get(4*n), get(4*n), get(8*4096)
	// Cold: the engine's first transfers (staging ring allocation and first
	// touch included, when no earlier test in this process copied anything).
	if err := e.write(bx, unsafe.Pointer(&host[0]), 4*n); err != nil {
		t.Fatal(err)
	}
	if err := e.write(by, unsafe.Pointer(&host[0]), 4*n); err != nil {
		t.Fatal(err)
	}
	tm, err := e.finish()
	if err != nil {
		t.Fatal(err)
	}
	h2dCold := float64(tm.BytesIn) / tm.H2D.Seconds() / 1e9
	// Warm: median of xferReps single 256 MiB transfers after a warm-up, as
	// Timing reports it and as wall-clock time around the call and finish.
	out := make([]float32, n)
	const xferReps = 7
	xfer := func(d2h bool) (timed, wall float64) {
		var ts, ws []float64
		for i := 0; i <= xferReps; i++ {
			t0 := time.Now()
			var err error
			if d2h {
				err = e.read(unsafe.Pointer(&out[0]), bx, 4*n)
			} else {
				err = e.write(bx, unsafe.Pointer(&host[0]), 4*n)
			}
			if err != nil {
				t.Fatal(err)
			}
			tm, err := e.finish()
			if err != nil {
				t.Fatal(err)
			}
			w := time.Since(t0)
			if i == 0 {
				continue // warm-up
			}
			dt := tm.H2D
			if d2h {
				dt = tm.D2H
			}
			ts, ws = append(ts, 4*n/dt.Seconds()/1e9), append(ws, 4*n/w.Seconds()/1e9)
		}
		return median(ts), median(ws)
	}
	type xferRow struct {
		name        string
		timed, wall float64
	}
	var xfers []xferRow
	threads := []int{cudaStageThreads}
	if cudaStageThreads > 1 {
		threads = append(threads, 1)
	}
	for _, th := range threads {
		saved := cudaStageThreads
		cudaStageThreads = th
		hw, hwWall := xfer(false)
		dw, dwWall := xfer(true)
		cudaStageThreads = saved
		xfers = append(xfers, xferRow{fmt.Sprintf("H2D warm, %d memcpy thr", th), hw, hwWall},
			xferRow{fmt.Sprintf("D2H warm, %d memcpy thr", th), dw, dwWall})
	}
	for _, h2d := range []bool{true, false} {
		dt, err := e.pinnedCopy(bz, 4*n, h2d, 5)
		if err != nil {
			t.Fatal(err)
		}
		name := "D2H pinned (ceiling, best of 5)"
		if h2d {
			name = "H2D pinned (ceiling, best of 5)"
		}
		xfers = append(xfers, xferRow{name, 0, 4 * n / dt.Seconds() / 1e9})
	}
	if !slices.Equal(out, host) {
		t.Fatal("D2H: the read-back 256 MiB differ from what was written")
	}
	timeit := func(f func() error) time.Duration {
		if err := f(); err != nil { // warm-up
			t.Fatal(err)
		}
		if _, err := e.finish(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < reps; i++ {
			if err := f(); err != nil {
				t.Fatal(err)
			}
		}
		tm, err := e.finish()
		if err != nil {
			t.Fatal(err)
		}
		return tm.Compute / reps
	}
	copyT := timeit(func() error { return e.copyDtoD(bz, bx, 4*n) })
	saxpyT := timeit(func() error {
		return e.launch(saxpy, [3]int{min(ceilDiv(n, 4), 256*65535) / 256 * 256, 1, 1}, [3]int{256, 1, 1},
			[]karg{scalarOf(int64(n)), scalarOf(float32(1.0001)), {buf: bx}, {buf: by}})
	})
	groups := d.reduceGroups(n)
	sumT := timeit(func() error {
		return e.launch(sum, [3]int{groups * 256, 1, 1}, [3]int{256, 1, 1}, []karg{scalarOf(int64(n)), {buf: bx}, {buf: bp}})
	})
	const N = 4096
	ga, gb, gc := get(4*N*N), get(4*N*N), get(4*N*N)
	_ = e.write(ga, unsafe.Pointer(&host[0]), 4*N*N)
	_ = e.write(gb, unsafe.Pointer(&host[N*N]), 4*N*N)
	if _, err := e.finish(); err != nil {
		t.Fatal(err)
	}
	gemmT := timeit(func() error {
		return e.launch(sgemm, [3]int{ceilDiv(N, 64) * 256, ceilDiv(N, 64), 1}, [3]int{256, 1, 1},
			[]karg{scalarOf(int32(N)), scalarOf(int32(N)), scalarOf(int32(N)), scalarOf(float32(1)), {buf: ga}, scalarOf(int32(N)),
				{buf: gb}, scalarOf(int32(N)), scalarOf(float32(0)), {buf: gc}, scalarOf(int32(N))})
	})
	for _, b := range []*Buffer{bx, by, bz, bp, ga, gb, gc} {
		d.pool.put(b)
	}
	gbs := func(bytes float64, dt time.Duration) float64 { return bytes / dt.Seconds() / 1e9 }
	copyBW := gbs(8*n, copyT)
	fmt.Printf("\nVEDA CUDA benchmark on %s (n = %d floats, mean of %d runs, device-resident)\n", d.info.Name, n, reps)
	fmt.Printf("%-28s %12s %12s %10s\n", "kernel", "time", "GB/s", "vs copy")
	fmt.Printf("%-28s %12v %12.1f %10s\n", "cuMemcpyDtoD (r+w 8n B)", copyT, copyBW, "1.00")
	fmt.Printf("%-28s %12v %12.1f %10.2f\n", "saxpy_f32 (r+r+w 12n B)", saxpyT, gbs(12*n, saxpyT), gbs(12*n, saxpyT)/copyBW)
	fmt.Printf("%-28s %12v %12.1f %10.2f\n", "sum_f32 (r 4n B)", sumT, gbs(4*n, sumT), gbs(4*n, sumT)/copyBW)
	fmt.Printf("%-28s %12v %12.1f GFLOP/s\n", "sgemm_f32 4096^3", gemmT, 2*float64(N)*N*N/gemmT.Seconds()/1e9)
	fmt.Printf("\nhost<->device through the pinned staging ring (%d x %d MiB chunks), pageable Go memory, 256 MiB per transfer\n",
		cudaStageSlots, cudaStageChunk>>20)
	fmt.Printf("%-40s %12s %12s\n", "transfer", "Timing GB/s", "wall GB/s")
	fmt.Printf("%-40s %12.1f %12s\n", "H2D cold (first 2 transfers)", h2dCold, "")
	for _, x := range xfers {
		if x.timed == 0 {
			fmt.Printf("%-40s %12s %12.1f\n", x.name, "", x.wall)
			continue
		}
		fmt.Printf("%-40s %12.1f %12.1f\n", x.name+" (median of 7)", x.timed, x.wall)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
