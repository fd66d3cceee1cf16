package goveda_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/veda-runtime/veda/goveda"
)

// The founding design's graph: branch A turns x into (2x, x) and then into 2x - x, branch B into
// -x, and both merge into a serial sink that adds them up. The serial sink sees item 0 by every
// path (in the order of its in-edges: A, then B), then item 1, and so on.
func ExampleGraph() {
	rt, _ := goveda.New(goveda.Config{Workers: 4})
	defer rt.Close()

	type pair struct{ a, b int }
	g, _ := goveda.NewGraph(rt, goveda.GraphOptions[pair]{Pipeline: goveda.PipelineOptions[pair]{MaxInFlight: 16}})
	a1, _ := g.Node("a1", goveda.StageParallel, func(_ context.Context, _ int64, x pair) (pair, error) { return pair{2 * x.a, x.a}, nil })
	a2, _ := g.Node("a2", goveda.StageParallel, func(_ context.Context, _ int64, x pair) (pair, error) { return pair{x.a - x.b, 0}, nil })
	b, _ := g.Node("b", goveda.StageParallel, func(_ context.Context, _ int64, x pair) (pair, error) { return pair{-x.a, 0}, nil })
	sum, seen := 0, []int{}
	s, _ := g.Sink("sum", goveda.StageSerialInOrder, func(_ context.Context, _ int64, x pair) (pair, error) {
		sum += x.a
		seen = append(seen, x.a)
		return x, nil
	})
	_ = g.Edge(g.Source(), a1)
	_ = g.Edge(g.Source(), b) // b gets a copy (GraphOptions.Copy; a value type is copied by assignment)
	_ = g.Edge(a1, a2)
	_ = g.Edge(a2, s) // path 0 into the sink
	_ = g.Edge(b, s)  // path 1
	err := g.Run(context.Background(), goveda.SourceSlice([]pair{{a: 0}, {a: 1}, {a: 2}, {a: 3}}))
	fmt.Println(err, sum, seen)

	// A graph that does not validate runs nothing.
	bad, _ := goveda.NewGraph(rt, goveda.GraphOptions[int]{})
	n, _ := bad.Node("dangling", goveda.StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x, nil })
	_ = bad.Edge(bad.Source(), n)
	err = bad.Validate()
	fmt.Println(errors.Is(err, goveda.ErrInvalidArgument), err)
	// Output:
	// <nil> 0 [0 0 1 -1 2 -2 3 -3]
	// true veda: invalid argument: Graph "pipeline-2": the branch through "dangling" ends there without reaching a sink (add an edge, or make it a Sink)
}
