package trace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A complete event that began before the trace started keeps only its part inside the trace
// (it used to keep its whole duration from a start clamped to 0, and so overlapped the events
// after it: TestTraceRecordsAValidTimeline failed when a worker parked during the first trace
// and woke in the second); one that ended before the start is dropped; others are untouched.
func TestClipToStart(t *testing.T) {
	evs := []Event{
		{Start: 40, Dur: 100, Ph: PhComplete, Name: "park"}, // 40..140, start 100: 100..140
		{Start: 10, Dur: 50, Ph: PhComplete, Name: "gone"},  // ends at 60 < 100: dropped
		{Start: 120, Dur: 5, Ph: PhComplete, Name: "task"},  // inside: kept
		{Start: 90, Ph: PhInstant, Name: "instant"},         // not a complete event: kept
	}
	got := clipToStart(evs, 100)
	want := []Event{
		{Start: 100, Dur: 40, Ph: PhComplete, Name: "park"},
		{Start: 120, Dur: 5, Ph: PhComplete, Name: "task"},
		{Start: 90, Ph: PhInstant, Name: "instant"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].Start != want[i].Start || got[i].Dur != want[i].Dur || got[i].Name != want[i].Name {
			t.Fatalf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// ReadFile: a file that cannot be opened gives os.Open's *PathError (the CLI's usage error), a
// file that is not a trace gives a parse error naming the path, and a trace parses.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	var pe *os.PathError
	if _, err := ReadFile(filepath.Join(dir, "missing.json")); !errors.As(err, &pe) {
		t.Fatalf("missing file: %v, want a *PathError", err)
	}
	junk := filepath.Join(dir, "junk.json")
	os.WriteFile(junk, []byte("not json"), 0o644)
	if _, err := ReadFile(junk); err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk file: %v, want a parse error naming %s", err, junk)
	}
	ok := filepath.Join(dir, "ok.json")
	os.WriteFile(ok, []byte(`{"traceEvents":[{"name":"x","ph":"i","ts":1,"pid":1,"tid":1}]}`), 0o644)
	if f, err := ReadFile(ok); err != nil || len(f.TraceEvents) != 1 {
		t.Fatalf("trace file: %v, %v", f, err)
	}
}
