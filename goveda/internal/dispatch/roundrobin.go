package dispatch

// RoundRobin sends calls to the candidates in strict order, ignoring load and
// speed. The zero value is ready to use.
type RoundRobin struct {
	next uint64 // guarded by the Dispatcher's lock (Choose is serialized)
}

// Name returns "round-robin".
func (*RoundRobin) Name() string { return NameRoundRobin }

// Choose picks candidate (n mod len(cands)) for the n-th call. Cost O(1).
func (r *RoundRobin) Choose(_ *Request, cands []Candidate) Choice {
	c := cands[r.next%uint64(len(cands))]
	r.next++
	return Choice{Device: c.Device, Reason: ReasonRoundRobin}
}
