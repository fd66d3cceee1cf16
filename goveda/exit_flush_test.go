package goveda

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/trace"
)

// TestFlushTracesAtExit: a VEDA_TRACE trace of a runtime that is still open is written by
// FlushTracesAtExit (what libveda's exit handler and a Go program before os.Exit call); a second
// flush and the later Close neither fail nor rewrite it, and a runtime without VEDA_TRACE is
// not touched.
func TestFlushTracesAtExit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exit.json")
	t.Setenv("VEDA_TRACE", path)
	envTraceSeq.Store(0)
	rt := newRT(t, Config{Workers: 2})
	if err := rt.ParallelFor(context.Background(), 0, 1<<12, 64, func(lo, hi int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	FlushTracesAtExit()
	if rt.Tracing() {
		t.Fatal("the trace still runs after FlushTracesAtExit")
	}
	f, err := trace.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if errs := trace.Validate(f); len(errs) > 0 || len(f.TraceEvents) == 0 {
		t.Fatalf("%d events, %v", len(f.TraceEvents), errs)
	}
	st, _ := os.Stat(path)
	FlushTracesAtExit()
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(path); st2.Size() != st.Size() || !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("the trace was written again")
	}
}

// TestProfileErrorSaysVedaOnce: a bad VEDA_STRATEGY's error reads "veda: " once, although it
// wraps the dispatcher's own "veda: ..." errors.
func TestProfileErrorSaysVedaOnce(t *testing.T) {
	t.Setenv("VEDA_STRATEGY", "bogus")
	rt := newRT(t, Config{Workers: 1})
	_, err := rt.Devices()
	if err == nil || !strings.Contains(err.Error(), `VEDA_STRATEGY="bogus"`) {
		t.Fatalf("err = %v", err)
	}
	if n := strings.Count(err.Error(), "veda: "); n != 1 {
		t.Fatalf(`%q says "veda: " %d times`, err, n)
	}
}
