package energy

/*
#cgo CFLAGS: -O2 -fvisibility=hidden
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "nvml_loader.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/topo"
)

// EnvNVMLLibrary overrides the NVML library path (tests point it at the fake NVML double).
const EnvNVMLLibrary = "VEDA_NVML_LIBRARY"

// Throttle reason bits (nvmlClocksEventReason*/nvmlClocksThrottleReason*).
var throttleNames = []struct {
	bit  uint64
	name string
}{
	{0x1, "gpu_idle"}, {0x2, "applications_clocks_setting"}, {0x4, "sw_power_cap"},
	{0x8, "hw_slowdown"}, {0x10, "sync_boost"}, {0x20, "sw_thermal_slowdown"},
	{0x40, "hw_thermal_slowdown"}, {0x80, "hw_power_brake_slowdown"}, {0x100, "display_clock_setting"},
}

// ThrottleReasons names the bits of an NVML throttle (clocks event) mask; "gpu_idle" is left
// out, since an idle GPU is not throttled.
func ThrottleReasons(bits uint64) []string {
	var out []string
	for _, t := range throttleNames {
		if bits&t.bit != 0 && t.bit != 0x1 {
			out = append(out, t.name)
		}
	}
	return out
}

// GPUReading is one NVML device's state at a Sample.
type GPUReading struct {
	Index int    `json:"index"` // NVML index
	Name  string `json:"name"`
	BusID string `json:"bus_id,omitempty"` // sysfs spelling ("0000:3b:00.0")
	// Joules since OpenNVML; EnergyMethod says how: "energy counter" or "integrated power samples".
	Joules       float64 `json:"joules"`
	EnergyMethod string  `json:"energy_method"`
	// Watts is the latest power sample (PowerOK false: the GPU reports none).
	Watts   float64 `json:"watts"`
	PowerOK bool    `json:"power_ok"`
	// Celsius is the GPU core temperature (TempOK false: not reported).
	Celsius float64 `json:"celsius"`
	TempOK  bool    `json:"temp_ok"`
	// Throttle lists the active throttle reasons ("sw_power_cap", "hw_thermal_slowdown", ...).
	Throttle []string `json:"throttle,omitempty"`
	// BoardWatts is the enforced power limit (0: unknown).
	BoardWatts float64 `json:"board_watts"`
}

type nvmlDev struct {
	idx       int
	h         C.vd_nvmlDevice_t
	name      string
	busID     string
	hasEnergy bool
	startMJ   uint64
	boardW    float64
	// Integration state when there is no energy counter (guarded by NVML.mu).
	lastW  float64
	lastT  time.Time
	joules float64
}

// NVML reads GPUs through the NVIDIA management library. Any goroutine (a mutex serialises
// samples, which also keeps the power integration consistent).
type NVML struct {
	mu   sync.Mutex
	lib  *C.vd_nvml
	devs []*nvmlDev
}

// OpenNVML loads NVML (VEDA_NVML_LIBRARY, else libnvidia-ml.so.1), initialises it and lists its
// devices. It returns nil and an unavailable Status when the library is absent or has no GPU.
// Cost: dlopen plus nvmlInit (milliseconds with a real driver).
func OpenNVML() (*NVML, Status) {
	path := os.Getenv(EnvNVMLLibrary)
	var cpath *C.char
	if path != "" {
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	why := make([]byte, 1024)
	lib := C.vd_nvml_open(cpath, (*C.char)(unsafe.Pointer(&why[0])), C.size_t(len(why)))
	if lib == nil {
		return nil, unavailable("nvml", cstr(why),
			"install the NVIDIA driver (it ships libnvidia-ml.so.1), or set VEDA_NVML_LIBRARY to its path; machines without an NVIDIA GPU have no NVML")
	}
	n := &NVML{lib: lib}
	var count C.uint
	if r := C.vd_nvml_count(lib, &count); r != C.VD_NVML_SUCCESS {
		st := unavailable("nvml", "nvmlDeviceGetCount_v2: "+n.errString(r), "check the driver with nvidia-smi")
		n.Close()
		return nil, st
	}
	var parts []string
	now := time.Now()
	for i := 0; i < int(count); i++ {
		d := &nvmlDev{idx: i, lastT: now}
		if C.vd_nvml_handle(lib, C.uint(i), &d.h) != C.VD_NVML_SUCCESS {
			continue
		}
		buf := make([]byte, 96)
		if C.vd_nvml_name(lib, d.h, (*C.char)(unsafe.Pointer(&buf[0])), C.uint(len(buf))) == C.VD_NVML_SUCCESS {
			d.name = cstr(buf)
		}
		if d.name == "" {
			d.name = fmt.Sprintf("nvml gpu %d", i)
		}
		var pci C.vd_nvmlPciInfo_t
		if C.vd_nvml_pci(lib, d.h, &pci) == C.VD_NVML_SUCCESS {
			d.busID = fmt.Sprintf("%04x:%02x:%02x.0", uint(pci.domain)&0xffff, uint(pci.bus), uint(pci.device))
		}
		var mj C.ulonglong
		if C.vd_nvml_energy(lib, d.h, &mj) == C.VD_NVML_SUCCESS {
			d.hasEnergy, d.startMJ = true, uint64(mj)
		}
		var mw C.uint
		if C.vd_nvml_power(lib, d.h, &mw) == C.VD_NVML_SUCCESS {
			d.lastW = float64(mw) / 1000
		}
		if C.vd_nvml_power_limit(lib, d.h, &mw) == C.VD_NVML_SUCCESS {
			d.boardW = float64(mw) / 1000
		}
		how := "integrated power samples"
		if d.hasEnergy {
			how = "energy counter"
		}
		parts = append(parts, fmt.Sprintf("gpu %d %s (%s)", i, d.name, how))
		n.devs = append(n.devs, d)
	}
	if len(n.devs) == 0 {
		n.Close()
		return nil, unavailable("nvml", fmt.Sprintf("NVML loaded (%s) but lists no usable GPU", libName(path)), "check the GPUs with nvidia-smi")
	}
	return n, available("nvml", parts)
}

func libName(path string) string {
	if path == "" {
		return "libnvidia-ml.so.1"
	}
	return path
}

func (n *NVML) errString(r C.vd_nvmlReturn_t) string {
	return fmt.Sprintf("%s (%d)", C.GoString(C.vd_nvml_error(n.lib, r)), int(r))
}

// Count returns the number of GPUs NVML reports.
func (n *NVML) Count() int { return len(n.devs) }

// Sample reads every GPU: energy (counter, or the power integrated since the previous Sample),
// power, temperature and throttle reasons. Any goroutine.
func (n *NVML) Sample() []GPUReading {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lib == nil {
		return nil
	}
	now := time.Now()
	out := make([]GPUReading, 0, len(n.devs))
	for _, d := range n.devs {
		r := GPUReading{Index: d.idx, Name: d.name, BusID: d.busID, BoardWatts: d.boardW}
		var mw C.uint
		if C.vd_nvml_power(n.lib, d.h, &mw) == C.VD_NVML_SUCCESS {
			r.Watts, r.PowerOK = float64(mw)/1000, true
		}
		if d.hasEnergy {
			var mj C.ulonglong
			if C.vd_nvml_energy(n.lib, d.h, &mj) == C.VD_NVML_SUCCESS && uint64(mj) >= d.startMJ {
				d.joules = float64(uint64(mj)-d.startMJ) / 1000
			}
			r.EnergyMethod = "energy counter"
		} else {
			if r.PowerOK {
				// Trapezoid between the previous and this sample.
				d.joules += (d.lastW + r.Watts) / 2 * now.Sub(d.lastT).Seconds()
				d.lastW = r.Watts
			}
			r.EnergyMethod = "integrated power samples"
		}
		d.lastT = now
		r.Joules = d.joules
		var c C.uint
		if C.vd_nvml_temp(n.lib, d.h, &c) == C.VD_NVML_SUCCESS {
			r.Celsius, r.TempOK = float64(c), true
		}
		var bits C.ulonglong
		if C.vd_nvml_throttle(n.lib, d.h, &bits) == C.VD_NVML_SUCCESS {
			r.Throttle = ThrottleReasons(uint64(bits))
		}
		out = append(out, r)
	}
	return out
}

// Node returns the NUMA node of NVML GPU i from its PCI numa_node, or -1.
func (n *NVML) Node(i int) int {
	if i < 0 || i >= len(n.devs) || n.devs[i].busID == "" {
		return -1
	}
	node, _ := topo.PCINode(n.devs[i].busID)
	return node
}

// Close shuts NVML down (the library stays mapped). Any goroutine; once.
func (n *NVML) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lib != nil {
		C.vd_nvml_close(n.lib)
		n.lib = nil
	}
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
