package goveda

import (
	"context"
	"sync"
)

// devQueue is the in-order queue of one device of a runtime: buffer reads and writes, kernels on
// resident buffers and their asynchronous forms run one after another in submission order, on
// one goroutine that exists only while the queue holds work. A synchronous call is an
// asynchronous one followed by a wait, so the two kinds keep one order.
//
// Who may call: push from any goroutine. The ops run on the drain goroutine, never on a worker,
// so a queue that waits on a device does not hold a worker.
type devQueue struct {
	mu      sync.Mutex
	ops     []func() // guarded by mu
	running bool     // a drain goroutine exists; guarded by mu
}

// push appends op; it starts the drain goroutine when none runs. Never blocks on op.
func (q *devQueue) push(op func()) {
	q.mu.Lock()
	q.ops = append(q.ops, op)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.drain()
	}
}

// drain runs ops in order until the queue is empty, then exits.
func (q *devQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.ops) == 0 {
			q.running = false
			q.ops = nil
			q.mu.Unlock()
			return
		}
		op := q.ops[0]
		q.ops[0] = nil
		q.ops = q.ops[1:]
		q.mu.Unlock()
		op()
	}
}

// queue returns the queue of device index i (0 is the CPU). Any goroutine.
func (ds *devState) queue(i int) *devQueue {
	ds.queuesOnce.Do(func() {
		ds.queues = make([]*devQueue, len(ds.infos))
		for j := range ds.queues {
			ds.queues[j] = &devQueue{}
		}
	})
	return ds.queues[i]
}

// enqueue runs f on the queue of device dev and returns its Future at once. The runtime counts
// the op as in flight until it ran (Close waits for it). A panic in f becomes a *PanicError.
func enqueue[T any](rt *Runtime, dev int, f func() (T, error)) *Future[T] {
	fu := &Future[T]{rt: rt, done: make(chan struct{})}
	var zero T
	ds, err := rt.devices()
	if err == nil {
		err = rt.enter()
	}
	if err != nil {
		fu.complete(zero, err)
		return fu
	}
	ds.queue(dev).push(func() {
		var v T
		err := callErr(rt.pool, func() error {
			var ferr error
			v, ferr = f()
			return ferr
		})
		// Completed on its own goroutine, not the queue's: a callback (Then, a Python
		// done-callback) that makes a synchronous call on this device would otherwise wait
		// for an operation queued behind the one running it.
		go func() {
			defer rt.exit()
			fu.complete(v, err)
		}()
	})
	return fu
}

// enqueueWait is enqueue followed by Wait(ctx).
func enqueueWait[T any](ctx context.Context, rt *Runtime, dev int, f func() (T, error)) (T, error) {
	return enqueue(rt, dev, f).Wait(ctx)
}
