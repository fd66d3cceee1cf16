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
