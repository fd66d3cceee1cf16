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

// The group fast path's constants in capi.c must be the scheduler's (the group record's State
// and the group word's layout), and its tokens must carry the group table's tag.
func TestGroupFastPathConstantsMatchC(t *testing.T) {
	c := xgroupConstsC()
	want := [4]int64{int64(goveda.ForeignGroupRecordState()), goveda.ForeignGroupShift, goveda.ForeignGroupOutside,
		goveda.ForeignGroupPendingBits}
	if got := [4]int64{c[0], c[1], c[2], c[4]}; got != want {
		t.Fatalf("capi.c group record state, word shift, outside waiter, pending width %v, sched's %v", got, want)
	}
	tok := groups.Add(&group{})
	defer groups.Take(tok)
	if got := int64(tok & 0xF); got != c[3] {
		t.Fatalf("group token %#x has tag %#x, capi.c's C-side groups use %#x", tok, got, c[3])
	}
}
