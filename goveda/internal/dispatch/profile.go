package dispatch

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/klauspost/cpuid/v2"
	"github.com/shirou/gopsutil/v3/mem"
	"golang.org/x/sys/unix"
)

// Profile is the machine's parallelism profile: how many workers and
// in-flight segments the runtime uses by default, and the facts they come
// from. Sources says where each overridable value came from: "detected",
// "default", "config", or "env VEDA_...".
type Profile struct {
	CPUWorkers       int     `json:"cpu_workers"`
	GPUWorkers       int     `json:"gpu_workers"`
	InflightSegments int     `json:"inflight_segments"`
	MemoryBudget     uint64  `json:"memory_budget"`
	MemFraction      float64 `json:"mem_fraction"`
	GPUThreshold     uint64  `json:"gpu_threshold"`
	Strategy         string  `json:"strategy"`

	PhysicalCores int      `json:"physical_cores"`
	LogicalCores  int      `json:"logical_cores"`
	UsableCores   int      `json:"usable_cores"` // after the affinity mask and the cgroup CPU quota
	CPUBrand      string   `json:"cpu_brand"`
	CPUFeatures   []string `json:"cpu_features"`
	// Cache sizes in bytes (-1: unknown).
	CacheL1D int `json:"cache_l1d"`
	CacheL1I int `json:"cache_l1i"`
	CacheL2  int `json:"cache_l2"`
	CacheL3  int `json:"cache_l3"`

	TotalMemory     uint64 `json:"total_memory"`
	AvailableMemory uint64 `json:"available_memory"` // min(system available, cgroup limit - cgroup usage)
	CgroupLimit     uint64 `json:"cgroup_limit"`     // 0: none set

	Sources map[string]string `json:"sources"`
}

// ProfileConfig holds explicit settings (the runtime's Config fields). Zero
// fields are unset. Explicit settings win over the environment, which wins
// over detection.
type ProfileConfig struct {
	Workers      int
	MemFraction  float64
	GPUThreshold uint64
	Strategy     string
	// GPUDevices is the number of usable GPU devices (one GPU worker each);
	// negative: unknown yet (use SetGPUDevices later).
	GPUDevices int
}

// ProfileOption adjusts DynamicProfile.
type ProfileOption func(*profileOpts)

type profileOpts struct {
	cfg     ProfileConfig
	getenv  func(string) (string, bool)
	sysRoot string
}

// WithConfig applies explicit settings.
func WithConfig(c ProfileConfig) ProfileOption { return func(o *profileOpts) { o.cfg = c } }

// WithGPUDevices sets the number of usable GPU devices.
func WithGPUDevices(n int) ProfileOption { return func(o *profileOpts) { o.cfg.GPUDevices = n } }

// WithEnv replaces os.LookupEnv (for tests).
func WithEnv(lookup func(string) (string, bool)) ProfileOption {
	return func(o *profileOpts) { o.getenv = lookup }
}

// WithCgroupRoot reads the cgroup files under root instead of /sys/fs/cgroup
// (for tests).
func WithCgroupRoot(root string) ProfileOption { return func(o *profileOpts) { o.sysRoot = root } }

// Defaults of DynamicProfile's arguments.
const (
	DefaultMemFraction    = 0.5
	DefaultInflightCap    = 64
	DefaultMaxSegmentSize = 64 << 20
)

// Environment variables read by DynamicProfile.
const (
	EnvNumWorkers   = "VEDA_NUM_WORKERS"
	EnvMemFraction  = "VEDA_MEM_FRACTION"
	EnvGPUThreshold = "VEDA_GPU_THRESHOLD"
	EnvStrategy     = "VEDA_STRATEGY"
)

// ErrBadProfile is wrapped by DynamicProfile's errors for bad arguments,
// configuration or environment values.
var ErrBadProfile = errors.New("veda: bad profile setting")

// DynamicProfile detects the machine and computes the profile:
//   - CPU workers = usable cores - 1, at least 1 (usable: the process
//     affinity mask, bounded by the cgroup CPU quota);
//   - memory budget = available memory * memFraction (0: 0.5), where
//     available is bounded by the cgroup memory limit;
//   - in-flight segments = min(budget / maxSegmentSize (0: 64 MiB),
//     hardCap (0: 64)), at least 1;
//   - GPU workers = one per usable GPU device (WithGPUDevices, or
//     SetGPUDevices later).
//
// Then ProfileConfig settings and the environment (VEDA_NUM_WORKERS,
// VEDA_MEM_FRACTION, VEDA_GPU_THRESHOLD, VEDA_STRATEGY) override it. A bad
// value is an error wrapping ErrBadProfile that names the variable and the
// value. It reads /proc and /sys (a few hundred microseconds); any goroutine.
func DynamicProfile(maxSegmentSize uint64, memFraction float64, hardCap int, opts ...ProfileOption) (Profile, error) {
	o := profileOpts{getenv: os.LookupEnv, sysRoot: "/sys/fs/cgroup"}
	for _, f := range opts {
		f(&o)
	}
	p := Profile{Sources: map[string]string{}}
	if maxSegmentSize == 0 {
		maxSegmentSize = DefaultMaxSegmentSize
	}
	if hardCap == 0 {
		hardCap = DefaultInflightCap
	}
	if hardCap < 0 {
		return p, fmt.Errorf("%w: hardCap %d < 0", ErrBadProfile, hardCap)
	}
	p.MemFraction, p.Sources["mem_fraction"] = DefaultMemFraction, "default"
	if memFraction != 0 {
		if err := checkFraction(memFraction); err != nil {
			return p, fmt.Errorf("%w: memFraction: %v", ErrBadProfile, err)
		}
		p.MemFraction, p.Sources["mem_fraction"] = memFraction, "argument"
	}

	// Detection.
	p.PhysicalCores, p.LogicalCores = cpuid.CPU.PhysicalCores, cpuid.CPU.LogicalCores
	if p.LogicalCores <= 0 {
		p.LogicalCores = runtime.NumCPU()
	}
	if p.PhysicalCores <= 0 {
		p.PhysicalCores = p.LogicalCores
	}
	p.CPUBrand = cpuid.CPU.BrandName
	p.CPUFeatures = cpuid.CPU.FeatureSet()
	p.CacheL1D, p.CacheL1I, p.CacheL2, p.CacheL3 = cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L1I, cpuid.CPU.Cache.L2, cpuid.CPU.Cache.L3
	p.UsableCores = usableCores(cgroupDir(o.sysRoot))
	if vm, err := mem.VirtualMemory(); err == nil {
		p.TotalMemory, p.AvailableMemory = vm.Total, vm.Available
	}
	if limit, usage, ok := cgroupMemory(cgroupDir(o.sysRoot)); ok {
		p.CgroupLimit = limit
		if limit > usage && limit-usage < p.AvailableMemory || p.AvailableMemory == 0 {
			p.AvailableMemory = limit - min(limit, usage)
		}
	}
	// The runtime's default (goveda's Config.Workers = 0): one worker per CPU this process may use.
	p.CPUWorkers, p.Sources["cpu_workers"] = max(1, runtime.NumCPU()), "detected"
	p.GPUWorkers, p.Sources["gpu_workers"] = 0, "detected"
	p.GPUThreshold, p.Sources["gpu_threshold"] = DefaultGPUThreshold, "default"
	p.Strategy, p.Sources["strategy"] = NameEarliestFinish, "default"

	// Overrides: environment, then explicit config (which wins).
	env := func(name string) (string, bool) {
		v, ok := o.getenv(name)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	if v, ok := env(EnvNumWorkers); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fmt.Errorf("%w: %s=%q: want an integer >= 1", ErrBadProfile, EnvNumWorkers, v)
		}
		p.CPUWorkers, p.Sources["cpu_workers"] = n, "env "+EnvNumWorkers
	}
	if v, ok := env(EnvMemFraction); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil {
			err = checkFraction(f)
		}
		if err != nil {
			return p, fmt.Errorf("%w: %s=%q: want a number in (0, 1]", ErrBadProfile, EnvMemFraction, v)
		}
		p.MemFraction, p.Sources["mem_fraction"] = f, "env "+EnvMemFraction
	}
	if v, ok := env(EnvGPUThreshold); ok {
		n, err := ParseBytes(v)
		if err != nil {
			return p, fmt.Errorf("%w: %s=%q: %v", ErrBadProfile, EnvGPUThreshold, v, err)
		}
		p.GPUThreshold, p.Sources["gpu_threshold"] = n, "env "+EnvGPUThreshold
	}
	if v, ok := env(EnvStrategy); ok {
		s, err := ParseStrategy(v)
		if err != nil {
			return p, fmt.Errorf("%w: %s=%q: %v", ErrBadProfile, EnvStrategy, v, err)
		}
		p.Strategy, p.Sources["strategy"] = s.Name(), "env "+EnvStrategy
	}
	c := o.cfg
	if c.Workers < 0 {
		return p, fmt.Errorf("%w: Workers %d < 0", ErrBadProfile, c.Workers)
	}
	if c.Workers > 0 {
		p.CPUWorkers, p.Sources["cpu_workers"] = c.Workers, "config"
	}
	if c.MemFraction != 0 {
		if err := checkFraction(c.MemFraction); err != nil {
			return p, fmt.Errorf("%w: MemFraction: %v", ErrBadProfile, err)
		}
		p.MemFraction, p.Sources["mem_fraction"] = c.MemFraction, "config"
	}
	if c.GPUThreshold != 0 {
		p.GPUThreshold, p.Sources["gpu_threshold"] = c.GPUThreshold, "config"
	}
	if c.Strategy != "" {
		s, err := ParseStrategy(c.Strategy)
		if err != nil {
			return p, fmt.Errorf("%w: Strategy: %v", ErrBadProfile, err)
		}
		p.Strategy, p.Sources["strategy"] = s.Name(), "config"
	}
	if c.GPUDevices > 0 {
		p.GPUWorkers, p.Sources["gpu_workers"] = c.GPUDevices, "devices"
	}

	// Derived values.
	p.MemoryBudget = uint64(float64(p.AvailableMemory) * p.MemFraction)
	p.Sources["memory_budget"] = "available x mem_fraction"
	p.InflightSegments = int(min(p.MemoryBudget/maxSegmentSize, uint64(hardCap)))
	p.InflightSegments = max(p.InflightSegments, 1)
	p.Sources["inflight_segments"] = fmt.Sprintf("min(budget / %s, %d)", FormatBytes(maxSegmentSize), hardCap)
	return p, nil
}

// SetGPUDevices sets GPUWorkers to n usable devices (after discovery).
func (p *Profile) SetGPUDevices(n int) {
	p.GPUWorkers = max(n, 0)
	if p.Sources == nil {
		p.Sources = map[string]string{}
	}
	p.Sources["gpu_workers"] = "devices"
}

func checkFraction(f float64) error {
	if math.IsNaN(f) || f <= 0 || f > 1 {
		return fmt.Errorf("%v is not in (0, 1]", f)
	}
	return nil
}

// ParseBytes parses a byte count: a plain integer or one with a suffix
// K/KB/KiB, M/MB/MiB, G/GB/GiB (all binary, case-insensitive), e.g. "8MiB".
func ParseBytes(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := uint64(1)
	for _, suf := range []struct {
		s string
		m uint64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(t, suf.s) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, suf.s)), suf.m
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || t == "" {
		return 0, fmt.Errorf("want a byte count such as 8388608 or 8MiB")
	}
	if n > math.MaxUint64/mult {
		return 0, fmt.Errorf("byte count overflows")
	}
	return n * mult, nil
}

// FormatBytes renders n with a binary unit ("8 MiB", "4 KiB", "123 B").
func FormatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.4g GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.4g MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.4g KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// cgroupDir returns the directory of this process's cgroup v2 under root
// (from /proc/self/cgroup), or root itself (a container with its own cgroup
// namespace sees its cgroup at the root, and tests pass a fake root).
func cgroupDir(root string) string {
	if root != "/sys/fs/cgroup" {
		return root
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return root
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok && rest != "/" && rest != "" {
			dir := root + rest
			if _, err := os.Stat(dir + "/memory.max"); err == nil {
				return dir
			}
		}
	}
	return root
}

// usableCores counts the CPUs in the process affinity mask, bounded by the
// cgroup v2 cpu.max quota when one is set.
func usableCores(root string) int {
	n := runtime.NumCPU()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil && set.Count() > 0 {
		n = set.Count()
	}
	if b, err := os.ReadFile(root + "/cpu.max"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 && f[0] != "max" {
			q, e1 := strconv.ParseFloat(f[0], 64)
			per, e2 := strconv.ParseFloat(f[1], 64)
			if e1 == nil && e2 == nil && q > 0 && per > 0 {
				n = min(n, max(1, int(math.Ceil(q/per))))
			}
		}
	}
	return n
}

// cgroupMemory returns the cgroup memory limit and usage (v2, else v1) if a
// limit is set.
func cgroupMemory(root string) (limit, usage uint64, ok bool) {
	read := func(name string) (uint64, bool) {
		b, err := os.ReadFile(root + "/" + name)
		if err != nil {
			return 0, false
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false
		}
		v, err := strconv.ParseUint(s, 10, 64)
		return v, err == nil
	}
	if l, ok := read("memory.max"); ok {
		u, _ := read("memory.current")
		return l, u, true
	}
	if l, ok := read("memory/memory.limit_in_bytes"); ok && l < 1<<60 {
		u, _ := read("memory/memory.usage_in_bytes")
		return l, u, true
	}
	return 0, 0, false
}

// String renders the profile as the table `veda info` prints: one row per
// value with the place it came from.
func (p Profile) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	src := func(k string) string {
		if s, ok := p.Sources[k]; ok {
			return s
		}
		return "detected"
	}
	cache := func(n int) string {
		if n < 0 {
			return "unknown"
		}
		return FormatBytes(uint64(n))
	}
	fmt.Fprintf(w, "setting\tvalue\tsource\n")
	fmt.Fprintf(w, "cpu_workers\t%d\t%s\n", p.CPUWorkers, src("cpu_workers"))
	fmt.Fprintf(w, "gpu_workers\t%d\t%s\n", p.GPUWorkers, src("gpu_workers"))
	fmt.Fprintf(w, "inflight_segments\t%d\t%s\n", p.InflightSegments, src("inflight_segments"))
	fmt.Fprintf(w, "memory_budget\t%s\t%s\n", FormatBytes(p.MemoryBudget), src("memory_budget"))
	fmt.Fprintf(w, "mem_fraction\t%g\t%s\n", p.MemFraction, src("mem_fraction"))
	fmt.Fprintf(w, "gpu_threshold\t%s\t%s\n", FormatBytes(p.GPUThreshold), src("gpu_threshold"))
	fmt.Fprintf(w, "strategy\t%s\t%s\n", p.Strategy, src("strategy"))
	fmt.Fprintf(w, "cpu\t%s\tcpuid\n", p.CPUBrand)
	fmt.Fprintf(w, "cores\t%d physical, %d logical, %d usable\tcpuid, affinity, cgroup\n", p.PhysicalCores, p.LogicalCores, p.UsableCores)
	fmt.Fprintf(w, "caches\tL1d %s, L1i %s, L2 %s, L3 %s\tcpuid\n", cache(p.CacheL1D), cache(p.CacheL1I), cache(p.CacheL2), cache(p.CacheL3))
	cg := "none"
	if p.CgroupLimit > 0 {
		cg = FormatBytes(p.CgroupLimit)
	}
	fmt.Fprintf(w, "memory\t%s total, %s available, cgroup limit %s\tgopsutil, cgroup\n", FormatBytes(p.TotalMemory), FormatBytes(p.AvailableMemory), cg)
	w.Flush()
	// The feature list is long: print it under the table, not in a column.
	fmt.Fprintf(&b, "cpu_features (cpuid): %s\n", strings.Join(p.CPUFeatures, " "))
	return b.String()
}
