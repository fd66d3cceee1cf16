package energy

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/veda-runtime/veda/goveda/internal/sysfs"
)

// TempSensor is one temperature input.
type TempSensor struct {
	// Name is the zone type or hwmon chip (and label): "x86_pkg_temp", "coretemp/Package id 0".
	Name string `json:"name"`
	path string
}

// TempReading is one sensor's temperature.
type TempReading struct {
	Name     string  `json:"name"`
	Celsius  float64 `json:"celsius"`
	Readable bool    `json:"readable"`
}

// Thermal reads the thermal zones and hwmon temperature inputs. Read-only after OpenThermal;
// any goroutine.
type Thermal struct {
	sensors []TempSensor
}

// OpenThermal finds the temperature inputs under sysfs.Root(). It returns nil when there are
// none, and one Status each for thermal zones and hwmon.
func OpenThermal() (*Thermal, Status, Status) {
	t := &Thermal{}
	zoneSt := t.addZones()
	hwSt := t.addHwmon()
	if len(t.sensors) == 0 {
		return nil, zoneSt, hwSt
	}
	return t, zoneSt, hwSt
}

func (t *Thermal) addZones() Status {
	base := sysfs.Path("/sys/class/thermal")
	dirs, _ := filepath.Glob(filepath.Join(base, "thermal_zone*"))
	sort.Strings(dirs)
	var parts []string
	for _, d := range dirs {
		p := filepath.Join(d, "temp")
		if _, err := sysfs.ReadInt(p); err != nil {
			continue
		}
		typ, _ := sysfs.ReadString(filepath.Join(d, "type"))
		if typ == "" {
			typ = filepath.Base(d)
		}
		t.sensors = append(t.sensors, TempSensor{Name: typ, path: p})
		parts = append(parts, typ)
	}
	if len(parts) == 0 {
		why := "no thermal zones under " + base
		if len(dirs) > 0 {
			why = fmt.Sprintf("%d thermal zone(s) under %s, none readable", len(dirs), base)
		}
		return unavailable("thermal", why, "thermal zones come from ACPI or the platform driver; most VMs have none (hwmon may still work)")
	}
	return available("thermal", parts)
}

func (t *Thermal) addHwmon() Status {
	base := sysfs.Path("/sys/class/hwmon")
	dirs, _ := filepath.Glob(filepath.Join(base, "hwmon*"))
	sort.Strings(dirs)
	var parts []string
	for _, d := range dirs {
		chip, _ := sysfs.ReadString(filepath.Join(d, "name"))
		if chip == "" {
			chip = filepath.Base(d)
		}
		inputs, _ := filepath.Glob(filepath.Join(d, "temp*_input"))
		sort.Strings(inputs)
		for _, in := range inputs {
			if _, err := sysfs.ReadInt(in); err != nil {
				continue
			}
			name := chip
			label := strings.TrimSuffix(in, "_input") + "_label"
			if l, err := sysfs.ReadString(label); err == nil && l != "" {
				name += "/" + l
			}
			t.sensors = append(t.sensors, TempSensor{Name: name, path: in})
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		why := "no hwmon temperature inputs under " + base
		if _, err := os.Stat(base); err != nil {
			why = fmt.Sprintf("no hwmon class (%v)", err)
		}
		return unavailable("hwmon", why, "load the CPU's temperature driver (coretemp for Intel, k10temp for AMD: sudo modprobe coretemp); VMs usually have none")
	}
	return available("hwmon", parts)
}

// Sensors returns the inputs found.
func (t *Thermal) Sensors() []TempSensor { return t.sensors }

// Read returns every input's temperature and the hottest readable one. ok is false when no
// input could be read this time (then max is meaningless and must not be shown as 0 °C).
func (t *Thermal) Read() (readings []TempReading, max float64, ok bool) {
	for _, s := range t.sensors {
		v, err := sysfs.ReadInt(s.path)
		r := TempReading{Name: s.Name}
		if err == nil {
			r.Celsius, r.Readable = float64(v)/1000, true
			if !ok || r.Celsius > max {
				max, ok = r.Celsius, true
			}
		}
		readings = append(readings, r)
	}
	return readings, max, ok
}
