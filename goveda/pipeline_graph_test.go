package goveda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pair is the founding example's item: branch A turns x into (2x, x) and then into 2x - x.
type pair struct{ a, b int64 }

// TestGraphFoundingExample is the founding design's graph: 4 threads, source data, branch A
// x -> (2x, x) -> x2 - x, branch B x -> -x, merged into a serial sink sum += x. The sum of
// 0..n-1 is 0, and every item must contribute exactly x (by A) and -x (by B), in key order.
func TestGraphFoundingExample(t *testing.T) {
	rt := newRT(t, Config{Workers: 4, Policy: PolicyFixed})
	const n = 5000
	g, err := NewGraph(rt, GraphOptions[pair]{Pipeline: PipelineOptions[pair]{Name: "founding", MaxInFlight: 16}})
	must(t, err)
	a1, err := g.Node("A1", StageParallel, func(_ context.Context, _ int64, x pair) (pair, error) { return pair{2 * x.a, x.a}, nil })
	must(t, err)
	a2, err := g.Node("A2", StageParallel, func(_ context.Context, _ int64, x pair) (pair, error) { return pair{x.a - x.b, 0}, nil })
	must(t, err)
	b, err := g.Node("B", StageParallel, func(_ context.Context, seq int64, x pair) (pair, error) {
		if seq%13 == 0 {
			time.Sleep(20 * time.Microsecond) // let branch A overtake sometimes
		}
		return pair{-x.a, 0}, nil
	})
	must(t, err)
	var sum int64
	contrib := make([][]int64, n)
	var lastSeq int64 = -1
	sink, err := g.Sink("sum", StageSerialInOrder, func(_ context.Context, seq int64, x pair) (pair, error) {
		if seq < lastSeq {
			return x, fmt.Errorf("sink saw item %d after %d", seq, lastSeq)
		}
		lastSeq = seq
		sum += x.a
		contrib[seq] = append(contrib[seq], x.a)
		return x, nil
	})
	must(t, err)
	must(t, g.Edge(g.Source(), a1))
	must(t, g.Edge(g.Source(), b))
	must(t, g.Edge(a1, a2))
	must(t, g.Edge(a2, sink)) // path 0 into the sink
	must(t, g.Edge(b, sink))  // path 1
	src := SourceFunc(func(_ context.Context, seq int64) (pair, bool, error) { return pair{a: seq}, seq < n, nil })
	must(t, g.Run(bg, src))
	if sum != 0 {
		t.Fatalf("sum %d, want 0", sum)
	}
	for s := int64(0); s < n; s++ {
		c := contrib[s]
		if len(c) != 2 || c[0] != s || c[1] != -s {
			t.Fatalf("item %d contributed %v, want [%d %d] (A then B)", s, c, s, -s)
		}
	}
	st := g.Pipeline().Stats()
	if st.ItemsRead != n || st.ItemsPassed != 2*n || st.PeakInFlight > 16 || len(st.Stages) != 4 {
		t.Fatalf("stats %+v", st)
	}
	// Runs again.
	sum, lastSeq = 0, -1
	contrib = make([][]int64, n)
	must(t, g.Run(bg, src))
	if sum != 0 {
		t.Fatal(sum)
	}
}

// TestGraphFailureAndCopies: a fan-out with a Copy function over pointer items, a failure in one
// branch: every copy is passed or dropped exactly once, the prefix passes in every branch, no copy
// of the failed item or later ones passes an in-order sink.
func TestGraphFailureAndCopies(t *testing.T) {
	rt := newRT(t, Config{Workers: 3, Policy: PolicyFixed})
	type box struct {
		seq int64
		tag string
	}
	for _, fs := range []int64{0, 7, 150} {
		var mu sync.Mutex
		passed := map[string]int{}
		dropped := map[string]int{}
		var copies atomic.Int64
		g, _ := NewGraph(rt, GraphOptions[*box]{
			Pipeline: PipelineOptions[*box]{MaxInFlight: 8, Drop: func(seq int64, b *box) {
				mu.Lock()
				dropped[fmt.Sprintf("%d%s", seq, b.tag)]++
				mu.Unlock()
			}},
			Copy: func(b *box) *box { copies.Add(1); c := *b; return &c },
		})
		tagger := func(tag string) StageFunc[*box] {
			return func(_ context.Context, seq int64, b *box) (*box, error) {
				if b.tag != "" {
					return nil, fmt.Errorf("shared copy: %q", b.tag)
				}
				b.tag = tag
				if tag == "y" && seq == fs {
					return nil, errors.New("y failed")
				}
				return b, nil
			}
		}
		x, _ := g.Node("x", StageParallel, tagger("x"))
		y, _ := g.Node("y", StageParallel, tagger("y"))
		z, _ := g.Node("z", StageSerialOutOfOrder, tagger("z"))
		sink, _ := g.Sink("sink", StageSerialInOrder, func(_ context.Context, seq int64, b *box) (*box, error) {
			mu.Lock()
			passed[fmt.Sprintf("%d%s", seq, b.tag)]++
			mu.Unlock()
			return b, nil
		})
		for _, e := range [][2]NodeID{{g.Source(), x}, {g.Source(), y}, {g.Source(), z}, {x, sink}, {y, sink}, {z, sink}} {
			must(t, g.Edge(e[0], e[1]))
		}
		var read atomic.Int64
		err := g.Run(bg, SourceFunc(func(_ context.Context, seq int64) (*box, bool, error) {
			if seq >= 300 {
				return nil, false, nil
			}
			read.Add(1)
			return &box{seq: seq}, true, nil
		}))
		var pe *PipelineError
		if !errors.As(err, &pe) || pe.Seq != fs || pe.Stage != "y" {
			t.Fatalf("error %v", err)
		}
		for s := int64(0); s < read.Load(); s++ {
			// Three copies per item (x, y, z) once it fanned out: each passed or dropped exactly once. A dropped copy
			// is keyed by the tag it had then ("" if it was dropped before its node ran).
			var p, d int
			for _, tag := range []string{"", "x", "y", "z"} {
				k := fmt.Sprintf("%d%s", s, tag)
				p += passed[k]
				d += dropped[k]
			}
			// A copy of the failed item that comes before it in the sink's order (x) may have
			// passed before the failure; every other copy at or above fs is dropped.
			// An item dropped before its fan-out is one copy (dropped once).
			copies := 3
			if p == 0 && d == 1 && s >= fs {
				copies = 1
			}
			if p+d != copies || (s < fs && p != 3) || (s > fs && p != 0) || (s == fs && (p > 1 || p == 1 && passed[fmt.Sprintf("%dx", s)] != 1)) {
				t.Fatalf("failure at %d: item %d: %d copies passed, %d dropped (%v / %v)", fs, s, p, d, passed, dropped)
			}
		}
		if copies.Load() < 2*fs {
			t.Fatalf("%d copies made", copies.Load())
		}
	}
}

func TestGraphValidation(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	id := func(_ context.Context, _ int64, x int) (int, error) { return x, nil }
	src := SourceSlice([]int{1, 2, 3})
	cases := []struct {
		name  string
		build func(g *Graph[int]) error
		want  string
	}{
		{"empty", func(g *Graph[int]) error { return nil }, "the source has no edge"},
		{"cycle", func(g *Graph[int]) error {
			a, _ := g.Node("a", StageParallel, id)
			b, _ := g.Node("b", StageParallel, id)
			c, _ := g.Sink("c", StageParallel, id)
			_ = g.Edge(g.Source(), a)
			_ = g.Edge(a, b)
			_ = g.Edge(b, a)
			return g.Edge(b, c)
		}, `cycle "a" -> "b" -> "a"`},
		{"dead end", func(g *Graph[int]) error {
			a, _ := g.Node("a", StageParallel, id)
			b, _ := g.Node("b", StageParallel, id)
			c, _ := g.Sink("c", StageParallel, id)
			_ = g.Edge(g.Source(), a)
			_ = g.Edge(a, c)
			return g.Edge(a, b)
		}, `branch through "b" ends there without reaching a sink`},
		{"unreachable", func(g *Graph[int]) error {
			a, _ := g.Sink("a", StageParallel, id)
			_, _ = g.Sink("lonely", StageParallel, id)
			return g.Edge(g.Source(), a)
		}, `node "lonely" is not reachable`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			g, _ := NewGraph(rt, GraphOptions[int]{})
			must(t, tc.build(g))
			verr := g.Validate()
			err := g.Run(bg, SourceFunc(func(context.Context, int64) (int, bool, error) { ran = true; return 0, false, nil }))
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) || verr == nil || ran {
				t.Fatalf("Run: %v (validate: %v, ran %v), want %q", err, verr, ran, tc.want)
			}
		})
	}
	g, _ := NewGraph(rt, GraphOptions[int]{})
	a, _ := g.Node("a", StageParallel, id)
	s, _ := g.Sink("s", StageParallel, id)
	for name, err := range map[string]error{
		"into source":  g.Edge(a, g.Source()),
		"out of sink":  g.Edge(s, a),
		"no such node": g.Edge(a, 99),
		"negative":     g.Edge(-1, a),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := g.Node("a", StageParallel, id); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := g.Node("n", StageMode(7), id); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := g.Node("n", StageParallel, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	must(t, g.Edge(g.Source(), a))
	must(t, g.Edge(a, s))
	if err := g.Edge(a, s); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("duplicate edge: %v", err)
	}
	must(t, g.Run(bg, src))
}
