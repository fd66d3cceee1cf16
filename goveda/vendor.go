package goveda

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/device"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// Vendor libraries on the CPU. A CPU BLAS (OpenBLAS, then BLIS, then MKL's runtime) is loaded
// with dlopen on first use (internal/device: BLAS) and becomes one more implementation of sgemm
// and saxpy on device 0, next to VEDA's C kernels. Which one runs is measured per (kernel, size
// bucket) by the runtime's ImplChooser: each is tried twice per bucket, then the faster is
// kept, and the slower is re-measured on one call in 32.
//
// The vendor call runs on VEDA's workers, one tile of C (or one chunk of y) per task, with the
// library set to one thread of its own: there is one pool, never two.
//
// Kept as VEDA's own, always: the sums and dot products (compensated and bit-identical; a BLAS
// sdot/ddot is neither, so the loader resolves them but DotF32 never calls them), and every
// kernel under PolicyDeterministic (a vendor kernel's rounding
// may change with its version or the CPU it detects).

// VendorLibrary describes one vendor library the runtime looked for: found (with the path and
// the kernels it implements) or not (with why). `veda info` prints them.
type VendorLibrary = device.VendorLibrary

// VendorLibraries lists the vendor libraries the runtime looked for, found or not (a missing
// library is never an error: VEDA's kernel runs). Any goroutine; the first call loads them.
func (rt *Runtime) VendorLibraries() []VendorLibrary {
	b := device.BLAS()
	v := VendorLibrary{Name: "blas", Found: b.Found, Library: b.Library, Detail: b.Config, Why: b.Why}
	if b.Found {
		v.Kernels = []string{"sgemm", "saxpy_f32"}
		if b.CoreType != "" {
			v.Detail += " (OPENBLAS_CORETYPE=" + b.CoreType + ")"
		}
	}
	out := append([]VendorLibrary{v}, device.GPUVendorLibraries()...)
	for i := range out {
		if out[i].Name == "clblast" && out[i].Found {
			out[i].Detail = "used on OpenCL devices with their own cores; not on host-cores devices (PoCL), where the CPU BLAS runs"
		}
	}
	if rt.cfg.Policy == PolicyDeterministic {
		for i := range out {
			if out[i].Found {
				out[i].Why = "not used: PolicyDeterministic runs VEDA's own kernels"
			}
		}
	}
	return out
}

// ImplStats returns what the runtime measured of each implementation of each kernel (VEDA's,
// a vendor library's) per size bucket, and which one each bucket runs now.
func (rt *Runtime) ImplStats() []dispatch.ImplStat { return rt.impls().Stats() }

// impls returns rt's implementation chooser (created on first use). Any goroutine.
func (rt *Runtime) impls() *dispatch.ImplChooser {
	rt.dev.implOnce.Do(func() { rt.dev.impl = dispatch.NewImplChooser() })
	return rt.dev.impl
}

// blasName is the short name of the loaded BLAS ("openblas", "blis", "mkl"), or "" when none is
// loaded or the policy keeps VEDA's kernels.
func (rt *Runtime) blasName() string {
	if rt.cfg.Policy == PolicyDeterministic {
		return ""
	}
	b := device.BLAS()
	if !b.Found {
		return ""
	}
	base := filepath.Base(b.Library)
	switch {
	case strings.Contains(base, "openblas"):
		return "openblas"
	case strings.Contains(base, "blis"):
		return "blis"
	case strings.Contains(base, "mkl"):
		return "mkl"
	}
	return "blas"
}

// withImpl runs one of impls (index chosen by measurement) for work units of kernel on the CPU
// and reports its time. run gets the chosen index. A failing run (cancellation) reports nothing.
func (rt *Runtime) withImpl(kernel string, work float64, impls []string, run func(idx int) error) error {
	ch := rt.impls()
	idx := ch.Choose(kernel, 0, work, impls)
	start := time.Now()
	if err := run(idx); err != nil {
		return err
	}
	ch.Report(kernel, 0, work, impls, idx, time.Since(start))
	return nil
}

// sgemmBLAS is the vendor path of sgemmCPU: the same tiles as VEDA's kernel, each one BLAS call
// on a worker. Arguments are checked; alpha != 0, k > 0, every dimension fits an int32.
func (rt *Runtime) sgemmBLAS(ctx context.Context, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) error {
	if 2*float64(m)*float64(n)*float64(k) <= sgemmSeqFlops {
		return rt.runInline(ctx, func() { device.BLASSgemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) })
	}
	// One row band per worker: each BLAS call packs all of B, so fewer, larger tiles than
	// VEDA's own kernel uses (it balances 3 tiles per worker) repack B less.
	w := max(1, rt.Workers())
	tm, tn := roundUp(ceilDiv(m, w), 8), n
	rows := (m + tm - 1) / tm
	cols := (n + tn - 1) / tn
	return rt.ParallelFor(ctx, 0, rows*cols, 1, func(lo, hi int) error {
		for t := lo; t < hi; t++ {
			i0, j0 := (t/cols)*tm, (t%cols)*tn
			i1, j1 := min(i0+tm, m), min(j0+tn, n)
			device.BLASSgemm(i1-i0, j1-j0, k, alpha, a[i0*lda:], lda, b[j0:], ldb, beta, c[i0*ldc+j0:], ldc)
		}
		return nil
	})
}

// sgemmDevice runs Sgemm on device d with VEDA's kernel or the device's vendor BLAS (CLBlast,
// cuBLAS), whichever the measurements of this size bucket favour; the kernel's compute time
// (device events) is what is compared, since the transfers are the same for both.
func (rt *Runtime) sgemmDevice(d device.Device, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) (device.Timing, error) {
	vendor := d.Vendor("sgemm")
	if vendor == "" || rt.cfg.Policy == PolicyDeterministic {
		return d.Sgemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	idx := rt.deviceIndex(d)
	impls := [2]string{"veda", vendor}
	work := 2 * float64(m) * float64(n) * float64(k)
	ch := rt.impls()
	pick := ch.Choose("sgemm", idx, work, impls[:])
	var t device.Timing
	var err error
	if pick == 1 {
		t, err = d.SgemmVendor(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	} else {
		t, err = d.Sgemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	if err == nil {
		ch.Report("sgemm", idx, work, impls[:], pick, t.Compute)
	}
	return t, err
}

// deviceIndex returns d's runtime device index (1..), or -1.
func (rt *Runtime) deviceIndex(d device.Device) int {
	for i, g := range rt.dev.gpus {
		if g == d {
			return i + 1
		}
	}
	return -1
}
