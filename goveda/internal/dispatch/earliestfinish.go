package dispatch

// DefaultGPUThreshold is the seed rule's size threshold: until the cost model
// is calibrated, calls of at least this many bytes go to a GPU, smaller ones
// to the CPU.
const DefaultGPUThreshold = 8 << 20

// EarliestFinishConfig tunes EarliestFinish. Zero fields take the defaults.
type EarliestFinishConfig struct {
	// GPUThreshold is the seed rule's threshold in bytes (default 8 MiB).
	GPUThreshold uint64
	// SpillDepth is the CPU queue depth at which the CPU counts as
	// saturated during calibration, so small work may spill to an idle GPU
	// (default 2).
	SpillDepth int
	// CalibrateEvery: while some candidate lacks trusted samples in the
	// request's size bucket, every CalibrateEvery-th call of that (kernel,
	// bucket) measures it (default 4).
	CalibrateEvery uint64
	// ExploreEvery: once calibrated, every ExploreEvery-th call of a
	// (kernel, bucket) re-measures the device measured least recently, if it
	// was not measured in the last ExploreEvery calls (default 64; a
	// negative-equivalent of "never" is ^uint64(0)).
	ExploreEvery uint64
	// HostExploreEvery: a device on the host's own cores (HostCores) is
	// explored on at most one call in HostExploreEvery of the others'
	// exploration rate (default 8).
	HostExploreEvery uint64
	// EnergyWeight is how many seconds of finish time one joule is worth (StarPU's gamma):
	// the strategy minimises Finish + EnergyWeight x Energy. 0 (default) ignores energy.
	EnergyWeight float64
}

// EarliestFinish is the default strategy (StarPU's dmda idea): it sends each
// call to the candidate with the smallest Backlog + Transfer + Compute, where
// Compute comes from the measured history of (kernel, device, size bucket).
// Until every candidate has an estimate it applies the seed rule
// ("calibrating: threshold") while measuring the unmeasured devices
// ("exploration"); small work spills to an idle GPU when the CPU is
// saturated ("spillover").
type EarliestFinish struct {
	cfg EarliestFinishConfig
}

// NewEarliestFinish returns the strategy with cfg's zero fields defaulted.
func NewEarliestFinish(cfg EarliestFinishConfig) *EarliestFinish {
	if cfg.GPUThreshold == 0 {
		cfg.GPUThreshold = DefaultGPUThreshold
	}
	if cfg.SpillDepth <= 0 {
		cfg.SpillDepth = 2
	}
	if cfg.CalibrateEvery == 0 {
		cfg.CalibrateEvery = 4
	}
	if cfg.ExploreEvery == 0 {
		cfg.ExploreEvery = 64
	}
	if cfg.HostExploreEvery == 0 {
		cfg.HostExploreEvery = 8
	}
	return &EarliestFinish{cfg: cfg}
}

// Config returns the effective configuration.
func (e *EarliestFinish) Config() EarliestFinishConfig { return e.cfg }

// Name returns "earliest-finish".
func (*EarliestFinish) Name() string { return NameEarliestFinish }

// Choose is O(len(cands)) and allocation-free.
func (e *EarliestFinish) Choose(req *Request, cands []Candidate) Choice {
	calibrated, allTrusted := true, true
	for i := range cands {
		if !cands[i].HasEstimate {
			calibrated = false
		}
		if !cands[i].Trusted {
			allTrusted = false
		}
	}
	if !calibrated {
		// Every other call measures a device the model knows nothing about
		// for this kernel (fewest samples first). A device on the host's own
		// cores is measured only on one call in HostExploreEvery, and only
		// below the threshold size: a first call there costs the CPU pool.
		if req.KeySeq%2 == 1 {
			t := -1
			for i := range cands {
				c := &cands[i]
				if c.HasEstimate || (c.HostCores && !e.hostExplore(req)) {
					continue
				}
				if t < 0 || c.Samples < cands[t].Samples ||
					c.Samples == cands[t].Samples && c.QueueDepth < cands[t].QueueDepth {
					t = i
				}
			}
			if t >= 0 {
				return Choice{Device: cands[t].Device, Reason: ReasonExploration}
			}
		}
		return e.seedRule(req, cands)
	}
	best, bestLocal := 0, 0
	for i := 1; i < len(cands); i++ {
		if cands[i].Finish < cands[best].Finish {
			best = i
		}

		if cands[i].Transfer+cands[i].Compute < cands[bestLocal].Transfer+cands[bestLocal].Compute {
			bestLocal = i
		}
	}
	every := e.cfg.ExploreEvery
	if !allTrusted {
		every = e.cfg.CalibrateEvery
	}
	if req.KeySeq%every == every-1 {
		t := leastMeasured(cands, every, !allTrusted)
		if t >= 0 && t != best {
			// Calibrating a bucket that other buckets already show to be far
			// slower on that device is not worth the call every time: a device
			// estimated r times slower than the best is re-measured only after
			// r*ExploreEvery decisions of the bucket without a sample of it,
			// so exploration costs about 1/ExploreEvery of the work whatever
			// r is, and a device that was slow once is still re-measured.
			local := float64(cands[bestLocal].Transfer + cands[bestLocal].Compute)
			ratio := float64(cands[t].Transfer+cands[t].Compute) / max(local, 1)
			// A candidate with samples of its own in this bucket, too few to be trusted,
			// is measured again whatever its estimate: one outlier (a page-fault storm,
			// a GC pause) must not keep a device away from a bucket for good.
			hostOK := !cands[t].HostCores || cands[t].SinceSample >= e.cfg.HostExploreEvery*every
			// Calibrated: a device whose last re-measurement found it far slower than the best
			// waits min(r, exploreBackoff) times longer for the next one (r: that sample's time
			// over the best estimate). Each exploration of a device r times slower costs r calls'
			// worth of work; at a fixed interval that was r/ExploreEvery of it (measured: PoCL,
			// ~40x slower than the CPU on 1 MiB items and on the same cores, re-measured every
			// 512 calls, cost a CPU-only hybrid pipeline 6-10%). A fast last sample restores the
			// plain interval, so a device that was slow while warming up is back within one
			// backed-off interval and a few plain ones.
			backOK := true
			if allTrusted && cands[t].LastCompute > 0 {
				last := float64(cands[t].Transfer+cands[t].LastCompute) / max(local, 1)
				backOK = last <= 2 || float64(cands[t].SinceSample) >= min(last, exploreBackoff)*float64(every)*hostFactor(&cands[t], e.cfg.HostExploreEvery)
			}
			if hostOK && backOK && (allTrusted || cands[t].Trusted || cands[t].Samples > 0 || ratio <= 2 ||
				float64(cands[t].SinceSample) >= min(ratio, 1<<20)*float64(e.cfg.ExploreEvery)) {
				return Choice{Device: cands[t].Device, Reason: ReasonExploration}
			}
		}
	}
	if e.cfg.EnergyWeight > 0 {
		if eb := e.energyBest(cands); eb != best {
			return Choice{Device: cands[eb].Device, Reason: ReasonEnergy}
		}
	}
	if cands[best].Kind != KindCPU && cands[bestLocal].Kind == KindCPU && req.Bytes < e.cfg.GPUThreshold {
		return Choice{Device: cands[best].Device, Reason: ReasonSpillover}
	}
	return Choice{Device: cands[best].Device, Reason: ReasonEarliestFinish}
}

// exploreBackoff caps how many times longer than ExploreEvery a calibrated device found slow at
// its last re-measurement waits for the next one.
const exploreBackoff = 8

// hostFactor is the interval factor of a HostCores device (HostExploreEvery), else 1.
func hostFactor(c *Candidate, hostEvery uint64) float64 {
	if c.HostCores {
		return float64(hostEvery)
	}
	return 1
}

// leastMeasured returns the candidate to (re-)measure: an untrusted one first
// (when untrustedFirst), else the one measured least recently, provided it
// was not measured in the last minSince calls; -1 if none qualifies.
func leastMeasured(cands []Candidate, minSince uint64, untrustedFirst bool) int {
	t := -1
	for i := range cands {
		c := &cands[i]
		if untrustedFirst && !c.Trusted {
			if t < 0 || cands[t].Trusted || c.Samples < cands[t].Samples {
				t = i
			}
			continue
		}
		if t >= 0 && untrustedFirst && !cands[t].Trusted {
			continue
		}
		if c.SinceSample >= minSince && (t < 0 || c.SinceSample > cands[t].SinceSample) {
			t = i
		}
	}
	return t
}

// hostExplore reports whether an uncalibrated call may explore a HostCores
// device: one call in HostExploreEvery of the (kernel, bucket), below the
// threshold size.
func (e *EarliestFinish) hostExplore(req *Request) bool {
	return req.Bytes < e.cfg.GPUThreshold && (req.KeySeq/2)%e.cfg.HostExploreEvery == 0
}

// seedRule applies the threshold rule: big work to the least-backlogged GPU,
// small work to the CPU, unless the CPU is saturated and a GPU idles. A
// device on the host's own cores never gets a call from it.
func (e *EarliestFinish) seedRule(req *Request, cands []Candidate) Choice {
	cpu, gpu, idleGPU := -1, -1, -1
	hasCPU := false
	for i := range cands {
		hasCPU = hasCPU || cands[i].Kind == KindCPU
	}
	for i := range cands {
		c := &cands[i]
		if c.Kind == KindCPU {
			if cpu < 0 || c.Backlog < cands[cpu].Backlog {
				cpu = i
			}
			continue
		}
		if c.HostCores && hasCPU {
			continue
		}
		if gpu < 0 || c.QueueDepth < cands[gpu].QueueDepth {
			gpu = i
		}
		if c.QueueDepth == 0 && idleGPU < 0 {
			idleGPU = i
		}
	}
	switch {
	case req.Bytes >= e.cfg.GPUThreshold && gpu >= 0:
		return Choice{Device: cands[gpu].Device, Reason: ReasonCalibrating}
	case cpu >= 0 && cands[cpu].QueueDepth >= e.cfg.SpillDepth && idleGPU >= 0:
		return Choice{Device: cands[idleGPU].Device, Reason: ReasonSpillover}
	case cpu >= 0:
		return Choice{Device: cands[cpu].Device, Reason: ReasonCalibrating}
	}
	return Choice{Device: cands[gpu].Device, Reason: ReasonCalibrating}
}

// energyBest returns the candidate with the smallest Finish + EnergyWeight x Energy (a
// candidate of unknown energy is charged nothing extra).
func (e *EarliestFinish) energyBest(cands []Candidate) int {
	best, bestScore := -1, 0.0
	for i := range cands {
		c := &cands[i]
		score := c.Finish.Seconds()
		if c.HasEnergy {
			score += e.cfg.EnergyWeight * c.Energy
		}
		if best < 0 || score < bestScore {
			best, bestScore = i, score
		}
	}
	return best
}
