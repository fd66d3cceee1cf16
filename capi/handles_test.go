package capi

import (
	"sync"
	"testing"
)

type tval struct{ n int }

// TestHandleTableRules checks the token rules: live, stale (also after its slot was reused),
// double take, forged and other-kind tokens, and the end of a slot's generations.
func TestHandleTableRules(t *testing.T) {
	tb := &handleTable[*tval]{kind: kindGroup}
	other := &handleTable[*tval]{kind: kindFuture}
	a := &tval{1}
	ta := tb.add(a)
	if v, st := tb.get(ta); st != stateLive || v != a {
		t.Fatalf("get live: %v %v", v, st)
	}
	if _, st := other.get(ta); st != stateUnknown {
		t.Fatalf("other kind: %v", st)
	}
	for _, f := range []uintptr{0, 1, 0x1234, ta + 16*1000, ta ^ 1<<saltShift, ta + 1<<genShift, ^uintptr(0)} {
		if _, st := tb.get(f); st != stateUnknown {
			t.Fatalf("forged %#x: %v", f, st)
		}
		if _, st := tb.take(f); st != stateUnknown {
			t.Fatalf("forged take %#x: %v", f, st)
		}
	}
	if v, st := tb.take(ta); st != stateLive || v != a {
		t.Fatalf("take: %v %v", v, st)
	}
	if _, st := tb.take(ta); st != stateStale {
		t.Fatalf("double take: %v", st)
	}
	b := &tval{2}
	tbk := tb.add(b) // reuses ta's slot with the next generation
	if tbk == ta || tbk&(slotMask<<tagBits) != ta&(slotMask<<tagBits) {
		t.Fatalf("slot not reused: %#x %#x", ta, tbk)
	}
	if _, st := tb.get(ta); st != stateStale {
		t.Fatalf("stale after reuse: %v", st)
	}
	if v, st := tb.get(tbk); st != stateLive || v != b {
		t.Fatalf("reused live: %v %v", v, st)
	}
	if _, st := tb.get(tbk + 1<<genShift); st != stateUnknown {
		t.Fatalf("future generation: %v", st)
	}
	// A slot whose generations are exhausted is retired, never handed out again.
	tb.take(tbk)
	i := uint32(tbk>>tagBits) & slotMask
	tb.slot(i).state.Store(maxGen << 1) // as if reused maxGen-1 times
	tm := tb.add(&tval{3})
	if uint32(tm>>tagBits)&slotMask != i || uint64(tm>>genShift)&maxGen != maxGen {
		t.Fatalf("last generation: %#x", tm)
	}
	tb.take(tm)
	tn := tb.add(&tval{4})
	if uint32(tn>>tagBits)&slotMask == i {
		t.Fatalf("retired slot reused: %#x", tn)
	}
	if _, st := tb.get(tm); st != stateStale {
		t.Fatalf("retired stale: %v", st)
	}
}

// TestHandleTableStress races adds, gets and takes; every token sees its own object while live
// and stale after its take, and exactly one of two racing takes wins.
func TestHandleTableStress(t *testing.T) {
	tb := &handleTable[*tval]{kind: kindGroup}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				v := &tval{w*1000000 + i}
				tok := tb.add(v)
				if got, st := tb.get(tok); st != stateLive || got != v {
					t.Errorf("get: %v %v", got, st)
					return
				}
				wins := make(chan bool, 2)
				for k := 0; k < 2; k++ {
					go func() { _, st := tb.take(tok); wins <- st == stateLive }()
				}
				if a, b := <-wins, <-wins; a == b {
					t.Errorf("racing takes: %v %v", a, b)
					return
				}
				if _, st := tb.get(tok); st != stateStale {
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
	tb := &handleTable[*tval]{kind: kindGroup}
	v := &tval{}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok := tb.add(v)
			tb.get(tok)
			tb.get(tok)
			tb.take(tok)
		}
	})
}
