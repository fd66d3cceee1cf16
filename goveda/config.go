package goveda

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/veda-runtime/veda/goveda/internal/dispatch"
	"github.com/veda-runtime/veda/goveda/internal/energy"
	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// Policy selects how the runtime schedules. The numeric values are part of the C ABI
// (VEDA_POLICY_*) and never change.
type Policy int

const (
	// PolicyAdaptive (the default): all workers exist, surplus ones park when utilization stays
	// low and unpark when queues grow: a task that no active worker is free to take unparks one
	// at once (see ActiveWorkers).
	PolicyAdaptive Policy = 0
	// PolicyFixed: every worker is always active.
	PolicyFixed Policy = 1
	// PolicyDeterministic: fixed split trees and combine order (bit-identical reductions across
	// runs and worker counts) and victim choice from Config.Seed.
	PolicyDeterministic Policy = 2
	// PolicyEnergyEfficient: adaptive, with short spinning and eager parking; with
	// Config.MaxPowerWatts or MaxTempCelsius a governor caps the active workers to hold the
	// power budget and the temperature limit (see Energy).
	PolicyEnergyEfficient Policy = 3
	// PolicyLowLatency: every worker active, long spinning before parking.
	PolicyLowLatency Policy = 4
)

// String returns the policy's lower-case name: "adaptive", "fixed", "deterministic",
// "energy-efficient", "low-latency" (words joined by '-', as the strategy names).
func (p Policy) String() string {
	switch p {
	case PolicyAdaptive:
		return "adaptive"
	case PolicyFixed:
		return "fixed"
	case PolicyDeterministic:
		return "deterministic"
	case PolicyEnergyEfficient:
		return "energy-efficient"
	case PolicyLowLatency:
		return "low-latency"
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// Priority orders submitted tasks in the injector. Lower values run first. The zero value is
// PriorityNormal, so the zero TaskOptions means Normal, as veda_task_options_init does in C.
// The numeric values differ from the C ABI's VEDA_PRIORITY_* (0 is Realtime there); the C layer
// maps one to the other by name.
type Priority int

const (
	PriorityRealtime   Priority = -2 // served before everything else
	PriorityHigh       Priority = -1
	PriorityNormal     Priority = 0 // the zero value; the priority of Spawn, ParallelFor, Join
	PriorityLow        Priority = 1
	PriorityBackground Priority = 2 // served last, but never starved (aging)

	numPriorities = sched.Levels // the injector has one level per Priority
)

// level returns p's injector level: 0 (Realtime, served first) .. sched.Levels-1.
func (p Priority) level() int { return int(p - PriorityRealtime) }

// String returns the priority's lower-case name.
func (p Priority) String() string {
	switch p {
	case PriorityRealtime:
		return "realtime"
	case PriorityHigh:
		return "high"
	case PriorityNormal:
		return "normal"
	case PriorityLow:
		return "low"
	case PriorityBackground:
		return "background"
	}
	return fmt.Sprintf("priority(%d)", int(p))
}

func (p Priority) valid() bool { return p >= PriorityRealtime && p <= PriorityBackground }

// Config configures New. The zero value is valid: automatic worker count, PolicyAdaptive.
type Config struct {
	// Workers is the number of worker goroutines, and so the cap on task bodies (and chunks of
	// the CPU kernels) running at once. Not counted against it: the calling goroutine, which
	// runs Scope's function and small built-in kernels inline and waits for device calls, and
	// DistributeFrames' one goroutine per device, which runs its work function.
	// 0 means automatic: VEDA_NUM_WORKERS if set, else runtime.NumCPU() (the CPUs this process
	// may use). Negative is invalid.
	Workers int
	// Policy selects the scheduling policy (default PolicyAdaptive).
	Policy Policy
	// Seed seeds victim choice. Used by PolicyDeterministic; other policies seed from the clock
	// when Seed is 0.
	Seed uint64
	// PinWorkers pins each worker to one CPU (LockOSThread + sched_setaffinity). New fails with
	// an error wrapping ErrUnsupported if pinning is impossible.
	PinWorkers bool
	// DisableTelemetry turns off the latency histogram and busy/idle clocks. Counters stay on.
	DisableTelemetry bool
	// CgoBodies says that this runtime's task and loop bodies are mostly cgo calls into C, as in
	// libveda.so (which sets it for every runtime, see SetCgoHost). New then keeps a spare P
	// (GOMAXPROCS >= Workers+1), workers reschedule every few milliseconds, and loop and reduce
	// leaves run in pieces of about 200 us, so that Go's sysmon never retakes a worker's P in the
	// middle of a C body (cgo_bodies.go explains the cost this avoids). Results do not change
	// (a Reduce may combine in more, smaller partial results, in the same order).
	CgoBodies bool

	// Device dispatch (see Devices). Zero values take the environment (VEDA_STRATEGY,
	// VEDA_GPU_THRESHOLD, VEDA_MEM_FRACTION), then the defaults; explicit values win.

	// Strategy names the built-in placement strategy: "earliest-finish" (default),
	// "round-robin", "least-loaded", "weighted-capacity", "adaptive-throughput".
	Strategy string
	// CustomStrategy, when set, replaces Strategy with a user implementation.
	CustomStrategy Strategy
	// GPUThreshold is the size in bytes from which an uncalibrated kernel call goes to a GPU
	// (default 8 MiB).
	GPUThreshold uint64
	// MemFraction is the share of available memory the profile budgets (default 0.5).
	MemFraction float64
	// DisableGPU keeps this runtime on the CPU (as VEDA_DISABLE_GPU=1 does for the process).
	DisableGPU bool
	// RecordDecisions starts the runtime with the decision ring on (see Decisions).
	RecordDecisions bool

	// Energy (see Energy and the package doc's energy section).

	// MaxPowerWatts is the power budget of PolicyEnergyEfficient in watts (0: none): above it
	// the runtime lowers its active workers, and raises them again with hysteresis once the
	// power stays well below. Power is measured (RAPL, NVML) where readable, else estimated.
	// Negative, NaN or infinite is invalid; a budget with another policy is invalid.
	MaxPowerWatts float64
	// MaxTempCelsius is the temperature limit of PolicyEnergyEfficient in °C (0: none): from
	// 5 °C below it the runtime lowers its active workers. Below 0, NaN or infinite is invalid;
	// a limit with another policy is invalid.
	MaxTempCelsius float64
	// EnergyWeight is how many seconds of makespan one joule is worth (StarPU's gamma): the
	// earliest-finish strategy then places each kernel call where finish + weight x joules is
	// smallest, so a frugal device wins when the energy it saves is worth the delay. 0 ignores
	// energy. Negative, NaN or infinite is invalid. Any policy.
	EnergyWeight float64

	// Deterministic record and replay (see schedule.go and the package doc).

	// RecordSchedule, when set, is a file that Close writes with the schedule this runtime ran:
	// which worker ran which task or chunk, in which order, and where each steal came from.
	// VEDA_SCHEDULE_RECORD=path does the same without code changes. PolicyDeterministic only.
	// The file is written by a Close from outside the pool (not by one called from a task).
	RecordSchedule string
	// ReplaySchedule, when set, is a schedule file (from RecordSchedule) that this runtime
	// replays: workers run the recorded tasks in the recorded order instead of stealing, so an
	// ordering bug reproduces. A file that is corrupt, or for another worker count, makes New
	// fail; one for another program is detected at the first mismatch, after which the runtime
	// schedules normally and the next outside call returns the error (see ScheduleError).
	// VEDA_SCHEDULE_REPLAY=path does the same. PolicyDeterministic only.
	ReplaySchedule string
}

// maxWorkers bounds Config.Workers; more would only be a configuration mistake.
const maxWorkers = 4096

// ConfigError is New's error for an invalid Config field. It wraps ErrInvalidArgument. Problem
// names no Go identifier, so a binding can name the field its own way (the C ABI says
// "cfg->num_workers is -1, must be >= 0").
type ConfigError struct {
	Field   string // the Config field: "Workers", "Policy", "Strategy", "MemFraction", "MaxPowerWatts", "MaxTempCelsius", "EnergyWeight"
	Problem string // what is wrong, starting with the value: "is -1, must be >= 0"
}

// Error returns "veda: invalid argument: Config.<Field> <Problem>".
func (e *ConfigError) Error() string {
	return ErrInvalidArgument.Error() + ": Config." + e.Field + " " + e.Problem
}

// Unwrap returns ErrInvalidArgument.
func (e *ConfigError) Unwrap() error { return ErrInvalidArgument }

// normalize validates c and fills in defaults. Errors wrap ErrInvalidArgument; an invalid field
// gives a *ConfigError.
func (c Config) normalize() (Config, error) {
	bad := func(field, format string, args ...any) (Config, error) {
		return c, &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if cgoHost.Load() { // load: a flag set once at library load, before any runtime
		c.CgoBodies = true
	}
	if c.Workers < 0 {
		return bad("Workers", "is %d, must be >= 0", c.Workers)
	}
	if c.Workers > maxWorkers {
		return bad("Workers", "is %d, must be <= %d", c.Workers, maxWorkers)
	}
	if c.Policy < PolicyAdaptive || c.Policy > PolicyLowLatency {
		return bad("Policy", "is %d, not a known policy (%d..%d)", int(c.Policy), int(PolicyAdaptive), int(PolicyLowLatency))
	}
	if c.MemFraction < 0 || c.MemFraction > 1 || math.IsNaN(c.MemFraction) {
		return bad("MemFraction", "is %g, must be in [0, 1]", c.MemFraction)
	}
	if err := (energy.Limits{MaxWatts: c.MaxPowerWatts}).Validate(); err != nil {
		return bad("MaxPowerWatts", "is %g, must be a finite number >= 0 (0: no budget)", c.MaxPowerWatts)
	}
	if err := (energy.Limits{MaxTempC: c.MaxTempCelsius}).Validate(); err != nil {
		return bad("MaxTempCelsius", "is %g, must be a finite number >= 0 °C (0: no limit)", c.MaxTempCelsius)
	}
	if c.Policy != PolicyEnergyEfficient {
		if c.MaxPowerWatts > 0 {
			return bad("MaxPowerWatts", "is %g, which needs the energy-efficient policy (policy is %s)", c.MaxPowerWatts, c.Policy)
		}
		if c.MaxTempCelsius > 0 {
			return bad("MaxTempCelsius", "is %g, which needs the energy-efficient policy (policy is %s)", c.MaxTempCelsius, c.Policy)
		}
	}
	if c.EnergyWeight < 0 || math.IsNaN(c.EnergyWeight) || math.IsInf(c.EnergyWeight, 0) {
		return bad("EnergyWeight", "is %g, must be a finite number >= 0 (seconds per joule)", c.EnergyWeight)
	}
	if c.Strategy != "" {
		if _, err := dispatch.ParseStrategy(c.Strategy); err != nil {
			return bad("Strategy", "is %q, not a known strategy (valid: %s)", c.Strategy, strings.Join(dispatch.StrategyNames, ", "))
		}
	}
	if c.Workers == 0 {
		if v := os.Getenv("VEDA_NUM_WORKERS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxWorkers {
				return c, invalidf("VEDA_NUM_WORKERS is %q, must be an integer in [1, %d]", v, maxWorkers)
			}
			c.Workers = n
			return c, nil
		}
		c.Workers = runtime.NumCPU()
		if c.Workers < 1 {
			c.Workers = 1
		}
	}
	return c, nil
}
