package sched

import (
	"sync"
	"sync/atomic"
)

// defaultAgingStep is the wait that promotes a queued task by one priority level: a task of level
// L is served before any task that arrived more than L*agingStep after it, so Background work
// waits at most 4*agingStep behind a stream of newer Realtime work and is never starved.
const defaultAgingStep = 5_000_000 // ns

// injEntry is one queued task with its ordering keys.
type injEntry struct {
	t        *Task
	deadline int64  // unix ns; 0 = none (sorts after every deadline within the level)
	enq      int64  // Pool.Now() at push, for aging and the latency histogram
	seq      uint64 // push order, the final tie-break (FIFO)
}

// before orders entries within one level: earliest deadline first, then FIFO.
func (a *injEntry) before(b *injEntry) bool {
	if (a.deadline != 0) != (b.deadline != 0) {
		return a.deadline != 0
	}
	if a.deadline != b.deadline {
		return a.deadline < b.deadline
	}
	return a.seq < b.seq
}

// levelHeap is a binary min-heap of entries ordered by before.
type levelHeap []injEntry

func (h *levelHeap) push(e injEntry) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].before(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *levelHeap) pop() injEntry {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = injEntry{}
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].before(&s[l]) {
			m = r
		}
		if !s[m].before(&s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// Levels is the number of priority levels the injector orders by: level 0 is served first,
// Levels-1 last (goveda's Priority values map one to one). Levels below HighLevels are "high":
// idle workers look for them before they steal.
const (
	Levels     = 5
	HighLevels = 2
)

// injector is the MPMC queue for work that does not come from a worker's own fork-join tree:
// calls from outside the pool, Submit, and goveda's SpawnPriority with a non-Normal priority. It holds one
// EDF heap per priority level behind a mutex; the atomic counters give idle workers a lock-free
// emptiness check.
type injector struct {
	n  atomic.Int64 // queued entries; seq-cst add after the push (see PARKING.md), load by probes
	hi atomic.Int64 // queued entries of levels < HighLevels; load-relaxed hint: workers then look here before stealing

	mu        sync.Mutex
	seq       uint64
	levels    [Levels]levelHeap
	agingStep int64 // ns; see defaultAgingStep
}

// push queues t. Any goroutine. O(log n) under the mutex.
func (q *injector) push(t *Task, level int, deadline, now int64) {
	q.mu.Lock()
	q.seq++
	q.levels[level].push(injEntry{t: t, deadline: deadline, enq: now, seq: q.seq})
	if level < HighLevels {
		q.hi.Add(1) // atomic add: hint counter
	}
	// add (seq-cst), inside the lock so n never lags an entry a popper can see: publishes the
	// entry to lock-free emptiness probes and is ordered before the sleeper-count load in
	// notify (the parking protocol's Dekker pair).
	q.n.Add(1)
	q.mu.Unlock()
}

// pop removes the entry to run next, or returns ok=false. Any worker.
// Choice: among the level heads, the smallest enq + level*agingStep (ties: higher priority).
func (q *injector) pop() (e injEntry, ok bool) {
	if q.n.Load() == 0 { // load: lock-free fast path; a racing push is caught by the caller's recheck
		return e, false
	}
	q.mu.Lock()
	best := -1
	var bestKey int64
	for l := 0; l < Levels; l++ {
		if len(q.levels[l]) == 0 {
			continue
		}
		key := q.levels[l][0].enq + int64(l)*q.agingStep
		if best < 0 || key < bestKey {
			best, bestKey = l, key
		}
	}
	if best < 0 {
		q.mu.Unlock()
		return e, false
	}
	e = q.levels[best].pop()
	q.n.Add(-1) // atomic add under the lock: count only
	if best < HighLevels {
		q.hi.Add(-1) // atomic add: hint counter
	}
	q.mu.Unlock()
	return e, true
}

// len returns the number of queued entries. Any goroutine; a snapshot.
func (q *injector) len() int64 { return q.n.Load() }
