// Package sysfstest builds fake sysfs trees: test doubles of the hardware that VEDA's sensor and
// topology readers parse (RAPL powercap zones, thermal zones, hwmon chips, NUMA nodes, PCI
// devices). A test creates a Tree in t.TempDir(), points VEDA_SYSFS_ROOT at it (Tree.Use), and
// drives the files (a rising counter, a rising temperature) while the code under test reads them.
package sysfstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/sysfs"
)

// Tree is a fake root directory ("/" for the readers).
type Tree struct {
	T    testing.TB
	Root string
}

// New returns an empty fake tree in a fresh temporary directory.
func New(t testing.TB) *Tree { return &Tree{T: t, Root: t.TempDir()} }

// Use points VEDA_SYSFS_ROOT at the tree for the rest of the test.
func (tr *Tree) Use() { tr.T.Setenv(sysfs.EnvRoot, tr.Root) }

// Write writes content to the tree-relative path p (creating directories), mode 0644.
func (tr *Tree) Write(p, content string) {
	tr.T.Helper()
	full := filepath.Join(tr.Root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tr.T.Fatal(err)
	}
	// Write then rename, so a concurrent reader never sees a half-written number.
	tmp := full + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		tr.T.Fatal(err)
	}
	if err := os.Rename(tmp, full); err != nil {
		tr.T.Fatal(err)
	}
}

// Chmod changes the mode of the tree-relative path p.
func (tr *Tree) Chmod(p string, mode os.FileMode) {
	tr.T.Helper()
	if err := os.Chmod(filepath.Join(tr.Root, p), mode); err != nil {
		tr.T.Fatal(err)
	}
}

// RAPLZone adds a package zone intel-rapl:<i> named name with a counter at uj and the given wrap
// range; it returns the zone's energy_uj path (tree-relative) for SetRAPL.
func (tr *Tree) RAPLZone(i int, name string, uj, maxRange uint64) string {
	dir := fmt.Sprintf("sys/class/powercap/intel-rapl:%d", i)
	tr.Write(dir+"/name", name+"\n")
	tr.Write(dir+"/max_energy_range_uj", fmt.Sprintf("%d\n", maxRange))
	tr.Write(dir+"/energy_uj", fmt.Sprintf("%d\n", uj))
	return dir + "/energy_uj"
}

// SetRAPL sets the counter of a zone made by RAPLZone.
func (tr *Tree) SetRAPL(energyPath string, uj uint64) { tr.Write(energyPath, fmt.Sprintf("%d\n", uj)) }

// ThermalZone adds thermal_zone<i> of the given type at milli-degrees Celsius; it returns the
// temp file path (tree-relative) for SetTemp.
func (tr *Tree) ThermalZone(i int, typ string, milliC int) string {
	dir := fmt.Sprintf("sys/class/thermal/thermal_zone%d", i)
	tr.Write(dir+"/type", typ+"\n")
	tr.Write(dir+"/temp", fmt.Sprintf("%d\n", milliC))
	return dir + "/temp"
}

// Hwmon adds hwmon<i> named name with one temperature input (label may be empty); it returns the
// input's path (tree-relative) for SetTemp.
func (tr *Tree) Hwmon(i int, name, label string, milliC int) string {
	dir := fmt.Sprintf("sys/class/hwmon/hwmon%d", i)
	tr.Write(dir+"/name", name+"\n")
	if label != "" {
		tr.Write(dir+"/temp1_label", label+"\n")
	}
	tr.Write(dir+"/temp1_input", fmt.Sprintf("%d\n", milliC))
	return dir + "/temp1_input"
}

// SetTemp sets a temperature file made by ThermalZone or Hwmon.
func (tr *Tree) SetTemp(path string, milliC int) { tr.Write(path, fmt.Sprintf("%d\n", milliC)) }

// NUMA adds nodes node0..node<n-1> with cpusPerNode consecutive CPUs each and SLIT distances 10
// (local) and 21 (remote).
func (tr *Tree) NUMA(n, cpusPerNode int) {
	for i := 0; i < n; i++ {
		dir := fmt.Sprintf("sys/devices/system/node/node%d", i)
		lo := i * cpusPerNode
		tr.Write(dir+"/cpulist", fmt.Sprintf("%d-%d\n", lo, lo+cpusPerNode-1))
		d := make([]string, n)
		for j := range d {
			d[j] = "21"
			if j == i {
				d[j] = "10"
			}
		}
		tr.Write(dir+"/distance", strings.Join(d, " ")+"\n")
	}
}

// PCIDevice adds /sys/bus/pci/devices/<busID>/numa_node = node (busID in sysfs spelling).
func (tr *Tree) PCIDevice(busID string, node int) {
	tr.Write("sys/bus/pci/devices/"+busID+"/numa_node", fmt.Sprintf("%d\n", node))
}
