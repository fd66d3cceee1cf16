package goveda_test

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda"
)

func ExampleForEach() {
	rt := goveda.Default()
	words := []string{"fork", "join", "steal", "park"}
	var letters atomic.Int64
	err := goveda.ForEach(context.Background(), rt, words, func(i int, w string) {
		letters.Add(int64(len(w)))
	}, goveda.Grain(1))
	fmt.Println(letters.Load(), err)
	// Output: 17 <nil>
}

func ExampleMapSlice() {
	rt := goveda.Default()
	sq, err := goveda.MapSlice(context.Background(), rt, []int{1, 2, 3, 4}, func(v int) int { return v * v })
	fmt.Println(sq, err)
	// Output: [1 4 9 16] <nil>
}

func ExampleMapErr() {
	rt := goveda.Default()
	ctx := context.Background()
	nums, err := goveda.MapErr(ctx, rt, []string{"1", "22", "333"}, func(i int, s string) (int, error) {
		return strconv.Atoi(s)
	})
	fmt.Println(nums, err)
	_, err = goveda.MapErr(ctx, rt, []string{"1", "x"}, func(i int, s string) (int, error) {
		return strconv.Atoi(s)
	})
	fmt.Println(err)
	// Output:
	// [1 22 333] <nil>
	// strconv.Atoi: parsing "x": invalid syntax
}

func ExampleFilter() {
	rt := goveda.Default()
	even, err := goveda.Filter(context.Background(), rt, []int{5, 2, 8, 3, 6, 1}, func(v int) bool { return v%2 == 0 })
	fmt.Println(even, err) // in their original order
	// Output: [2 8 6] <nil>
}

func ExampleSort() {
	rt := goveda.Default()
	s := make([]int64, 1_000_000)
	for i := range s {
		s[i] = int64((i * 7919) % len(s))
	}
	err := goveda.Sort(context.Background(), rt, s)
	fmt.Println(s[0], s[1], s[len(s)-1], err)
	// Output: 0 1 999999 <nil>
}

func ExampleSortFunc() {
	rt := goveda.Default()
	names := []string{"rayon", "TBB", "OpenMP", "veda"}
	err := goveda.SortFunc(context.Background(), rt, names, func(a, b string) int {
		return cmp.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	fmt.Println(names, err)
	// Output: [OpenMP rayon TBB veda] <nil>
}

func ExampleMinMax() {
	rt := goveda.Default()
	lo, hi, err := goveda.MinMax(context.Background(), rt, []float64{2.5, -1, 9, 3})
	fmt.Println(lo, hi, err)
	// Output: -1 9 <nil>
}

func ExampleFind() {
	rt := goveda.Default()
	s := make([]int, 1_000_000)
	s[123_456] = 42
	i, err := goveda.Find(context.Background(), rt, s, func(v int) bool { return v == 42 })
	fmt.Println(i, err)
	i, _ = goveda.Find(context.Background(), rt, s, func(v int) bool { return v < 0 })
	fmt.Println(i)
	// Output:
	// 123456 <nil>
	// -1
}

func ExampleCount() {
	rt := goveda.Default()
	n, err := goveda.Count(context.Background(), rt, []int{1, 2, 3, 4, 5, 6, 7}, func(v int) bool { return v > 4 })
	fmt.Println(n, err)
	// Output: 3 <nil>
}
