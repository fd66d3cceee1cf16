package goveda

import (
	"context"
	"testing"
)

func BenchmarkFib32OneWorker(b *testing.B) {
	rt, _ := New(Config{Workers: 1, Policy: PolicyFixed})
	defer rt.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = rt.Scope(context.Background(), func(s *Scope) {
			s.Spawn(func() error { fibJoin(rt, benchFibN); return nil })
		})
	}
}
