package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

// cmdCalibrate is `veda calibrate`: a short calibration of every built-in kernel on every
// device, saved per machine (goveda.Runtime.Calibrate does the work).
func cmdCalibrate(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	asJSON := fs.Bool("json", false, "print the measurements as JSON")
	workers := fs.Int("workers", 0, "CPU workers (0: automatic); the calibration is kept per worker count")
	minB := fs.Int64("min", 4<<10, "smallest size in bytes")
	maxB := fs.Int64("max", 32<<20, "largest size in bytes")
	reps := fs.Int("reps", 3, "calls per kernel, device and size")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: veda calibrate [-json] [-workers N] [-min BYTES] [-max BYTES] [-reps N]")
		fmt.Fprintln(fs.Output(), "Measures every built-in kernel on every device (sizes from -min to -max, powers of four)")
		fmt.Fprintln(fs.Output(), "and saves the cost model in $VEDA_CACHE_DIR/calibration, where every later process loads")
		fmt.Fprintln(fs.Output(), "it at start (VEDA_CALIBRATION=on|readonly|off).")
		fs.PrintDefaults()
	}
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	rt, err := goveda.New(goveda.Config{Workers: *workers})
	if err != nil {
		return failNew(stderr, "calibrate", err)
	}
	defer rt.Close()
	start := time.Now()
	samples, err := rt.Calibrate(context.Background(), goveda.CalibrateOptions{MinBytes: *minB, MaxBytes: *maxB, Reps: *reps})
	if err != nil {
		return fail(stderr, "calibrate", err)
	}
	info, err := rt.Calibration()
	if err != nil {
		return fail(stderr, "calibrate", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Calibration goveda.CalibrationInfo     `json:"calibration"`
			Samples     []goveda.CalibrationSample `json:"samples"`
		}{info, samples}); err != nil {
			return fail(stderr, "calibrate", err)
		}
		return 0
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "kernel\tdevice\tbytes\tmedian\t")
	for _, s := range samples {
		fmt.Fprintf(w, "%s\t%d\t%s\t%v\t\n", s.Kernel, s.Device, formatBytes(uint64(s.Bytes)), s.Median.Round(time.Microsecond))
	}
	w.Flush()
	saved := "not saved (VEDA_CALIBRATION=" + string(info.Mode) + ")"
	if !info.SavedAt.IsZero() {
		saved = "saved to " + info.Path
	}
	fmt.Fprintf(stdout, "%d measurements in %v; %s\n", len(samples), time.Since(start).Round(time.Millisecond), saved)
	return 0
}
