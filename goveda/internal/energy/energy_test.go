package energy

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/energy/nvmltest"
	"github.com/veda-runtime/veda/goveda/internal/sysfs/sysfstest"
)

func TestWrapDelta(t *testing.T) {
	for _, tc := range []struct{ last, cur, max, want uint64 }{
		{10, 25, 100, 15},
		{90, 5, 100, 15}, // wrapped: 90 -> 100 -> 0 -> 5
		{90, 5, 0, 5},    // unknown range: a reset
		{0, 0, 100, 0},
	} {
		if got := wrapDelta(tc.last, tc.cur, tc.max); got != tc.want {
			t.Errorf("wrapDelta(%d, %d, %d) = %d, want %d", tc.last, tc.cur, tc.max, got, tc.want)
		}
	}
}

// The fake RAPL counter wraps at 1000 J; the readings must keep counting up.
func TestRAPLWrap(t *testing.T) {
	tr := sysfstest.New(t)
	const maxRange = 1_000_000_000 // 1000 J in uJ
	p0 := tr.RAPLZone(0, "package-0", 900_000_000, maxRange)
	p1 := tr.RAPLZone(1, "package-1", 100, maxRange)
	tr.RAPLZone(2, "psys", 5, maxRange)                            // platform zone: not summed beside packages
	tr.Write("sys/class/powercap/intel-rapl:0:0/energy_uj", "7\n") // a subzone: ignored
	tr.Use()
	r, st := OpenRAPL()
	if r == nil || !st.Available {
		t.Fatalf("OpenRAPL: %v", st)
	}
	if got := strings.Join(r.Domains(), ","); got != "package-0,package-1" {
		t.Fatalf("domains %q", got)
	}
	steps := []struct{ v0, v1 uint64 }{
		{950_000_000, 1_000_100}, // +50 J, +1 J
		{50_000_000, 2_000_100},  // wrap: +100 J, +1 J
		{150_000_000, 3_000_100}, // +100 J, +1 J
		{10_000_000, 4_000_100},  // wrap again: +860 J, +1 J
	}
	want := 0.0
	for i, s := range steps {
		prev0, _ := sysfsRead(tr.Root + "/" + p0)
		tr.SetRAPL(p0, s.v0)
		tr.SetRAPL(p1, s.v1)
		want += float64(wrapDelta(prev0, s.v0, maxRange))/1e6 + 1
		got, err := r.Read()
		if err != nil || math.Abs(got-want) > 1e-6 {
			t.Fatalf("step %d: Read = %g, %v; want %g", i, got, err, want)
		}
	}
	if want < 1000 {
		t.Fatalf("trace did not wrap: %g J", want)
	}
}

func sysfsRead(p string) (uint64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range strings.TrimSpace(string(b)) {
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}

func TestRAPLRootOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads a mode-000 file; the permission error cannot be produced")
	}
	tr := sysfstest.New(t)
	p := tr.RAPLZone(0, "package-0", 1, 1<<40)
	tr.Chmod(p, 0o000)
	tr.Use()
	r, st := OpenRAPL()
	if r != nil || st.Available {
		t.Fatalf("root-only energy_uj opened: %v", st)
	}
	if !strings.Contains(st.Reason, "root only") || !strings.Contains(st.Reason, "CVE-2020-8694") || !strings.Contains(st.Fix, "chmod") {
		t.Fatalf("status does not say root-only: %v", st)
	}
	// The TDP stays readable (constraint files are world-readable on real systems).
	tr.Write("sys/class/powercap/intel-rapl:0/constraint_0_max_power_uw", "65000000\n")
	m := NewCPUModel(4, 2)
	if m.TDPWatts != 65 || m.WattsPerCPU != 65.0/4 || !strings.Contains(m.Basis, "RAPL") {
		t.Fatalf("model %+v", m)
	}
}

func TestNoSensorsHere(t *testing.T) {
	tr := sysfstest.New(t)
	tr.Use()
	t.Setenv(EnvNVMLLibrary, tr.Root+"/no-such-libnvidia-ml.so.1")
	if r, st := OpenRAPL(); r != nil || st.Available || st.Reason == "" || st.Fix == "" {
		t.Fatalf("rapl %v", st)
	}
	th, zs, hs := OpenThermal()
	if th != nil || zs.Available || hs.Available || zs.Reason == "" || hs.Fix == "" {
		t.Fatalf("thermal %v / %v", zs, hs)
	}
	n, st := OpenNVML()
	if n != nil || st.Available || !strings.Contains(st.Reason, "dlopen") || !strings.Contains(st.String(), "unavailable") {
		t.Fatalf("nvml %v", st)
	}
	m := NewCPUModel(2, 2)
	if m.TDPWatts != 2*DefaultWattsPerCore || !strings.Contains(m.Basis, "default") {
		t.Fatalf("default model %+v", m)
	}
}

func TestThermalRising(t *testing.T) {
	tr := sysfstest.New(t)
	z0 := tr.ThermalZone(0, "x86_pkg_temp", 40000)
	tr.ThermalZone(1, "acpitz", 30000)
	h := tr.Hwmon(0, "coretemp", "Package id 0", 41000)
	tr.Use()
	th, zs, hs := OpenThermal()
	if th == nil || !zs.Available || !hs.Available || len(th.Sensors()) != 3 {
		t.Fatalf("thermal %v / %v", zs, hs)
	}
	if th.Sensors()[2].Name != "coretemp/Package id 0" {
		t.Fatalf("hwmon name %q", th.Sensors()[2].Name)
	}
	prev := 0.0
	for step, mc := range []int{50000, 70000, 85000, 95000} {
		tr.SetTemp(z0, mc)
		tr.SetTemp(h, mc-1000)
		_, hottest, ok := th.Read()
		if !ok || hottest != float64(mc)/1000 || hottest <= prev {
			t.Fatalf("step %d: max %g ok %v", step, hottest, ok)
		}
		prev = hottest
	}
}

func TestFakeNVML(t *testing.T) {
	f := nvmltest.Use(t,
		nvmltest.GPU{PowerMW: 100_000, TempC: 50, EnergyMJ: 5_000, HasEnergy: true, LimitMW: 300_000, Bus: 0x3b},
		nvmltest.GPU{PowerMW: 40_000, TempC: 45, Throttle: 0x4 | 0x40 | 0x1, LimitMW: 70_000, Bus: 0x5e})
	tr := sysfstest.New(t)
	tr.PCIDevice("0000:3b:00.0", 1)
	tr.Use()
	n, st := OpenNVML()
	if n == nil || !st.Available || n.Count() != 2 {
		t.Fatalf("OpenNVML: %v", st)
	}
	defer n.Close()
	if !strings.Contains(st.Detail, "energy counter") || !strings.Contains(st.Detail, "integrated power samples") {
		t.Fatalf("detail %q", st.Detail)
	}
	if n.Node(0) != 1 || n.Node(1) != -1 {
		t.Fatalf("nodes %d %d", n.Node(0), n.Node(1))
	}
	// GPU 0 uses its energy counter (+2.5 J); GPU 1 integrates 40 W over the interval.
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	f.Set(nvmltest.GPU{PowerMW: 120_000, TempC: 70, EnergyMJ: 7_500, HasEnergy: true, LimitMW: 300_000, Bus: 0x3b},
		nvmltest.GPU{PowerMW: 40_000, TempC: 88, Throttle: 0x4 | 0x40 | 0x1, LimitMW: 70_000, Bus: 0x5e})
	rs := n.Sample()
	el := time.Since(start).Seconds()
	if len(rs) != 2 {
		t.Fatalf("%d readings", len(rs))
	}
	g0, g1 := rs[0], rs[1]
	if g0.Joules != 2.5 || g0.EnergyMethod != "energy counter" || g0.Watts != 120 || g0.Celsius != 70 || g0.BoardWatts != 300 || g0.BusID != "0000:3b:00.0" {
		t.Fatalf("gpu 0: %+v", g0)
	}
	if g1.EnergyMethod != "integrated power samples" || g1.Joules < 40*0.045 || g1.Joules > 40*el+0.1 || g1.Celsius != 88 {
		t.Fatalf("gpu 1: %+v (elapsed %.3f s)", g1, el)
	}
	if strings.Join(g1.Throttle, ",") != "sw_power_cap,hw_thermal_slowdown" {
		t.Fatalf("throttle %v", g1.Throttle)
	}
}

func TestFakeNVMLInitFails(t *testing.T) {
	nvmltest.Use(t, nvmltest.GPU{})
	t.Setenv("VEDA_FAKE_NVML_INIT_FAIL", "1")
	n, st := OpenNVML()
	if n != nil || st.Available || !strings.Contains(st.Reason, "nvmlInit_v2") || !strings.Contains(st.Reason, "Driver Not Loaded") {
		t.Fatalf("%v", st)
	}
}

func TestMeter(t *testing.T) {
	clock := time.Unix(1000, 0)
	now := func() time.Time { return clock }
	var cpuJ, gpuJ float64 = 500, 0
	gpuOK := true
	m := newMeterClock([]Channel{
		{Device: 0, Name: "cpu", Source: SourceRAPL, Read: func() (float64, bool) { return cpuJ, true }},
		{Device: 1, Name: "gpu", Source: SourceEstimated, Read: func() (float64, bool) { return gpuJ, gpuOK }},
	}, now)
	clock = clock.Add(2 * time.Second)
	cpuJ, gpuJ = 600, 50
	s := m.Tick()
	if s.TotalJoules != 150 || s.AverageWatts != 75 || s.RecentWatts != 75 || !s.Estimated || !s.RecentOK {
		t.Fatalf("snapshot %+v", s)
	}
	if s.Channels[0].Joules != 100 || s.Channels[0].AverageWatts != 50 || s.Channels[1].Source != SourceEstimated {
		t.Fatalf("channels %+v", s.Channels)
	}
	// An unreadable channel keeps its last good figure and says so.
	clock = clock.Add(time.Second)
	cpuJ, gpuOK = 610, false
	s = m.Tick()
	if s.Channels[1].Readable || s.Channels[1].Joules != 50 || s.Channels[0].RecentWatts != 10 {
		t.Fatalf("unreadable: %+v", s.Channels)
	}
	// Read does not move the tick window.
	clock = clock.Add(time.Second)
	cpuJ = 620
	m.Read()
	clock = clock.Add(time.Second)
	cpuJ = 630
	if s = m.Tick(); s.Channels[0].RecentWatts != 10 {
		t.Fatalf("recent after Read: %+v", s.Channels[0])
	}
}

func TestLimitsValidate(t *testing.T) {
	for _, l := range []Limits{{MaxWatts: -1}, {MaxWatts: math.NaN()}, {MaxWatts: math.Inf(1)}, {MaxTempC: -0.5}, {MaxTempC: math.NaN()}} {
		if l.Validate() == nil {
			t.Errorf("%+v accepted", l)
		}
	}
	for _, l := range []Limits{{}, {MaxWatts: 50}, {MaxTempC: 85}, {MaxWatts: 0.5, MaxTempC: 0}} {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
}

// The budget is held: over budget the cap drops within 2 ticks to what fits; it comes back only
// after RaiseTicks calm ticks, one worker at a time.
func TestGovernorPower(t *testing.T) {
	g := NewGovernor(GovernorConfig{Limits: Limits{MaxWatts: 50}, Workers: 8})
	perWorker := 10.0 // watts per active worker in this model
	power := func() float64 { return perWorker * float64(g.Cap()) }
	v := g.Step(Input{Watts: power(), WattsOK: true}) // 80 W > 50 W
	if !v.Changed || v.Cap != 5 || v.Reason != "power 80 W > budget 50 W" {
		t.Fatalf("tick 1: %+v", v)
	}
	v = g.Step(Input{Watts: power(), WattsOK: true}) // 50 W: within budget, inside the band
	if v.Changed || power() > 50 {
		t.Fatalf("tick 2: %+v, power %g", v, power())
	}
	// The load lightens: 4 W per worker. Calm ticks raise one worker per RaiseTicks.
	perWorker = 4
	raises := 0
	for tick := 0; tick < 30; tick++ {
		v = g.Step(Input{Watts: power(), WattsOK: true})
		if v.Changed {
			raises++
			if tick%3 != 2 || !strings.Contains(v.Reason, "< 85% of budget 50 W for 3 ticks") {
				t.Fatalf("raise at tick %d: %+v", tick, v)
			}
		}
		if power() > 50 {
			t.Fatalf("over budget after a raise: %g W", power())
		}
	}
	if g.Cap() != 8 || raises != 3 {
		t.Fatalf("cap %d after %d raises", g.Cap(), raises)
	}
	// No reading: hold.
	g2 := NewGovernor(GovernorConfig{Limits: Limits{MaxWatts: 50}, Workers: 4})
	g2.Step(Input{Watts: 100, WattsOK: true})
	for i := 0; i < 10; i++ {
		if v := g2.Step(Input{}); v.Changed {
			t.Fatalf("changed without a reading: %+v", v)
		}
	}
	// Never below 1.
	g3 := NewGovernor(GovernorConfig{Limits: Limits{MaxWatts: 1}, Workers: 2})
	for i := 0; i < 5; i++ {
		g3.Step(Input{Watts: 1000, WattsOK: true})
	}
	if g3.Cap() != 1 {
		t.Fatalf("cap %d", g3.Cap())
	}
}

func TestGovernorTemperature(t *testing.T) {
	g := NewGovernor(GovernorConfig{Limits: Limits{MaxTempC: 85}, Workers: 8})
	temps := []float64{60, 79, 81, 83, 86, 80, 76, 74, 74, 74, 74, 74, 74}
	var caps []int
	for _, c := range temps {
		caps = append(caps, g.Step(Input{TempC: c, TempOK: true}).Cap)
	}
	// 81 is within 5 °C of 85 (one less), 83 is the settling tick after that cut; 86 halves,
	// 80 settles; 76 holds in the band (>= 75); 74 x3 raises one, and 3 more another.
	want := []int{8, 8, 7, 7, 3, 3, 3, 3, 3, 4, 4, 4, 5}
	for i := range want {
		if caps[i] != want[i] {
			t.Fatalf("caps %v, want %v", caps, want)
		}
	}
}

func TestGovernorThermalThrottle(t *testing.T) {
	g := NewGovernor(GovernorConfig{Limits: Limits{MaxTempC: 85}, Workers: 4})
	v := g.Step(Input{TempC: 60, TempOK: true, Throttled: "gpu 0: hw_thermal_slowdown"})
	if !v.Changed || v.Cap != 3 || v.Reason != "thermal throttling: gpu 0: hw_thermal_slowdown" {
		t.Fatalf("%+v", v)
	}
	// Throttling without a temperature limit is reported but not acted on.
	g2 := NewGovernor(GovernorConfig{Limits: Limits{MaxWatts: 100}, Workers: 4})
	if v := g2.Step(Input{Watts: 10, WattsOK: true, Throttled: "gpu 0: hw_thermal_slowdown"}); v.Changed {
		t.Fatalf("%+v", v)
	}
}
