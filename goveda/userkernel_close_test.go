package goveda

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestKernelCloseWaitsForRuns: Close racing Runs on several goroutines. Every Run either
// computes the right result or fails with ErrClosed (none sees its programs released under it);
// Close returns only after every Run that was admitted returned; later Runs fail with ErrClosed.
func TestKernelCloseWaitsForRuns(t *testing.T) {
	probe := newDevRT(t, Config{})
	for _, idx := range accelIndexes(t, probe) {
		t.Run(fmt.Sprintf("device%d", idx), func(t *testing.T) {
			rt := newDevRT(t, Config{})
			if err := rt.PinDevice(idx); err != nil {
				t.Fatal(err)
			}
			for round := 0; round < 4; round++ {
				k, err := rt.Kernel(KernelSource{OpenCL: vaddCL, CUDA: vaddCUDA, Name: "vadd"})
				if err != nil {
					t.Fatal(err)
				}
				const n, runners = 1 << 16, 3
				var inRun, ok, closedErrs atomic.Int32
				var wg sync.WaitGroup
				errs := make(chan error, 64)
				for g := 0; g < runners; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
						for i := range a {
							a[i], b[i] = float32(i), float32(g+1)
						}
						for {
							inRun.Add(1)
							err := k.Run(context.Background(), n, In(a), In(b), Out(c), Scalar(float32(2)), Scalar(int32(n)))
							inRun.Add(-1)
							switch {
							case errors.Is(err, ErrClosed):
								closedErrs.Add(1)
								return
							case err != nil:
								errs <- err
								return
							}
							for i := range c {
								if want := a[i] + 2*b[i]; c[i] != want {
									errs <- fmt.Errorf("c[%d] = %v, want %v", i, c[i], want)
									return
								}
							}
							ok.Add(1)
						}
					}()
				}
				for ok.Load() < runners { // let Runs get going
					if len(errs) > 0 {
						break
					}
				}
				k.Close()
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if closedErrs.Load() != runners {
					t.Fatalf("%d of %d runners ended with ErrClosed", closedErrs.Load(), runners)
				}
				if err := k.Run(context.Background(), 4, In(make([]float32, 4))); !errors.Is(err, ErrClosed) {
					t.Fatalf("Run after Close: %v", err)
				}
				k.Close() // idempotent
			}
		})
	}
}
