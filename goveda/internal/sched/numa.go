package sched

// NUMA-aware placement and hierarchical stealing (oneTBB's arenas and HPX do the same).
//
// goveda places workers on nodes (topo.Place: consecutive ids per node, pinned to the node's
// CPUs with Options.Pin) and passes the node of each worker in Options.Nodes. A thief then
// looks for work in this order:
//
//  1. its own deque (findWork's hot path);
//  2. the high-priority injector;
//  3. the other workers of its node: LocalRounds passes, each starting at a random victim;
//  4. only then the other nodes' workers, once each, nearest node first (as goveda orders
//     them), a random start within each;
//  5. the injector.
//
// Successful steals are counted by locality (Stats.LocalSteals, RemoteSteals). With one node
// (or Nodes nil) the flat random steal is used and both counts stay 0.

// defaultLocalRounds is how many failed passes over the local victims precede a remote steal.
const defaultLocalRounds = 2

// numaState is the pool's node layout; read-only after New.
type numaState struct {
	hier        bool // more than one node: hierarchical stealing
	localRounds int
	nodes       int
}

// initNUMA assigns nodes and CPUs to the workers and builds each one's victim lists. New only.
func (p *Pool) initNUMA(o Options) {
	nodes := 1
	for i, w := range p.workers {
		w.cpu = -1
		if i < len(o.CPUs) {
			w.cpu = o.CPUs[i]
		}
		if i < len(o.Nodes) && o.Nodes[i] >= 0 {
			w.node = o.Nodes[i]
			nodes = max(nodes, w.node+1)
		}
	}
	p.numa = numaState{nodes: nodes, localRounds: o.LocalRounds}
	if p.numa.localRounds <= 0 {
		p.numa.localRounds = defaultLocalRounds
	}
	// Hierarchical only when workers really sit on more than one node.
	seen := map[int]bool{}
	for _, w := range p.workers {
		seen[w.node] = true
	}
	if len(seen) < 2 {
		return
	}
	p.numa.hier = true
	for _, w := range p.workers {
		for _, v := range p.workers {
			switch {
			case v == w:
			case v.node == w.node:
				w.local = append(w.local, v)
			}
		}
		// Remote victims grouped by node, nodes in increasing distance of their index from w's
		// (goveda numbers nodes so that this is a fair proxy when SLIT distances are flat).
		for d := 1; d < nodes; d++ {
			for _, n := range [2]int{w.node + d, w.node - d} {
				if n < 0 || n >= nodes {
					continue
				}
				for _, v := range p.workers {
					if v.node == n {
						w.remote = append(w.remote, v)
					}
				}
			}
		}
	}
}

// stealHier is steal for a pool on several NUMA nodes. Owner only.
func (w *Worker) stealHier() *Task {
	if n := len(w.local); n > 0 {
		for round := 0; round < w.p.numa.localRounds; round++ {
			start := int(w.nextRand() % uint64(n))
			for i := 0; i < n; i++ {
				if t := w.stealFrom(w.local[(start+i)%n]); t != nil {
					w.st.localSteals++
					return t
				}
			}
		}
	}
	if n := len(w.remote); n > 0 {
		start := int(w.nextRand() % uint64(n))
		for i := 0; i < n; i++ {
			if t := w.stealFrom(w.remote[(start+i)%n]); t != nil {
				w.st.remoteSteals++
				return t
			}
		}
	}
	return nil
}

// stealFrom makes one steal attempt on v (retrying while the deque reports a lost race) and
// takes a batch on success. Owner only.
func (w *Worker) stealFrom(v *Worker) *Task {
	w.st.stealAttempts++
	for {
		t, retry := v.dq.steal()
		if t != nil {
			w.st.stolen++
			w.src = v.id
			w.traceSteal(v)
			w.stealBatch(v)
			return t
		}
		if !retry {
			return w.stealExt(v)
		}
	}
}

// Node returns the NUMA node index of worker w (0 with one node). Any goroutine.
func (w *Worker) Node() int { return w.node }

// Nodes returns how many NUMA nodes the pool's workers sit on. Any goroutine.
func (p *Pool) Nodes() int { return p.numa.nodes }
