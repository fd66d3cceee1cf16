package dispatchtest

import (
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// Two simulated devices (TEST DOUBLES): a fast, power-hungry GPU (8 GB/s, 300 W, PCIe
// transfers) and a frugal, slower device (2 GB/s at 25 W, on the host). With no energy weight
// the earliest-finish strategy sends the bulk of the bytes to the fast GPU; with a weight that
// makes a joule worth more than the delay, the bulk moves to the frugal device, and the run
// uses less energy at a longer makespan.
func frugalPair() []*SimDevice {
	return []*SimDevice{
		{Info: dispatch.DeviceInfo{Kind: dispatch.KindCPU, Name: "sim-frugal"}, Throughput: 2e9,
			Latency: 2 * time.Microsecond, Watts: 25, Seed: 1},
		{Info: dispatch.DeviceInfo{Kind: dispatch.KindCUDA, Name: "sim-hungry"}, Throughput: 8e9,
			Latency: 20 * time.Microsecond, Bandwidth: 24e9, Watts: 300, Seed: 2},
	}
}

func runEnergy(t *testing.T, weight float64) SimResult {
	t.Helper()
	devs := frugalPair()
	d, err := dispatch.NewDispatcher(SimInfos(devs), dispatch.Options{
		Strategy: dispatch.NewEarliestFinish(dispatch.EarliestFinishConfig{EnergyWeight: weight, GPUThreshold: 1 << 20}),
		Record:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := Workload(3000, 7, true)
	res := Simulate(d, devs, reqs, 4, nil)
	if weight > 0 {
		n := 0
		for _, dec := range d.Decisions() {
			if dec.Reason == dispatch.ReasonEnergy {
				n++
			}
		}
		if n == 0 {
			t.Errorf("weight %g: no decision records the energy reason", weight)
		}
	}
	return res
}

func TestEnergyWeightMovesWorkToFrugalDevice(t *testing.T) {
	plain := runEnergy(t, 0)
	green := runEnergy(t, 1) // one joule is worth a second of makespan
	share := func(r SimResult) float64 { return float64(r.Bytes[0]) / float64(r.Bytes[0]+r.Bytes[1]) }
	sum := func(r SimResult) float64 { return r.Joules[0] + r.Joules[1] }
	t.Logf("weight 0: frugal share %.2f, %.2f J, makespan %v", share(plain), sum(plain), plain.Makespan)
	t.Logf("weight 1: frugal share %.2f, %.2f J, makespan %v", share(green), sum(green), green.Makespan)
	if share(plain) > 0.4 {
		t.Errorf("without a weight the frugal device got %.0f%% of the bytes; the fast one should lead", 100*share(plain))
	}
	if share(green) < 0.8 {
		t.Errorf("with weight 1 s/J the frugal device got only %.0f%% of the bytes", 100*share(green))
	}
	if sum(green) >= sum(plain) {
		t.Errorf("energy did not fall: %.2f J -> %.2f J", sum(plain), sum(green))
	}
	if green.Makespan <= plain.Makespan {
		t.Errorf("makespan %v -> %v: the trade should cost time", plain.Makespan, green.Makespan)
	}
}
