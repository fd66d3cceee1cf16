package device

import (
	"os"
	"sync"
)

// Options controls discovery. OptionsFromEnv reads the VEDA_* environment.
type Options struct {
	OpenCLLibrary string // VEDA_OPENCL_LIBRARY: path of libOpenCL ("" = libOpenCL.so.1)
	CUDALibrary   string // VEDA_CUDA_LIBRARY: path of libcuda ("" = libcuda.so.1)
	NVRTCLibrary  string // VEDA_NVRTC_LIBRARY: path of libnvrtc ("" = libnvrtc.so.13, .12)
	DisableGPU    bool   // VEDA_DISABLE_GPU=1: no backend is loaded
	CacheDir      string // VEDA_CACHE_DIR: "" = $XDG_CACHE_HOME/veda or ~/.cache/veda; "off" disables
	PoolLimit     int64  // cap on bytes a device's pool keeps cached; 0 = min(memory/4, 1 GiB)
	SkipOpenCL    bool   // do not load OpenCL
	SkipCUDA      bool   // do not load CUDA
}

// OptionsFromEnv returns the options the VEDA_* environment variables set.
func OptionsFromEnv() Options {
	o := Options{
		OpenCLLibrary: os.Getenv("VEDA_OPENCL_LIBRARY"),
		CUDALibrary:   os.Getenv("VEDA_CUDA_LIBRARY"),
		NVRTCLibrary:  os.Getenv("VEDA_NVRTC_LIBRARY"),
		DisableGPU:    os.Getenv("VEDA_DISABLE_GPU") == "1",
		CacheDir:      os.Getenv("VEDA_CACHE_DIR"),
	}
	if o.CacheDir == "" {
		o.CacheDir = defaultCacheDir()
	}
	return o
}

func (o Options) poolLimit(mem uint64) int64 {
	if o.PoolLimit > 0 {
		return o.PoolLimit
	}
	return min(int64(mem/4), 1<<30)
}

// Backend is one loaded backend and its devices.
type Backend struct {
	Kind    Kind
	Devices []Device
}

// Discovery is the result of Discover: the loaded backends and, for each
// backend that is absent, why (library path tried and dlerror(), no
// devices, or "disabled by VEDA_DISABLE_GPU=1").
type Discovery struct {
	Backends []Backend
	Absent   map[Kind]string
	cache    *diskCache
}

// Devices returns every device of every backend: OpenCL first, then CUDA.
func (d *Discovery) Devices() []Device {
	var out []Device
	for _, b := range d.Backends {
		out = append(out, b.Devices...)
	}
	return out
}

// CacheStats returns the program cache counters of this discovery.
func (d *Discovery) CacheStats() CacheStats { return d.cache.stats() }

// Close closes every device. The process-wide Discover() result is never
// closed by this package.
func (d *Discovery) Close() {
	for _, b := range d.Backends {
		for _, dev := range b.Devices {
			_ = dev.Close()
		}
	}
}

var (
	discoverOnce sync.Once
	discovered   *Discovery
)

// Discover loads the backends once per process, from the environment, and
// returns the shared result. Any goroutine; the first call costs the driver
// start-up (tens of milliseconds to seconds); later calls are free.
func Discover() *Discovery {
	discoverOnce.Do(func() { discovered = DiscoverWith(OptionsFromEnv()) })
	return discovered
}

// DiscoverWith loads the backends with opts and opens every device (a new
// context per device). Never panics: a backend that fails is listed in
// Absent with the reason.
func DiscoverWith(opts Options) *Discovery {
	d := &Discovery{Absent: map[Kind]string{}, cache: newDiskCache(opts.CacheDir)}
	if opts.DisableGPU {
		d.Absent[KindOpenCL] = "disabled by VEDA_DISABLE_GPU=1"
		d.Absent[KindCUDA] = "disabled by VEDA_DISABLE_GPU=1"
		return d
	}
	if opts.SkipOpenCL {
		d.Absent[KindOpenCL] = "skipped"
	} else if devs, err := discoverOpenCL(opts, d.cache); err != nil {
		d.Absent[KindOpenCL] = err.Error()
	} else {
		d.Backends = append(d.Backends, Backend{Kind: KindOpenCL, Devices: devs})
	}
	if opts.SkipCUDA {
		d.Absent[KindCUDA] = "skipped"
	} else if devs, err := discoverCUDA(opts, d.cache); err != nil {
		d.Absent[KindCUDA] = err.Error()
	} else {
		d.Backends = append(d.Backends, Backend{Kind: KindCUDA, Devices: devs})
	}
	return d
}
