package energy

import (
	"fmt"
	"strings"
)

// Source says where an energy figure comes from.
type Source string

const (
	// SourceRAPL: measured by the CPU's RAPL energy counters (powercap).
	SourceRAPL Source = "rapl"
	// SourceNVML: measured by NVML (the GPU's energy counter or integrated power samples).
	SourceNVML Source = "nvml"
	// SourceEstimated: not measured; busy time x a power model (see estimate.go).
	SourceEstimated Source = "estimated"
)

// Status describes one sensor: available with what was found, or unavailable with why and how
// to fix it. It is what `veda info` prints; never a silent zero.
type Status struct {
	// Name is the sensor kind: "rapl", "nvml", "thermal", "hwmon".
	Name      string `json:"name"`
	Available bool   `json:"available"`
	// Detail lists what was found when available ("package-0 (wraps at 262143 J)").
	Detail string `json:"detail,omitempty"`
	// Reason says why it is unavailable; Fix what would make it available.
	Reason string `json:"reason,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// String renders the status on one line.
func (s Status) String() string {
	if s.Available {
		return fmt.Sprintf("%s: available: %s", s.Name, s.Detail)
	}
	out := fmt.Sprintf("%s: unavailable: %s", s.Name, s.Reason)
	if s.Fix != "" {
		out += " (fix: " + s.Fix + ")"
	}
	return out
}

func unavailable(name, reason, fix string) Status {
	return Status{Name: name, Reason: reason, Fix: fix}
}

func available(name string, parts []string) Status {
	return Status{Name: name, Available: true, Detail: strings.Join(parts, ", ")}
}
