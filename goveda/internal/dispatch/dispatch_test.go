package dispatch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
	"github.com/veda-runtime/veda/goveda/internal/dispatch/dispatchtest"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// sim14 returns a simulated 1x CPU and a 4x GPU with no latency or transfer.
func sim14() []*dispatchtest.SimDevice {
	return []*dispatchtest.SimDevice{
		{Info: dispatch.DeviceInfo{Kind: dispatch.KindCPU, Name: "sim-cpu-1x"}, Throughput: 1e9},
		{Info: dispatch.DeviceInfo{Kind: dispatch.KindOpenCL, Name: "sim-gpu-4x"}, Throughput: 4e9},
	}
}

func stream(n int, kernel string, bytes uint64) []dispatch.Request {
	reqs := make([]dispatch.Request, n)
	for i := range reqs {
		reqs[i] = dispatch.Request{Kernel: kernel, Bytes: bytes}
	}
	return reqs
}

func newDisp(t testing.TB, devs []*dispatchtest.SimDevice, opts dispatch.Options) *dispatch.Dispatcher {
	t.Helper()
	d, err := dispatch.NewDispatcher(dispatchtest.SimInfos(devs), opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// choose picks and ends immediately with a fixed timing.
func mustChoose(t testing.TB, d *dispatch.Dispatcher, req dispatch.Request) dispatch.Decision {
	t.Helper()
	dec, err := d.Choose(req)
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

func TestRoundRobinCycles(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU}, {Index: 1, Kind: dispatch.KindOpenCL}, {Index: 2, Kind: dispatch.KindCUDA}}
	d, err := dispatch.NewDispatcher(devs, dispatch.Options{Strategy: &dispatch.RoundRobin{}, Record: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 9; i++ {
		dec := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: uint64(1 + i*1000)})
		if dec.Device != i%3 || dec.Reason != dispatch.ReasonRoundRobin {
			t.Fatalf("call %d: device %d reason %q, want %d %q", i, dec.Device, dec.Reason, i%3, dispatch.ReasonRoundRobin)
		}
		d.End(dec, dispatch.Timing{Compute: time.Millisecond}, nil)
	}
	// Restricted candidates cycle over the subset.
	prev := -1
	for i := 0; i < 4; i++ {
		dec := mustChoose(t, d, dispatch.Request{Kernel: "k", Devices: []int{1, 2}})
		if dec.Device == 0 || dec.Device == prev {
			t.Fatalf("subset call %d: device %d after %d", i, dec.Device, prev)
		}
		prev = dec.Device
		d.End(dec, dispatch.Timing{}, nil)
	}
}

func TestLeastLoadedPrefersIdle(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU}, {Index: 1, Kind: dispatch.KindOpenCL}, {Index: 2, Kind: dispatch.KindOpenCL}}
	d, _ := dispatch.NewDispatcher(devs, dispatch.Options{Strategy: &dispatch.LeastLoaded{}})
	a := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 100})
	b := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 100})
	c := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 100})
	if a.Device != 0 || b.Device != 1 || c.Device != 2 {
		t.Fatalf("got %d %d %d, want 0 1 2 (each idle device first)", a.Device, b.Device, c.Device)
	}
	d.End(b, dispatch.Timing{Compute: time.Microsecond}, nil) // device 1 idle again
	if x := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 100}); x.Device != 1 || x.Reason != dispatch.ReasonLeastLoaded {
		t.Fatalf("got device %d (%s), want the idle device 1", x.Device, x.Reason)
	}
	// Equal depth: fewer queued bytes wins.
	d2, _ := dispatch.NewDispatcher(devs[:2], dispatch.Options{Strategy: &dispatch.LeastLoaded{}})
	mustChoose(t, d2, dispatch.Request{Kernel: "k", Bytes: 1 << 20}) // dev 0, 1 MiB
	mustChoose(t, d2, dispatch.Request{Kernel: "k", Bytes: 1 << 10}) // dev 1, 1 KiB
	if x := mustChoose(t, d2, dispatch.Request{Kernel: "k", Bytes: 10}); x.Device != 1 {
		t.Fatalf("tie on depth: got %d, want 1 (fewer bytes)", x.Device)
	}
}

func TestWeightedFollowsWeights(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU, Weight: 1}, {Index: 1, Kind: dispatch.KindOpenCL, Weight: 3}, {Index: 2, Kind: dispatch.KindCUDA, Weight: 6}}
	d, _ := dispatch.NewDispatcher(devs, dispatch.Options{Strategy: &dispatch.WeightedCapacity{}})
	counts := make([]int, 3)
	for i := 0; i < 1000; i++ {
		dec := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 1 << 20})
		counts[dec.Device]++
		d.End(dec, dispatch.Timing{Compute: time.Millisecond}, nil)
	}
	if counts[0] != 100 || counts[1] != 300 || counts[2] != 600 {
		t.Fatalf("counts %v, want [100 300 600]", counts)
	}
	// Default weight = measured peak throughput: 1x vs 4x simulated devices.
	sd := sim14()
	dw := newDisp(t, sd, dispatch.Options{Strategy: &dispatch.WeightedCapacity{}})
	res := dispatchtest.Simulate(dw, sd, stream(2000, "k", 1<<20), 8, nil)
	share := float64(res.Calls[1]) / 2000
	if share < 0.75 || share > 0.82 {
		t.Fatalf("weighted by measured peak: GPU share %.3f, want ~0.8 (calls %v)", share, res.Calls)
	}
}

func TestAdaptivePrefersMeasuredFast(t *testing.T) {
	sd := sim14()
	d := newDisp(t, sd, dispatch.Options{Strategy: &dispatch.AdaptiveThroughput{}, Record: true})
	res := dispatchtest.Simulate(d, sd, stream(1000, "k", 1<<20), 4, nil)
	if res.Calls[1] <= res.Calls[0]*2 {
		t.Fatalf("adaptive: calls %v, want most on the 4x device", res.Calls)
	}
	st := d.Stats()
	if st[1].EMAThroughput < 3*st[0].EMAThroughput {
		t.Fatalf("EMA throughput %v vs %v", st[1].EMAThroughput, st[0].EMAThroughput)
	}
}

func TestEarliestFinishSplitsOneToFour(t *testing.T) {
	for _, size := range []uint64{256 << 10, 4 << 20, 32 << 20} {
		t.Run(dispatch.FormatBytes(size), func(t *testing.T) {
			sd := sim14()
			d := newDisp(t, sd, dispatch.Options{})
			res := dispatchtest.Simulate(d, sd, stream(2000, "saxpy", size), 16, nil)
			share := float64(res.Bytes[1]) / float64(res.Bytes[0]+res.Bytes[1])
			if share < 0.75 || share > 0.85 {
				t.Fatalf("GPU share %.3f, want 0.8 +- 0.05 (calls %v)", share, res.Calls)
			}
			// The makespan is close to the ideal 1:4 split.
			ideal := time.Duration(float64(2000*size) / 5e9 * 1e9)
			if res.Makespan > ideal*11/10 {
				t.Fatalf("makespan %v, ideal %v", res.Makespan, ideal)
			}
		})
	}
}

func TestCalibrationThresholdAndSpillover(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU}, {Index: 1, Kind: dispatch.KindOpenCL}}
	d, _ := dispatch.NewDispatcher(devs, dispatch.Options{Record: true})
	big := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 16 << 20})
	if big.Device != 1 || big.Reason != dispatch.ReasonCalibrating {
		t.Fatalf("16 MiB uncalibrated: %d %q", big.Device, big.Reason)
	}
	d.Abandon(big)
	small := mustChoose(t, d, dispatch.Request{Kernel: "k2", Bytes: 4 << 10})
	if small.Device != 0 || small.Reason != dispatch.ReasonCalibrating {
		t.Fatalf("4 KiB uncalibrated: %d %q", small.Device, small.Reason)
	}
	// KeySeq 1 of k2 explores the unmeasured GPU.
	ex := mustChoose(t, d, dispatch.Request{Kernel: "k2", Bytes: 4 << 10})
	if ex.Reason != dispatch.ReasonExploration || ex.Device != 1 {
		t.Fatalf("second call: %d %q, want exploration of device 1", ex.Device, ex.Reason)
	}
	// Direct: CPU saturated (2 queued), GPU idle.
	d3, _ := dispatch.NewDispatcher(devs, dispatch.Options{})
	mustChoose(t, d3, dispatch.Request{Kernel: "a", Bytes: 1 << 10})
	mustChoose(t, d3, dispatch.Request{Kernel: "b", Bytes: 1 << 10})
	if x := mustChoose(t, d3, dispatch.Request{Kernel: "c", Bytes: 1 << 10}); x.Device != 1 || x.Reason != dispatch.ReasonSpillover {
		t.Fatalf("saturated CPU, idle GPU: %d %q, want spillover to 1", x.Device, x.Reason)
	}
}

func TestSingleSpikeDoesNotMovePlacement(t *testing.T) {
	run := func(spike bool) (dispatchtest.SimResult, time.Duration, time.Duration) {
		sd := sim14()
		if spike {
			sd[1].Slowdown = func(n int) float64 {
				if n == 300 {
					return 100
				}
				return 1
			}
		}
		d := newDisp(t, sd, dispatch.Options{})
		reqs := stream(1500, "sgemm", 2<<20)
		res := dispatchtest.Simulate(d, sd, reqs, 16, nil)
		e0, _ := d.Estimate("sgemm", 0, 2<<20)
		e1, _ := d.Estimate("sgemm", 1, 2<<20)
		return res, e0, e1
	}
	base, b0, b1 := run(false)
	sp, s0, s1 := run(true)
	if b0 != s0 || b1 != s1 {
		t.Fatalf("estimates moved by one spike: cpu %v->%v gpu %v->%v", b0, s0, b1, s1)
	}
	// The spike stalls the simulated GPU for ~100 calls' worth of time, which
	// no model can foresee; placement must not shift beyond that stall.
	if d := base.Calls[1] - sp.Calls[1]; d > 30 || d < -30 {
		t.Fatalf("GPU calls %d without spike, %d with one spike", base.Calls[1], sp.Calls[1])
	}
}

func TestExplorationRemeasures(t *testing.T) {
	sd := sim14()
	sd[1].Slowdown = func(n int) float64 { // slow for its first three calls only
		if n < 3 {
			return 100
		}
		return 1
	}
	d := newDisp(t, sd, dispatch.Options{Record: true, RingSize: 4096})
	res := dispatchtest.Simulate(d, sd, stream(3000, "k", 1<<20), 16, nil)
	decs := d.Decisions()
	explore, gpuLate := 0, 0
	for i, dec := range decs {
		if dec.Reason == dispatch.ReasonExploration {
			explore++
		}
		if i >= len(decs)-500 && dec.Device == 1 {
			gpuLate++
		}
	}
	if explore == 0 {
		t.Fatal("no exploration decisions")
	}
	if gpuLate < 350 {
		t.Fatalf("GPU got %d of the last 500 calls after re-measuring (calls %v, explorations %d)", gpuLate, res.Calls, explore)
	}
}

func TestFallbackAfterError(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU}, {Index: 1, Kind: dispatch.KindCUDA}}
	d, _ := dispatch.NewDispatcher(devs, dispatch.Options{Record: true})
	dec := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 64 << 20})
	if dec.Device != 1 {
		t.Fatalf("big call on %d", dec.Device)
	}
	oom := errors.New("veda: out of memory")
	d.End(dec, dispatch.Timing{}, oom)
	fb, err := d.Fallback(dispatch.Request{Kernel: "k", Bytes: 64 << 20}, dec.Device)
	if err != nil || fb.Device != 0 || fb.Reason != dispatch.ReasonFallback {
		t.Fatalf("fallback: %+v %v", fb, err)
	}
	d.End(fb, dispatch.Timing{Compute: 10 * time.Millisecond}, nil)
	st := d.Stats()
	if st[1].Failed != 1 || st[0].Completed != 1 || st[1].QueueDepth != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The failed device is skipped for a while.
	if x := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 64 << 20}); x.Device != 0 {
		t.Fatalf("device in cooldown chosen: %d", x.Device)
	}
	// No other device: error.
	if _, err := d.Fallback(dispatch.Request{Kernel: "user", Devices: []int{1}}, 1); !errors.Is(err, dispatch.ErrNoDevice) {
		t.Fatalf("fallback without alternative: %v", err)
	}
	// In simulation: a failing call is re-placed and the run completes.
	sd := sim14()
	sd[1].Fail = func(n int) error {
		if n == 10 {
			return oom
		}
		return nil
	}
	d2 := newDisp(t, sd, dispatch.Options{Record: true})
	res := dispatchtest.Simulate(d2, sd, stream(500, "k", 1<<20), 8, nil)
	if res.Fallbacks != 1 || d2.Stats()[1].Failed != 1 {
		t.Fatalf("fallbacks %d, failed %d", res.Fallbacks, d2.Stats()[1].Failed)
	}
	found := false
	for _, x := range d2.Decisions() {
		if x.Reason == dispatch.ReasonFallback && x.Device == 0 {
			found = true
		}
	}
	if !found {
		t.Fatal("fallback decision not recorded")
	}
	if res.Calls[1] < 300 {
		t.Fatalf("GPU not used again after its cooldown: %v", res.Calls)
	}
}

func TestPinned(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU}, {Index: 1, Kind: dispatch.KindOpenCL}}
	d, _ := dispatch.NewDispatcher(devs, dispatch.Options{})
	dec := mustChoose(t, d, dispatch.Request{Kernel: "k", Bytes: 1, Pinned: true, Device: 1})
	if dec.Device != 1 || dec.Reason != dispatch.ReasonPinned {
		t.Fatalf("pinned: %+v", dec)
	}
	if _, err := d.Choose(dispatch.Request{Kernel: "k", Pinned: true, Device: 7}); !errors.Is(err, dispatch.ErrNoDevice) {
		t.Fatalf("bad pin: %v", err)
	}
	if _, err := d.Choose(dispatch.Request{Kernel: "k", Devices: []int{9}}); !errors.Is(err, dispatch.ErrNoDevice) {
		t.Fatalf("no candidate: %v", err)
	}
}

func TestDecisionsRing(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU, Name: "cpu"}, {Index: 1, Kind: dispatch.KindOpenCL, Name: "gpu"}}
	d, _ := dispatch.NewDispatcher(devs, dispatch.Options{RingSize: 8})
	mustChoose(t, d, dispatch.Request{Kernel: "off"})
	if n := len(d.Decisions()); n != 0 {
		t.Fatalf("recorded %d while off", n)
	}
	d.SetRecording(true)
	for i := 0; i < 20; i++ {
		dec := mustChoose(t, d, dispatch.Request{Kernel: fmt.Sprint("k", i), Bytes: uint64(i) << 20, TransferBytes: 1 << 20})
		d.End(dec, dispatch.Timing{Compute: time.Millisecond}, nil)
	}
	decs := d.Decisions()
	if len(decs) != 8 {
		t.Fatalf("ring holds %d, want 8", len(decs))
	}
	for i, x := range decs {
		if want := fmt.Sprint("k", 12+i); x.Kernel != want || x.Seq != uint64(14+i) {
			t.Fatalf("entry %d: %s seq %d, want %s seq %d", i, x.Kernel, x.Seq, want, 14+i)
		}
		if len(x.Candidates()) != 2 || x.Candidates()[1].Transfer <= 0 {
			t.Fatalf("entry %d candidates %+v", i, x.Candidates())
		}
	}
	js, err := d.DecisionsJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(js, &back); err != nil || len(back) != 8 {
		t.Fatalf("json: %v %d", err, len(back))
	}
	if back[0]["reason"] == "" || back[0]["kernel"] != "k12" || back[0]["kind"] == nil {
		t.Fatalf("json entry %v", back[0])
	}
	if _, ok := back[0]["candidates"].([]any)[0].(map[string]any)["finish_ns"]; !ok {
		t.Fatalf("json candidate %v", back[0]["candidates"])
	}
	d.SetRecording(false)
	mustChoose(t, d, dispatch.Request{Kernel: "off2"})
	if last := d.Decisions(); last[len(last)-1].Kernel == "off2" {
		t.Fatal("recorded while off")
	}
	d.ClearDecisions()
	if len(d.Decisions()) != 0 {
		t.Fatal("clear")
	}
}

func TestParseStrategy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", dispatch.NameEarliestFinish}, {"earliest_finish", dispatch.NameEarliestFinish}, {"DMDA", dispatch.NameEarliestFinish},
		{"rr", dispatch.NameRoundRobin}, {"least-loaded", dispatch.NameLeastLoaded}, {"weighted", dispatch.NameWeightedCapacity},
		{"Adaptive_Throughput", dispatch.NameAdaptiveThroughput},
	} {
		s, err := dispatch.ParseStrategy(tc.in)
		if err != nil || s.Name() != tc.want {
			t.Errorf("ParseStrategy(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
		}
	}
	if _, err := dispatch.ParseStrategy("fastest"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

func TestConcurrentStress(t *testing.T) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU}, {Index: 1, Kind: dispatch.KindOpenCL}, {Index: 2, Kind: dispatch.KindCUDA}}
	for _, name := range dispatch.StrategyNames {
		t.Run(name, func(t *testing.T) {
			s, _ := dispatch.ParseStrategy(name)
			d, _ := dispatch.NewDispatcher(devs, dispatch.Options{Strategy: s, RingSize: 64})
			const G, N = 8, 400
			var wg sync.WaitGroup
			stop := make(chan struct{})
			go func() { // monitor: stats, ring, toggles
				for {
					select {
					case <-stop:
						return
					default:
					}
					for _, st := range d.Stats() {
						if st.QueueDepth < 0 || st.QueueDepth > G {
							t.Errorf("queue depth %d out of [0,%d]", st.QueueDepth, G)
						}
					}
					d.SetRecording(!d.Recording())
					_, _ = d.DecisionsJSON()
				}
			}()
			for g := 0; g < G; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(g), 1))
					for i := 0; i < N; i++ {
						req := dispatch.Request{Kernel: fmt.Sprint("k", r.IntN(3)), Bytes: uint64(4<<10) << r.IntN(12), TransferBytes: 1 << 16}
						dec, err := d.Choose(req)
						if err != nil {
							t.Error(err)
							return
						}
						if r.IntN(50) == 0 {
							d.End(dec, dispatch.Timing{}, errors.New("boom"))
							if fb, err := d.Fallback(req, dec.Device); err == nil {
								d.End(fb, dispatch.Timing{Compute: time.Microsecond}, nil)
							}
							continue
						}
						d.End(dec, dispatch.Timing{Compute: time.Duration(1+r.IntN(1000)) * time.Microsecond, H2D: time.Microsecond, BytesIn: 1 << 16}, nil)
					}
				}(g)
			}
			wg.Wait()
			close(stop)
			var disp, done, failed uint64
			for _, st := range d.Stats() {
				if st.QueueDepth != 0 {
					t.Errorf("device %d queue depth %d after all ended", st.Index, st.QueueDepth)
				}
				disp += st.Dispatched
				done += st.Completed
				failed += st.Failed
			}
			if disp != done+failed || done < G*N-failed {
				t.Errorf("dispatched %d, completed %d, failed %d", disp, done, failed)
			}
		})
	}
}

func TestProfile(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "memory.max"), []byte("1073741824\n"), 0o644)
	os.WriteFile(filepath.Join(root, "memory.current"), []byte("268435456\n"), 0o644)
	envOf := func(m map[string]string) dispatch.ProfileOption {
		return dispatch.WithEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
	}
	p, err := dispatch.DynamicProfile(16<<20, 0.5, 0, envOf(nil), dispatch.WithCgroupRoot(root), dispatch.WithGPUDevices(2))
	if err != nil {
		t.Fatal(err)
	}
	if p.CgroupLimit != 1<<30 || p.AvailableMemory > 768<<20 {
		t.Fatalf("cgroup: limit %d available %d", p.CgroupLimit, p.AvailableMemory)
	}
	if want := uint64(float64(p.AvailableMemory) * 0.5); p.MemoryBudget != want {
		t.Fatalf("budget %d want %d", p.MemoryBudget, want)
	}
	if want := min(int(p.MemoryBudget/(16<<20)), 64); p.InflightSegments != max(want, 1) {
		t.Fatalf("inflight %d want %d", p.InflightSegments, want)
	}
	if p.CPUWorkers != max(1, runtime.NumCPU()) || p.Sources["cpu_workers"] != "detected" { // goveda's default
		t.Fatalf("cpu workers %d (usable %d) from %s", p.CPUWorkers, p.UsableCores, p.Sources["cpu_workers"])
	}
	if p.GPUWorkers != 2 || p.LogicalCores < 1 || p.Strategy != dispatch.NameEarliestFinish {
		t.Fatalf("profile %+v", p)
	}
	if s := p.String(); len(s) == 0 {
		t.Fatal("empty table")
	}

	// hard cap bounds in-flight segments.
	p, _ = dispatch.DynamicProfile(1, 0, 5, envOf(nil), dispatch.WithCgroupRoot(root))
	if p.InflightSegments != 5 {
		t.Fatalf("hard cap: %d", p.InflightSegments)
	}

	// Environment overrides with sources; config wins over env.
	env := map[string]string{dispatch.EnvNumWorkers: "3", dispatch.EnvMemFraction: "0.25", dispatch.EnvGPUThreshold: "4MiB", dispatch.EnvStrategy: "round_robin"}
	p, err = dispatch.DynamicProfile(16<<20, 0, 0, envOf(env), dispatch.WithCgroupRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	if p.CPUWorkers != 3 || p.MemFraction != 0.25 || p.GPUThreshold != 4<<20 || p.Strategy != dispatch.NameRoundRobin {
		t.Fatalf("env overrides: %+v", p)
	}
	if p.Sources["cpu_workers"] != "env VEDA_NUM_WORKERS" || p.Sources["strategy"] != "env VEDA_STRATEGY" {
		t.Fatalf("sources %v", p.Sources)
	}
	p, _ = dispatch.DynamicProfile(16<<20, 0, 0, envOf(env), dispatch.WithCgroupRoot(root), dispatch.WithConfig(dispatch.ProfileConfig{Workers: 7}))
	if p.CPUWorkers != 7 || p.Sources["cpu_workers"] != "config" {
		t.Fatalf("config over env: %d from %s", p.CPUWorkers, p.Sources["cpu_workers"])
	}
	p.SetGPUDevices(1)
	if p.GPUWorkers != 1 || p.Sources["gpu_workers"] != "devices" {
		t.Fatal("SetGPUDevices")
	}

	for _, bad := range []map[string]string{
		{dispatch.EnvNumWorkers: "abc"}, {dispatch.EnvNumWorkers: "0"}, {dispatch.EnvNumWorkers: "-2"},
		{dispatch.EnvMemFraction: "1.5"}, {dispatch.EnvMemFraction: "NaN"}, {dispatch.EnvMemFraction: "0"}, {dispatch.EnvMemFraction: "x"},
		{dispatch.EnvGPUThreshold: "8XB"}, {dispatch.EnvGPUThreshold: "-1"}, {dispatch.EnvStrategy: "fastest"},
	} {
		if _, err := dispatch.DynamicProfile(0, 0, 0, envOf(bad), dispatch.WithCgroupRoot(root)); !errors.Is(err, dispatch.ErrBadProfile) {
			t.Errorf("env %v: err %v, want ErrBadProfile", bad, err)
		}
	}
	if _, err := dispatch.DynamicProfile(0, 2, 0, envOf(nil)); !errors.Is(err, dispatch.ErrBadProfile) {
		t.Errorf("memFraction 2: %v", err)
	}
	// Real environment, real machine.
	if _, err := dispatch.DynamicProfile(0, 0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{"8388608": 8 << 20, "8MiB": 8 << 20, "8 mb": 8 << 20, "4k": 4 << 10, "1G": 1 << 30, "12b": 12} {
		if got, err := dispatch.ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "MiB", "1.5M", "-3", "99999999999999999999G"} {
		if _, err := dispatch.ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
}

func benchChoose(b *testing.B, record bool) {
	devs := []dispatch.DeviceInfo{{Index: 0, Kind: dispatch.KindCPU}, {Index: 1, Kind: dispatch.KindOpenCL}}
	d, _ := dispatch.NewDispatcher(devs, dispatch.Options{Record: record})
	for i := 0; i < 64; i++ { // calibrate
		dec, _ := d.Choose(dispatch.Request{Kernel: "k", Bytes: 1 << 20})
		d.End(dec, dispatch.Timing{Compute: time.Duration(100+dec.Device*300) * time.Microsecond}, nil)
	}
	req := dispatch.Request{Kernel: "k", Bytes: 1 << 20, TransferBytes: 2 << 20}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dec, _ := d.Choose(req)
		d.End(dec, dispatch.Timing{Compute: 100 * time.Microsecond}, nil)
	}
}

// BenchmarkChoose is the per-call cost of Choose+End with recording off.
func BenchmarkChoose(b *testing.B) { benchChoose(b, false) }

// BenchmarkChooseRecording is the same with the decisions ring on; the
// difference is the ring's cost.
func BenchmarkChooseRecording(b *testing.B) { benchChoose(b, true) }

func ExampleParseStrategy() {
	s, _ := dispatch.ParseStrategy("dmda")
	fmt.Println(s.Name())
	_, err := dispatch.ParseStrategy("fastest")
	fmt.Println(err)
	// Output:
	// earliest-finish
	// veda: unknown dispatch strategy "fastest" (valid: earliest-finish, round-robin, least-loaded, weighted-capacity, adaptive-throughput)
}

// The benchmark's target, checked on a smaller run: earliest-finish within
// 10% of the best static split on the mixed 4 KiB..64 MiB workload.
func TestWorkloadEarliestFinishNearBestStatic(t *testing.T) {
	for _, window := range []int{2, 8} {
		ex := dispatchtest.NewSimExecutor(dispatchtest.SimDevices1to4(0.05))
		reqs := dispatchtest.Workload(1000, 3, true)
		best := time.Duration(1<<63 - 1)
		for f := 0.0; f <= 1.0001; f += 0.05 {
			best = min(best, dispatchtest.RunWorkload(ex, nil, reqs, window, dispatchtest.FractionSplit(reqs, f)).Makespan)
		}
		d, _ := dispatch.NewDispatcher(ex.Devices(), dispatch.Options{})
		eft := dispatchtest.RunWorkload(ex, d, reqs, window, nil).Makespan
		if r := float64(eft) / float64(best); r > 1.10 {
			t.Errorf("window %d: earliest-finish %v vs best static %v (ratio %.3f)", window, eft, best, r)
		}
	}
}

// A calibrated device that every re-measurement finds far slower than the CPU is re-measured
// less and less often: each exploration of a device r times slower costs r calls' worth of work,
// so at the plain interval (1 in ExploreEvery = 64) a 40x slower device took ~40/64 of the
// stream's time again. With the back-off it waits min(r, 8) intervals after a slow sample.
// Counted on the simulated devices, and on a host-cores device (PoCL's case) whose interval is
// HostExploreEvery times longer again.
func TestExplorationBacksOffFromASlowDevice(t *testing.T) {
	for _, host := range []bool{false, true} {
		sd := []*dispatchtest.SimDevice{
			{Info: dispatch.DeviceInfo{Kind: dispatch.KindCPU, Name: "sim-cpu"}, Throughput: 4e9},
			{Info: dispatch.DeviceInfo{Kind: dispatch.KindOpenCL, Name: "sim-slow", HostCores: host}, Throughput: 1e8},
		}
		d := newDisp(t, sd, dispatch.Options{Record: true, RingSize: 1 << 15})
		const n = 20000
		dispatchtest.Simulate(d, sd, stream(n, "k", 1<<20), 1, nil)
		explore := 0
		for _, dec := range d.Decisions() {
			if dec.Reason == dispatch.ReasonExploration && dec.Device == 1 {
				explore++
			}
		}
		every := 64 * 8 // the calibrated interval after a slow sample, plain devices
		if host {
			every *= 8
		}
		// Calibration takes a few samples; after it, at most one exploration per interval.
		if limit := 6 + n/every; explore > limit || explore == 0 {
			t.Fatalf("host=%v: %d explorations of the slow device in %d calls, want 1..%d", host, explore, n, limit)
		}
		t.Logf("host=%v: %d explorations in %d calls", host, explore, n)
	}
}
