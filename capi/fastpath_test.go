package capi

import (
	"testing"

	"github.com/veda-runtime/veda/goveda"
)

// The C mirror of the slot gate (capi.c's vedac_gate) must match sched.Gate word for word: the
// one-chunk fast path uses the Go memory in place.
func TestGateLayoutMatchesC(t *testing.T) {
	if got, want := gateLayoutC(), goveda.ForeignGateLayout(); got != want {
		t.Fatalf("vedac_gate offsets and size %v, sched.Gate %v", got, want)
	}
}

// The C mirrors of the join deque and record (capi.c's vedac_xdq and vedac_xrec) must match
// sched.ExtDeque and sched.ExtRecord: the join fast path uses the Go memory in place.
func TestJoinDequeLayoutMatchesC(t *testing.T) {
	if got, want := joinLayoutC(), goveda.ForeignJoinLayout(); got != want {
		t.Fatalf("vedac_xdq/vedac_xrec offsets and sizes %v, sched's %v", got, want)
	}
}

// capi.c's gate table accepts only runtime tokens: their low four bits must be what it expects.
func TestRuntimeTokenTagMatchesC(t *testing.T) {
	tok := runtimes.Add(&runtimeEntry{})
	defer runtimes.Take(tok)
	if got, want := tok&0xF, runtimeTagC(); got != want {
		t.Fatalf("runtime token %#x has tag %#x, capi.c expects %#x", tok, got, want)
	}
}
