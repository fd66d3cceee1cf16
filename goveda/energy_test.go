package goveda

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/energy/nvmltest"
	"github.com/veda-runtime/veda/goveda/internal/sysfs/sysfstest"
)

// burn keeps rt's workers busy for about n iterations of floating-point work.
func burn(t *testing.T, rt *Runtime, n int) {
	t.Helper()
	var sink atomic.Uint64
	err := rt.ParallelFor(context.Background(), 0, n, 1<<14, func(lo, hi int) error {
		s := 0.0
		for i := lo; i < hi; i++ {
			s += math.Sqrt(float64(i))
		}
		sink.Add(math.Float64bits(s) & 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnergyBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative budget", Config{Policy: PolicyEnergyEfficient, MaxPowerWatts: -1}},
		{"NaN budget", Config{Policy: PolicyEnergyEfficient, MaxPowerWatts: math.NaN()}},
		{"infinite budget", Config{Policy: PolicyEnergyEfficient, MaxPowerWatts: math.Inf(1)}},
		{"temperature below 0", Config{Policy: PolicyEnergyEfficient, MaxTempCelsius: -10}},
		{"NaN temperature", Config{Policy: PolicyEnergyEfficient, MaxTempCelsius: math.NaN()}},
		{"NaN weight", Config{EnergyWeight: math.NaN()}},
		{"negative weight", Config{EnergyWeight: -0.5}},
		{"budget without the energy policy", Config{Policy: PolicyAdaptive, MaxPowerWatts: 50}},
		{"temperature limit with the fixed policy", Config{Policy: PolicyFixed, MaxTempCelsius: 80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := New(tc.cfg)
			if rt != nil || !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("New = %v, %v; want nil, ErrInvalidArgument", rt, err)
			}
		})
	}
	rt, err := New(Config{Policy: PolicyEnergyEfficient, MaxPowerWatts: 50, MaxTempCelsius: 85, EnergyWeight: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	rt.Close()
}

// On this machine (no RAPL, no NVML) the CPU's energy is an estimate and says so.
func TestEnergyEstimateLabelled(t *testing.T) {
	tr := sysfstest.New(t) // an empty tree: no sensor at all, on any machine
	tr.Use()
	t.Setenv("VEDA_NVML_LIBRARY", tr.Root+"/absent/libnvidia-ml.so.1")
	rt := newRT(t, Config{Workers: 2})
	burn(t, rt, 1<<22)
	rt.Metrics() // publishes nothing new, but must not block
	e := rt.Energy()
	if !e.Estimated || len(e.Devices) != 1 || e.Devices[0].Source != "estimated" || e.Devices[0].Device != 0 {
		t.Fatalf("report %+v", e)
	}
	if !strings.Contains(e.Devices[0].Basis, "W per CPU") || !strings.Contains(e.Devices[0].Basis, "RAPL unavailable") {
		t.Fatalf("basis %q", e.Devices[0].Basis)
	}
	if e.TotalJoules <= 0 || e.AverageWatts <= 0 {
		t.Fatalf("no energy estimated after busy work: %+v", e)
	}
	if len(e.Sensors) != 4 {
		t.Fatalf("sensors %+v", e.Sensors)
	}
	for _, s := range e.Sensors {
		if s.Available || s.Reason == "" || s.Fix == "" {
			t.Errorf("sensor %+v: unavailable without reason or fix", s)
		}
	}
	b, err := rt.EnergyJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["devices"] == nil || m["total_joules"] == nil {
		t.Fatalf("JSON %s: %v", b, err)
	}
	mj, _ := rt.Metrics().JSON()
	if !strings.Contains(string(mj), `"source":"estimated"`) {
		t.Fatalf("metrics JSON lacks the energy source: %s", mj)
	}
	p := rt.Metrics().Prometheus()
	if !strings.Contains(p, `veda_energy_joules_total{device="0",kind="cpu",source="estimated"}`) {
		t.Fatalf("prometheus: %s", p)
	}
}

// A fake RAPL tree: the CPU's energy is measured, wrap included; the counter is read, not
// estimated.
func TestEnergyFakeRAPL(t *testing.T) {
	tr := sysfstest.New(t)
	const maxRange = 100_000_000 // 100 J
	p := tr.RAPLZone(0, "package-0", 90_000_000, maxRange)
	tr.Use()
	t.Setenv("VEDA_NVML_LIBRARY", tr.Root+"/absent.so")
	rt := newRT(t, Config{Workers: 2})
	<-rt.energy.ready
	tr.SetRAPL(p, 95_000_000) // +5 J
	tr.SetRAPL(p, 20_000_000) // wrap: +25 J (read below sees only this value: one wrap)
	e := rt.Energy()
	if e.Estimated || len(e.Devices) != 1 || e.Devices[0].Source != "rapl" || !e.Devices[0].Readable {
		t.Fatalf("report %+v", e)
	}
	if math.Abs(e.TotalJoules-30) > 1e-9 {
		t.Fatalf("joules %g, want 30 (90 J -> wrap at 100 J -> 20 J)", e.TotalJoules)
	}
	if !e.Sensors[0].Available || e.Sensors[0].Name != "rapl" {
		t.Fatalf("rapl status %+v", e.Sensors[0])
	}
}

// A root-only energy_uj never fails creation: the sensor is unavailable and says why.
func TestEnergyRootOnlyRAPL(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read a mode-000 file")
	}
	tr := sysfstest.New(t)
	p := tr.RAPLZone(0, "package-0", 1, 1<<40)
	tr.Chmod(p, 0)
	tr.Use()
	rt, err := New(Config{Policy: PolicyEnergyEfficient, MaxPowerWatts: 50})
	if err != nil {
		t.Fatalf("an unreadable sensor failed creation: %v", err)
	}
	defer rt.Close()
	e := rt.Energy()
	if e.Sensors[0].Available || !strings.Contains(e.Sensors[0].Reason, "root only") || e.Devices[0].Source != "estimated" {
		t.Fatalf("%+v", e)
	}
}

// A fake NVML: the GPU's energy comes from its counter, labelled nvml; thermal zones and the GPU
// report temperatures.
func TestEnergyFakeNVML(t *testing.T) {
	f := nvmltest.Use(t, nvmltest.GPU{PowerMW: 80_000, TempC: 60, EnergyMJ: 1_000, HasEnergy: true, LimitMW: 300_000, Bus: 0x3b})
	tr := sysfstest.New(t)
	tr.ThermalZone(0, "x86_pkg_temp", 55_000)
	tr.PCIDevice("0000:3b:00.0", 1)
	tr.NUMA(2, 4)
	tr.Use()
	rt := newRT(t, Config{Workers: 2, DisableGPU: true})
	<-rt.energy.ready
	f.Set(nvmltest.GPU{PowerMW: 90_000, TempC: 66, EnergyMJ: 13_500, HasEnergy: true, LimitMW: 300_000, Bus: 0x3b, Throttle: 0x40})
	e := rt.Energy()
	if len(e.GPUs) != 1 || e.GPUs[0].Watts != 90 || e.GPUs[0].BoardWatts != 300 || len(e.GPUs[0].Throttle) != 1 ||
		e.GPUs[0].Throttle[0] != "hw_thermal_slowdown" {
		t.Fatalf("gpus %+v", e.GPUs)
	}
	var gpu *DeviceEnergy
	for i := range e.Devices {
		if e.Devices[i].Source == "nvml" {
			gpu = &e.Devices[i]
		}
	}
	if gpu == nil || gpu.Joules != 12.5 || gpu.Device != -1 || !strings.Contains(gpu.Basis, "energy counter") {
		t.Fatalf("gpu energy %+v in %+v", gpu, e.Devices)
	}
	if !e.TempOK || e.MaxCelsius != 66 || len(e.Temperatures) != 2 {
		t.Fatalf("temperatures %+v max %g", e.Temperatures, e.MaxCelsius)
	}
	aff := rt.GPUAffinity()
	if len(aff) != 1 || aff[0].Node != 1 || aff[0].BusID != "0000:3b:00.0" {
		t.Fatalf("affinity %+v", aff)
	}
	if top := rt.Topology(); len(top.Nodes) != 2 || !top.Fake {
		t.Fatalf("topology %+v", top)
	}
}

// An NVML whose init fails (the fake reports DRIVER_NOT_LOADED) never fails creation either.
func TestEnergyNVMLInitFailure(t *testing.T) {
	nvmltest.Use(t, nvmltest.GPU{PowerMW: 1})
	t.Setenv("VEDA_FAKE_NVML_INIT_FAIL", "1")
	tr := sysfstest.New(t)
	tr.Use()
	rt, err := New(Config{Workers: 2, Policy: PolicyEnergyEfficient, MaxPowerWatts: 10})
	if err != nil {
		t.Fatalf("a failing NVML failed creation: %v", err)
	}
	defer rt.Close()
	st := rt.Sensors()[1]
	if st.Name != "nvml" || st.Available || !strings.Contains(st.Reason, "nvmlInit_v2") {
		t.Fatalf("%+v", st)
	}
}
