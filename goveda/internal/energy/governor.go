package energy

import (
	"fmt"
	"math"
)

// Limits are the energy policy's budgets (0 = none).
type Limits struct {
	MaxWatts float64
	MaxTempC float64
}

// Validate reports a limit that is negative or NaN (a temperature limit below 0 °C included).
func (l Limits) Validate() error {
	if l.MaxWatts < 0 || math.IsNaN(l.MaxWatts) || math.IsInf(l.MaxWatts, 0) {
		return fmt.Errorf("MaxPowerWatts is %g, must be a finite number >= 0 (0: no budget)", l.MaxWatts)
	}
	if l.MaxTempC < 0 || math.IsNaN(l.MaxTempC) || math.IsInf(l.MaxTempC, 0) {
		return fmt.Errorf("MaxTempCelsius is %g, must be a finite number >= 0 °C (0: no limit)", l.MaxTempC)
	}
	return nil
}

// GovernorConfig tunes a Governor. Zero fields take the defaults.
type GovernorConfig struct {
	Limits
	// Workers is the pool size: the cap never exceeds it and never drops below 1.
	Workers int
	// TempMargin: the cap drops from MaxTempC - TempMargin on (default 5 °C, "near the limit").
	TempMargin float64
	// Hysteresis: the cap rises only while power stays below Hysteresis x MaxWatts and the
	// temperature below MaxTempC - 2 x TempMargin (default 0.85).
	Hysteresis float64
	// RaiseTicks: that many calm ticks in a row before one more worker (default 3).
	RaiseTicks int
}

// Input is one tick's readings.
type Input struct {
	Watts   float64 // total power over the last tick
	WattsOK bool
	TempC   float64 // hottest sensor
	TempOK  bool
	// Throttled names a device the hardware is slowing down for heat (NVML's thermal
	// throttle reasons), or is empty; with a temperature limit it counts as being at the limit.
	Throttled string
}

// Verdict is the governor's answer for one tick.
type Verdict struct {
	Cap     int
	Changed bool
	// Reason says why the cap changed, or why it holds ("power 61 W > budget 50 W").
	Reason string
}

// Governor decides the cap on active workers from power and temperature. One goroutine at a
// time (the runtime's energy ticker).
type Governor struct {
	cfg    GovernorConfig
	cap    int
	calm   int
	settle bool // the last tick cut the cap: its reading predates the cut, so hold once
}

// NewGovernor returns a governor whose cap starts at cfg.Workers.
func NewGovernor(cfg GovernorConfig) *Governor {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.TempMargin <= 0 {
		cfg.TempMargin = 5
	}
	if cfg.Hysteresis <= 0 || cfg.Hysteresis >= 1 {
		cfg.Hysteresis = 0.85
	}
	if cfg.RaiseTicks <= 0 {
		cfg.RaiseTicks = 3
	}
	return &Governor{cfg: cfg, cap: cfg.Workers}
}

// Cap returns the current cap.
func (g *Governor) Cap() int { return g.cap }

// Step takes one tick's readings and returns the new cap. Above the power budget the cap drops
// in proportion (cap x budget / power, at least one worker less), so a budget is met within one
// or two ticks; from MaxTempC - TempMargin on it drops by one (by half at the limit itself).
// The tick after a cut holds (its reading may predate the cut). It
// rises by one only after RaiseTicks calm ticks, and only if one more worker's share of the
// current power still fits the budget. Unreadable sensors hold the cap.
func (g *Governor) Step(in Input) Verdict {
	c := g.cfg
	if g.settle {
		// The workers follow a cut at the monitor's next tick, so this reading may still show
		// the load from before it; cutting again would overshoot.
		g.settle = false
		return Verdict{Cap: g.cap, Reason: "settling after the cut"}
	}
	hot := c.MaxTempC > 0 && in.TempOK && in.TempC >= c.MaxTempC-c.TempMargin
	throttled := c.MaxTempC > 0 && in.Throttled != ""
	hot = hot || throttled
	over := c.MaxWatts > 0 && in.WattsOK && in.Watts > c.MaxWatts
	switch {
	case over && g.cap > 1:
		g.calm = 0
		target := int(math.Floor(float64(g.cap) * c.MaxWatts / in.Watts))
		target = max(1, min(target, g.cap-1))
		return g.set(target, fmt.Sprintf("power %.0f W > budget %.0f W", in.Watts, c.MaxWatts))
	case hot && g.cap > 1:
		g.calm = 0
		target := g.cap - 1
		why := fmt.Sprintf("temperature %.0f °C within %.0f °C of the limit %.0f °C", in.TempC, c.TempMargin, c.MaxTempC)
		switch {
		case in.TempOK && in.TempC >= c.MaxTempC:
			target = max(1, g.cap/2)
			why = fmt.Sprintf("temperature %.0f °C >= limit %.0f °C", in.TempC, c.MaxTempC)
		case throttled && !(in.TempOK && in.TempC >= c.MaxTempC-c.TempMargin):
			why = "thermal throttling: " + in.Throttled
		}
		return g.set(target, why)
	case over || hot:
		g.calm = 0
		return Verdict{Cap: g.cap, Reason: "at the minimum of 1 worker"}
	case g.cap >= c.Workers:
		g.calm = 0
		return Verdict{Cap: g.cap}
	}
	if c.MaxWatts > 0 && !in.WattsOK || c.MaxTempC > 0 && !in.TempOK {
		return Verdict{Cap: g.cap, Reason: "no reading: holding"}
	}
	calmPower := c.MaxWatts == 0 || in.Watts < c.Hysteresis*c.MaxWatts && in.Watts*float64(g.cap+1)/float64(g.cap) <= c.MaxWatts
	calmTemp := c.MaxTempC == 0 || in.TempC < c.MaxTempC-2*c.TempMargin && in.Throttled == ""
	if !calmPower || !calmTemp {
		g.calm = 0
		return Verdict{Cap: g.cap, Reason: "within the hysteresis band: holding"}
	}
	g.calm++
	if g.calm < c.RaiseTicks {
		return Verdict{Cap: g.cap}
	}
	g.calm = 0
	var why string
	switch {
	case c.MaxWatts > 0 && c.MaxTempC > 0:
		why = fmt.Sprintf("power %.0f W < %.0f%% of budget %.0f W and temperature %.0f °C < %.0f °C for %d ticks",
			in.Watts, 100*c.Hysteresis, c.MaxWatts, in.TempC, c.MaxTempC-2*c.TempMargin, c.RaiseTicks)
	case c.MaxWatts > 0:
		why = fmt.Sprintf("power %.0f W < %.0f%% of budget %.0f W for %d ticks", in.Watts, 100*c.Hysteresis, c.MaxWatts, c.RaiseTicks)
	default:
		why = fmt.Sprintf("temperature %.0f °C < %.0f °C for %d ticks", in.TempC, c.MaxTempC-2*c.TempMargin, c.RaiseTicks)
	}
	return g.set(g.cap+1, why)
}

func (g *Governor) set(n int, why string) Verdict {
	old := g.cap
	g.cap = n
	g.settle = n < old
	return Verdict{Cap: n, Changed: n != old, Reason: why}
}
