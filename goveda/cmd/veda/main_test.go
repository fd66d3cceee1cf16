package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda"
)

// runCmd runs the program in-process and returns its status, stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	st := run(args, &out, &errb)
	return st, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		status int
		stdout string // substring expected in stdout
		stderr string // substring expected in stderr
	}{
		{"no args", nil, 2, "", "usage: veda"},
		{"help", []string{"help"}, 0, "usage: veda", ""},
		{"-h", []string{"-h"}, 0, "usage: veda", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"bad flag", []string{"demo", "-nope"}, 2, "", "usage: veda demo"},
		{"bad flag value", []string{"explain", "-n", "many"}, 2, "", "usage: veda explain"},
		{"stray argument", []string{"info", "extra"}, 2, "", "unexpected argument"},
		{"command help", []string{"info", "-h"}, 0, "", "usage: veda info"},
		{"bad number", []string{"explain", "-n", "0"}, 2, "", "-n and -window"},
		{"bad strategy", []string{"explain", "-strategy", "fastest"}, 2, "", `"fastest", not a known strategy`},
		{"bad strategy demo", []string{"demo", "-quick", "-strategy", "fastest"}, 2, "", "not a known strategy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, out, errs := runCmd(t, c.args...)
			if st != c.status {
				t.Errorf("status %d, want %d (stderr %q)", st, c.status, errs)
			}
			if !strings.Contains(out, c.stdout) {
				t.Errorf("stdout %q lacks %q", out, c.stdout)
			}
			if !strings.Contains(errs, c.stderr) {
				t.Errorf("stderr %q lacks %q", errs, c.stderr)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	st, out, errs := runCmd(t, "info")
	if st != 0 {
		t.Fatalf("status %d, stderr %q", st, errs)
	}
	for _, want := range []string{"== profile", "cpu_workers", "== devices", "0      cpu"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	st, out, errs = runCmd(t, "info", "-json")
	if st != 0 {
		t.Fatalf("-json: status %d, stderr %q", st, errs)
	}
	var v struct {
		Devices []struct {
			Index int    `json:"index"`
			Kind  int    `json:"kind"`
			Name  string `json:"name"`
		} `json:"devices"`
		AbsentBackends map[string]string `json:"absent_backends"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("-json: %v\n%s", err, out)
	}
	if len(v.Devices) == 0 || v.Devices[0].Index != 0 || v.Devices[0].Kind != 0 {
		t.Errorf("-json: device 0 is not the CPU: %+v", v.Devices)
	}
	// Every GPU backend either has a device or says why not.
	kinds := map[int]bool{}
	for _, d := range v.Devices {
		kinds[d.Kind] = true
	}
	for kind, name := range map[int]string{1: "opencl", 2: "cuda"} {
		if !kinds[kind] && v.AbsentBackends[name] == "" {
			t.Errorf("-json: no %s device and no reason in absent_backends %v", name, v.AbsentBackends)
		}
	}
}

func TestDemoQuick(t *testing.T) {
	st, out, errs := runCmd(t, "demo", "-quick", "-reps", "1")
	if st != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", st, out, errs)
	}
	if strings.Contains(out, "MISMATCH") || strings.Contains(out, "error") {
		t.Errorf("a result is wrong:\n%s", out)
	}
	if !strings.Contains(out, "kernel") || !strings.Contains(out, "throughput") {
		t.Errorf("no table header:\n%s", out)
	}
	for _, k := range demoKernels {
		if !strings.Contains(out, k) {
			t.Errorf("no %s row:\n%s", k, out)
		}
	}
	// One row per (kernel, size) per device, plus one automatic row each.
	ok := strings.Count(out, " ok")
	auto := strings.Count(out, " auto ")
	pinnedCPU := strings.Count(out, "pinned  cpu:")
	cases := len(demoKernels) * 2
	if auto != cases || pinnedCPU != cases || ok < 2*cases {
		t.Errorf("%d ok, %d auto rows, %d CPU rows; want >= %d, %d, %d:\n%s", ok, auto, pinnedCPU, 2*cases, cases, cases, out)
	}
	if !strings.Contains(errs, "/") || !strings.Contains(errs, "sgemm") {
		t.Errorf("no progress on stderr: %q", errs)
	}
}

func TestExplain(t *testing.T) {
	st, out, errs := runCmd(t, "explain", "-n", "12", "-warmup", "12")
	if st != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", st, out, errs)
	}
	for _, want := range []string{"seq", "reason", "est. finish on 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		// seq kernel size(2 fields) device(2 fields) reason...
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if seq, err := strconv.Atoi(f[0]); err != nil || seq < 13 || seq > 24 {
			continue
		}
		rows++
		if len(f) < 7 || strings.Trim(f[6], "abcdefghijklmnopqrstuvwxyz:-") != "" {
			t.Errorf("row without a reason: %q", line)
		}
	}
	if rows != 12 {
		t.Errorf("%d decision rows (seq 13..24), want 12:\n%s", rows, out)
	}

	st, out, errs = runCmd(t, "explain", "-n", "5", "-warmup", "0", "-json")
	if st != 0 {
		t.Fatalf("-json: status %d, stderr %q", st, errs)
	}
	var decs []struct {
		Seq    uint64 `json:"seq"`
		Kernel string `json:"kernel"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(out), &decs); err != nil {
		t.Fatalf("-json: %v\n%s", err, out)
	}
	if len(decs) != 5 {
		t.Fatalf("-json: %d decisions, want 5", len(decs))
	}
	for _, d := range decs {
		if d.Reason == "" || d.Kernel == "" {
			t.Errorf("-json: decision without kernel or reason: %+v", d)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, a := range []string{"version", "--version", "-version"} {
		st, out, errs := runCmd(t, a)
		if st != 0 || !strings.HasPrefix(out, "veda "+goveda.Version+" (go") || errs != "" {
			t.Fatalf("veda %s: status %d, stdout %q, stderr %q", a, st, out, errs)
		}
	}
	if st, _, errs := runCmd(t, "version", "x"); st != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Fatalf("veda version x: %d %q", st, errs)
	}
	if _, out, _ := runCmd(t, "help"); !strings.Contains(out, "version") {
		t.Fatal("help does not list version")
	}
}

// TestUsageLinesListEveryFlag: each command's -h usage line names every flag it defines (the
// list printed below it by the flag package). trace (subcommands) is not checked.
func TestUsageLinesListEveryFlag(t *testing.T) {
	for _, c := range commands {
		if c.name == "trace" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			st, _, errs := runCmd(t, c.name, "-h")
			if st != 0 {
				t.Fatalf("veda %s -h: status %d", c.name, st)
			}
			var usageLine string
			for _, l := range strings.Split(errs, "\n") {
				if strings.HasPrefix(l, "usage: veda "+c.name) {
					usageLine = l
					break
				}
			}
			if usageLine == "" {
				t.Fatalf("no usage line in %q", errs)
			}
			for _, l := range strings.Split(errs, "\n") {
				if !strings.HasPrefix(l, "  -") {
					continue
				}
				name := strings.Fields(l)[0]
				if !strings.Contains(usageLine+" ", "["+name+" ") && !strings.Contains(usageLine+" ", "["+name+"]") &&
					!strings.Contains(usageLine+" ", " "+name+" ") {
					t.Errorf("usage line %q lacks %s", usageLine, name)
				}
			}
		})
	}
}

// TestInfoJSON: `veda info -json` uses snake_case keys (as the metrics JSON), reports the worker
// count the runtime runs, and names the CPU device as the metrics do.
func TestInfoJSON(t *testing.T) {
	st, out, errs := runCmd(t, "info", "-json", "-workers", "3")
	if st != 0 {
		t.Fatalf("veda info -json: %d %s", st, errs)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z0-9_]+$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snake.MatchString(k) {
					t.Errorf("key %s/%s is not snake_case", path, k)
				}
				walk(path+"/"+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", doc)
	prof := doc["profile"].(map[string]any)
	if prof["cpu_workers"] != float64(3) {
		t.Errorf("profile cpu_workers = %v, the runtime runs 3", prof["cpu_workers"])
	}
	rt, err := goveda.New(goveda.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	devs, _ := rt.Devices()
	m := rt.Metrics()
	if len(m.Devices) == 0 || m.Devices[0].Name != devs[0].Name {
		t.Errorf("the CPU is %q in device info but %q in metrics", devs[0].Name, m.Devices[0].Name)
	}
}

// TestJobSmall runs the main job on a small stream: the round trip matches, the digests
// printed are whole SHA-256 values (64 hex digits) and the placement table is there.
func TestJobSmall(t *testing.T) {
	st, out, errs := runCmd(t, "job", "-size", "3MiB", "-device-size", "1MiB", "-reps", "1", "-no-openssl")
	if st != 0 {
		t.Fatalf("status %d, stderr %q\n%s", st, errs, out)
	}
	m := regexp.MustCompile(`SHA-256 input +([0-9a-f]+)\n +SHA-256 round trip ([0-9a-f]+): match`).FindStringSubmatch(out)
	if m == nil || len(m[1]) != 64 || m[1] != m[2] {
		t.Fatalf("no whole matching SHA-256 pair in:\n%s", out)
	}
	for _, want := range []string{"placement table", "cpu only", "automatic"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if st, _, _ := runCmd(t, "job", "-reps", "0"); st != 2 {
		t.Errorf("-reps 0: status %d, want 2", st)
	}
}

// TestBadEnvironmentIsUsage: a malformed VEDA_* variable is bad usage (status 2), named in the
// message, for every command that starts a runtime.
func TestBadEnvironmentIsUsage(t *testing.T) {
	t.Setenv("VEDA_NUM_WORKERS", "abc")
	for _, args := range [][]string{{"info"}, {"explain", "-n", "1"}, {"demo", "-quick"}, {"job", "-size", "1MiB"}} {
		st, _, errs := runCmd(t, args...)
		if st != 2 || !strings.Contains(errs, "VEDA_NUM_WORKERS") {
			t.Errorf("veda %v with VEDA_NUM_WORKERS=abc: status %d, stderr %q; want 2 naming the variable", args, st, errs)
		}
	}
}
