package handle

import (
	"sync"
	"testing"
)

type tval struct{ n int }

// TestHandleTableRules checks the token rules: live, stale (also after its slot was reused),
// double take, forged and other-kind tokens, and the end of a slot's generations.
func TestHandleTableRules(t *testing.T) {
	tb := New[*tval](2)
	other := New[*tval](3)
	a := &tval{1}
	ta := tb.Add(a)
	if v, st := tb.Get(ta); st != Live || v != a {
		t.Fatalf("get live: %v %v", v, st)
	}
	if _, st := other.Get(ta); st != Unknown {
		t.Fatalf("other kind: %v", st)
	}
	for _, f := range []uintptr{0, 1, 0x1234, ta + 16*1000, ta ^ 1<<saltShift, ta + 1<<genShift, ^uintptr(0)} {
		if _, st := tb.Get(f); st != Unknown {
			t.Fatalf("forged %#x: %v", f, st)
		}
		if _, st := tb.Take(f); st != Unknown {
			t.Fatalf("forged take %#x: %v", f, st)
		}
	}
	if v, st := tb.Take(ta); st != Live || v != a {
		t.Fatalf("take: %v %v", v, st)
	}
	if _, st := tb.Take(ta); st != Stale {
		t.Fatalf("double take: %v", st)
	}
	b := &tval{2}
	tbk := tb.Add(b) // reuses ta's slot with the next generation
	if tbk == ta || tbk&(slotMask<<tagBits) != ta&(slotMask<<tagBits) {
		t.Fatalf("slot not reused: %#x %#x", ta, tbk)
	}
	if _, st := tb.Get(ta); st != Stale {
		t.Fatalf("stale after reuse: %v", st)
	}
	if v, st := tb.Get(tbk); st != Live || v != b {
		t.Fatalf("reused live: %v %v", v, st)
	}
	if _, st := tb.Get(tbk + 1<<genShift); st != Unknown {
		t.Fatalf("future generation: %v", st)
	}
	// A slot whose generations are exhausted is retired, never handed out again.
	tb.Take(tbk)
	i := uint32(tbk>>tagBits) & slotMask
	tb.slot(i).state.Store(maxGen << 1) // as if reused maxGen-1 times
	tm := tb.Add(&tval{3})
	if uint32(tm>>tagBits)&slotMask != i || uint64(tm>>genShift)&maxGen != maxGen {
		t.Fatalf("last generation: %#x", tm)
	}
	tb.Take(tm)
	tn := tb.Add(&tval{4})
	if uint32(tn>>tagBits)&slotMask == i {
		t.Fatalf("retired slot reused: %#x", tn)
	}
	if _, st := tb.Get(tm); st != Stale {
		t.Fatalf("retired stale: %v", st)
	}
}

// TestHandleTableStress races adds, gets and takes; every token sees its own object while live
// and stale after its take, and exactly one of two racing takes wins.
func TestHandleTableStress(t *testing.T) {
	tb := New[*tval](2)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				v := &tval{w*1000000 + i}
				tok := tb.Add(v)
				if got, st := tb.Get(tok); st != Live || got != v {
					t.Errorf("get: %v %v", got, st)
					return
				}
				wins := make(chan bool, 2)
				for k := 0; k < 2; k++ {
					go func() { _, st := tb.Take(tok); wins <- st == Live }()
				}
				if a, b := <-wins, <-wins; a == b {
					t.Errorf("racing takes: %v %v", a, b)
					return
				}
				if _, st := tb.Get(tok); st != Stale {
					t.Errorf("stale: %v", st)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if n := tb.nslots.Load(); n > 64 {
		t.Fatalf("%d slots for at most 4 live handles: the free list does not recycle", n)
	}
}

// BenchmarkHandleTable is one create/lookup/destroy of a handle (as a group per call does).
func BenchmarkHandleTable(b *testing.B) {
	tb := New[*tval](2)
	v := &tval{}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok := tb.Add(v)
			tb.Get(tok)
			tb.Get(tok)
			tb.Take(tok)
		}
	})
}

func TestNewRefusesAWideKind(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(MaxKind+1) did not panic")
		}
	}()
	New[*tval](MaxKind + 1)
}
