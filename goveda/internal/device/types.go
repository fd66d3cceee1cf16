package device

import (
	"time"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/aesgcm"
	"github.com/veda-runtime/veda/goveda/internal/devkind"
)

// Kind is the kind of a device (devkind.Kind, the one definition; values VEDA_DEVICE_*).
type Kind = devkind.Kind

// Device kinds. KindCPU is never produced by this package (the integration
// layer adds the CPU as device 0).
const (
	KindCPU    = devkind.CPU    // the host CPU (not from this package)
	KindOpenCL = devkind.OpenCL // an OpenCL device (any platform, PoCL included)
	KindCUDA   = devkind.CUDA   // an NVIDIA GPU through the CUDA driver API
)

// Info describes one device. It is fixed once the device is discovered.
type Info struct {
	Kind             Kind
	Name             string
	Vendor           string
	Platform         string // OpenCL platform name, or "CUDA"
	DriverVersion    string // OpenCL driver version, or the CUDA driver version ("13.0")
	MemoryBytes      uint64 // global memory
	ComputeUnits     int    // OpenCL compute units, or CUDA multiprocessors
	MaxWorkGroupSize int    // max work-group size, or max threads per block
	FP64             bool   // double precision supported (sum_f64)
	ComputeCap       string // CUDA compute capability ("9.0"); empty for OpenCL
	// PCIBusID is the device's PCI address in sysfs spelling ("0000:3b:00.0"); empty when the
	// driver does not tell (OpenCL). NUMANode is the host NUMA node it hangs off (its PCI
	// numa_node in sysfs), -1 when unknown; pinned staging memory is allocated there.
	PCIBusID string
	NUMANode int
	// HostCores: the device computes on the host's own cores (an OpenCL device of type
	// CL_DEVICE_TYPE_CPU, such as PoCL). Work sent there competes with the CPU workers.
	HostCores bool
	// MaxWorkItemSizes is the largest local (work-group, block) size per dimension;
	// MaxGridSizes the largest number of groups per dimension (CUDA; 0 = no limit).
	MaxWorkItemSizes [3]int
	MaxGridSizes     [3]int
}

// Timing is what one device call measured: the time spent copying host to
// device, computing and copying back (device-side event times; for CUDA the
// host-side staging memcpy is included in H2D/D2H), and the bytes moved.
// The cost model (internal/dispatch) learns from it.
type Timing struct {
	H2D, Compute, D2H   time.Duration
	BytesIn, BytesOut   int64
	CopiesIn, CopiesOut int // number of host-to-device and device-to-host copies
}

// Total returns H2D + Compute + D2H.
func (t Timing) Total() time.Duration { return t.H2D + t.Compute + t.D2H }

func (t *Timing) add(o Timing) {
	t.H2D += o.H2D
	t.Compute += o.Compute
	t.D2H += o.D2H
	t.BytesIn += o.BytesIn
	t.BytesOut += o.BytesOut
	t.CopiesIn += o.CopiesIn
	t.CopiesOut += o.CopiesOut
}

// PoolStats counts a device's buffer pool activity.
type PoolStats struct {
	Allocs      int64 // driver allocations
	Reuses      int64 // requests served from the pool
	Releases    int64 // driver frees
	OOMRetries  int64 // out-of-memory retries after a trim
	CachedBytes int64 // bytes held free in the pool now
	LimitBytes  int64 // cap on CachedBytes
}

// CacheStats counts program cache activity (shared by the devices of one
// Discovery).
type CacheStats struct {
	Hits, Misses, Writes, Corrupt int64
	Dir                           string // "" when the cache is off
}

// ArgKind is the kind of a user-kernel argument; the values match VEDA_ARG_*.
type ArgKind int

// Argument kinds.
const (
	ArgIn     ArgKind = 0 // host buffer copied to the device before the launch
	ArgOut    ArgKind = 1 // device buffer copied back to the host after the launch
	ArgInOut  ArgKind = 2 // copied in and back
	ArgScalar ArgKind = 3 // a value passed by value; Ptr points at it
	ArgBuffer ArgKind = 4 // a Resident of the kernel's device (Res); read and written in place, no copy
)

// Arg is one user-kernel argument: a host buffer (Ptr, Bytes) or a scalar
// (Ptr points at Bytes bytes of value). The memory must stay valid, and
// must not be touched by others, during Run.
type Arg struct {
	Kind  ArgKind
	Ptr   unsafe.Pointer
	Bytes int64
	Res   *Resident // ArgBuffer only
}

// BufferArg returns an ArgBuffer argument for r.
func BufferArg(r *Resident) Arg { return Arg{Kind: ArgBuffer, Res: r} }

// SliceArg returns a buffer argument for s.
func SliceArg[T any](kind ArgKind, s []T) Arg {
	var z T
	if len(s) == 0 {
		return Arg{Kind: kind}
	}
	return Arg{Kind: kind, Ptr: unsafe.Pointer(&s[0]), Bytes: int64(len(s)) * int64(unsafe.Sizeof(z))}
}

// ScalarArg returns a scalar argument holding a copy of v (int32, float32,
// int64, float64, ...: the type must match the kernel parameter).
func ScalarArg[T any](v T) Arg {
	p := new(T)
	*p = v
	return Arg{Kind: ArgScalar, Ptr: unsafe.Pointer(p), Bytes: int64(unsafe.Sizeof(v))}
}

// KernelSource is a user kernel in OpenCL C and/or CUDA C. An empty source
// means "none in that language". Name is the kernel function's name.
//
// Launch rule: the kernel runs over a 1-D range of n. OpenCL launches exactly
// n work-items (local size chosen by the driver). CUDA launches ceil(n/256)
// blocks of 256 threads, so a CUDA kernel must bound-check its index against
// an n it receives as a scalar argument (pass it explicitly).
type KernelSource struct {
	OpenCL string
	CUDA   string
	Name   string
}

// Device is one GPU or OpenCL device. All methods may be called from any
// goroutine; calls on one device run one at a time (each is one batch).
//
// Kernel methods copy the inputs in, compute and copy the results back, and
// block until done. Errors: ErrInvalidArgument (lengths), ErrUnsupported
// (e.g. SumF64 without fp64), or a *DeviceError (errors.Is(err,
// ErrOutOfMemory) when the device ran out of memory after a retry).
type Device interface {
	Info() Info
	Kind() Kind

	// Alloc takes a buffer of at least bytes from the pool; Free returns it.
	Alloc(bytes int64) (*Buffer, error)
	Free(b *Buffer)
	// Trim releases every buffer the pool caches.
	Trim()
	PoolStats() PoolStats
	// Synchronize waits for all work queued on the device.
	Synchronize() error

	// Built-in kernels (results as the CPU kernels give them).
	Saxpy(a float32, x, y []float32) (Timing, error) // y = a*x + y
	SumF32(x []float32) (float64, Timing, error)     // accumulated in f64 (or compensated f32)
	SumF64(x []float64) (float64, Timing, error)     // ErrUnsupported without fp64
	DotF32(x, y []float32) (float64, Timing, error)
	Sgemm(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (Timing, error)
	// Vendor returns the vendor library implementing kernel here ("clblast", "cublas") or "";
	// SgemmVendor is Sgemm through it (ErrUnsupported without one).
	Vendor(kernel string) string
	SgemmVendor(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (Timing, error)

	// Device-resident memory (resident.go): NewResident takes memory from the pool; the
	// *Resident kernels run on it with no copy. TransferStats counts every copy.
	NewResident(bytes int64) (*Resident, error)
	TransferStats() TransferStats
	SaxpyResident(a float32, x, y *Resident, n int) (Timing, error)
	DotF32Resident(x, y *Resident, n int, out *Resident) (float64, Timing, error)
	SumF32Resident(x *Resident, n int, out *Resident) (float64, Timing, error)

	// AES-256-GCM of one whole message (aesgcm.go): results equal crypto/cipher's; OpenAESGCM
	// returns ErrAuth (dst zeroed) when the tag does not match.
	SealAESGCM(k *aesgcm.Key, nonce, aad, plaintext, dst []byte) (Timing, error)
	OpenAESGCM(k *aesgcm.Key, nonce, aad, ciphertext, dst []byte) (Timing, error)

	// CompileKernel compiles (or loads from the cache) the source for this
	// device's language. No source in that language: ErrUnsupported. A
	// compile error matches ErrBuild and carries the build log.
	CompileKernel(src KernelSource) (*Kernel, error)

	// Close releases the device's resources; later calls fail.
	Close() error
}
