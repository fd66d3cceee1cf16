package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/internal/trace"
)

// writeTrace records a small run into dir/t.json and returns the path.
func writeTrace(t *testing.T, dir string) string {
	t.Helper()
	rt, err := goveda.New(goveda.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	path := filepath.Join(dir, "t.json")
	if err := rt.StartTraceFile(path, goveda.TraceOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := rt.ParallelFor(context.Background(), 0, 1<<14, 128, func(lo, hi int) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rt.SumF32(context.Background(), make([]float32, 1<<12)); err != nil {
		t.Fatal(err)
	}
	if err := rt.StopTrace(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTraceCommand(t *testing.T) {
	dir := t.TempDir()
	path := writeTrace(t, dir)

	st, out, errs := runCmd(t, "trace", "summarize", path)
	if st != 0 || !strings.Contains(out, "worker 0") || !strings.Contains(out, "busy") || !strings.Contains(out, "longest runs") {
		t.Fatalf("summarize: %d\n%s\n%s", st, out, errs)
	}
	st, out, errs = runCmd(t, "trace", "validate", path)
	if st != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("validate: %d %s %s", st, out, errs)
	}
	for _, img := range []string{"t.png", "t.svg"} {
		o := filepath.Join(dir, img)
		st, out, errs = runCmd(t, "trace", "plot", path, "-o", o)
		if st != 0 {
			t.Fatalf("plot %s: %d %s %s", img, st, out, errs)
		}
		if fi, err := os.Stat(o); err != nil || fi.Size() < 1000 {
			t.Fatalf("plot %s: %v", img, err)
		}
	}
	// flags before the file work too
	if st, _, errs = runCmd(t, "trace", "plot", "-o", filepath.Join(dir, "u.png"), path); st != 0 {
		t.Fatalf("plot -o first: %d %s", st, errs)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"traceEvents":[{"ph":"X","name":"a","pid":1,"tid":1,"ts":0,"dur":10},{"ph":"X","name":"b","pid":1,"tid":1,"ts":5,"dur":10}]}`), 0o644)
	junk := filepath.Join(dir, "junk.json")
	os.WriteFile(junk, []byte("not json"), 0o644)
	cases := []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"trace"}, 2, "usage: veda trace"},
		{[]string{"trace", "frob"}, 2, `unknown subcommand "frob"`},
		{[]string{"trace", "summarize"}, 2, "no trace file"},
		{[]string{"trace", "summarize", filepath.Join(dir, "missing.json")}, 2, "no such file"},
		{[]string{"trace", "summarize", junk}, 1, "not a trace-event JSON file"},
		{[]string{"trace", "validate", bad}, 1, "overlaps"},
		{[]string{"trace", "plot", path}, 2, "-o OUT is required"},
		{[]string{"trace", "plot", path, "-o", filepath.Join(dir, "x.gif")}, 2, ".png, .svg or .pdf"},
		{[]string{"trace", "plot", filepath.Join(dir, "missing.json"), "-o", "x.jpg"}, 2, ".png, .svg or .pdf"},
		{[]string{"trace", "summarize", path, "extra"}, 2, "unexpected argument"},
		{[]string{"trace", "summarize", path, "-nope"}, 2, "flag provided but not defined"},
	}
	for _, c := range cases {
		st, _, errs := runCmd(t, c.args...)
		if st != c.status || !strings.Contains(errs, c.stderr) {
			t.Errorf("%v: status %d (want %d), stderr %q (want %q)", c.args, st, c.status, errs, c.stderr)
		}
	}
	if st, out, _ := runCmd(t, "trace", "-h"); st != 0 || !strings.Contains(out, "summarize FILE") {
		t.Errorf("trace -h: %d %s", st, out)
	}
}

// TestTraceOfTheEncryptionJob: the main job traced through VEDA_TRACE (no code changes) gives a
// file that passes the trace-event grammar check, with pipeline stage slices for every segment;
// and the example trace committed under bench/trace stays valid.
func TestTraceOfTheEncryptionJob(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k.key")
	if st, _, errs := runCmd(t, "keygen", "-out", key); st != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	in := filepath.Join(dir, "in.bin")
	data := make([]byte, 5<<20+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	os.WriteFile(in, data, 0o644)
	tr := filepath.Join(dir, "enc.json")
	t.Setenv("VEDA_TRACE", tr)
	if st, _, errs := runCmd(t, "encrypt", "-key", key, "-in", in, "-out", filepath.Join(dir, "out.enc")); st != 0 {
		t.Fatalf("encrypt: %s", errs)
	}
	t.Setenv("VEDA_TRACE", "")
	for _, p := range []string{tr, "../../../bench/trace/example-encrypt.json"} {
		f, err := trace.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if errs := trace.Validate(f); len(errs) > 0 {
			t.Fatalf("%s: %v", p, errs)
		}
		stages := 0
		for _, e := range f.TraceEvents {
			if e.Ph == "X" && e.Cat == "stage" {
				stages++
			}
		}
		if stages < 6 {
			t.Fatalf("%s: %d stage slices", p, stages)
		}
	}
}
