package sched

// Admission: the one rule by which work enters the pool, and by which Close knows when it may
// stop the workers.
//
//   - A unit of work is admitted by Enter (or EnterHeld) and ends with Exit (or ExitHeld).
//     Close sets closed, then waits until the admitted count is zero, then stops the workers.
//   - After Close, Enter refuses new outside work, but admits work started by work that is
//     already admitted: calls from a task of the pool (the task's own root is in flight), and
//     calls from a goroutine that holds an admission (EnterHeld: a kernel call whose CPU path
//     runs a ParallelFor, a DistributeFrames device runner calling Device methods).
//   - So every admitted call runs to completion, Close returns only after all of them, and a
//     call that Close refuses gets ErrClosed before it did anything.

// Enter admits one unit of work and reports true, or reports false after Close when the caller
// is neither a task of p nor a goroutine holding an admission (see the rule above). Every true
// must be matched by one Exit. Any goroutine. Cost: one atomic add and one load; the goroutine
// checks run only after Close.
func (p *Pool) Enter() bool {
	// add then load (seq-cst): Close stores closed then loads inflight, so either Close sees
	// our increment and waits for it, or we see closed and check whether we may stay.
	p.inflight.Add(1)
	if p.closed.Load() && !p.nested() {
		p.Exit()
		return false
	}
	return true
}

// nested reports whether the caller is a task of p or holds an admission (EnterHeld). Any
// goroutine; the slow path of Enter.
func (p *Pool) nested() bool {
	if p.Current() != nil {
		return true
	}
	g := getg()
	p.holdMu.Lock()
	n := p.holders[g]
	p.holdMu.Unlock()
	return n > 0
}

// EnterNested admits one unit of work started by a task of p, even after Close: the task itself
// is in flight, so Close cannot have finished draining. Caller: a task of p only. Match it with
// one Exit.
func (p *Pool) EnterNested() {
	p.inflight.Add(1) // add (seq-cst): see Enter
}

// Exit ends one unit admitted by Enter or EnterNested. Any goroutine.
func (p *Pool) Exit() {
	// add (seq-cst): the last exit after Close leaves a token for shutdown.
	if p.inflight.Add(-1) == 0 && p.closed.Load() {
		select {
		case p.drained <- struct{}{}:
		default:
		}
	}
}

// EnterHeld is Enter for a unit of work that runs on the calling goroutine and may start more
// work: while it is held, the goroutine's further Enter calls are admitted even after Close.
// Match a true with one ExitHeld on the same goroutine. Cost: Enter plus a map update under a
// mutex (tens of ns), for calls that cost microseconds (kernel calls, device runners).
func (p *Pool) EnterHeld() bool {
	if !p.Enter() {
		return false
	}
	g := getg()
	p.holdMu.Lock()
	p.holders[g]++
	p.holdMu.Unlock()
	return true
}

// ExitHeld ends a unit admitted by EnterHeld. The goroutine that called EnterHeld only.
func (p *Pool) ExitHeld() {
	g := getg()
	p.holdMu.Lock()
	if p.holders[g]--; p.holders[g] <= 0 {
		delete(p.holders, g)
	}
	p.holdMu.Unlock()
	p.Exit()
}

// AdoptHeld marks the calling goroutine as holding an admission that its parent already holds:
// for a goroutine started by an admitted unit (EnterHeld) that waits for it before it ends, as
// DistributeFrames waits for its device runners. Always admits. Match it with one ExitHeld on
// the same goroutine.
func (p *Pool) AdoptHeld() {
	p.EnterNested()
	g := getg()
	p.holdMu.Lock()
	p.holders[g]++
	p.holdMu.Unlock()
}
