package goveda

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

// Decision is goveda's own struct, converted from the dispatcher's: every field comes across,
// and its JSON is the same as DecisionsJSON's.
func TestDecisionConvertedAndJSON(t *testing.T) {
	rt := newDevRT(t, Config{RecordDecisions: true, DisableGPU: true})
	x := make([]float32, 1<<10)
	for i := range x {
		x[i] = 1
	}
	for range 3 {
		if _, err := rt.SumF32(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	decs, err := rt.Decisions()
	if err != nil || len(decs) != 3 {
		t.Fatalf("%d decisions, %v; want 3", len(decs), err)
	}
	for i, d := range decs {
		if d.Seq == 0 || d.UnixNano == 0 || d.Kernel != "sum_f32" || d.Bytes != 4<<10 || d.Elements != 1<<10 ||
			d.Device != 0 || d.Kind != DeviceCPU || d.Reason == "" || len(d.Candidates) != 1 ||
			d.Candidates[0].Device != 0 || d.Candidates[0].Kind != DeviceCPU {
			t.Fatalf("decision %d: %+v", i, d)
		}
	}
	want, err := rt.DecisionsJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(decs)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("json.Marshal(Decisions()) =\n%s\nDecisionsJSON() =\n%s", got, want)
	}
}
