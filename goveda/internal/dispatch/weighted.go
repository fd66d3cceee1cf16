package dispatch

// WeightedCapacity spreads calls in proportion to a static weight per device
// (DeviceInfo.Weight). A device without a static weight uses its measured
// peak throughput; a device with neither counts as weight 1 (so before any
// measurement the split is even). It uses smooth weighted round robin
// (nginx's algorithm), so the sequence is deterministic and interleaved.
// The zero value is ready to use.
type WeightedCapacity struct {
	current map[int]float64 // guarded by the Dispatcher's lock
}

// Name returns "weighted-capacity".
func (*WeightedCapacity) Name() string { return NameWeightedCapacity }

func capacityWeight(c *Candidate) float64 {
	switch {
	case c.Weight > 0:
		return c.Weight
	case c.PeakThroughput > 0:
		return c.PeakThroughput
	}
	return 1
}

// Choose is O(len(cands)).
func (w *WeightedCapacity) Choose(_ *Request, cands []Candidate) Choice {
	if w.current == nil {
		w.current = make(map[int]float64)
	}
	// Mixed measured/unmeasured weights would compare bytes/s with 1: use 1
	// for everyone until every candidate without a static weight is measured.
	allKnown := true
	for i := range cands {
		if cands[i].Weight <= 0 && cands[i].PeakThroughput <= 0 {
			allKnown = false
		}
	}
	total, best, bestCur := 0.0, -1, 0.0
	for i := range cands {
		wt := 1.0
		if allKnown {
			wt = capacityWeight(&cands[i])
		}
		total += wt
		cur := w.current[cands[i].Device] + wt
		w.current[cands[i].Device] = cur
		if best < 0 || cur > bestCur {
			best, bestCur = i, cur
		}
	}
	w.current[cands[best].Device] -= total
	return Choice{Device: cands[best].Device, Reason: ReasonWeighted}
}
