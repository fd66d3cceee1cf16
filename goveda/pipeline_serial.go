package goveda

import (
	"sync"
	"sync/atomic"
)

// Serial stages: one item at a time, in sequence order (in-order) or in arrival order.

// enter results.
const (
	enterRun     = iota // the caller owns the stage for the item: run it, then leave
	enterStashed        // the item waits in the stash; the task that leaves the stage will take it
	enterDrop           // the item is above the failure bound: the caller drops it
)

// serialState is a serial stage's gate: who holds the stage, the next key (in-order) and the
// stash of items waiting for the stage (a min-heap by key for in-order stages, a FIFO for
// out-of-order ones). In-order stages order by the item's key: its sequence number in a linear
// pipeline; seq*paths+path in a graph node reached by several paths. Every item is in at most one
// stash, and a stashed item is taken by exactly one leave or purge.
//
// The holder and the next key live in one atomic word (state) so that the common case, an item
// that finds the stage free and in turn and leaves it with nothing stashed, costs one CAS on
// enter and one on leave instead of two lock round trips. The stash is guarded by mu, and the
// word's stashBit says "the lock must be used":
//
//   - Invariant: the stash is non-empty => stashBit is set. Only lock holders set or clear it.
//   - The fast paths (enter: CAS free and in turn -> held; leave: CAS held -> free, next+1) need
//     stashBit clear, so while it is set every change of the word is made under mu.
//   - An enter that cannot take the stage locks mu, sets stashBit (a CAS loop: the holder's fast
//     leave may win first, and the enter then sees the stage free), and decides again under mu:
//     take the stage, or stash the item. A leave that sees stashBit locks mu and hands the stage
//     to the next stashed item that may run, or frees it; it clears stashBit when the stash is
//     empty.
type serialState[T any] struct {
	mu      sync.Mutex
	inOrder bool
	// state: next<<2 | stashBit | heldBit (next: the key the in-order stage runs next; 0 for
	// out-of-order stages). CAS on the fast paths (acq-rel: a holder's turn happens after the
	// previous holder's); loads and stores under mu while stashBit is set.
	state atomic.Int64
	heap  []*pitem[T] // in-order stash: min-heap by key; guarded by mu
	fifo  []*pitem[T] // out-of-order stash; guarded by mu
	head  int         // fifo's first live element; guarded by mu
}

// serialState word bits (see serialState).
const (
	heldBit  = 1 // an item runs in the stage
	stashBit = 2 // the stash may be non-empty: changes go through mu
)

// enter asks to run it in stage k. Any task of the run.
func (s *serialState[T]) enter(r *prun[T], it *pitem[T], k int) int {
	st := s.state.Load() // load: fast-path attempt; the CAS below decides
	if st&(heldBit|stashBit) == 0 && (!s.inOrder || st>>2 == it.key) {
		if s.state.CompareAndSwap(st, st|heldBit) { // CAS (acq-rel): take the stage
			return enterRun
		}
	}
	return s.enterSlow(r, it, k)
}

// enterSlow is enter under mu: take the stage, or stash the item, or refuse it (failure bound).
func (s *serialState[T]) enterSlow(r *prun[T], it *pitem[T], k int) int {
	s.mu.Lock()
	// load under mu: fail stores failSeq before purge takes mu, so an item stashed after this
	// check is seen by that purge, and one stashed before it is removed by it.
	if it.seq >= r.failSeq.Load() {
		s.mu.Unlock()
		return enterDrop
	}
	// Set stashBit so that the holder's leave comes through mu; the holder's fast leave may
	// win the race, and then the stage is free.
	var st int64
	for {
		st = s.state.Load()                                              // load: CAS loop
		if st&stashBit != 0 || s.state.CompareAndSwap(st, st|stashBit) { // CAS: see above
			st |= stashBit
			break
		}
	}
	if st&heldBit == 0 && (!s.inOrder || st>>2 == it.key) {
		// Free and in turn: take it; stashBit stays only while items wait.
		nst := st | heldBit
		if s.stashLen() == 0 {
			nst &^= stashBit
		}
		s.state.Store(nst) // store under mu (stashBit was set: no fast path races)
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

func (s *serialState[T]) stashLen() int {
	if s.inOrder {
		return len(s.heap)
	}
	return len(s.fifo) - s.head
}

// leave ends the caller's turn at the stage (it just ran) and returns the next item that may run
// there, which the caller then owns together with the stage, or nil (the stage is free). Items
// above the failure bound that it meets are returned in drops for the caller to drop.
func (s *serialState[T]) leave(r *prun[T], it *pitem[T], k int) (next *pitem[T], drops []*pitem[T]) {
	st := s.state.Load() // load: fast-path attempt
	if st&stashBit == 0 {
		nst := int64(0)
		if s.inOrder {
			nst = (it.key + 1) << 2
		}
		if s.state.CompareAndSwap(st, nst) { // CAS (acq-rel): free the stage, nothing waits
			return nil, nil
		}
	}
	return s.leaveSlow(r, it, k)
}

// leaveSlow is leave under mu (stashBit was set).
func (s *serialState[T]) leaveSlow(r *prun[T], it *pitem[T], k int) (next *pitem[T], drops []*pitem[T]) {
	s.mu.Lock()
	fs := r.failSeq.Load() // load under mu: see enter
	var nextKey int64
	if s.inOrder {
		nextKey = it.key + 1
		for len(s.heap) > 0 && s.heap[0].key == nextKey {
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
	// The word: next key (the item handed on runs at nextKey; the stage then expects nextKey
	// until that item leaves), held while an item was handed on, stashBit while items wait.
	nst := nextKey << 2
	if next != nil {
		nst |= heldBit
	}
	if s.stashLen() > 0 {
		nst |= stashBit
	}
	s.state.Store(nst) // store under mu (stashBit was set: no fast path races)
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
	if s.stashLen() == 0 {
		// The stash is empty: let the fast paths run again. While stashBit is set no fast path
		// changes the word, and we hold mu, so a plain store is enough.
		if w := s.state.Load(); w&stashBit != 0 { // load under mu
			s.state.Store(w &^ stashBit) // store under mu: stashBit set, nobody else changes the word
		}
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
