// Command gomixed is a Go program with C code of its own that calls veda.h. It links the capi
// package into its binary (the blank import below) instead of loading libveda.so, so its C code
// and its Go code share one runtime: veda_runtime_shared in C and goveda.Default in Go are the
// same pool. It checks that and exits non-zero if not (capi's TestGoProgramWithCCode runs it).
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "veda.h"

static _Atomic long long c_ran;

static int32_t c_task(void *ctx) { (void)ctx; atomic_fetch_add(&c_ran, 1); return 0; }

// c_use_veda runs n tasks from C on the shared runtime; returns its worker count, or -1.
static int c_use_veda(int n) {
	veda_runtime *rt = NULL;
	if (veda_runtime_shared(&rt) != VEDA_OK) { fprintf(stderr, "shared: %s\n", veda_last_error()); return -1; }
	for (int i = 0; i < n; i++) {
		veda_future *f = NULL;
		if (veda_submit(rt, c_task, NULL, NULL, &f) != VEDA_OK) return -1;
		if (veda_future_wait(f, -1) != VEDA_OK) return -1;
		veda_future_release(f);
	}
	int w = veda_runtime_num_workers(rt);
	if (veda_runtime_destroy(rt) != VEDA_OK) return -1;
	return w;
}

static long long c_ran_count(void) { return atomic_load(&c_ran); }
*/
import "C"

import (
	"fmt"
	"os"

	_ "github.com/veda-runtime/veda/capi" // defines the veda_* functions in this binary
	"github.com/veda-runtime/veda/goveda"
)

func main() {
	rt := goveda.Default()
	before := rt.Metrics().TasksSubmitted
	w := int(C.c_use_veda(100))
	after := rt.Metrics().TasksSubmitted
	fmt.Printf("go workers %d, C workers %d, C tasks run %d, submitted on Go's runtime %d\n",
		rt.Workers(), w, int64(C.c_ran_count()), after-before)
	if w != rt.Workers() || C.c_ran_count() != 100 || after-before != 100 {
		fmt.Println("FAIL: C and Go do not share one runtime")
		os.Exit(1)
	}
	fmt.Println("ok: one runtime")
}
