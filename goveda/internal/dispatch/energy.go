package dispatch

import (
	"math"
	"time"
)

// Energy in the cost model (StarPU's dmda with gamma).
//
// Each device has an active power (DeviceInfo.Watts: what it draws while running a call,
// measured by the runtime's sensors or estimated; SetPower updates it). For every finished call
// the model learns joules per byte for (kernel, device): the call's measured joules
// (Timing.Joules) when the device layer measured them, else Watts x compute time. A candidate's
// Energy is that figure x the request's bytes.
//
// EarliestFinish with an EnergyWeight (seconds of makespan one joule is worth, StarPU's gamma)
// then picks the smallest Finish + EnergyWeight x Energy instead of the smallest Finish, so a
// frugal device wins when the joules it saves are worth more than the delay it adds. A device
// whose energy is unknown (no power and no sample) is charged nothing extra: energy never
// poisons an estimate.

// ReasonEnergy is recorded when the energy term changed the choice away from the earliest
// finish ("earliest finish + energy weight x joules").
const ReasonEnergy = "earliest finish + energy weight x joules"

// energyAlpha smooths the joules-per-byte estimates.
const energyAlpha = 0.2

// energyModel is one kernel's joules per byte per device (EMA; 0 = no sample).
type energyModel struct {
	jpb []float64
}

// recordEnergy learns joules per byte from one finished call. Caller holds mu.
func (d *Dispatcher) recordEnergy(km *kernelModel, s *deviceState, bytes uint64, t Timing) {
	if bytes == 0 {
		return
	}
	j := t.Joules
	if j <= 0 && s.info.Watts > 0 && t.Compute > 0 {
		j = s.info.Watts * t.Compute.Seconds()
	}
	if j <= 0 || math.IsNaN(j) || math.IsInf(j, 0) {
		return
	}
	if km.energy.jpb == nil {
		km.energy.jpb = make([]float64, len(d.devs))
	}
	x := j / float64(bytes)
	p := &km.energy.jpb[s.info.Index]
	if *p == 0 {
		*p = x
	} else {
		*p += energyAlpha * (x - *p)
	}
}

// energyOf estimates the joules of req on s: the learned joules per byte, else the device's
// power x the compute estimate. ok is false when neither is known. Caller holds mu.
func (d *Dispatcher) energyOf(km *kernelModel, s *deviceState, bytes uint64, compute time.Duration, hasCompute bool) (float64, bool) {
	if km.energy.jpb != nil {
		if v := km.energy.jpb[s.info.Index]; v > 0 {
			return v * float64(bytes), true
		}
	}
	if s.info.Watts > 0 && hasCompute {
		return s.info.Watts * compute.Seconds(), true
	}
	return 0, false
}

// SetPower sets a device's active power in watts (from a sensor, or the runtime's estimate);
// later calls learn joules from it. watts <= 0 or NaN is ignored. Any goroutine.
func (d *Dispatcher) SetPower(device int, watts float64) {
	if !(watts > 0) || math.IsInf(watts, 0) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if device < 0 || device >= len(d.devs) {
		return
	}
	d.devs[device].info.Watts = watts
}

// EnergyPerByte returns the model's joules per byte for (kernel, device), or 0 when it has no
// sample. Any goroutine; for tests and `veda explain`.
func (d *Dispatcher) EnergyPerByte(kernel string, device int) float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	km := d.model.kernel(kernel)
	if km.energy.jpb == nil || device < 0 || device >= len(km.energy.jpb) {
		return 0
	}
	return km.energy.jpb[device]
}
