package goveda

import (
	"sync"

	"github.com/veda-runtime/veda/goveda/internal/sched"
	"github.com/veda-runtime/veda/goveda/internal/sysfs"
	"github.com/veda-runtime/veda/goveda/internal/topo"
)

// NUMA placement. New reads the topology (once per process: topoCached) and, on a machine with
// more than one node, places the workers per node (consecutive ids share a node, in proportion to
// the nodes' usable CPUs: topo.Place), pins each to a CPU of its node with Config.PinWorkers,
// and makes stealing hierarchical (same-node victims first; sched/numa.go). On one node nothing
// changes: the flat random steal, and PinWorkers pins round-robin over the allowed CPUs.
//
// A fake topology (VEDA_SYSFS_ROOT, tests) lists CPUs this machine may not have: the placement
// then ignores the real affinity mask, and pinning falls back to the allowed CPUs round-robin,
// so the node structure (and hierarchical stealing) is exercised on any machine.

// placement is where the workers run; read-only after New.
type placement struct {
	top   topo.Topology
	nodes []int // node index per worker (nil: one node)
	cpus  []int // CPU per worker when pinned (nil: round-robin)
}

var (
	topoMu   sync.Mutex
	topoRoot string
	topoLast *topo.Topology
)

// topoCached returns the topology, read once per sysfs root. Any goroutine.
func topoCached() topo.Topology {
	root := sysfs.Root()
	topoMu.Lock()
	defer topoMu.Unlock()
	if topoLast == nil || topoRoot != root {
		t := topo.Discover()
		topoLast, topoRoot = &t, root
	}
	return *topoLast
}

// place fills o's NUMA fields. New only.
func (rt *Runtime) place(o *sched.Options) {
	top := topoCached()
	rt.placement.top = top
	if len(top.Nodes) < 2 {
		return
	}
	var usable func(int) bool
	if !top.Fake {
		allowed := map[int]bool{}
		for _, c := range topo.AllowedCPUs() {
			allowed[c] = true
		}
		usable = func(c int) bool { return allowed[c] }
	}
	pl := top.Place(o.Workers, usable)
	rt.placement.nodes = make([]int, len(pl))
	for i, p := range pl {
		rt.placement.nodes[i] = p.Node
	}
	o.Nodes = rt.placement.nodes
	if rt.cfg.PinWorkers {
		rt.placement.cpus = make([]int, len(pl))
		for i, p := range pl {
			rt.placement.cpus[i] = p.CPU
		}
		o.CPUs = rt.placement.cpus
	}
}

// WorkerNodes returns the NUMA node id of each worker (all 0 on a one-node machine). Any
// goroutine.
func (rt *Runtime) WorkerNodes() []int {
	out := make([]int, rt.pool.Workers())
	for i := range out {
		if i < len(rt.placement.nodes) {
			out[i] = rt.placement.top.Nodes[rt.placement.nodes[i]].ID
		} else if len(rt.placement.top.Nodes) > 0 {
			out[i] = rt.placement.top.Nodes[0].ID
		}
	}
	return out
}
