package dispatch

// AdaptiveThroughput scores each candidate as its EMA of measured throughput
// (alpha 0.1) divided by (queue depth + 1), and picks the highest score. A
// device that has never been measured scores highest, so every device is
// measured once. The zero value is ready to use.
type AdaptiveThroughput struct{}

// Name returns "adaptive-throughput".
func (*AdaptiveThroughput) Name() string { return NameAdaptiveThroughput }

// Choose is O(len(cands)).
func (*AdaptiveThroughput) Choose(_ *Request, cands []Candidate) Choice {
	best, bestScore := 0, -1.0
	for i := range cands {
		c := &cands[i]
		if c.EMAThroughput <= 0 {
			if c.QueueDepth == 0 {
				return Choice{Device: c.Device, Reason: ReasonExploration}
			}
			continue
		}
		s := c.EMAThroughput / float64(c.QueueDepth+1)
		if s > bestScore {
			best, bestScore = i, s
		}
	}
	return Choice{Device: cands[best].Device, Reason: ReasonAdaptive}
}
