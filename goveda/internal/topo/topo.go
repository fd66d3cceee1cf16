// Package topo discovers the machine's NUMA topology: the nodes, their CPUs and distances (from
// /sys/devices/system/node), the core and thread counts (from cpuid), and the node a PCI device
// (a GPU) hangs off (its numa_node in sysfs). It also places workers on nodes.
//
// The trees are read under sysfs.Root(), so tests run against fake trees (VEDA_SYSFS_ROOT).
// Nothing here fails hard: a machine without /sys/devices/system/node is one node holding every
// CPU, and Topology.Source says so.
package topo

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/cpuid/v2"

	"github.com/veda-runtime/veda/goveda/internal/sysfs"
)

// Node is one NUMA node.
type Node struct {
	// ID is the kernel's node number (the N of nodeN).
	ID int `json:"id"`
	// CPUs are the node's logical CPU numbers, ascending (its cpulist).
	CPUs []int `json:"cpus"`
	// Distances are the SLIT distances from this node to every node, in Topology.Nodes order
	// (10 = local); nil when the kernel gives none.
	Distances []int `json:"distances,omitempty"`
}

// Topology is the machine's NUMA layout and core counts.
type Topology struct {
	Nodes []Node `json:"nodes"`
	// Source says where Nodes came from: "sysfs" or why a single node was assumed.
	Source string `json:"source"`
	// From cpuid (klauspost/cpuid): the CPU model and its core and thread counts.
	Brand          string `json:"brand"`
	PhysicalCores  int    `json:"physical_cores"`
	LogicalCores   int    `json:"logical_cores"`
	ThreadsPerCore int    `json:"threads_per_core"`
	// Fake is true when the tree came from VEDA_SYSFS_ROOT (a test double of the hardware).
	Fake bool `json:"fake,omitempty"`
}

// Discover reads the topology. It never fails: missing or malformed files give one node with
// the CPUs this process may use, and Source says why. Cost: a few dozen small file reads.
// Any goroutine.
func Discover() Topology {
	t := Topology{
		Brand:          strings.TrimSpace(cpuid.CPU.BrandName),
		PhysicalCores:  cpuid.CPU.PhysicalCores,
		LogicalCores:   cpuid.CPU.LogicalCores,
		ThreadsPerCore: cpuid.CPU.ThreadsPerCore,
		Fake:           os.Getenv(sysfs.EnvRoot) != "",
	}
	if t.LogicalCores <= 0 {
		t.LogicalCores = runtime.NumCPU()
	}
	if t.PhysicalCores <= 0 {
		t.PhysicalCores = t.LogicalCores
	}
	if t.ThreadsPerCore <= 0 {
		t.ThreadsPerCore = 1
	}
	nodes, err := readNodes(sysfs.Path("/sys/devices/system/node"))
	if err != nil || len(nodes) == 0 {
		why := "no NUMA nodes listed"
		if err != nil {
			why = err.Error()
		}
		cpus := AllowedCPUs()
		t.Nodes = []Node{{ID: 0, CPUs: cpus, Distances: []int{10}}}
		t.Source = "single node assumed (" + why + ")"
		return t
	}
	t.Nodes = nodes
	t.Source = "sysfs " + sysfs.Path("/sys/devices/system/node")
	return t
}

// readNodes parses dir/node*/cpulist and distance.
func readNodes(dir string) ([]Node, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nodes []Node
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "node") {
			continue
		}
		id, err := strconv.Atoi(name[len("node"):])
		if err != nil {
			continue
		}
		s, err := sysfs.ReadString(filepath.Join(dir, name, "cpulist"))
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", id, err)
		}
		cpus, err := ParseCPUList(s)
		if err != nil {
			return nil, fmt.Errorf("node %d cpulist: %w", id, err)
		}
		n := Node{ID: id, CPUs: cpus}
		if d, err := sysfs.ReadString(filepath.Join(dir, name, "distance")); err == nil {
			for _, f := range strings.Fields(d) {
				v, err := strconv.Atoi(f)
				if err != nil {
					n.Distances = nil
					break
				}
				n.Distances = append(n.Distances, v)
			}
		}
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	// A memory-only node (no CPUs, e.g. CXL or HBM) holds no workers; keep it listed.
	for i := range nodes {
		if nodes[i].Distances != nil && len(nodes[i].Distances) != len(nodes) {
			nodes[i].Distances = nil
		}
	}
	return nodes, nil
}

// ParseCPUList parses a kernel CPU list ("0-3,8,10-11"; "" is empty) into ascending CPU numbers.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad cpu list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad cpu list %q", s)
			}
		}
		if b-a > 1<<16 {
			return nil, fmt.Errorf("bad cpu list %q: range too long", s)
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	sort.Ints(cpus)
	return cpus, nil
}

// NodeOf returns the index in t.Nodes of the node holding cpu, or -1.
func (t *Topology) NodeOf(cpu int) int {
	for i := range t.Nodes {
		for _, c := range t.Nodes[i].CPUs {
			if c == cpu {
				return i
			}
		}
	}
	return -1
}

// NodeIndex returns the index in t.Nodes of the node with kernel id, or -1.
func (t *Topology) NodeIndex(id int) int {
	for i := range t.Nodes {
		if t.Nodes[i].ID == id {
			return i
		}
	}
	return -1
}

// Placement is where one worker runs.
type Placement struct {
	// Node is the index in Topology.Nodes.
	Node int
	// CPU is the logical CPU the worker is pinned to when pinning is asked.
	CPU int
}

// Place spreads workers over the nodes that hold usable CPUs, in proportion to their CPU
// counts, and gives consecutive worker ids the same node (so ids [0, k) are node 0's, and a
// shrinking adaptive pool keeps whole nodes busy). Within a node the workers take its CPUs
// round-robin. usable reports whether a CPU may be used (nil: all). When no node holds a usable
// CPU, every worker goes to node 0 with the CPUs numbered modulo the node's size.
func (t *Topology) Place(workers int, usable func(cpu int) bool) []Placement {
	type nodeCPUs struct {
		idx  int
		cpus []int
	}
	var ns []nodeCPUs
	total := 0
	for i, n := range t.Nodes {
		var cs []int
		for _, c := range n.CPUs {
			if usable == nil || usable(c) {
				cs = append(cs, c)
			}
		}
		if len(cs) > 0 {
			ns = append(ns, nodeCPUs{i, cs})
			total += len(cs)
		}
	}
	out := make([]Placement, workers)
	if len(ns) == 0 {
		for w := range out {
			out[w] = Placement{Node: 0, CPU: w}
		}
		return out
	}
	// Largest-remainder apportionment of workers to nodes by CPU count; every node with CPUs
	// gets at least one worker while workers last.
	share := make([]int, len(ns))
	given := 0
	for i, n := range ns {
		share[i] = workers * len(n.cpus) / total
		given += share[i]
	}
	for i := 0; given < workers; i = (i + 1) % len(ns) {
		share[i]++
		given++
	}
	w := 0
	for i, n := range ns {
		for k := 0; k < share[i]; k++ {
			out[w] = Placement{Node: n.idx, CPU: n.cpus[k%len(n.cpus)]}
			w++
		}
	}
	return out
}

// String renders the nodes, one line each ("node 0: cpus 0-3 (4), distances 10 21").
func (t *Topology) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cpu: %s; %d physical cores, %d logical, %d threads per core (cpuid)\n",
		t.Brand, t.PhysicalCores, t.LogicalCores, t.ThreadsPerCore)
	fmt.Fprintf(&b, "numa: %d node(s) from %s\n", len(t.Nodes), t.Source)
	for _, n := range t.Nodes {
		fmt.Fprintf(&b, "node %d: cpus %s (%d)", n.ID, FormatCPUList(n.CPUs), len(n.CPUs))
		if n.Distances != nil {
			fmt.Fprintf(&b, ", distances %s", strings.Trim(fmt.Sprint(n.Distances), "[]"))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// FormatCPUList renders ascending CPUs as a kernel CPU list ("0-3,8").
func FormatCPUList(cpus []int) string {
	if len(cpus) == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		} else {
			parts = append(parts, strconv.Itoa(cpus[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
