package dispatch

import (
	"encoding/json"
	"time"
)

// DefaultRingSize is the decisions ring's default capacity.
const DefaultRingSize = 1024

// decisionRing is a bounded ring of recorded decisions, guarded by
// Dispatcher.mu. Pushing copies one Decision into a preallocated slot: no
// allocation, a few tens of ns (see BenchmarkChooseRecording).
type decisionRing struct {
	buf   []Decision
	next  int
	count int
}

func (r *decisionRing) init(n int) {
	if n <= 0 {
		n = DefaultRingSize
	}
	r.buf = make([]Decision, n)
}

func (r *decisionRing) push(d *Decision) {
	r.buf[r.next] = *d
	r.next = (r.next + 1) % len(r.buf)
	if r.count < len(r.buf) {
		r.count++
	}
}

// Decisions returns the recorded decisions, oldest first (at most the ring's
// capacity). Any goroutine; takes the lock and copies the ring.
func (d *Dispatcher) Decisions() []Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := &d.ring
	out := make([]Decision, 0, r.count)
	start := (r.next - r.count + len(r.buf)) % len(r.buf)
	for i := 0; i < r.count; i++ {
		out = append(out, r.buf[(start+i)%len(r.buf)])
	}
	return out
}

// ClearDecisions empties the ring. Any goroutine.
func (d *Dispatcher) ClearDecisions() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ring.next, d.ring.count = 0, 0
}

type decisionJSON struct {
	Seq           uint64              `json:"seq"`
	UnixNano      int64               `json:"unix_nano"`
	Kernel        string              `json:"kernel"`
	Bytes         uint64              `json:"bytes"`
	Elements      uint64              `json:"elements"`
	TransferBytes uint64              `json:"transfer_bytes"`
	Device        int                 `json:"device"`
	Kind          string              `json:"kind"`
	Reason        string              `json:"reason"`
	EstimateNs    time.Duration       `json:"estimate_ns"`
	Candidates    []CandidateEstimate `json:"candidates"`
}

// MarshalJSON encodes the decision with snake_case keys; durations are
// integer nanoseconds (keys ending in _ns) and kinds are "cpu", "opencl",
// "cuda" in the decision and integers in candidates.
func (d Decision) MarshalJSON() ([]byte, error) {
	c := d.Candidates()
	if c == nil {
		c = []CandidateEstimate{}
	}
	return json.Marshal(decisionJSON{Seq: d.Seq, UnixNano: d.UnixNano, Kernel: d.Kernel, Bytes: d.Bytes,
		Elements: d.Elements, TransferBytes: d.TransferBytes, Device: d.Device, Kind: d.Kind.String(),
		Reason: d.Reason, EstimateNs: d.Estimate, Candidates: c})
}

// DecisionsJSON returns Decisions() as a JSON array (for the C
// veda_decisions_json and Python rt.decisions()). Any goroutine.
func (d *Dispatcher) DecisionsJSON() ([]byte, error) {
	ds := d.Decisions()
	if ds == nil {
		ds = []Decision{} // "[]", never "null": the result is always a JSON array
	}
	return json.Marshal(ds)
}
