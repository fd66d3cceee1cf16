package goveda

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
	"github.com/veda-runtime/veda/goveda/internal/energy"
	"github.com/veda-runtime/veda/goveda/internal/sysfs"
	"github.com/veda-runtime/veda/goveda/internal/topo"
)

// Energy accounting and the power/temperature budget (PolicyEnergyEfficient).
//
// Sensors are opened once per process (sensorsFor) and shared by every runtime; each runtime's
// energy.Meter takes its own origin when the runtime starts, so Energy reports the joules since
// New. Sensor discovery runs on a goroutine started by New, so New does not pay for dlopen or
// sysfs reads; Energy and Metrics wait for it (once).
//
// With PolicyEnergyEfficient and a MaxPowerWatts or MaxTempCelsius, an energy ticker reads the
// meter and the temperatures every energyTick and feeds an energy.Governor; its cap on the
// active workers is stored in energyState.cap and applied by the adaptive monitor (workers with
// id >= min(active, cap) suspend at their next idle moment). Each change of the cap is logged
// with its reason (EnergyReport.Resizes).

// energyTick is the governor's period (tests shorten it).
var energyTick = 100 * time.Millisecond

// energyClock, when set (tests), is the meter's clock: a test's virtual time, advanced in step
// with its fake counters.
var energyClock func() time.Time

// energyBeforeTick, when set (tests), runs on the energy ticker goroutine before each reading
// (a test's power model advances its fake counters there, in step with the ticks).
var energyBeforeTick func()

// energyTrace, when set (tests), sees every governor tick's readings and verdict, on the energy
// ticker goroutine, before the cap is applied.
var energyTrace func(in energy.Input, v energy.Verdict)

// energyIdleTick is the read period that keeps RAPL's wrap correction valid when no budget is
// set (a counter wraps after tens of minutes at full power).
const energyIdleTick = 10 * time.Second

// energyNVMLTick is the read period with NVML present and no budget: GPUs without an energy
// counter are integrated from power samples taken at each read.
const energyNVMLTick = time.Second

// maxResizes bounds the resize log.
const maxResizes = 64

// SensorStatus is one sensor's availability: Available with what was found (Detail), or the
// reason it is not and how to fix it. Sensors never report a silent zero.
type SensorStatus = energy.Status

// TempReading is one temperature sensor's value.
type TempReading = energy.TempReading

// DeviceEnergy is one device's energy since the runtime started.
type DeviceEnergy struct {
	// Device is the runtime device index (0 = CPU); -1 for a GPU NVML sees but the runtime has
	// not discovered (devices are discovered on first use).
	Device int    `json:"device"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	// Source is "rapl", "nvml" or "estimated"; Basis explains the figure (which counters, or
	// the estimate's power model).
	Source       string  `json:"source"`
	Basis        string  `json:"basis"`
	Joules       float64 `json:"joules"`
	AverageWatts float64 `json:"average_watts"`
	// Readable is false when the last read of a measured source failed (Joules then holds
	// the last good figure).
	Readable bool `json:"readable"`
}

// EnergyResize is one change of the energy policy's cap on active workers.
type EnergyResize struct {
	AtSeconds float64 `json:"at_seconds"` // since the runtime started
	From      int     `json:"from"`
	To        int     `json:"to"`
	Reason    string  `json:"reason"`
}

// EnergyReport is what Energy returns.
type EnergyReport struct {
	// Seconds is the time since the runtime started measuring (New).
	Seconds      float64        `json:"seconds"`
	Devices      []DeviceEnergy `json:"devices"`
	TotalJoules  float64        `json:"total_joules"`
	AverageWatts float64        `json:"average_watts"`
	// Estimated is true when any device's figure is an estimate.
	Estimated bool `json:"estimated"`
	// The energy policy's settings and state.
	MaxPowerWatts  float64 `json:"max_power_watts"`
	MaxTempCelsius float64 `json:"max_temp_celsius"`
	EnergyWeight   float64 `json:"energy_weight"`
	// WorkerCap is the governor's cap on active workers (Workers when no budget applies).
	WorkerCap int            `json:"worker_cap"`
	Resizes   []EnergyResize `json:"resizes"`
	// Temperatures are the readable sensors now (thermal zones, hwmon, GPUs); MaxCelsius the
	// hottest, meaningful only when TempOK.
	Temperatures []TempReading `json:"temperatures"`
	MaxCelsius   float64       `json:"max_celsius"`
	TempOK       bool          `json:"temp_ok"`
	// Sensors lists every sensor kind, available or not, with why and how to fix.
	Sensors []SensorStatus `json:"sensors"`
	// GPUs is NVML's view of each GPU now (empty without NVML).
	GPUs []GPUState `json:"gpus"`
}

// sensorSet is the process's sensors, opened once per sysfs root and NVML path.
type sensorSet struct {
	key                     string
	rapl                    *energy.RAPL
	nvml                    *energy.NVML
	thermal                 *energy.Thermal
	raplSt, nvmlSt, thermSt SensorStatus
	hwmonSt                 SensorStatus
	cpu                     energy.CPUModel
	topo                    topo.Topology

	gpuMu   sync.Mutex
	gpuLast []energy.GPUReading // guarded by gpuMu
}

var (
	sensorsMu sync.Mutex
	sensors   *sensorSet
)

// processSensors returns the process's sensors, opening them on first use (and again when a
// test moved VEDA_SYSFS_ROOT or VEDA_NVML_LIBRARY). Any goroutine; the first call costs the
// sysfs reads and NVML's dlopen and init.
func processSensors() *sensorSet {
	key := sysfs.Root() + "\x00" + os.Getenv(energy.EnvNVMLLibrary) + "\x00" + os.Getenv("VEDA_FAKE_NVML_STATE")
	sensorsMu.Lock()
	defer sensorsMu.Unlock()
	if sensors != nil && sensors.key == key {
		return sensors
	}
	s := &sensorSet{key: key, topo: topo.Discover()}
	s.rapl, s.raplSt = energy.OpenRAPL()
	s.thermal, s.thermSt, s.hwmonSt = energy.OpenThermal()
	s.nvml, s.nvmlSt = energy.OpenNVML()
	s.cpu = energy.NewCPUModel(s.topo.LogicalCores, s.topo.PhysicalCores)
	// A superseded set (a test moved the roots) is left open: runtimes may still read it.
	sensors = s
	return s
}

// statuses returns the sensor statuses in a fixed order.
func (s *sensorSet) statuses() []SensorStatus {
	return []SensorStatus{s.raplSt, s.nvmlSt, s.thermSt, s.hwmonSt}
}

// sampleGPUs takes one NVML sample of every GPU; the channels and temperatures of one reading
// then share it (gpus). Any goroutine.
func (s *sensorSet) sampleGPUs() {
	if s.nvml == nil {
		return
	}
	r := s.nvml.Sample()
	s.gpuMu.Lock()
	s.gpuLast = r
	s.gpuMu.Unlock()
}

// gpus returns the latest NVML sample (taking one if there is none). Any goroutine.
func (s *sensorSet) gpus() []energy.GPUReading {
	if s.nvml == nil {
		return nil
	}
	s.gpuMu.Lock()
	r := s.gpuLast
	s.gpuMu.Unlock()
	if r == nil {
		s.sampleGPUs()
		return s.gpus()
	}
	return r
}

// temps reads every temperature sensor (thermal, hwmon, GPUs) and the hottest.
func (s *sensorSet) temps() ([]TempReading, float64, bool) {
	var out []TempReading
	var hottest float64
	var ok bool
	if s.thermal != nil {
		out, hottest, ok = s.thermal.Read()
	}
	for _, g := range s.gpus() {
		out = append(out, TempReading{Name: fmt.Sprintf("gpu %d %s", g.Index, g.Name), Celsius: g.Celsius, Readable: g.TempOK})
		if g.TempOK && (!ok || g.Celsius > hottest) {
			hottest, ok = g.Celsius, true
		}
	}
	return out, hottest, ok
}

// thermalThrottle names the first GPU whose clocks are slowed for heat, or "".
func (s *sensorSet) thermalThrottle() string {
	for _, g := range s.gpus() {
		for _, r := range g.Throttle {
			if strings.Contains(r, "thermal") {
				return fmt.Sprintf("gpu %d: %s", g.Index, r)
			}
		}
	}
	return ""
}

// GPUState is one NVML GPU's latest sample: power, temperature and throttle reasons.
type GPUState struct {
	Index   int     `json:"index"` // NVML index
	Name    string  `json:"name"`
	BusID   string  `json:"bus_id,omitempty"`
	Watts   float64 `json:"watts"`
	PowerOK bool    `json:"power_ok"`
	Celsius float64 `json:"celsius"`
	TempOK  bool    `json:"temp_ok"`
	// Throttle lists the active clock throttle reasons ("sw_power_cap", "hw_thermal_slowdown").
	Throttle []string `json:"throttle"`
	// BoardWatts is the enforced power limit (0: not reported).
	BoardWatts float64 `json:"board_watts"`
}

// energyState is one runtime's energy accounting and budget.
type energyState struct {
	started atomic.Bool // New started init; store once by New, load by Close
	ready   chan struct{}
	sens    *sensorSet
	meter   *energy.Meter
	limits  energy.Limits
	gov     *energy.Governor // nil without a budget

	// cap is the governor's cap on active workers (0: none), a snapshot for Energy. Store by
	// the energy ticker, load by Energy: no ordering role (the pool gets the cap via SetCap).
	cap atomic.Int32

	gpuOnce sync.Once // adds estimated channels for discovered GPUs NVML does not cover
	base    time.Time // set by New before the pool starts (resize times are relative to it)
	mu      sync.Mutex
	resizes []EnergyResize // guarded by mu: the last maxResizes changes of the active workers
	stop    chan struct{}
	done    chan struct{}
}

// startEnergy begins sensor discovery on a goroutine. New only.
func (rt *Runtime) startEnergy() {
	e := &rt.energy
	e.ready = make(chan struct{})
	e.stop = make(chan struct{})
	e.done = make(chan struct{})
	e.limits = energy.Limits{MaxWatts: rt.cfg.MaxPowerWatts, MaxTempC: rt.cfg.MaxTempCelsius}
	e.started.Store(true)
	go rt.energyMain()
}

// energyMain opens the sensors, starts the meter and runs the ticker until Close.
func (rt *Runtime) energyMain() {
	e := &rt.energy
	defer close(e.done)
	e.sens = processSensors()
	if energyClock != nil {
		e.meter = energy.NewMeterClock(rt.energyChannels(), energyClock)
	} else {
		e.meter = energy.NewMeter(rt.energyChannels())
	}
	e.meter.Refresh = e.sens.sampleGPUs // one NVML sample per reading, just before it
	budget := rt.cfg.Policy == PolicyEnergyEfficient && (e.limits.MaxWatts > 0 || e.limits.MaxTempC > 0) && rt.pool.Workers() > 1
	if budget {
		e.gov = energy.NewGovernor(energy.GovernorConfig{Limits: e.limits, Workers: rt.pool.Workers()})
	}
	close(e.ready)
	period := energyIdleTick
	if e.sens.nvml != nil {
		period = energyNVMLTick // power samples are integrated between ticks
	}
	if budget {
		period = energyTick
	} else if e.sens.rapl == nil && e.sens.nvml == nil {
		// Nothing to keep up with: estimates are computed from cumulative busy time.
		<-e.stop
		return
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		if energyBeforeTick != nil {
			energyBeforeTick()
		}
		rt.addGPUChannels()
		snap := e.meter.Tick()
		rt.feedMeasuredPower()
		if e.gov == nil {
			continue
		}
		_, hottest, tempOK := e.sens.temps()
		in := energy.Input{Watts: snap.RecentWatts, WattsOK: snap.RecentOK, TempC: hottest, TempOK: tempOK,
			Throttled: e.sens.thermalThrottle()}
		v := e.gov.Step(in)
		if energyTrace != nil {
			energyTrace(in, v)
		}
		if v.Changed {
			old := int(e.cap.Load())
			if old == 0 {
				old = rt.pool.Workers()
			}
			e.cap.Store(int32(v.Cap)) // store: a snapshot for Energy; the pool gets it through SetCap
			e.logResize(rt, old, v.Cap, "cap: "+v.Reason)
			rt.pool.SetCap(v.Cap, v.Reason)
		}
	}
}

// stopEnergy ends the ticker. Close only (after the workers drained).
func (rt *Runtime) stopEnergy() {
	e := &rt.energy
	if !e.started.Load() {
		return
	}
	close(e.stop)
	<-e.done
}

// logResize records one cap change with its reason. Any goroutine.
func (e *energyState) logResize(rt *Runtime, from, to int, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.resizes) == maxResizes {
		copy(e.resizes, e.resizes[1:])
		e.resizes = e.resizes[:maxResizes-1]
	}
	e.resizes = append(e.resizes, EnergyResize{AtSeconds: time.Since(rt.energy.base).Seconds(), From: from, To: to, Reason: reason})
}

// workerCap returns the energy policy's cap on active workers, or 0 for none. Any goroutine;
// one atomic load.
func (rt *Runtime) workerCap() int { return int(rt.energy.cap.Load()) }

// busyClocksOn reports whether the workers keep busy/idle clocks (the CPU estimate needs them).
func (rt *Runtime) busyClocksOn() bool { return rt.pool.Clocks() }

// cpuBusySeconds sums the workers' published busy clocks. Any goroutine.
func (rt *Runtime) cpuBusySeconds() float64 { return float64(rt.pool.BusyNs()) / 1e9 }

// noteResize logs one change of the active workers with its reason (sched.Options.OnResize:
// called on the monitor goroutine or a pushing one, one call at a time; never blocks beyond a
// short mutex).
func (rt *Runtime) noteResize(from, to int, reason string) {
	rt.energy.logResize(rt, from, to, reason)
}

// energyChannels builds the meter's channels: the CPU (RAPL, else estimated from the workers'
// busy time) and every NVML GPU.
func (rt *Runtime) energyChannels() []energy.Channel {
	s := rt.energy.sens
	var chans []energy.Channel
	if s.rapl != nil {
		r := s.rapl
		chans = append(chans, energy.Channel{Device: 0, Name: "cpu", Kind: "cpu", Source: energy.SourceRAPL,
			Basis: strings.Join(r.Domains(), ", ") + " (whole packages: every process on them)",
			Read: func() (float64, bool) {
				j, err := r.Read()
				return j, err == nil
			}})
	} else {
		m := s.cpu
		basis := fmt.Sprintf("worker busy time x %.2f W per CPU (%s); RAPL unavailable", m.WattsPerCPU, m.Basis)
		clocks := rt.busyClocksOn()
		if !clocks {
			basis = "no estimate: Config.DisableTelemetry turns the workers' busy clocks off; RAPL unavailable"
		}
		chans = append(chans, energy.Channel{Device: 0, Name: "cpu", Kind: "cpu", Source: energy.SourceEstimated,
			Basis: basis, FromZero: true,
			Read: func() (float64, bool) { return m.Joules(rt.cpuBusySeconds()), clocks }})
	}
	if s.nvml != nil {
		for i, g := range s.gpus() {
			i := i
			chans = append(chans, energy.Channel{Device: -1, Name: fmt.Sprintf("nvml gpu %d %s", g.Index, g.Name), Kind: "cuda",
				Source: energy.SourceNVML, Basis: "NVML " + g.EnergyMethod,
				Read: func() (float64, bool) {
					rs := s.gpus()
					if i >= len(rs) {
						return 0, false
					}
					return rs[i].Joules, true
				}})
		}
	}
	return chans
}

// addGPUChannels adds, once the runtime has discovered its devices, an estimated channel for
// each GPU that NVML does not cover: the dispatcher's busy time x the board power. Any goroutine.
func (rt *Runtime) addGPUChannels() {
	if !rt.dev.ready.Load() { // load-acquire: pairs with the store-release at the end of initDevices
		return
	}
	e := &rt.energy
	e.gpuOnce.Do(func() {
		ds := &rt.dev
		nvmlN := 0
		if e.sens.nvml != nil {
			nvmlN = e.sens.nvml.Count()
		}
		cuda := 0
		for _, in := range ds.infos[1:] {
			idx := in.Index
			if in.Kind == DeviceCUDA {
				cuda++
				if cuda <= nvmlN {
					continue // measured by NVML (matched by order)
				}
			}
			watts, basis := boardWatts(in, e.sens.cpu)
			e.meter.Add(energy.Channel{Device: idx, Name: in.Name, Kind: in.Kind.String(), Source: energy.SourceEstimated,
				Basis: fmt.Sprintf("device busy time x %.0f W (%s)", watts, basis), FromZero: true,
				Read: func() (float64, bool) {
					st := ds.disp.Stats()
					if idx >= len(st) {
						return 0, false
					}
					return st[idx].BusyTime.Seconds() * watts, true
				}})
		}
	})
}

// boardWatts is the estimate model's power for a busy non-CPU device.
func boardWatts(in DeviceInfo, cpu energy.CPUModel) (float64, string) {
	switch {
	case in.Kind == DeviceCUDA:
		return energy.DefaultCUDABoardWatts, "default CUDA board power; NVML unavailable"
	case onHostCPU(in):
		n := in.ComputeUnits
		if n < 1 {
			n = 1
		}
		return cpu.WattsPerCPU * float64(n), fmt.Sprintf("runs on the host CPU: %d compute units x %.2f W per CPU", n, cpu.WattsPerCPU)
	}
	return energy.DefaultOpenCLGPUWatts, "default OpenCL GPU board power"
}

// onHostCPU reports an OpenCL device that runs on the host's own cores (PoCL's pthread device).
func onHostCPU(in DeviceInfo) bool {
	if in.HostCores {
		return true
	}
	p := strings.ToLower(in.Platform + " " + in.Name + " " + in.Vendor)
	return strings.Contains(p, "portable computing language") || strings.Contains(p, "pthread") || strings.Contains(p, "pocl")
}

// Energy returns the energy used since the runtime started, per device and in total, each with
// its source ("rapl", "nvml" or "estimated") and basis, plus the sensors' availability, the
// temperatures, and the energy policy's cap and resize log. It never reports a silent zero: an
// unmeasurable device is estimated and labelled so. The first call waits for sensor discovery
// (started by New); later calls cost a few sysfs reads and NVML calls. Any goroutine.
func (rt *Runtime) Energy() EnergyReport {
	e := &rt.energy
	<-e.ready
	rt.addGPUChannels()
	snap := e.meter.Read()
	r := EnergyReport{
		Seconds:        snap.Seconds,
		TotalJoules:    snap.TotalJoules,
		AverageWatts:   snap.AverageWatts,
		Estimated:      snap.Estimated,
		MaxPowerWatts:  rt.cfg.MaxPowerWatts,
		MaxTempCelsius: rt.cfg.MaxTempCelsius,
		EnergyWeight:   rt.cfg.EnergyWeight,
		WorkerCap:      rt.pool.Workers(),
		Sensors:        e.sens.statuses(),
	}
	if c := rt.workerCap(); c > 0 {
		r.WorkerCap = c
	}
	cudaIdx := rt.cudaIndexes()
	nv := 0
	for _, c := range snap.Channels {
		d := DeviceEnergy{Device: c.Device, Name: c.Name, Kind: c.Kind, Source: string(c.Source), Basis: c.Basis,
			Joules: c.Joules, AverageWatts: c.AverageWatts, Readable: c.Readable}
		if c.Source == energy.SourceNVML {
			if nv < len(cudaIdx) {
				d.Device = cudaIdx[nv]
			}
			nv++
		}
		r.Devices = append(r.Devices, d)
	}
	sort.SliceStable(r.Devices, func(i, j int) bool {
		a, b := r.Devices[i].Device, r.Devices[j].Device
		return a >= 0 && (b < 0 || a < b)
	})
	r.Temperatures, r.MaxCelsius, r.TempOK = e.sens.temps()
	if r.Temperatures == nil {
		r.Temperatures = []TempReading{}
	}
	r.GPUs = []GPUState{}
	for _, g := range e.sens.gpus() {
		th := g.Throttle
		if th == nil {
			th = []string{}
		}
		r.GPUs = append(r.GPUs, GPUState{Index: g.Index, Name: g.Name, BusID: g.BusID, Watts: g.Watts, PowerOK: g.PowerOK,
			Celsius: g.Celsius, TempOK: g.TempOK, Throttle: th, BoardWatts: g.BoardWatts})
	}
	e.mu.Lock()
	r.Resizes = append([]EnergyResize{}, e.resizes...)
	e.mu.Unlock()
	return r
}

// cudaIndexes returns the runtime indexes of the discovered CUDA devices, in order (nil before
// discovery).
func (rt *Runtime) cudaIndexes() []int {
	if !rt.dev.ready.Load() { // load-acquire: pairs with initDevices' store-release
		return nil
	}
	var out []int
	for _, in := range rt.dev.infos {
		if in.Kind == DeviceCUDA {
			out = append(out, in.Index)
		}
	}
	return out
}

// Sensors returns every sensor's availability (RAPL, NVML, thermal zones, hwmon) with the reason
// and fix for each unavailable one. Waits for sensor discovery on first use. Any goroutine.
func (rt *Runtime) Sensors() []SensorStatus {
	<-rt.energy.ready
	return rt.energy.sens.statuses()
}

// EnergyJSON returns Energy() as one JSON object (snake_case keys: "devices", "total_joules",
// "sensors", ...). Any goroutine.
func (rt *Runtime) EnergyJSON() ([]byte, error) { return json.Marshal(rt.Energy()) }

// Topology is the machine's NUMA layout (nodes, their CPUs and distances) and core counts.
type Topology = topo.Topology

// GPUAffinity is the NUMA node of one GPU.
type GPUAffinity struct {
	Device int    `json:"device"` // runtime device index; -1 for an NVML GPU not discovered
	Name   string `json:"name"`
	BusID  string `json:"bus_id"`
	Node   int    `json:"node"` // NUMA node id; -1 when unknown
	Source string `json:"source"`
}

// Topology returns the NUMA topology the runtime places its workers by. Waits for sensor
// discovery on first use. Any goroutine.
func (rt *Runtime) Topology() Topology {
	<-rt.energy.ready
	return rt.energy.sens.topo
}

// GPUAffinity returns the NUMA node of every GPU it can place: the runtime's CUDA devices (PCI
// numa_node of their bus id) once discovered, and NVML's GPUs. Any goroutine.
func (rt *Runtime) GPUAffinity() []GPUAffinity {
	<-rt.energy.ready
	var out []GPUAffinity
	seen := map[string]bool{}
	if rt.dev.ready.Load() { // load-acquire: pairs with initDevices' store-release
		for i, g := range rt.dev.gpus {
			in := g.Info()
			if in.PCIBusID == "" {
				continue
			}
			seen[in.PCIBusID] = true
			out = append(out, GPUAffinity{Device: i + 1, Name: in.Name, BusID: in.PCIBusID, Node: in.NUMANode, Source: "cuda pci bus id + sysfs numa_node"})
		}
	}
	if n := rt.energy.sens.nvml; n != nil {
		for i, g := range rt.energy.sens.gpus() {
			if g.BusID == "" || seen[g.BusID] {
				continue
			}
			out = append(out, GPUAffinity{Device: -1, Name: g.Name, BusID: g.BusID, Node: n.Node(i), Source: "nvml pci bus id + sysfs numa_node"})
		}
	}
	return out
}

// energyAware gives every dispatch device its active power (the CPU: watts per CPU x workers;
// an NVML GPU: its enforced power limit; others: the estimate model's board power), so the cost
// model learns joules per byte, and applies Config.EnergyWeight to the earliest-finish strategy.
// initDevices only.
func (rt *Runtime) energyAware(strat Strategy, dinfos []dispatch.DeviceInfo, infos []DeviceInfo) Strategy {
	<-rt.energy.ready
	s := rt.energy.sens
	var nv []energy.GPUReading
	if s.nvml != nil {
		nv = s.gpus()
	}
	cuda := 0
	for i := range dinfos {
		switch {
		case i == 0:
			dinfos[i].Watts = s.cpu.WattsPerCPU * float64(rt.pool.Workers())
		case infos[i].Kind == DeviceCUDA && cuda < len(nv) && nv[cuda].BoardWatts > 0:
			dinfos[i].Watts = nv[cuda].BoardWatts
			cuda++
		default:
			if infos[i].Kind == DeviceCUDA {
				cuda++
			}
			dinfos[i].Watts, _ = boardWatts(infos[i], s.cpu)
		}
	}
	if ef, ok := strat.(*dispatch.EarliestFinish); ok && rt.cfg.EnergyWeight > 0 {
		c := ef.Config()
		c.EnergyWeight = rt.cfg.EnergyWeight
		strat = dispatch.NewEarliestFinish(c)
	}
	return strat
}

// feedMeasuredPower gives the dispatcher the measured power of each busy NVML GPU (matched to
// the runtime's CUDA devices by order), so the joules per byte it learns come from the sensor
// rather than the board-power default. Energy ticker only.
func (rt *Runtime) feedMeasuredPower() {
	s := rt.energy.sens
	if s.nvml == nil || !rt.dev.ready.Load() { // load-acquire: pairs with initDevices' store-release
		return
	}
	nv := s.gpus()
	st := rt.dev.disp.Stats()
	for k, idx := range rt.cudaIndexes() {
		if k < len(nv) && nv[k].PowerOK && nv[k].Watts > 0 && idx < len(st) && st[idx].QueueDepth > 0 {
			rt.dev.disp.SetPower(idx, nv[k].Watts)
		}
	}
}
