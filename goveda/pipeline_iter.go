package goveda

import (
	"context"
	"errors"
	"iter"
	"sync"
)

// errConsumerStopped cancels a run whose consumer left the range loop early; All does not report it.
var errConsumerStopped = errors.New("veda: the range loop over Pipeline.All stopped early")

// All runs the pipeline on src and returns its results in source order: ranging over it yields
// (item, nil) for every item that passed the last stage, in sequence order, and after a failure
// or a cancellation one final (zero, err) with Run's error, after the clean prefix of items
// before the failed one. An item counts as in flight until the loop received it, so a slow loop
// body is backpressure too. Breaking out of the loop cancels the run: the items not yet yielded
// are given to Drop, and the loop ends without an error.
//
// Range over the result once, from a goroutine outside the runtime's workers (the loop blocks
// while it waits for the next item). Bad input (see Run) is yielded as (zero, err) at once.
func (p *Pipeline[T]) All(ctx context.Context, src Source[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		q := &outQueue[T]{signal: make(chan struct{}, 1)}
		r, err := p.start(ctx, src, q.push, q.wake)
		if err != nil {
			yield(zero, err)
			return
		}
		var (
			hs      serialState[T] // its heap: finished items waiting for their turn
			next    int64          // the sequence number to yield next
			stopped bool
		)
		for {
			batch := q.take()
			for _, it := range batch {
				it.key = it.seq
				hs.heapPush(it)
			}
			fs := r.failSeq.Load() // load: a failure or cancellation bounds what may still be yielded
			for !stopped && len(hs.heap) > 0 && hs.heap[0].seq == next && next < fs {
				it := hs.heapPop()
				next++
				v := it.v
				r.after(r.release(it, true)) // it is recycled: v was taken first
				if !yield(v, nil) {
					stopped = true
					r.cancelRun(errConsumerStopped)
				}
			}
			if stopped || fs != noFail {
				bound := fs
				if stopped {
					bound = -1
				}
				keep := hs.heap[:0]
				var drops []*pitem[T]
				for _, it := range hs.heap {
					if it.seq >= bound {
						drops = append(drops, it)
					} else {
						keep = append(keep, it)
					}
				}
				hs.heap = keep
				for i := len(hs.heap)/2 - 1; i >= 0; i-- {
					hs.down(i)
				}
				r.dropAll(drops)
			}
			select {
			case <-q.signal:
			case err = <-r.done:
				// The run waits until every item was released, so nothing is left to yield.
				if err != nil && !stopped && !errors.Is(err, errConsumerStopped) {
					yield(zero, err)
				}
				return
			}
		}
	}
}

// outQueue hands finished items from the run's tasks to the consumer of All.
type outQueue[T any] struct {
	mu     sync.Mutex
	items  []*pitem[T]   // guarded by mu
	signal chan struct{} // capacity 1: items arrived, or the run's failure bound changed
}

// push queues a finished item. Any task of the run.
func (q *outQueue[T]) push(it *pitem[T]) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.wake()
}

// wake tells the consumer to look again. Any goroutine.
func (q *outQueue[T]) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// take returns the queued items. The consumer only.
func (q *outQueue[T]) take() []*pitem[T] {
	q.mu.Lock()
	items := q.items
	q.items = nil
	q.mu.Unlock()
	return items
}
