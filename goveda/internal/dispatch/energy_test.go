package dispatch

import (
	"math"
	"testing"
	"time"
)

// Two devices: a fast, power-hungry one (device 0, 4 GB/s at 200 W) and a frugal, slower one
// (device 1, 2 GB/s at 20 W, no transfer cost: a co-located accelerator). The joules per byte
// are learned from Watts x compute time; the energy weight then decides.
func energyPair(t *testing.T, weight float64) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher([]DeviceInfo{
		{Index: 0, Kind: KindCPU, Name: "hungry", Watts: 200},
		{Index: 1, Kind: KindCPU, Name: "frugal", Watts: 20},
	}, Options{Strategy: NewEarliestFinish(EarliestFinishConfig{EnergyWeight: weight, ExploreEvery: ^uint64(0)}), Record: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1 << 20
	for i := 0; i < 5; i++ {
		d.Record(0, "k", n, Timing{Compute: time.Duration(float64(n) / 4e9 * 1e9)}, nil)
		d.Record(1, "k", n, Timing{Compute: time.Duration(float64(n) / 2e9 * 1e9)}, nil)
	}
	return d
}

func TestEnergyPerByteLearned(t *testing.T) {
	d := energyPair(t, 0)
	// 200 W / 4 GB/s = 5e-8 J/B; 20 W / 2 GB/s = 1e-8 J/B.
	if j := d.EnergyPerByte("k", 0); math.Abs(j-5e-8)/5e-8 > 0.01 {
		t.Fatalf("J/B device 0 = %g", j)
	}
	if j := d.EnergyPerByte("k", 1); math.Abs(j-1e-8)/1e-8 > 0.01 {
		t.Fatalf("J/B device 1 = %g", j)
	}
	// A measured figure wins over Watts x time.
	d.Record(1, "m", 1000, Timing{Compute: time.Millisecond, Joules: 0.5}, nil)
	if j := d.EnergyPerByte("m", 1); j != 0.5/1000 {
		t.Fatalf("measured J/B = %g", j)
	}
}

func TestEnergyWeightMovesWork(t *testing.T) {
	const n = 1 << 20
	// Device 0 finishes in 262 us for 52 mJ; device 1 in 524 us for 10.5 mJ. Saving 42 mJ
	// costs 262 us: worth it when one joule is worth more than ~6.2 ms.
	for _, tc := range []struct {
		weight float64
		want   int
		reason string
	}{
		{0, 0, ReasonEarliestFinish},
		{0.001, 0, ReasonEarliestFinish},
		{0.1, 1, ReasonEnergy},
	} {
		d := energyPair(t, tc.weight)
		dec, err := d.Choose(Request{Kernel: "k", Bytes: n})
		if err != nil {
			t.Fatal(err)
		}
		d.Abandon(dec)
		if dec.Device != tc.want || dec.Reason != tc.reason {
			t.Errorf("weight %g: device %d (%s), want %d (%s)", tc.weight, dec.Device, dec.Reason, tc.want, tc.reason)
		}
		cs := dec.Candidates()
		if len(cs) != 2 || !cs[0].HasEnergy || !cs[1].HasEnergy || cs[0].Joules <= cs[1].Joules {
			t.Errorf("recorded candidates %+v", cs)
		}
	}
}

func TestEnergyUnknownChargesNothing(t *testing.T) {
	d, _ := NewDispatcher([]DeviceInfo{{Index: 0, Kind: KindCPU}, {Index: 1, Kind: KindCPU, Watts: 1000}},
		Options{Strategy: NewEarliestFinish(EarliestFinishConfig{EnergyWeight: 10, ExploreEvery: ^uint64(0)})})
	for i := 0; i < 5; i++ {
		d.Record(0, "k", 1000, Timing{Compute: 2 * time.Microsecond}, nil)
		d.Record(1, "k", 1000, Timing{Compute: time.Microsecond}, nil)
	}
	// Device 0's energy is unknown (no Watts): it is charged 0 J and wins over the 1 mJ one.
	dec, _ := d.Choose(Request{Kernel: "k", Bytes: 1000})
	if dec.Device != 0 || dec.Reason != ReasonEnergy {
		t.Fatalf("%d %s", dec.Device, dec.Reason)
	}
	d.Abandon(dec)
	d.SetPower(0, 2000)
	d.SetPower(0, math.NaN()) // ignored
	d.Record(0, "j", 1000, Timing{Compute: time.Microsecond}, nil)
	if j := d.EnergyPerByte("j", 0); math.Abs(j-2000e-6/1000) > 1e-12 {
		t.Fatalf("after SetPower: %g", j)
	}
}
