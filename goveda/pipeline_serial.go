package goveda

import "sync"

// Serial stages: one item at a time, in sequence order (in-order) or in arrival order.

// enter results.
const (
	enterRun     = iota // the caller owns the stage for the item: run it, then leave
	enterStashed        // the item waits in the stash; the task that leaves the stage will take it
	enterDrop           // the item is above the failure bound: the caller drops it
)

// serialState is a serial stage's gate: a busy flag, the next sequence number (in-order) and the
// stash of items waiting for the stage (a min-heap by sequence number for in-order stages, a FIFO
// for out-of-order ones). In-order stages order by the item's key: its sequence number in a
// linear pipeline; seq*paths+path in a graph node reached by several paths. All fields are guarded by mu. Every item is in at most one stash, and a
// stashed item is taken by exactly one leave or purge.
type serialState[T any] struct {
	mu      sync.Mutex
	inOrder bool
	busy    bool
	next    int64       // in-order: the key the stage runs next
	heap    []*pitem[T] // in-order stash: min-heap by key
	fifo    []*pitem[T] // out-of-order stash
	head    int         // fifo's first live element
}

// enter asks to run it in stage k. Any task of the run.
func (s *serialState[T]) enter(r *prun[T], it *pitem[T], k int) int {
	s.mu.Lock()
	// load under mu: fail stores failSeq before purge takes mu, so an item stashed after this
	// check is seen by that purge, and one stashed before it is removed by it.
	if it.seq >= r.failSeq.Load() {
		s.mu.Unlock()
		return enterDrop
	}
	if !s.busy && (!s.inOrder || it.key == s.next) {
		s.busy = true
		s.mu.Unlock()
		return enterRun
	}
	it.enq = -1 // waiting, not timed (see runStage)
	if it.seq%timeSample == 0 {
		it.enq = r.rt.pool.Now()
	}
	if s.inOrder {
		s.heapPush(it)
	} else {
		s.fifo = append(s.fifo, it)
	}
	r.stages[k].stats.queued(1)
	s.mu.Unlock()
	return enterStashed
}

// leave ends the caller's turn at the stage (it just ran) and returns the next item that may run
// there, which the caller then owns together with the stage, or nil (the stage is free). Items
// above the failure bound that it meets are returned in drops for the caller to drop.
func (s *serialState[T]) leave(r *prun[T], it *pitem[T], k int) (next *pitem[T], drops []*pitem[T]) {
	s.mu.Lock()
	fs := r.failSeq.Load() // load under mu: see enter
	if s.inOrder {
		s.next = it.key + 1
		for len(s.heap) > 0 && s.heap[0].key == s.next {
			h := s.heapPop()
			if h.seq >= fs {
				drops = append(drops, h)
				continue
			}
			next = h
			break
		}
	} else {
		for s.head < len(s.fifo) {
			h := s.fifo[s.head]
			s.fifo[s.head] = nil
			s.head++
			if h.seq >= fs {
				drops = append(drops, h)
				continue
			}
			next = h
			break
		}
		if s.head == len(s.fifo) {
			s.fifo, s.head = s.fifo[:0], 0
		}
	}
	if fs != noFail {
		// A failure: take the stale stash entries now (purge would, later).
		if s.inOrder {
			keep := s.heap[:0]
			for _, h := range s.heap {
				if h.seq >= fs {
					drops = append(drops, h)
				} else {
					keep = append(keep, h)
				}
			}
			clear(s.heap[len(keep):])
			s.heap = keep
			for i := len(s.heap)/2 - 1; i >= 0; i-- {
				s.down(i)
			}
		} else {
			keep := s.fifo[:0]
			for _, h := range s.fifo[s.head:] {
				if h.seq >= fs {
					drops = append(drops, h)
				} else {
					keep = append(keep, h)
				}
			}
			clear(s.fifo[len(keep):])
			s.fifo, s.head = keep, 0
		}
	}
	s.busy = next != nil
	s.mu.Unlock()
	if taken := len(drops) + btoi(next != nil); taken > 0 {
		r.stages[k].stats.queued(-taken)
	}
	return next, drops
}

// purge removes and returns the stashed items at or above fs. Any goroutine.
func (s *serialState[T]) purge(fs int64, st *stageStats) []*pitem[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pitem[T]
	if s.inOrder {
		keep := s.heap[:0]
		for _, h := range s.heap {
			if h.seq >= fs {
				out = append(out, h)
			} else {
				keep = append(keep, h)
			}
		}
		for i := len(keep); i < len(s.heap); i++ {
			s.heap[i] = nil
		}
		s.heap = keep
		// Re-establish the heap property (keep is a subsequence of a heap, not a heap).
		for i := len(s.heap)/2 - 1; i >= 0; i-- {
			s.down(i)
		}
	} else {
		keep := s.fifo[:0]
		for _, h := range s.fifo[s.head:] {
			if h.seq >= fs {
				out = append(out, h)
			} else {
				keep = append(keep, h)
			}
		}
		for i := len(keep); i < len(s.fifo); i++ {
			s.fifo[i] = nil
		}
		s.fifo, s.head = keep, 0
	}
	if len(out) > 0 {
		st.queued(-len(out))
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *serialState[T]) heapPush(it *pitem[T]) {
	s.heap = append(s.heap, it)
	i := len(s.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s.heap[p].key <= s.heap[i].key {
			break
		}
		s.heap[p], s.heap[i] = s.heap[i], s.heap[p]
		i = p
	}
}

func (s *serialState[T]) heapPop() *pitem[T] {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	s.heap = h[:last]
	if last > 0 {
		s.down(0)
	}
	return top
}

func (s *serialState[T]) down(i int) {
	h := s.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].key < h[l].key {
			m = r
		}
		if h[i].key <= h[m].key {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
