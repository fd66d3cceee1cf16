package goveda

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/energy"
	"github.com/veda-runtime/veda/goveda/internal/energy/nvmltest"
	"github.com/veda-runtime/veda/goveda/internal/sysfs/sysfstest"
)

// govTrace records the governor's ticks (energyTrace) for a test.
type govTrace struct {
	mu    sync.Mutex
	ticks []govTick
}

type govTick struct {
	in energy.Input
	v  energy.Verdict
}

func traceGovernor(t *testing.T, tick time.Duration) *govTrace {
	g := &govTrace{}
	oldTick, oldTrace, oldBefore, oldClock := energyTick, energyTrace, energyBeforeTick, energyClock
	energyTick = tick
	energyTrace = func(in energy.Input, v energy.Verdict) {
		g.mu.Lock()
		g.ticks = append(g.ticks, govTick{in, v})
		g.mu.Unlock()
	}
	t.Cleanup(func() {
		energyTick, energyTrace, energyBeforeTick, energyClock = oldTick, oldTrace, oldBefore, oldClock
	})
	return g
}

func (g *govTrace) snapshot() []govTick {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]govTick(nil), g.ticks...)
}

// keepBusy keeps every worker busy (running tasks) until stop is closed. The tasks sleep in
// 1 ms steps, so the workers count as busy without taking the CPU from the monitor and the
// energy ticker on a small, shared machine.
func keepBusy(rt *Runtime, stop <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- rt.ParallelFor(context.Background(), 0, 1<<30, 1, func(lo, hi int) error {
			for i := lo; i < hi; i++ {
				select {
				case <-stop:
					return nil
				default:
				}
				time.Sleep(time.Millisecond)
			}
			return nil
		})
	}()
	return done
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// The power budget is held. A fake RAPL counter (a TEST DOUBLE of the package) rises at
// perWorker watts x the active workers. Over budget, the governor cuts the cap within 2 ticks
// of the first reading above it, and the active workers follow; when the load lightens they come
// back one at a time, each after 3 calm ticks (hysteresis), without crossing the budget.
func TestEnergyBudgetHeld(t *testing.T) {
	tr := sysfstest.New(t)
	p := tr.RAPLZone(0, "package-0", 0, 1<<50)
	tr.Use()
	t.Setenv("VEDA_NVML_LIBRARY", tr.Root+"/absent.so")
	g := traceGovernor(t, 25*time.Millisecond)

	var rtp atomic.Pointer[Runtime] // the ticker may run before New returns
	var perWorker atomic.Uint64     // watts per active worker, as float bits
	perWorker.Store(math.Float64bits(20))
	// The power model, run in step with the governor's ticks on a virtual clock that advances
	// one tick per tick (so a late tick on this shared machine skews nothing): each tick adds
	// perWorker x the active workers x one tick to the fake counter.
	const tick = 25 * time.Millisecond
	var uj float64
	var vclock atomic.Int64 // virtual ns; store by the ticker, load by the meter (same goroutine)
	base := time.Now()
	energyClock = func() time.Time { return base.Add(time.Duration(vclock.Load())) }
	energyBeforeTick = func() {
		active := 4
		if r := rtp.Load(); r != nil {
			active = r.ActiveWorkers()
		}
		w := math.Float64frombits(perWorker.Load()) * float64(active)
		uj += w * tick.Seconds() * 1e6
		vclock.Add(int64(tick))
		tr.SetRAPL(p, uint64(uj))
	}
	rt, err := New(Config{Workers: 4, Policy: PolicyEnergyEfficient, MaxPowerWatts: 50})
	if err != nil {
		t.Fatal(err)
	}
	rtp.Store(rt)
	defer rt.Close()
	stop := make(chan struct{})
	busy := keepBusy(rt, stop)
	defer func() { close(stop); <-busy }()

	// Phase 1: 20 W x 4 = 80 W > 50 W.
	waitFor(t, "the cap to drop", func() bool { return rt.Energy().WorkerCap <= 2 })
	waitFor(t, "the active workers to drop", func() bool { return rt.ActiveWorkers() <= 2 })
	ticks := g.snapshot()
	first := -1
	for i, k := range ticks {
		if k.in.WattsOK && k.in.Watts > 50 {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatalf("no tick saw power above the budget: %+v", ticks)
	}
	cut := -1
	for i := first; i < len(ticks); i++ {
		if ticks[i].v.Changed && ticks[i].v.Cap <= 2 {
			cut = i
			break
		}
	}
	if cut < 0 || cut-first > 1 {
		t.Fatalf("over budget at tick %d, cap <= 2 at tick %d (want within 2 ticks)", first, cut)
	}
	if r := ticks[cut].v.Reason; !strings.Contains(r, "W > budget 50 W") {
		t.Fatalf("reason %q", r)
	}
	res := rt.Energy().Resizes
	found := false
	for _, r := range res {
		if strings.HasPrefix(r.Reason, "energy cap ") && strings.Contains(r.Reason, "W > budget 50 W") && r.To <= 2 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no resize of the active workers names the energy cap: %+v", res)
	}

	// Phase 2: the load lightens (5 W per worker): the workers come back with hysteresis.
	perWorker.Store(math.Float64bits(5))
	mark := len(g.snapshot())
	waitFor(t, "the cap to recover", func() bool { return rt.Energy().WorkerCap == 4 })
	waitFor(t, "the active workers to recover", func() bool { return rt.ActiveWorkers() == 4 })
	ticks = g.snapshot()
	capAt := 4
	for _, k := range ticks[:mark] {
		capAt = k.v.Cap
	}
	ticks = ticks[mark:]
	var raises []int
	for i, k := range ticks {
		if k.v.Changed {
			if k.v.Cap != capAt+1 {
				for i, k := range g.snapshot() {
					t.Logf("tick %d: %+v -> %+v", i, k.in, k.v)
				}
				t.Fatalf("cap went %d -> %d at 5 W per worker: %+v", capAt, k.v.Cap, k)
			}
			capAt = k.v.Cap
			raises = append(raises, i)
			if !strings.Contains(k.v.Reason, "< 85% of budget 50 W for 3 ticks") {
				t.Fatalf("raise reason %q", k.v.Reason)
			}
		}
		if k.in.WattsOK && k.in.Watts > 50*1.2 {
			t.Fatalf("power %.0f W well above the budget while recovering", k.in.Watts)
		}
	}
	for i := 1; i < len(raises); i++ {
		if raises[i]-raises[i-1] < 3 {
			t.Fatalf("raises at ticks %v after the load lightened; want them at least 3 ticks apart", raises)
		}
	}
	if len(raises) < 2 {
		t.Fatalf("raises at ticks %v: want one per worker back to 4", raises)
	}
}

// Thermal zones rising past the limit lower the active workers; the reason names the
// temperature.
func TestEnergyTemperatureLimit(t *testing.T) {
	tr := sysfstest.New(t)
	z := tr.ThermalZone(0, "x86_pkg_temp", 50_000)
	tr.Use()
	t.Setenv("VEDA_NVML_LIBRARY", tr.Root+"/absent.so")
	g := traceGovernor(t, 20*time.Millisecond)
	rt := newRT(t, Config{Workers: 4, Policy: PolicyEnergyEfficient, MaxTempCelsius: 85})
	stop := make(chan struct{})
	busy := keepBusy(rt, stop)
	defer func() { close(stop); <-busy }()
	time.Sleep(60 * time.Millisecond)
	if c := rt.Energy().WorkerCap; c != 4 {
		t.Fatalf("cap %d at 50 °C", c)
	}
	tr.SetTemp(z, 90_000) // past the limit
	waitFor(t, "the active workers to drop", func() bool { return rt.ActiveWorkers() <= 2 })
	var why string
	for _, k := range g.snapshot() {
		if k.v.Changed {
			why = k.v.Reason
			break
		}
	}
	if !strings.Contains(why, "temperature 90 °C >= limit 85 °C") {
		t.Fatalf("reason %q", why)
	}
	tr.SetTemp(z, 60_000)
	waitFor(t, "the active workers to recover", func() bool { return rt.ActiveWorkers() == 4 })
}

// The fake NVML drives the budget: a GPU whose power trace goes over the budget lowers the CPU
// workers (the budget is for the whole machine).
func TestEnergyBudgetNVMLTrace(t *testing.T) {
	f := nvmltest.Use(t, nvmltest.GPU{PowerMW: 30_000, TempC: 50, LimitMW: 300_000, Bus: 1})
	tr := sysfstest.New(t)
	tr.RAPLZone(0, "package-0", 0, 1<<50) // a CPU drawing nothing measurable
	tr.Use()
	g := traceGovernor(t, 20*time.Millisecond)
	rt := newRT(t, Config{Workers: 4, Policy: PolicyEnergyEfficient, MaxPowerWatts: 100})
	stop := make(chan struct{})
	busy := keepBusy(rt, stop)
	defer func() { close(stop); <-busy }()
	time.Sleep(80 * time.Millisecond)
	if c := rt.Energy().WorkerCap; c != 4 {
		t.Fatalf("cap %d at 30 W", c)
	}
	f.Set(nvmltest.GPU{PowerMW: 160_000, TempC: 70, LimitMW: 300_000, Bus: 1}) // integrated power samples
	waitFor(t, "the cap to drop", func() bool { return rt.Energy().WorkerCap < 4 })
	ok := false
	for _, k := range g.snapshot() {
		if k.v.Changed && strings.Contains(k.v.Reason, "> budget 100 W") {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("no cut names the budget: %+v", g.snapshot())
	}
	e := rt.Energy()
	var gpu DeviceEnergy
	for _, d := range e.Devices {
		if d.Source == "nvml" {
			gpu = d
		}
	}
	if gpu.Joules <= 0 || !strings.Contains(gpu.Basis, "integrated power samples") {
		t.Fatalf("gpu %+v", gpu)
	}
}

// The adaptive policy unparks a worker at the push of a task that waits for one (sched's
// GrowOnPush); the energy-efficient policy leaves that to the monitor's tick. Each round lets
// the pool shrink to one active worker and then runs a loop; the adaptive runtime must report
// growth at the push in some round (the monitor may win the race in one), the energy-efficient
// one in none.
func TestOnlyTheAdaptivePolicyGrowsAtThePush(t *testing.T) {
	const atPush = "a task queued while every active worker was busy"
	for _, pol := range []Policy{PolicyAdaptive, PolicyEnergyEfficient} {
		rt := newRT(t, Config{Workers: 2, Policy: pol})
		grew := false
		for round := 0; round < 5 && !(grew && pol == PolicyAdaptive); round++ {
			for deadline := time.Now().Add(10 * time.Second); rt.ActiveWorkers() != 1; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%v: the idle pool never shrank to one active worker", pol)
				}
			}
			if err := rt.ParallelFor(bg, 0, 16, 1, func(lo, hi int) error {
				time.Sleep(time.Millisecond)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, r := range rt.Energy().Resizes {
				grew = grew || r.Reason == atPush
			}
		}
		if want := pol == PolicyAdaptive; grew != want {
			t.Fatalf("%v: growth at the push reported %v, want %v (resizes %+v)", pol, grew, want, rt.Energy().Resizes)
		}
	}
}
