package goveda

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Metrics is a snapshot of a runtime's counters. Counters are published by workers when they go
// idle and every 1024 tasks, so a busy pool's snapshot may lag by that much.
type Metrics struct {
	Workers       int    `json:"workers"`
	ActiveWorkers int    `json:"active_workers"`
	Policy        string `json:"policy"`
	TasksExecuted uint64 `json:"tasks_executed"` // tasks run by workers (inline join halves included)
	TasksStolen   uint64 `json:"tasks_stolen"`   // tasks taken from another worker's deque
	TasksPanicked uint64 `json:"tasks_panicked"` // panics recovered into *PanicError
	StealAttempts uint64 `json:"steal_attempts"` // victims probed
	// LocalSteals and RemoteSteals split the successful steals by whether the victim was on the
	// thief's NUMA node (hierarchical stealing); both 0 on one node.
	LocalSteals  uint64 `json:"local_steals"`
	RemoteSteals uint64 `json:"remote_steals"`
	// WorkerNodes is each worker's NUMA node id.
	WorkerNodes      []int   `json:"worker_nodes"`
	TasksSubmitted   uint64  `json:"tasks_submitted"` // tasks that went through the injector
	Parks            uint64  `json:"parks"`           // times a worker parked
	QueuedInjected   int64   `json:"queued_injected"` // injector length now
	WorkerBusyNs     []int64 `json:"worker_busy_ns"`
	WorkerIdleNs     []int64 `json:"worker_idle_ns"`
	LatencyCount     int64   `json:"latency_count"` // injected tasks measured (submit to finish)
	LatencyP50Ns     int64   `json:"latency_p50_ns"`
	LatencyP90Ns     int64   `json:"latency_p90_ns"`
	LatencyP99Ns     int64   `json:"latency_p99_ns"`
	LatencyP999Ns    int64   `json:"latency_p999_ns"`
	WaitCount        int64   `json:"wait_count"` // injected tasks measured (submit to start)
	WaitP50Ns        int64   `json:"wait_p50_ns"`
	WaitP99Ns        int64   `json:"wait_p99_ns"`
	WaitP999Ns       int64   `json:"wait_p999_ns"`
	TelemetryEnabled bool    `json:"telemetry_enabled"`
	// KernelTimes holds the wall time of kernel calls per device (p50, p99, p999), for the
	// devices that ran any.
	KernelTimes []KernelTime `json:"kernel_times,omitempty"`
	// Devices holds each device's dispatch statistics (index 0 is the CPU); empty until the
	// runtime has discovered its devices (the first kernel call, Devices, Kernel, ...).
	Devices []DeviceStats `json:"devices,omitempty"`
	// Pipelines holds each live pipeline's metrics, merged by name (pipeline_metrics.go).
	Pipelines []PipelineStats `json:"pipelines,omitempty"`
	// Energy is the energy report (see Runtime.Energy): joules and average watts per device
	// with their source, the sensors' availability, the energy policy's cap and resizes.
	Energy *EnergyReport `json:"energy,omitempty"`
}

// Metrics returns a snapshot of rt's counters. Any goroutine; cost O(workers) plus merging the
// per-worker latency histograms (microseconds).
func (rt *Runtime) Metrics() Metrics {
	st := rt.pool.Stats()
	m := Metrics{
		Workers:          rt.pool.Workers(),
		ActiveWorkers:    rt.ActiveWorkers(),
		Policy:           rt.cfg.Policy.String(),
		TasksExecuted:    st.Executed,
		TasksStolen:      st.Stolen,
		TasksPanicked:    st.Panicked,
		StealAttempts:    st.StealAttempts,
		LocalSteals:      st.LocalSteals,
		RemoteSteals:     st.RemoteSteals,
		WorkerNodes:      rt.WorkerNodes(),
		TasksSubmitted:   st.Submitted,
		Parks:            st.Parks,
		QueuedInjected:   st.QueuedInjected,
		TelemetryEnabled: !rt.cfg.DisableTelemetry,
		WorkerBusyNs:     st.BusyNs,
		WorkerIdleNs:     st.IdleNs,
		LatencyCount:     st.LatencyCount,
		LatencyP50Ns:     st.LatencyP50Ns,
		LatencyP90Ns:     st.LatencyP90Ns,
		LatencyP99Ns:     st.LatencyP99Ns,
		LatencyP999Ns:    st.LatencyP999Ns,
		WaitCount:        st.WaitCount,
		WaitP50Ns:        st.WaitP50Ns,
		WaitP99Ns:        st.WaitP99Ns,
		WaitP999Ns:       st.WaitP999Ns,
		KernelTimes:      rt.ktimes.snapshot(),
	}
	if rt.dev.ready.Load() {
		m.Devices = rt.dev.disp.Stats()
	}
	en := rt.Energy()
	m.Energy = &en
	m.Pipelines = pipelineMetrics(rt)
	return m
}

// JSON encodes m with snake_case keys ("tasks_executed", "workers", ...).
func (m Metrics) JSON() ([]byte, error) { return json.Marshal(m) }

// Prometheus renders m in the Prometheus text exposition format, names prefixed "veda_".
func (m Metrics) Prometheus() string {
	var b strings.Builder
	metric := func(name, typ, help string, v any) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
	}
	metric("veda_workers", "gauge", "Number of worker goroutines.", m.Workers)
	metric("veda_active_workers", "gauge", "Workers the adaptive policy lets take work.", m.ActiveWorkers)
	metric("veda_tasks_executed_total", "counter", "Tasks run by workers.", m.TasksExecuted)
	metric("veda_tasks_stolen_total", "counter", "Tasks stolen from another worker.", m.TasksStolen)
	metric("veda_tasks_panicked_total", "counter", "Task panics recovered.", m.TasksPanicked)
	metric("veda_steal_attempts_total", "counter", "Steal attempts (victims probed).", m.StealAttempts)
	metric("veda_local_steals_total", "counter", "Steals from a worker on the thief's NUMA node.", m.LocalSteals)
	metric("veda_remote_steals_total", "counter", "Steals from a worker on another NUMA node.", m.RemoteSteals)
	metric("veda_tasks_submitted_total", "counter", "Tasks queued through the injector.", m.TasksSubmitted)
	metric("veda_parks_total", "counter", "Times a worker parked.", m.Parks)
	metric("veda_queued_injected", "gauge", "Tasks waiting in the injector.", m.QueuedInjected)
	fmt.Fprintf(&b, "# HELP veda_worker_busy_seconds_total Time each worker spent running tasks.\n# TYPE veda_worker_busy_seconds_total counter\n")
	for i, v := range m.WorkerBusyNs {
		fmt.Fprintf(&b, "veda_worker_busy_seconds_total{worker=\"%d\"} %g\n", i, float64(v)/1e9)
	}
	fmt.Fprintf(&b, "# HELP veda_worker_idle_seconds_total Time each worker spent idle.\n# TYPE veda_worker_idle_seconds_total counter\n")
	for i, v := range m.WorkerIdleNs {
		fmt.Fprintf(&b, "veda_worker_idle_seconds_total{worker=\"%d\"} %g\n", i, float64(v)/1e9)
	}
	fmt.Fprintf(&b, "# HELP veda_task_latency_seconds Submit-to-finish latency of injected tasks.\n# TYPE veda_task_latency_seconds summary\n")
	fmt.Fprintf(&b, "veda_task_latency_seconds{quantile=\"0.5\"} %g\n", float64(m.LatencyP50Ns)/1e9)
	fmt.Fprintf(&b, "veda_task_latency_seconds{quantile=\"0.9\"} %g\n", float64(m.LatencyP90Ns)/1e9)
	fmt.Fprintf(&b, "veda_task_latency_seconds{quantile=\"0.99\"} %g\n", float64(m.LatencyP99Ns)/1e9)
	fmt.Fprintf(&b, "veda_task_latency_seconds{quantile=\"0.999\"} %g\n", float64(m.LatencyP999Ns)/1e9)
	fmt.Fprintf(&b, "veda_task_latency_seconds_count %d\n", m.LatencyCount)
	fmt.Fprintf(&b, "# HELP veda_task_wait_seconds Submit-to-start wait of injected tasks.\n# TYPE veda_task_wait_seconds summary\n")
	fmt.Fprintf(&b, "veda_task_wait_seconds{quantile=\"0.5\"} %g\n", float64(m.WaitP50Ns)/1e9)
	fmt.Fprintf(&b, "veda_task_wait_seconds{quantile=\"0.99\"} %g\n", float64(m.WaitP99Ns)/1e9)
	fmt.Fprintf(&b, "veda_task_wait_seconds{quantile=\"0.999\"} %g\n", float64(m.WaitP999Ns)/1e9)
	fmt.Fprintf(&b, "veda_task_wait_seconds_count %d\n", m.WaitCount)
	if len(m.KernelTimes) > 0 {
		fmt.Fprintf(&b, "# HELP veda_kernel_seconds Wall time of kernel calls, per device.\n# TYPE veda_kernel_seconds summary\n")
		for _, k := range m.KernelTimes {
			for _, q := range []struct {
				q string
				v int64
			}{{"0.5", k.P50Ns}, {"0.99", k.P99Ns}, {"0.999", k.P999Ns}} {
				fmt.Fprintf(&b, "veda_kernel_seconds{device=\"%d\",quantile=\"%s\"} %g\n", k.Device, q.q, float64(q.v)/1e9)
			}
			fmt.Fprintf(&b, "veda_kernel_seconds_sum{device=\"%d\"} %g\n", k.Device, float64(k.SumNs)/1e9)
			fmt.Fprintf(&b, "veda_kernel_seconds_count{device=\"%d\"} %d\n", k.Device, k.Count)
		}
	}
	if len(m.Devices) > 0 {
		dev := func(name, typ, help string, v func(s *DeviceStats) float64) {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
			for i := range m.Devices {
				s := &m.Devices[i]
				fmt.Fprintf(&b, "%s{device=\"%d\",kind=\"%s\"} %g\n", name, s.Index, s.Kind, v(s))
			}
		}
		dev("veda_device_dispatched_total", "counter", "Kernel calls placed on the device.", func(s *DeviceStats) float64 { return float64(s.Dispatched) })
		dev("veda_device_completed_total", "counter", "Kernel calls completed on the device.", func(s *DeviceStats) float64 { return float64(s.Completed) })
		dev("veda_device_failed_total", "counter", "Kernel calls failed on the device.", func(s *DeviceStats) float64 { return float64(s.Failed) })
		dev("veda_device_queue_depth", "gauge", "Kernel calls placed and not finished.", func(s *DeviceStats) float64 { return float64(s.QueueDepth) })
		dev("veda_device_ema_throughput_bytes_per_second", "gauge", "EMA (alpha 0.1) of measured throughput.", func(s *DeviceStats) float64 { return s.EMAThroughput })
		dev("veda_device_bytes_to_device_total", "counter", "Bytes copied host to device.", func(s *DeviceStats) float64 { return float64(s.BytesToDevice) })
		dev("veda_device_bytes_from_device_total", "counter", "Bytes copied device to host.", func(s *DeviceStats) float64 { return float64(s.BytesFromDevice) })
		dev("veda_device_busy_seconds_total", "counter", "Time the device spent on kernel calls.", func(s *DeviceStats) float64 { return s.BusyTime.Seconds() })
	}
	if e := m.Energy; e != nil {
		fmt.Fprintf(&b, "# HELP veda_energy_joules_total Energy used since the runtime started, per device (source: rapl, nvml or estimated).\n# TYPE veda_energy_joules_total counter\n")
		for _, d := range e.Devices {
			fmt.Fprintf(&b, "veda_energy_joules_total{device=\"%d\",kind=\"%s\",source=\"%s\"} %g\n", d.Device, d.Kind, d.Source, d.Joules)
		}
		fmt.Fprintf(&b, "# HELP veda_energy_average_watts Average power since the runtime started, per device.\n# TYPE veda_energy_average_watts gauge\n")
		for _, d := range e.Devices {
			fmt.Fprintf(&b, "veda_energy_average_watts{device=\"%d\",kind=\"%s\",source=\"%s\"} %g\n", d.Device, d.Kind, d.Source, d.AverageWatts)
		}
		metric("veda_energy_estimated", "gauge", "1 when any energy figure is an estimate.", boolToInt(e.Estimated))
		metric("veda_energy_worker_cap", "gauge", "The energy policy's cap on active workers.", e.WorkerCap)
		if e.TempOK {
			metric("veda_temperature_max_celsius", "gauge", "Hottest readable temperature sensor.", e.MaxCelsius)
		}
		fmt.Fprintf(&b, "# HELP veda_energy_sensor_available 1 when the sensor is readable.\n# TYPE veda_energy_sensor_available gauge\n")
		for _, s := range e.Sensors {
			fmt.Fprintf(&b, "veda_energy_sensor_available{sensor=\"%s\"} %d\n", s.Name, boolToInt(s.Available))
		}
	}
	writePipelinePrometheus(&b, m.Pipelines)
	return b.String()
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
