package sched

// IdleWorkers returns how many workers are parked or searching for work right now: a hint for
// callers that decide whether spawning more work can add parallelism (pipelines spawn an extra
// reader only when a worker is free to run it). Any goroutine; a snapshot, no ordering role.
func (p *Pool) IdleWorkers() int {
	return int(p.sleep.idle.Load() + p.sleep.searching.Load()) // loads: snapshot only
}
