package relaxed

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Each store is seen by a later atomic load of the same goroutine, and a reader that loads
// while one writer stores only ever sees values that were written (never a torn mix): the writer
// stores words whose two halves are equal.
func TestStoresAreSeenWhole(t *testing.T) {
	var u atomic.Uint64
	var i atomic.Int64
	var p atomic.Pointer[int]
	x, y := 1, 2
	StoreUint64(&u, 7)
	StoreInt64(&i, -7)
	StorePointer(&p, &x)
	if u.Load() != 7 || i.Load() != -7 || p.Load() != &x {
		t.Fatal("a store was not seen by the next load")
	}
	StorePointer(&p, nil)
	if p.Load() != nil {
		t.Fatal("a nil store was not seen")
	}
	StoreUint64(&u, 0) // equal halves, as every value the writer stores
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := uint64(1); !stop.Load(); k++ {
			h := k & 0xffffffff
			StoreUint64(&u, h<<32|h)
			if k%2 == 0 {
				StorePointer(&p, &x)
			} else {
				StorePointer(&p, &y)
			}
		}
	}()
	for n := 0; n < 200000; n++ {
		v := u.Load()
		if v>>32 != v&0xffffffff {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("torn value %#x", v)
		}
		if q := p.Load(); q != &x && q != &y && q != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatal("a pointer that was never stored")
		}
	}
	stop.Store(true)
	wg.Wait()
}
