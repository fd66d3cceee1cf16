package goveda

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Graphs: pipelines whose stages form a directed acyclic graph. An item can fan out to several
// branches (each gets its own copy) and branches merge into one stage again; every branch ends at
// a sink. A Graph compiles into the pipeline engine: its nodes become stages in topological order,
// with the edges as successor lists, so every rule of Pipeline holds per copy (modes, bounds per
// source item, exactly once, failure prefix, cancellation, nesting, metrics).
//
// Order at a merge. A node reached by P paths from the source sees P copies of every source item.
// Its items are ordered by key = seq*P + path, where the paths into a node are numbered in the
// order its in-edges were added (and, within an edge, as at the node it comes from); a serial
// in-order node sees the keys strictly increasing without gaps: item 0 by every path, then item 1,
// and so on.
//
// Failure. When a copy of item s fails, every copy of items s and above that has not passed its
// sink yet is dropped, and the copies of the items below s pass every branch; copies of s in other
// branches may have passed their sinks before the failure (a serial in-order sink lets the copies
// of s that come before the failed one by path order through).

// GraphOptions configure NewGraph.
type GraphOptions[T any] struct {
	// Pipeline holds the bounds (per source item: all copies of an item count as one), Bytes,
	// Drop (called once for each copy that does not reach a sink) and the metrics name.
	Pipeline PipelineOptions[T]
	// Copy makes the copy of an item for each extra branch at a fan-out. nil: the value is
	// assigned (right for value types; for pointers or slices all branches then share it).
	Copy func(item T) T
}

// NodeID names a node of a Graph. The source is Graph.Source().
type NodeID int

// Graph is a pipeline graph over items of type T. Build it with Node, Sink, Edge and
// SetNodePriority, then Run it; Run validates it first. Every method may be called from any
// goroutine, concurrently: a change of the structure during a run (a stage included) and a second
// concurrent Run are refused with ErrInvalidArgument, never a data race or a deadlock.
type Graph[T any] struct {
	p    *Pipeline[T]
	copy func(T) T

	mu      sync.Mutex     // guards every field below
	nodes   []graphNode[T] // nodes[0] is the source
	edges   [][]NodeID     // edges[from]: successors in the order added
	added   [][2]NodeID    // every edge (from, to), in the order added
	built   bool           // p holds the compiled stages of the current structure
	order   []NodeID       // the compiled stages' nodes: order[stage index] (valid while built)
	running bool           // a Run is in progress (claimed before its build, released after)
}

type graphNode[T any] struct {
	st   *stage[T] // nil for the source
	sink bool
	opts []StageOption
}

// NewGraph returns a graph with only its source. Errors as NewPipeline.
func NewGraph[T any](rt *Runtime, opts GraphOptions[T]) (*Graph[T], error) {
	p, err := NewPipeline(rt, opts.Pipeline)
	if err != nil {
		return nil, err
	}
	return &Graph[T]{p: p, copy: opts.Copy, nodes: []graphNode[T]{{}}, edges: [][]NodeID{nil}}, nil
}

// Source returns the source node's id (items enter the graph there).
func (g *Graph[T]) Source() NodeID { return 0 }

// Pipeline returns the graph's underlying pipeline, for Cancel, Stats and Running (adding
// stages to it directly is not supported: build the graph with Node, Sink and Edge).
func (g *Graph[T]) Pipeline() *Pipeline[T] { return g.p }

// Node adds a node that runs fn in mode; connect it with Edge. Errors wrap ErrInvalidArgument: a
// nil fn, an unknown mode or priority, an empty or duplicate name, a run in progress.
func (g *Graph[T]) Node(name string, mode StageMode, fn StageFunc[T], opts ...StageOption) (NodeID, error) {
	return g.add(name, mode, fn, false, opts)
}

// Sink adds a node where branches end: it has no outgoing edge, and an item (copy) that passed it
// is finished. Errors as Node.
func (g *Graph[T]) Sink(name string, mode StageMode, fn StageFunc[T], opts ...StageOption) (NodeID, error) {
	return g.add(name, mode, fn, true, opts)
}

func (g *Graph[T]) add(name string, mode StageMode, fn StageFunc[T], sink bool, opts []StageOption) (NodeID, error) {
	if fn == nil {
		return -1, invalidf("Graph %q: node %q: fn is nil", g.p.name, name)
	}
	if !mode.valid() {
		return -1, invalidf("Graph %q: node %q: mode %d is not a StageMode", g.p.name, name, int(mode))
	}
	if strings.TrimSpace(name) == "" {
		return -1, invalidf("Graph %q: a node needs a name", g.p.name)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running || g.p.Running() {
		return -1, invalidf("Graph %q: node %q added during a run", g.p.name, name)
	}
	for _, n := range g.nodes[1:] {
		if n.st.name == name {
			return -1, invalidf("Graph %q: two nodes are named %q", g.p.name, name)
		}
	}
	g.nodes = append(g.nodes, graphNode[T]{st: &stage[T]{name: name, mode: mode, fn: fn}, sink: sink, opts: opts})
	g.edges = append(g.edges, nil)
	g.built = false
	return NodeID(len(g.nodes) - 1), nil
}

// Edge connects from to to: items that passed from go on to to (with several edges out of a node,
// each successor gets its own copy). Errors wrap ErrInvalidArgument: an unknown node, an edge into
// the source, an edge out of a sink, a duplicate edge, a run in progress. Cycles are reported by
// Validate (and Run).
func (g *Graph[T]) Edge(from, to NodeID) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.running || g.p.Running():
		return invalidf("Graph %q: edge added during a run", g.p.name)
	case from < 0 || int(from) >= len(g.nodes) || to < 0 || int(to) >= len(g.nodes):
		return invalidf("Graph %q: edge %d -> %d: no such node (ids 0..%d)", g.p.name, from, to, len(g.nodes)-1)
	case to == 0:
		return invalidf("Graph %q: edge %s -> the source: nothing may lead into the source", g.p.name, g.name(from))
	case g.nodes[from].sink:
		return invalidf("Graph %q: edge out of the sink %q: a sink ends its branch", g.p.name, g.name(from))
	}
	for _, t := range g.edges[from] {
		if t == to {
			return invalidf("Graph %q: edge %s -> %s added twice", g.p.name, g.name(from), g.name(to))
		}
	}
	g.edges[from] = append(g.edges[from], to)
	g.added = append(g.added, [2]NodeID{from, to})
	g.built = false
	return nil
}

// SetNodePriority sets the scheduler priority of the tasks that carry items into node id, as
// StagePriority does for a pipeline stage (it replaces a StagePriority given to Node or Sink).
// Errors wrap ErrInvalidArgument: an unknown node or the source (whose tasks run at the
// pipeline's priority, Pipeline().SetPriority), an invalid priority, a run in progress.
func (g *Graph[T]) SetNodePriority(id NodeID, pr Priority) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.running || g.p.Running():
		return invalidf("Graph %q: SetNodePriority during a run", g.p.name)
	case id == 0:
		return invalidf("Graph %q: SetNodePriority on the source: its tasks run at the graph's priority", g.p.name)
	case id < 0 || int(id) >= len(g.nodes):
		return invalidf("Graph %q: SetNodePriority: no node %d (ids 1..%d)", g.p.name, id, len(g.nodes)-1)
	case !pr.valid():
		return invalidf("Graph %q: node %s: priority %d is not a Priority constant", g.p.name, g.name(id), int(pr))
	}
	n := &g.nodes[id]
	n.opts = append(slices.Clip(n.opts), StagePriority(pr)) // the last option wins
	g.built = false
	return nil
}

// Nodes returns the number of nodes, the source included.
func (g *Graph[T]) Nodes() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.nodes)
}

// name returns a node's name for messages. Caller holds g.mu.
func (g *Graph[T]) name(id NodeID) string {
	if id == 0 {
		return "source"
	}
	return fmt.Sprintf("%q", g.nodes[id].st.name)
}

// Validate checks the graph: the source has an edge; no cycle (the error names one); every node
// is reachable from the source; every branch reaches a sink (a node without outgoing edges must be
// a Sink). Errors wrap ErrInvalidArgument; nothing runs.
func (g *Graph[T]) Validate() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, err := g.compile()
	return err
}

// compile validates and returns the topological order (source excluded). Caller holds g.mu.
func (g *Graph[T]) compile() ([]NodeID, error) {
	n := len(g.nodes)
	if len(g.edges[0]) == 0 {
		return nil, invalidf("Graph %q: the source has no edge (add nodes and connect them)", g.p.name)
	}
	// Cycles: depth-first search with colours; the stack gives the cycle's nodes.
	const white, grey, black = 0, 1, 2
	colour := make([]int, n)
	var stack []NodeID
	var cycle []NodeID
	var dfs func(v NodeID) bool
	dfs = func(v NodeID) bool {
		colour[v] = grey
		stack = append(stack, v)
		for _, w := range g.edges[v] {
			if colour[w] == grey {
				for i := len(stack) - 1; i >= 0; i-- {
					cycle = append([]NodeID{stack[i]}, cycle...)
					if stack[i] == w {
						break
					}
				}
				return true
			}
			if colour[w] == white && dfs(w) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		colour[v] = black
		return false
	}
	for v := 0; v < n; v++ {
		if colour[v] == white && dfs(NodeID(v)) {
			names := make([]string, 0, len(cycle)+1)
			for _, c := range append(cycle, cycle[0]) {
				names = append(names, g.name(c))
			}
			return nil, invalidf("Graph %q: cycle %s (a branch must end at a sink)", g.p.name, strings.Join(names, " -> "))
		}
	}
	// Reachability from the source.
	seen := make([]bool, n)
	var mark func(v NodeID)
	mark = func(v NodeID) {
		if seen[v] {
			return
		}
		seen[v] = true
		for _, w := range g.edges[v] {
			mark(w)
		}
	}
	mark(0)
	for v := 1; v < n; v++ {
		if !seen[v] {
			return nil, invalidf("Graph %q: node %s is not reachable from the source", g.p.name, g.name(NodeID(v)))
		}
		if len(g.edges[v]) == 0 && !g.nodes[v].sink {
			return nil, invalidf("Graph %q: the branch through %s ends there without reaching a sink (add an edge, or make it a Sink)", g.p.name, g.name(NodeID(v)))
		}
	}
	// Topological order (Kahn, stable by id).
	indeg := make([]int, n)
	for v := 0; v < n; v++ {
		for _, w := range g.edges[v] {
			indeg[w]++
		}
	}
	var order []NodeID
	ready := []NodeID{0}
	for len(ready) > 0 {
		v := ready[0]
		ready = ready[1:]
		if v != 0 {
			order = append(order, v)
		}
		for _, w := range g.edges[v] {
			if indeg[w]--; indeg[w] == 0 {
				ready = append(ready, w)
			}
		}
	}
	return order, nil
}

// build compiles the graph into g.p (stages in topological order and the edge lists). Caller
// holds g.mu.
func (g *Graph[T]) build() error {
	order, err := g.compile()
	if err != nil {
		return err
	}
	pos := make([]int, len(g.nodes)) // node id -> stage index (-1: source)
	pos[0] = -1
	for i, v := range order {
		pos[v] = i
	}
	// Paths from the source, and each edge's offset among the paths into its target.
	paths := make([]int64, len(g.nodes))
	paths[0] = 1
	visit := append([]NodeID{0}, order...)
	for _, v := range visit {
		for _, w := range g.edges[v] {
			paths[w] += paths[v]
		}
	}
	// The paths into a node are numbered by its in-edges in the order they were added.
	edgeOff := make([][]int64, len(g.nodes))
	for v := range g.nodes {
		edgeOff[v] = make([]int64, len(g.edges[v]))
	}
	inOffset := make([]int64, len(g.nodes))
	for _, e := range g.added {
		i := slices.Index(g.edges[e[0]], e[1])
		edgeOff[e[0]][i] = inOffset[e[1]]
		inOffset[e[1]] += paths[e[0]]
	}
	topo := &graphTopo{succ: make([][]int, len(order)+1), offs: make([][]int64, len(order)+1), paths: make([]int64, len(order))}
	if g.copy != nil {
		topo.copyFn = g.copy
	}
	for _, v := range visit {
		idx := pos[v] + 1
		for i, w := range g.edges[v] {
			topo.succ[idx] = append(topo.succ[idx], pos[w])
			topo.offs[idx] = append(topo.offs[idx], edgeOff[v][i])
		}
		if v != 0 {
			topo.paths[pos[v]] = paths[v]
		}
	}
	p := g.p
	p.mu.Lock()
	if p.cur != nil {
		p.mu.Unlock()
		return invalidf("Graph %q: Run while a run is in progress", p.name)
	}
	p.stages = nil
	p.topo = nil
	p.stats.resetStages()
	p.mu.Unlock()
	for _, v := range order {
		nd := g.nodes[v]
		st := *nd.st
		if err := p.addStage(&st, nd.opts); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.topo = topo
	p.mu.Unlock()
	g.order = order
	g.built = true
	return nil
}

// Run validates the graph (see Validate), then runs it as Pipeline.Run does: every copy of every
// item passes its branches to a sink, or is given to Drop; a failure of item s drops every copy
// of items s and above and keeps the prefix below s complete. Errors as Pipeline.Run and
// Validate. A *PipelineError's StageIndex is the failed node's NodeID (Stage is its name).
// A second Run while one is in progress (a stage that runs its own graph included) returns
// ErrInvalidArgument at once. Any goroutine; blocks until the run ended.
func (g *Graph[T]) Run(ctx context.Context, src Source[T]) error {
	g.mu.Lock()
	if g.running || g.p.Running() {
		g.mu.Unlock()
		return invalidf("Graph %q: Run while a run is in progress (a graph runs once at a time; a node must not run its own graph)", g.p.name)
	}
	if !g.built {
		if err := g.build(); err != nil {
			g.mu.Unlock()
			return err
		}
	}
	g.running = true
	order := g.order
	g.mu.Unlock()
	err := g.p.Run(ctx, src)
	g.mu.Lock()
	g.running = false
	g.mu.Unlock()
	var pe *PipelineError
	if errors.As(err, &pe) && pe.StageIndex >= 0 && pe.StageIndex < len(order) {
		ne := *pe
		ne.StageIndex = int(order[pe.StageIndex])
		return &ne
	}
	return err
}
