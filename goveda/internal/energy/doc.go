// Package energy reads the machine's power, energy and temperature sensors, estimates energy
// where nothing is readable, and decides how many workers a power or temperature budget allows.
//
// # Sensors
//
//   - RAPL (rapl.go): CPU package energy from /sys/class/powercap/intel-rapl:N/energy_uj (AMD Zen
//     exposes the same interface), a counter in microjoules that wraps at max_energy_range_uj.
//     Since CVE-2020-8694 the file is root-only; a permission error is reported as exactly that.
//   - NVML (nvml.go, nvml_loader.c): GPU energy, power, temperature and throttle reasons through
//     dlopen("libnvidia-ml.so.1") (VEDA_NVML_LIBRARY overrides the path). The few NVML types and
//     entry points used are declared in our own C; no NVML header is needed to build. Energy comes
//     from nvmlDeviceGetTotalEnergyConsumption (mJ, Volta and later); where the GPU lacks it,
//     power samples (mW) are integrated over time (trapezoids between samples).
//   - Temperatures (thermal.go): /sys/class/thermal/thermal_zone*/temp and
//     /sys/class/hwmon/hwmon*/temp*_input, both in millidegrees Celsius.
//
// # Never a silent zero
//
// Every sensor is described by a Status: available (with what was found), or unavailable with
// the reason and the fix. A sensor that cannot be read is never reported as 0 W. When no energy
// sensor covers a device, its energy is estimated (estimate.go) from busy time and a documented
// power model, and every such figure carries Source "estimated".
//
// # Governor
//
// governor.go turns power and temperature readings into a cap on the active workers: above the
// budget or near the temperature limit the cap drops (proportionally to the excess, so the budget
// is met within one or two ticks); it rises again one worker at a time only after the readings
// stayed below a hysteresis band for several ticks and one more worker is predicted to fit. Each
// change carries its reason ("power 61 W > budget 50 W").
//
// All files are read under sysfs.Root(), so tests use fake trees (sysfstest) and a fake NVML
// library (testdata/fake_nvml.c, a test double built by the tests).
package energy
