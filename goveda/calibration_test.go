package goveda

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func calRuntime(t *testing.T) *Runtime {
	t.Helper()
	rt, err := New(Config{Workers: 2, RecordDecisions: true})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// A calibrated process saves its model; the next one loads it and places its first call of each
// (kernel, size) with the model: no threshold rule, no exploration.
func TestCalibrationPersistsAcrossRuntimes(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VEDA_CACHE_DIR", dir)
	t.Setenv("VEDA_CALIBRATION", "on")
	ctx := context.Background()
	sizes := []int{1 << 10, 1 << 14, 1 << 18, 1 << 21}
	rt := calRuntime(t)
	devs, _ := rt.Devices()
	for _, n := range sizes {
		x := make([]float32, n)
		for _, d := range devs {
			if err := rt.PinDevice(d.Index); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4; i++ {
				if _, err := rt.SumF32(ctx, x); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	_ = rt.PinDevice(-1)
	info, _ := rt.Calibration()
	if info.Mode != CalibrationOn || info.Status != "no file" || !strings.HasPrefix(info.Path, dir) {
		t.Fatalf("first runtime: %+v", info)
	}
	rt.Close()
	raw, err := os.ReadFile(info.Path)
	if err != nil {
		t.Fatal(err)
	}
	var f calFile
	if err := json.Unmarshal(raw, &f); err != nil || f.Format != calibrationFormat {
		t.Fatalf("saved file: %v %q", err, f.Format)
	}

	rt2 := calRuntime(t)
	defer rt2.Close()
	info2, _ := rt2.Calibration()
	if info2.Status != "loaded" || info2.Loaded < len(sizes) {
		t.Fatalf("second runtime: %+v", info2)
	}
	for _, n := range sizes {
		if _, err := rt2.SumF32(ctx, make([]float32, n)); err != nil {
			t.Fatal(err)
		}
	}
	decs, _ := rt2.Decisions()
	for _, d := range decs {
		if d.Reason == "calibrating: threshold" || d.Reason == "exploration" {
			t.Fatalf("first calls of a calibrated machine: %s for %d bytes", d.Reason, d.Bytes)
		}
	}
}

// A corrupt, tampered or foreign file is ignored (never trusted) and rewritten by the next save.
func TestCalibrationCorruptFileIgnoredAndRewritten(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VEDA_CACHE_DIR", dir)
	t.Setenv("VEDA_CALIBRATION", "on")
	rt := calRuntime(t)
	info, _ := rt.Calibration()
	rt.Close()
	path := info.Path
	good := func() []byte {
		r := calRuntime(t)
		if _, err := r.SumF32(context.Background(), make([]float32, 4096)); err != nil {
			t.Fatal(err)
		}
		if err := r.SaveCalibration(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	orig := good()
	tampered := regexp.MustCompile(`"bucket": *(\d+)`).ReplaceAllString(string(orig), `"bucket": 40`)
	if tampered == string(orig) {
		t.Fatal("test did not tamper with the file")
	}
	var foreign calFile
	_ = json.Unmarshal(orig, &foreign)
	foreign.Format = "someone-else/7"
	fb, _ := json.Marshal(foreign)
	var otherMachine calFile
	_ = json.Unmarshal(orig, &otherMachine)
	otherMachine.Machine = "0000000000000000"
	ob, _ := json.Marshal(otherMachine)
	cases := map[string][]byte{
		"truncated": orig[:len(orig)/2],
		"garbage":   []byte("\x00\x01not json"),
		"tampered":  []byte(tampered),
		"foreign":   fb,
		"machine":   ob,
	}
	for name, content := range cases {
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		r := calRuntime(t)
		ci, _ := r.Calibration()
		if !strings.HasPrefix(ci.Status, "ignored") || ci.Loaded != 0 {
			t.Fatalf("%s: %+v", name, ci)
		}
		if _, err := r.SumF32(context.Background(), make([]float32, 4096)); err != nil {
			t.Fatal(err)
		}
		r.Close() // rewrites the file
		r2 := calRuntime(t)
		ci2, _ := r2.Calibration()
		r2.Close()
		if ci2.Status != "loaded" || ci2.Loaded == 0 {
			t.Fatalf("%s: not rewritten: %+v", name, ci2)
		}
	}
	// No temporary files are left behind.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".calibration-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestCalibrationModes(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VEDA_CACHE_DIR", dir)
	t.Setenv("VEDA_CALIBRATION", "readonly")
	rt := calRuntime(t)
	if _, err := rt.SumF32(context.Background(), make([]float32, 4096)); err != nil {
		t.Fatal(err)
	}
	info, _ := rt.Calibration()
	rt.Close()
	if info.Mode != CalibrationReadOnly {
		t.Fatalf("readonly: %+v", info)
	}
	if _, err := os.Stat(info.Path); !os.IsNotExist(err) {
		t.Fatalf("readonly wrote %s (%v)", info.Path, err)
	}
	t.Setenv("VEDA_CALIBRATION", "off")
	rt = calRuntime(t)
	info, _ = rt.Calibration()
	rt.Close()
	if info.Mode != CalibrationOff || info.Path != "" {
		t.Fatalf("off: %+v", info)
	}
	t.Setenv("VEDA_CALIBRATION", "sometimes")
	rt = calRuntime(t)
	defer rt.Close()
	if _, err := rt.Devices(); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "VEDA_CALIBRATION") {
		t.Fatalf("bad VEDA_CALIBRATION: %v", err)
	}
}
