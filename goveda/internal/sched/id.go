package sched

// ID returns w's index in its pool, 0..Workers-1. Any goroutine.
func (w *Worker) ID() int { return w.id }
