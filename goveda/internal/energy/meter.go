package energy

import (
	"sync"
	"time"
)

// Channel is one energy figure the Meter follows: a device's cumulative joules.
type Channel struct {
	// Device is the runtime device index (0 = the CPU), or -1 for a GPU the runtime does not use.
	Device int
	Name   string
	Kind   string // "cpu", "cuda", "opencl"
	Source Source
	// Basis explains the figure ("package-0, package-1 (whole packages, all processes)",
	// "busy time x 12.5 W per CPU (default ...)").
	Basis string
	// Read returns the joules since some fixed origin (the Meter subtracts its first reading,
	// unless FromZero); ok false when it could not be read this time.
	Read func() (joules float64, ok bool)
	// FromZero: Read already counts from the start of what is measured (an estimate from busy
	// time since the runtime started), so no origin is subtracted.
	FromZero bool
}

// ChannelReading is one channel's figures at a Meter reading.
type ChannelReading struct {
	Device int     `json:"device"`
	Name   string  `json:"name"`
	Kind   string  `json:"kind"`
	Source Source  `json:"source"`
	Basis  string  `json:"basis"`
	Joules float64 `json:"joules"`
	// AverageWatts is Joules / the seconds since the meter started.
	AverageWatts float64 `json:"average_watts"`
	// RecentWatts is the power over the last Tick interval (Tick readings only).
	RecentWatts float64 `json:"recent_watts"`
	// Readable is false when the last read failed (Joules is then the last good figure).
	Readable bool `json:"readable"`
}

// Snapshot is a Meter reading.
type Snapshot struct {
	Seconds      float64          `json:"seconds"`
	Channels     []ChannelReading `json:"channels"`
	TotalJoules  float64          `json:"total_joules"`
	AverageWatts float64          `json:"average_watts"`
	// RecentWatts: the total power over the last Tick interval; RecentOK false when no channel
	// could be read.
	RecentWatts float64 `json:"recent_watts"`
	RecentOK    bool    `json:"recent_ok"`
	// Estimated is true when any figure is an estimate.
	Estimated bool `json:"estimated"`
}

type chanState struct {
	Channel
	origin  float64 // first reading
	joules  float64 // last good reading - origin
	ok      bool
	tickJ   float64 // joules at the previous Tick
	recentW float64
	started bool
}

// Meter follows a set of channels from its creation. Any goroutine (a mutex serialises reads).
type Meter struct {
	// Refresh, when set before the first read, runs at the start of every reading, before the
	// channels are read (a shared sample of several channels, such as one NVML sample of all
	// GPUs). Guarded by mu.
	Refresh func()

	mu    sync.Mutex
	start time.Time
	tickT time.Time
	chans []*chanState
	now   func() time.Time
}

// NewMeter starts following chans: it takes their first reading as the origin.
func NewMeter(chans []Channel) *Meter { return newMeterClock(chans, time.Now) }

// NewMeterClock is NewMeter on the clock now (tests drive a virtual clock in step with fake
// counters).
func NewMeterClock(chans []Channel, now func() time.Time) *Meter { return newMeterClock(chans, now) }

func newMeterClock(chans []Channel, now func() time.Time) *Meter {
	m := &Meter{now: now}
	m.start = now()
	m.tickT = m.start
	for _, c := range chans {
		m.chans = append(m.chans, newChanState(c))
	}
	return m
}

// Read returns the figures since the meter started without moving the Tick window.
func (m *Meter) Read() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read(false)
}

// Tick reads like Read and also measures the power over the interval since the previous Tick
// (RecentWatts). The governor calls it once per tick.
func (m *Meter) Tick() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read(true)
}

func (m *Meter) read(tick bool) Snapshot {
	if m.Refresh != nil {
		m.Refresh()
	}
	// Read every channel first, then take the time: counters are read as close as possible to
	// the timestamp the interval ends at.
	js := make([]float64, len(m.chans))
	oks := make([]bool, len(m.chans))
	for i, c := range m.chans {
		js[i], oks[i] = c.Read()
	}
	now := m.now()
	secs := now.Sub(m.start).Seconds()
	dt := now.Sub(m.tickT).Seconds()
	var s Snapshot
	s.Seconds = secs
	for i, c := range m.chans {
		j, ok := js[i], oks[i]
		if ok {
			if !c.started {
				c.origin, c.started = j, true
			}
			c.joules = j - c.origin
		}
		c.ok = ok
		if tick {
			if ok && dt > 0 {
				c.recentW = (c.joules - c.tickJ) / dt
				s.RecentOK = true
			}
			c.tickJ = c.joules
		}
		r := ChannelReading{Device: c.Device, Name: c.Name, Kind: c.Kind, Source: c.Source, Basis: c.Basis,
			Joules: c.joules, RecentWatts: c.recentW, Readable: ok}
		if secs > 0 {
			r.AverageWatts = c.joules / secs
		}
		if c.Source == SourceEstimated {
			s.Estimated = true
		}
		s.TotalJoules += r.Joules
		s.RecentWatts += r.RecentWatts
		s.Channels = append(s.Channels, r)
	}
	if tick {
		m.tickT = now
	}
	if secs > 0 {
		s.AverageWatts = s.TotalJoules / secs
	}
	return s
}

// Add starts following one more channel (its first reading is its origin). Any goroutine.
func (m *Meter) Add(c Channel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := newChanState(c)
	s.tickJ = s.joules // the next Tick measures from now
	m.chans = append(m.chans, s)
}

func newChanState(c Channel) *chanState {
	s := &chanState{Channel: c}
	if c.FromZero {
		s.started = true
	}
	if j, ok := c.Read(); ok {
		if !s.started {
			s.origin, s.started = j, true
		}
		s.joules, s.ok = j-s.origin, true
	}
	return s
}
