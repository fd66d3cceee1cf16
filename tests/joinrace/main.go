// Command joinrace stresses the C-side join fast path (capi.c, goveda/internal/sched/ext.go) in
// a Go program built with -race (capi's TestJoinFastPathUnderRace runs it; it lives here, not in
// capi/, because it is a test driver with goroutines of its own): C fib trees through
// veda_join from several goroutines at once, on a pool with more workers than cores (records are
// stolen, robbed owners park and are woken), interleaved with Go joins on the same pool, with
// failing leaves. The Go side of the protocol (steals, stolen-record tasks, waits, wake-ups)
// runs under the race detector; the C side is checked by the ASan build of tests/c/test_join.
// It exits non-zero on any wrong result.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#include <stdint.h>
#include <stdio.h>
#include "veda.h"

static veda_runtime *jr_rt;

typedef struct { int n; int fail_at; long long r; } jr_arg;

static long long jr_seq(int n) { return n < 2 ? n : jr_seq(n - 1) + jr_seq(n - 2); }

// fib with a cut-off of 8; a leaf n == fail_at on the leftmost path returns 3.
static int32_t jr_fib(void *p) {
	jr_arg *a = p;
	if (a->n == a->fail_at) return 3;
	if (a->n < 8) { a->r = jr_seq(a->n); return 0; }
	jr_arg x = {a->n - 1, a->fail_at, 0}, y = {a->n - 2, -1, 0};
	if (veda_join(jr_rt, jr_fib, &x, jr_fib, &y) != VEDA_OK) return 1;
	a->r = x.r + y.r;
	return 0;
}

static int32_t jr_ok(void *p) { (void)p; return 0; }

// jr_run computes fib(n) through veda_join from the calling thread (an application thread: the
// root join takes the Go path, every nested one the fast path). Returns veda_join's status.
static int jr_run(int n, int fail_at, long long *out) {
	jr_arg a = {n, fail_at, 0};
	veda_status st = veda_join(jr_rt, jr_fib, &a, jr_ok, NULL);
	*out = a.r;
	return st;
}

// The shared runtime: the same pool as goveda.Default in this program.
static int jr_init(void) {
	if (veda_runtime_shared(&jr_rt) != VEDA_OK) { fprintf(stderr, "%s\n", veda_last_error()); return -1; }
	return 0;
}
static int jr_close(void) { return veda_runtime_destroy(jr_rt); }
*/
import "C"

import (
	"fmt"
	"os"
	"sync"

	_ "github.com/veda-runtime/veda/capi" // defines the veda_* functions in this binary
	"github.com/veda-runtime/veda/goveda"
)

func fibGo(rt *goveda.Runtime, n int) int64 {
	if n < 8 {
		return fibSeq(n)
	}
	a, b, err := goveda.Join(rt, func() (int64, error) { return fibGo(rt, n-1), nil },
		func() (int64, error) { return fibGo(rt, n-2), nil })
	if err != nil {
		return -1
	}
	return a + b
}

func fibSeq(n int) int64 {
	if n < 2 {
		return int64(n)
	}
	return fibSeq(n-1) + fibSeq(n-2)
}

func main() {
	// More workers than cores (the test sets VEDA_NUM_WORKERS=6 for goveda.Default, which the
	// C side shares): records are stolen and owners park.
	if C.jr_init() != 0 {
		os.Exit(1)
	}
	rt := goveda.Default()
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for g := 0; g < 2; g++ { // Go joins on the same pool meanwhile
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if fibGo(rt, 18) != fibSeq(18) {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				n := 14 + (g+i)%6
				var r C.longlong
				st := C.jr_run(C.int(n), -1, &r)
				failSt := C.jr_run(C.int(n), 9, &r) // one failing leaf: the whole join fails
				mu.Lock()
				if st != 0 || failSt == 0 {
					bad++
				}
				mu.Unlock()
				var ok C.longlong
				if C.jr_run(C.int(n), -1, &ok) != 0 || int64(ok) != fibSeq(n) {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
	if st := C.jr_close(); st != 0 {
		fmt.Println("FAIL: destroy", st)
		os.Exit(1)
	}
	if bad != 0 {
		fmt.Printf("FAIL: %d wrong results\n", bad)
		os.Exit(1)
	}
	fmt.Printf("ok: joins under race (%d workers)\n", rt.Workers())
}
