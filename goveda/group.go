package goveda

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// Group is a reusable set of tasks waited for together: the task group of TBB (task_group) or of
// C's veda_group_*. Unlike a Scope, a Group is not tied to one call: tasks may be spawned into it
// from any goroutine at any time, Wait may be called again and again, and a Spawn that races a
// Wait is always safe (it lands in that Wait or in a later one, never in a finished one).
//
// Protocol. The tasks of a group are counted in rounds (groupRound). The open round is the one
// new spawns join; it finishes when its count of unfinished tasks falls to 0, and a finished round
// never counts up again (tryAdd refuses 0), so a spawn that finds the open round finished starts a
// new one. Hence at any moment g.round is nil, a finished round, or the only unfinished round, and
// every task spawned before a Wait loads g.round is counted by that round or by one that already
// finished. Nested spawns (from a task of the group, while it runs) keep their round open, so Wait
// covers them too.
//
// All methods may be called from any goroutine; several goroutines may Wait at once (each waits
// for the round it found, and the first error goes to one of them).
//
// Cost. The first round lives inside the Group (r0), so a group used for one round (create,
// spawns, Wait, Close: the group-per-call pattern) allocates the Group and one job per spawn,
// nothing else; the channel for waiters outside the pool is made only when such a waiter comes.
type Group struct {
	rt *Runtime
	// round: the open round, a finished one, or nil. CAS from a finished round (or nil) to a new
	// one in Spawn; CAS from a finished round to nil in Wait. Loads are seq-cst.
	round atomic.Pointer[groupRound]
	// firstErr: the first error of a task since the last Wait that reported one. CAS nil -> box
	// in a task; Swap(nil) in Wait.
	firstErr atomic.Pointer[groupErr]
	// state: groupClosed (Close was called; later spawns fail) | the number of spawns between
	// their closed check and joining a round. One seq-cst add in Spawn both counts the spawn
	// and reads the closed bit; Close sets the bit with a seq-cst Or, so either Close sees the
	// spawn counted (and waits for it to join) or the spawn sees the bit (and fails).
	state atomic.Int64
	// r0used: r0 was taken as a round. CAS false -> true in join, by the spawn that opens it.
	r0used atomic.Bool
	r0     groupRound // the first round, without an allocation (see join)
}

// groupClosed is the closed bit of Group.state.
const groupClosed = 1 << 62

// groupRound is one round of a Group's tasks (see Group).
type groupRound struct {
	// pending: tasks of the round not yet finished. Starts at 1 (the spawn that opens the round);
	// seq-cst CAS in tryAdd, add in done. Never incremented from 0.
	pending atomic.Int64
	f       sched.Failure // stops the round's unstarted tasks after its first error
	l       sched.Latch   // set when pending reaches 0 (worker waiters)
	// ch: the outside waiters' channel, made by the first one (CAS nil -> new), closed when
	// pending reaches 0; done swaps in groupDoneCh (seq-cst), so a waiter that comes later finds
	// a closed channel.
	ch atomic.Pointer[chan struct{}]
}

// groupDoneCh is a closed channel: the ch of a round that finished.
var groupDoneCh = func() *chan struct{} { c := make(chan struct{}); close(c); return &c }()

// groupErr boxes a task's error for Group.firstErr.
type groupErr struct{ err error }

// tryAdd counts one more task in r, unless r already finished. Any goroutine.
func (r *groupRound) tryAdd() bool {
	for {
		// load then CAS (seq-cst): a round at 0 finished and must stay finished.
		p := r.pending.Load()
		if p == 0 {
			return false
		}
		if r.pending.CompareAndSwap(p, p+1) {
			return true
		}
	}
}

// done ends one task of r. Any goroutine.
func (r *groupRound) done() {
	// add (seq-cst, acq-rel): the task that brings pending to 0 saw the others' writes (each
	// decremented before it) and publishes them through the channel and the latch.
	if r.pending.Add(-1) == 0 {
		// swap (seq-cst): a waiter's CAS either came first (we close its channel) or fails and
		// it finds groupDoneCh.
		if c := r.ch.Swap(groupDoneCh); c != nil {
			close(*c)
		}
		r.l.Set()
	}
}

// waitOutside blocks until r finished. Outside goroutines (never a worker).
func (r *groupRound) waitOutside() {
	for {
		if c := r.ch.Load(); c != nil { // load (seq-cst): another waiter's channel or groupDoneCh
			<-*c
			return
		}
		c := make(chan struct{})
		if r.ch.CompareAndSwap(nil, &c) { // CAS (seq-cst): see done
			<-c
			return
		}
	}
}

// finished reports whether every task of r finished. Any goroutine; never spuriously true.
func (r *groupRound) finished() bool { return r.pending.Load() == 0 } // load-acquire: pairs with done

// groupJob is one task of a group: fn(arg), so that a caller with a fixed body (capi's C task)
// spawns without a closure.
type groupJob[T any] struct {
	t   sched.Task
	g   *Group
	r   *groupRound
	fn  func(T) error
	arg T
}

func (j *groupJob[T]) Run(w *sched.Worker) {
	g, r := j.g, j.r
	if !r.f.Stopped() {
		if err := callArg(g.rt.pool, j.fn, j.arg); err != nil {
			r.f.Fail(err)
			g.firstErr.CompareAndSwap(nil, &groupErr{err}) // CAS (seq-cst): the first error wins
		}
	}
	r.done()
	g.rt.exit()
	// Recycle j on w: nobody joins a group job, and the only later touches of j.t (execute's
	// Done.Set, the trace name) happen on w before w runs anything else, so before its next
	// Spawn can take j again (TakeFree in SpawnWith, which also resets Done).
	var zero T
	j.g, j.r, j.fn, j.arg = nil, nil, nil, zero
	w.PutFree(j)
}

// TraceName names the job's slice in a trace.
func (j *groupJob[T]) TraceName() string { return "group" }

// callThunk is Spawn's body for SpawnWith: a static function, so Spawn adds no closure.
func callThunk(fn func() error) error { return fn() }

// NewGroup returns an empty Group on rt. Any goroutine; cheap (one allocation).
func (rt *Runtime) NewGroup() *Group { return &Group{rt: rt} }

// Spawn starts fn as a task of the group, at PriorityNormal, and returns at once. Called from a
// task of the runtime, fn goes on that worker's deque (other workers may steal it at once, and a
// Wait on the same worker runs it); from any other goroutine it goes through the injector and
// starts as soon as a worker is free. A panic in fn becomes a *PanicError reported by Wait; after
// a task's error, tasks of the same round that have not started are skipped.
// Returns ErrClosed after Close or on a closed runtime, ErrInvalidArgument for a nil fn.
// Any goroutine, concurrently with Wait and Close. Cost: a few atomics and the deque push (from
// a task; the job comes from the worker's free list, where finished group jobs go) or one job
// allocation and an injector push (from outside).
func (g *Group) Spawn(fn func() error) error {
	if fn == nil {
		return invalidf("Group.Spawn: fn is nil")
	}
	return SpawnWith(g, callThunk, fn)
}

// SpawnWith is Spawn of fn(arg): the same rules, without a closure for callers whose body is a
// fixed function with an argument (a C task and its ctx). fn must not be nil.
func SpawnWith[T any](g *Group, fn func(T) error, arg T) error {
	if fn == nil {
		return invalidf("SpawnWith: fn is nil")
	}
	// add (seq-cst): counts this spawn and reads the closed bit at once; see Group.state.
	s := g.state.Add(1)
	defer g.state.Add(-1)
	if s&groupClosed != 0 {
		return fmt.Errorf("%w: Group.Spawn after the group's Close", ErrClosed)
	}
	rt := g.rt
	w := rt.current()
	if w != nil {
		rt.pool.EnterNested() // from a task: admitted even while the runtime closes
	} else if err := rt.enter(); err != nil {
		return err
	}
	r := g.join()
	var j *groupJob[T]
	if w != nil {
		if c := w.TakeFree(); c != nil { // a job that ran on w (see Run), or another kind's
			if j, _ = c.(*groupJob[T]); j == nil {
				w.PutFree(c) // another type's job: leave it for its own kind
			} else {
				j.t.Done.Reset()
			}
		}
	}
	if j == nil {
		j = &groupJob[T]{}
		j.t.Job = j
	}
	j.g, j.r, j.fn, j.arg = g, r, fn, arg
	if w != nil {
		w.Push(&j.t)
	} else {
		rt.pool.Inject(&j.t, int(PriorityNormal), 0)
	}
	return nil
}

// join counts one task in the open round, opening a new round if there is none. Any goroutine.
// The first round opened is g.r0 (no allocation); a round made but not published (lost CAS) is
// kept for the next try.
func (g *Group) join() *groupRound {
	var nr *groupRound
	for {
		cur := g.round.Load() // load (seq-cst)
		if cur != nil && cur.tryAdd() {
			return cur
		}
		if nr == nil {
			// CAS (seq-cst): r0 goes to one spawn, once in the group's life (a finished round's
			// late Set or channel close may still touch it, so it is never reset).
			if g.r0used.CompareAndSwap(false, true) {
				nr = &g.r0
			} else {
				nr = new(groupRound)
			}
		}
		nr.pending.Store(1) // this spawn's task; not yet visible to anyone
		// CAS (seq-cst): publishes nr; fails if another spawn opened a round (or Wait reset it)
		// since the load, and then we join that one.
		if g.round.CompareAndSwap(cur, nr) {
			return nr
		}
	}
}

// Wait blocks until every task spawned into g before the call (and every task those spawn into
// g while they run) has finished, then returns the first error of the tasks that finished since
// the previous Wait (a task's error as-is, a panic as *PanicError), or nil. Afterwards g is empty
// and may be reused. Called from a task, the worker runs other tasks (the group's among them)
// while it waits, so nested groups never deadlock; a task must not wait for its own group.
// Any goroutine.
func (g *Group) Wait() error {
	if r := g.round.Load(); r != nil { // load (seq-cst): the open round, or a finished one
		g.waitRound(r)
		g.round.CompareAndSwap(r, nil) // CAS (seq-cst): empty again, unless a spawn opened a new round
	}
	if b := g.firstErr.Swap(nil); b != nil { // swap (seq-cst): report each error once
		return b.err
	}
	return nil
}

// waitRound blocks until r finished, helping if called from a worker. Any goroutine.
func (g *Group) waitRound(r *groupRound) {
	if r.finished() {
		return
	}
	if w := g.rt.current(); w != nil {
		w.WaitUntil(&r.l, nil)
		return
	}
	g.rt.pool.WaitOutside(r.waitOutside) // an inline caller lends its slot meanwhile
}

// Close stops new spawns (they fail with ErrClosed), then waits as Wait does, also for spawns
// that raced Close, and returns Wait's error. Any goroutine; idempotent (a second Close waits
// again and returns nil).
func (g *Group) Close() error {
	g.state.Or(groupClosed) // or (seq-cst): pairs with SpawnWith's add; see Group.state
	for {
		if r := g.round.Load(); r != nil {
			g.waitRound(r)
		}
		// load (seq-cst): a spawn that missed the closed bit is counted here until it joined a
		// round, so once this is 0 (after the store) every such spawn's task is in g.round.
		if g.state.Load()&^groupClosed == 0 {
			if r := g.round.Load(); r == nil || r.finished() {
				break
			}
		} else {
			runtime.Gosched() // a racing spawn is between its check and its join: a few ns
		}
	}
	return g.Wait()
}
