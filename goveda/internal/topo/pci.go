package topo

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/veda-runtime/veda/goveda/internal/sysfs"
)

// NormalizeBusID turns a PCI bus id as drivers print it ("00000000:3B:00.0" from NVML,
// "0000:3b:00.0" from CUDA) into the sysfs spelling ("0000:3b:00.0").
func NormalizeBusID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	dom, rest, ok := strings.Cut(id, ":")
	if !ok {
		return id
	}
	if strings.Count(rest, ":") == 0 { // "3b:00.0" without a domain
		return "0000:" + id
	}
	if len(dom) > 4 {
		dom = dom[len(dom)-4:]
	}
	for len(dom) < 4 {
		dom = "0" + dom
	}
	return dom + ":" + rest
}

// PCINode returns the NUMA node id the kernel gives the PCI device busID
// (/sys/bus/pci/devices/<id>/numa_node), or -1 with the reason when it is unknown (no such file,
// or the kernel says -1: a single-node machine or firmware that does not tell).
func PCINode(busID string) (int, error) {
	p := filepath.Join(sysfs.Path("/sys/bus/pci/devices"), NormalizeBusID(busID), "numa_node")
	v, err := sysfs.ReadInt(p)
	if err != nil {
		return -1, err
	}
	if v < 0 {
		return -1, fmt.Errorf("%s says -1 (no node affinity reported)", p)
	}
	return int(v), nil
}
