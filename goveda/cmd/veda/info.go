package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/veda-runtime/veda/goveda"
)

// cmdInfo is `veda info`: the profile, the devices, and the absent backends.
func cmdInfo(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	asJSON := fs.Bool("json", false, "print one JSON object {profile, devices, absent_backends}")
	workers := fs.Int("workers", 0, "CPU workers (0: automatic)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: veda info [-json] [-workers N]")
		fmt.Fprintln(fs.Output(), "Prints the hardware profile (and where each value came from), every device, and why")
		fmt.Fprintln(fs.Output(), "each absent GPU backend is absent.")
		fs.PrintDefaults()
	}
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	rt, err := goveda.New(goveda.Config{Workers: *workers})
	if err != nil {
		return failNew(stderr, "info", err)
	}
	defer rt.Close()
	prof, err := rt.Profile()
	if err != nil {
		return fail(stderr, "info", err)
	}
	devs, err := rt.Devices()
	if err != nil {
		return fail(stderr, "info", err)
	}
	absent, err := rt.AbsentBackends()
	if err != nil {
		return fail(stderr, "info", err)
	}
	sensors := rt.Sensors()
	top := rt.Topology()
	affinity := rt.GPUAffinity()
	en := rt.Energy()
	vendors := rt.VendorLibraries()
	cal, err := rt.Calibration()
	if err != nil {
		return fail(stderr, "info", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Profile         goveda.Profile         `json:"profile"`
			Devices         []goveda.DeviceInfo    `json:"devices"`
			AbsentBackends  map[string]string      `json:"absent_backends"`
			VendorLibraries []goveda.VendorLibrary `json:"vendor_libraries"`
			Sensors         []goveda.SensorStatus  `json:"sensors"`
			Topology        goveda.Topology        `json:"topology"`
			GPUAffinity     []goveda.GPUAffinity   `json:"gpu_affinity"`
			Energy          []goveda.DeviceEnergy  `json:"energy_sources"`
		}{prof, devs, absent, vendors, sensors, top, affinity, en.Devices}); err != nil {
			return fail(stderr, "info", err)
		}
		return 0
	}
	fmt.Fprintln(stdout, "== profile")
	fmt.Fprint(stdout, prof.String())
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "== devices")
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "index\tkind\tname\tvendor\tmemory\tcompute units\tfp64\tdriver")
	for _, d := range devs {
		driver := d.Platform
		if d.DriverVersion != "" && d.DriverVersion != driver {
			driver = strings.TrimSpace(driver + " " + d.DriverVersion)
		}
		if d.ComputeCap != "" {
			driver += " (sm " + d.ComputeCap + ")"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%v\t%s\n", d.Index, d.Kind, d.Name, d.Vendor,
			formatBytes(d.MemoryBytes), d.ComputeUnits, d.FP64, driver)
	}
	w.Flush()
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "== vendor libraries (each chosen per kernel and size by measurement against VEDA's kernel)")
	for _, v := range vendors {
		if v.Found {
			fmt.Fprintf(stdout, "%s: %s [%s]", v.Name, v.Library, strings.Join(v.Kernels, ", "))
			if v.Detail != "" {
				fmt.Fprintf(stdout, " %s", v.Detail)
			}
			if v.Why != "" {
				fmt.Fprintf(stdout, "; %s", v.Why)
			}
			fmt.Fprintln(stdout)
		} else {
			fmt.Fprintf(stdout, "%s: not found: %s\n", v.Name, v.Why)
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "== calibration (VEDA_CALIBRATION=%s)\n", cal.Mode)
	if cal.Path != "" {
		fmt.Fprintf(stdout, "%s: %s, %d windows loaded\n", cal.Path, cal.Status, cal.Loaded)
	} else {
		fmt.Fprintln(stdout, cal.Status)
	}
	if len(absent) > 0 {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "== absent backends")
		names := make([]string, 0, len(absent))
		for k := range absent {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(stdout, "%s: %s\n", k, absent[k])
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "== sensors")
	for _, s := range sensors {
		fmt.Fprintln(stdout, s.String())
	}
	for _, d := range en.Devices {
		how := "measured by " + d.Source
		if d.Source == "estimated" {
			how = "ESTIMATED (no sensor)"
		}
		fmt.Fprintf(stdout, "energy of device %d (%s): %s: %s\n", d.Device, d.Name, how, d.Basis)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "== numa")
	fmt.Fprint(stdout, top.String())
	if len(affinity) == 0 {
		fmt.Fprintln(stdout, "gpu affinity: no GPU with a known PCI address")
	}
	for _, a := range affinity {
		node := "unknown"
		if a.Node >= 0 {
			node = fmt.Sprintf("node %d", a.Node)
		}
		fmt.Fprintf(stdout, "gpu affinity: device %d %s (%s): %s (%s)\n", a.Device, a.Name, a.BusID, node, a.Source)
	}
	return 0
}

// formatBytes prints n in binary units ("64 KiB", "1.5 GiB").
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(uint64(v)) {
		return fmt.Sprintf("%d %ciB", uint64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}
