package energy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/veda-runtime/veda/goveda/internal/sysfs"
)

// raplDomain is one top-level powercap zone (a CPU package, or psys).
type raplDomain struct {
	name     string // from the zone's name file ("package-0")
	path     string // its energy_uj
	maxRange uint64 // max_energy_range_uj: the counter wraps to 0 after it (0: unknown)
	last     uint64 // last raw reading
	totalUJ  uint64 // accumulated since OpenRAPL, wrap-corrected
}

// RAPL reads CPU package energy from the powercap interface. Methods may be called from any
// goroutine (a mutex guards the counters). Read must be called at least once per wrap period
// (max_energy_range_uj at full power: tens of minutes) for the wrap correction to hold.
type RAPL struct {
	mu      sync.Mutex
	domains []*raplDomain
}

// OpenRAPL finds the package zones under sysfs.Root()/sys/class/powercap and takes a first
// reading. It returns nil and an unavailable Status when there are none or they cannot be read
// (a root-only energy_uj is reported as such).
func OpenRAPL() (*RAPL, Status) {
	base := sysfs.Path("/sys/class/powercap")
	ents, err := os.ReadDir(base)
	if err != nil {
		return nil, unavailable("rapl", fmt.Sprintf("no powercap interface (%v)", err),
			"needs an Intel (Sandy Bridge or later) or AMD Zen CPU on bare metal with the intel_rapl_common "+
				"(or rapl) kernel module loaded: sudo modprobe intel_rapl_msr; most VMs expose no RAPL")
	}
	var zones []string
	for _, e := range ents {
		// Top-level zones only ("intel-rapl:0"); subzones ("intel-rapl:0:0", core/uncore/dram)
		// are parts of their package and would be counted twice.
		n := e.Name()
		if strings.HasPrefix(n, "intel-rapl:") && strings.Count(n, ":") == 1 {
			zones = append(zones, n)
		}
	}
	sort.Strings(zones)
	if len(zones) == 0 {
		return nil, unavailable("rapl", base+" has no intel-rapl:N package zones",
			"load the RAPL driver (sudo modprobe intel_rapl_msr) on a CPU that has RAPL")
	}
	r := &RAPL{}
	var psys []*raplDomain
	var parts []string
	for _, z := range zones {
		dir := filepath.Join(base, z)
		name, _ := sysfs.ReadString(filepath.Join(dir, "name"))
		if name == "" {
			name = z
		}
		d := &raplDomain{name: name, path: filepath.Join(dir, "energy_uj")}
		d.maxRange, _ = sysfs.ReadUint(filepath.Join(dir, "max_energy_range_uj"))
		v, err := sysfs.ReadUint(d.path)
		if err != nil {
			return nil, raplReadStatus(d.path, err)
		}
		d.last = v
		if strings.HasPrefix(name, "psys") {
			psys = append(psys, d)
			continue
		}
		r.domains = append(r.domains, d)
	}
	if len(r.domains) == 0 {
		// Only the platform zone: it covers the whole SoC, package included; use it alone.
		r.domains = psys
	}
	for _, d := range r.domains {
		p := d.name
		if d.maxRange > 0 {
			p += fmt.Sprintf(" (wraps at %.0f J)", float64(d.maxRange)/1e6)
		}
		parts = append(parts, p)
	}
	return r, available("rapl", parts)
}

// raplReadStatus explains a failed energy_uj read.
func raplReadStatus(path string, err error) Status {
	if errors.Is(err, fs.ErrPermission) {
		return unavailable("rapl", path+" is readable by root only (Linux restricts RAPL energy counters since CVE-2020-8694)",
			"run as root, or grant read access: sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "+
				"(until reboot; a udev rule or tmpfiles.d entry makes it permanent)")
	}
	return unavailable("rapl", fmt.Sprintf("cannot read %s: %v", path, err), "check the powercap driver (dmesg | grep -i rapl)")
}

// Domains returns the names of the zones summed ("package-0", ...).
func (r *RAPL) Domains() []string {
	var out []string
	for _, d := range r.domains {
		out = append(out, d.name)
	}
	return out
}

// Read returns the joules used by all packages since OpenRAPL, wrap-corrected. An error (the
// file vanished or became unreadable) leaves the total as it was. Any goroutine.
func (r *RAPL) Read() (float64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var total uint64
	var firstErr error
	for _, d := range r.domains {
		v, err := sysfs.ReadUint(d.path)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("rapl: %w", err)
			}
		} else {
			d.totalUJ += wrapDelta(d.last, v, d.maxRange)
			d.last = v
		}
		total += d.totalUJ
	}
	return float64(total) / 1e6, firstErr
}

// wrapDelta returns the increase of a counter from last to cur that wraps to 0 after maxRange.
// With an unknown range a decrease is taken as a reset (counted from 0).
func wrapDelta(last, cur, maxRange uint64) uint64 {
	if cur >= last {
		return cur - last
	}
	if maxRange == 0 || last > maxRange {
		return cur
	}
	return maxRange - last + cur
}
