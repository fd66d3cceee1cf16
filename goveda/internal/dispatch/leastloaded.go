package dispatch

// LeastLoaded sends each call to the candidate with the fewest queued calls,
// breaking ties by fewest queued bytes, then by lowest index. An idle device
// is therefore always preferred. The zero value is ready to use.
type LeastLoaded struct{}

// Name returns "least-loaded".
func (*LeastLoaded) Name() string { return NameLeastLoaded }

// Choose is O(len(cands)).
func (*LeastLoaded) Choose(_ *Request, cands []Candidate) Choice {
	best := 0
	for i := 1; i < len(cands); i++ {
		c, b := &cands[i], &cands[best]
		if c.QueueDepth < b.QueueDepth || (c.QueueDepth == b.QueueDepth && c.QueuedBytes < b.QueuedBytes) {
			best = i
		}
	}
	return Choice{Device: cands[best].Device, Reason: ReasonLeastLoaded}
}
