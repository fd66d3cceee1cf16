package sched

// IdleWorkers returns how many workers are parked, searching for work, spinning in a wait with
// no work to help with, or waking up and waiting for an execution slot (inline.go) right now: a hint for callers that decide whether spawning
// more work can add parallelism (pipelines spawn an extra reader only when a worker is free to
// run it). Any goroutine; a snapshot, no ordering role.
func (p *Pool) IdleWorkers() int {
	// loads: snapshot only (Waiters may count an outside wait taking its slot back: a hint)
	return int(p.sleep.idle.Load() + p.sleep.searching.Load() + p.sleep.waiting.Load() + p.gate.Waiters.Load())
}
