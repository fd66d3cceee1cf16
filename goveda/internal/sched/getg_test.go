package sched

import (
	"runtime"
	"sync"
	"testing"
)

// getg is an identity key: non-zero, the same on every call from one goroutine, different for
// goroutines alive at the same time, and what Pool.Current compares with a worker's key.
func TestGetg(t *testing.T) {
	me := getg()
	if me == 0 {
		t.Fatal("getg() = 0")
	}
	for i := 0; i < 100; i++ {
		runtime.Gosched() // may move to another thread: the key must not change
		if g := getg(); g != me {
			t.Fatalf("getg changed within a goroutine: %#x then %#x", me, g)
		}
	}
	const n = 64
	keys := make([]uintptr, n)
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	var done sync.WaitGroup
	for i := range keys {
		done.Add(1)
		go func() { // all n alive at once
			defer done.Done()
			keys[i] = getg()
			started.Done()
			release.Wait()
			if getg() != keys[i] {
				t.Errorf("goroutine %d: key changed", i)
			}
		}()
	}
	started.Wait()
	seen := map[uintptr]int{me: -1}
	for i, k := range keys {
		if j, dup := seen[k]; dup {
			t.Fatalf("goroutines %d and %d share the key %#x", i, j, k)
		}
		seen[k] = i
	}
	release.Done()
	done.Wait()

	p, err := New(Options{Workers: 2, Spin: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Current() != nil {
		t.Fatal("the test goroutine is not a worker")
	}
	var inside *Worker
	var key uintptr
	p.RunRoot(2, func(w *Worker) { inside, key = p.Current(), getg() })
	if inside == nil || key != inside.gid.Load() {
		t.Fatalf("Current() from a task = %v, key %#x", inside, key)
	}
}

func TestGoroutineID(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uintptr
	}{
		{"goroutine 1 [running]:\nmain.main()", 1},
		{"goroutine 123456 [chan receive]:", 123456},
		{"goroutine ", 0},
		{"gor", 0},
		{"", 0},
		{"thread 5 [running]", 0},
	} {
		if got := goroutineID([]byte(c.in)); got != c.want {
			t.Errorf("goroutineID(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	var buf [64]byte
	if id := goroutineID(buf[:runtime.Stack(buf[:], false)]); id == 0 {
		t.Fatalf("no id in this goroutine's own stack: %q", buf[:])
	}
}
