package sched

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// liveSlots counts the non-nil slots of d's current ring.
func liveSlots(d *deque) int {
	n := 0
	r := d.buf.Load()
	for i := range r.slots {
		if r.slots[i].Load() != nil {
			n++
		}
	}
	return n
}

func newTasks(n int) []*Task {
	ts := make([]*Task, n)
	for i := range ts {
		ts[i] = &Task{}
	}
	return ts
}

// Pop and steal leave no reference to a task they handed out: every path (pop of a non-last
// element, pop of the last element, steal, steal of the last element) clears its slot.
func TestDequeClearsSlots(t *testing.T) {
	var d deque
	d.init()
	ts := newTasks(10)
	for _, x := range ts {
		d.push(x)
	}
	for i := 0; i < 3; i++ { // pops with more than one element left
		if d.pop() != ts[9-i] {
			t.Fatal("pop order")
		}
	}
	for i := 0; i < 6; i++ { // steals
		if x, _ := d.steal(); x != ts[i] {
			t.Fatal("steal order")
		}
	}
	if d.pop() != ts[6] { // the last element, against thieves' CAS
		t.Fatal("last pop")
	}
	if d.pop() != nil {
		t.Fatal("not empty")
	}
	if n := liveSlots(&d); n != 0 {
		t.Fatalf("%d slots still reference finished tasks after pop/steal", n)
	}
	d.push(ts[0]) // a single element taken by a thief
	if x, _ := d.steal(); x != ts[0] {
		t.Fatal("steal of the last element")
	}
	if n := liveSlots(&d); n != 0 {
		t.Fatalf("%d slots still reference a stolen last element", n)
	}
}

// Owner against 2 thieves: the owner pushes in bursts (growing the ring past its initial 64
// slots) and pops, two thieves steal all the time; every task is taken exactly once, and the
// ring holds no reference once the deque is empty.
func TestDequeStressOwnerVsTwoThieves(t *testing.T) {
	const total = 200_000
	var d deque
	d.init()
	ts := newTasks(total)
	index := make(map[*Task]int, total)
	for i, x := range ts {
		index[x] = i
	}
	taken := make([]atomic.Int32, total)
	var takenN atomic.Int64
	take := func(x *Task) {
		taken[index[x]].Add(1)
		takenN.Add(1)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for th := 0; th < 2; th++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if x, _ := d.steal(); x != nil {
					take(x)
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	next := 0
	for next < total {
		burst := 1 + rng.IntN(200) // up to 200: more than the initial ring, so it grows
		for i := 0; i < burst && next < total; i++ {
			d.push(ts[next])
			next++
		}
		pops := rng.IntN(burst + 1)
		for i := 0; i < pops; i++ {
			if x := d.pop(); x != nil {
				take(x)
			}
		}
	}
	for {
		x := d.pop()
		if x == nil {
			break
		}
		take(x)
	}
	for takenN.Load() < total { // the thieves finish the ones they claimed
	}
	stop.Store(true)
	wg.Wait()
	for i := range taken {
		if n := taken[i].Load(); n != 1 {
			t.Fatalf("task %d taken %d times", i, n)
		}
	}
	if n := liveSlots(&d); n != 0 {
		t.Fatalf("%d slots still reference tasks after the deque drained", n)
	}
}
