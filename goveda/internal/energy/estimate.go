package energy

import (
	"fmt"
	"path/filepath"

	"github.com/veda-runtime/veda/goveda/internal/sysfs"
)

// The documented defaults of the estimate model (used when nothing better is known).
const (
	// DefaultWattsPerCore is the power of one busy physical core when the CPU's TDP is unknown:
	// 10 W, about a server core at full load (a 250 W, 24-core part is ~10 W per core).
	DefaultWattsPerCore = 10.0
	// DefaultCUDABoardWatts is the board power of a CUDA GPU when NVML is absent (a mid-range
	// data-centre part; an H100 SXM is 700 W, an L4 72 W).
	DefaultCUDABoardWatts = 250.0
	// DefaultOpenCLGPUWatts is the board power assumed for an OpenCL GPU.
	DefaultOpenCLGPUWatts = 150.0
)

// CPUModel is the per-core power model behind CPU energy estimates: a busy logical CPU draws
// TDP / logical CPUs. It estimates the energy of the work (busy time), not the idle draw.
type CPUModel struct {
	TDPWatts    float64 `json:"tdp_watts"`
	WattsPerCPU float64 `json:"watts_per_cpu"`
	// Basis says where the TDP came from.
	Basis string `json:"basis"`
}

// NewCPUModel returns the model for a CPU with the given logical and physical core counts
// (from cpuid). The TDP is the sum of the RAPL packages' long-term power limit
// (constraint_0_max_power_uw, else constraint_0_power_limit_uw, which stay world-readable
// when energy_uj is root-only); cpuid has no TDP leaf, so without powercap it is
// DefaultWattsPerCore per physical core.
func NewCPUModel(logical, physical int) CPUModel {
	if logical < 1 {
		logical = 1
	}
	if physical < 1 {
		physical = logical
	}
	var tdp float64
	zones, _ := filepath.Glob(sysfs.Path("/sys/class/powercap/intel-rapl:*"))
	for _, z := range zones {
		if countColons(filepath.Base(z)) != 1 {
			continue
		}
		name, _ := sysfs.ReadString(filepath.Join(z, "name"))
		if len(name) >= 4 && name[:4] == "psys" {
			continue
		}
		uw, err := sysfs.ReadUint(filepath.Join(z, "constraint_0_max_power_uw"))
		if err != nil || uw == 0 {
			uw, err = sysfs.ReadUint(filepath.Join(z, "constraint_0_power_limit_uw"))
		}
		if err == nil && uw > 0 {
			tdp += float64(uw) / 1e6
		}
	}
	m := CPUModel{}
	if tdp > 0 {
		m.TDPWatts = tdp
		m.Basis = fmt.Sprintf("TDP %.0f W from the RAPL long-term power limit", tdp)
	} else {
		m.TDPWatts = DefaultWattsPerCore * float64(physical)
		m.Basis = fmt.Sprintf("default %.0f W per physical core x %d cores (no TDP readable; cpuid has none)", DefaultWattsPerCore, physical)
	}
	m.WattsPerCPU = m.TDPWatts / float64(logical)
	return m
}

func countColons(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			n++
		}
	}
	return n
}

// Joules estimates the energy of busySeconds of CPU time.
func (m CPUModel) Joules(busySeconds float64) float64 { return busySeconds * m.WattsPerCPU }
