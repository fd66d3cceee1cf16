package capi

/*
#include "capi.h"
*/
import "C"

import (
	"sync"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// The Go half of the one-chunk fast path (capi.c, "the one-chunk fast path"): runtime tokens are
// entered in capi.c's gate table when they are made and removed when they are destroyed; the
// scheduling rule itself is goveda's (goveda/foreign.go).

// gates maps a gate's address to its goveda handle, for vedago_gate_wake. Written when a token
// is registered; entries stay (a gate stays valid for the life of the process).
var gates sync.Map // unsafe.Pointer -> *goveda.ForeignGate

// registerFast enters token tok of rt in the gate table. Any goroutine, before tok is returned
// to C.
func registerFast(tok uintptr, rt *goveda.Runtime) {
	g := rt.ForeignGate()
	addr := g.Addr()
	if _, loaded := gates.LoadOrStore(addr, g); !loaded {
		g.SetHolder(func() bool { return C.vedac_thread_holds(addr) != 0 })
	}
	C.vedac_gate_register(C.uintptr_t(tok), addr)
}

// unregisterFast removes tok from the gate table (its calls then take the ordinary path, which
// reports a destroyed handle). Any goroutine; idempotent.
func unregisterFast(tok uintptr) { C.vedac_gate_unregister(C.uintptr_t(tok)) }

//export vedago_gate_wake
func vedago_gate_wake(addr unsafe.Pointer) {
	defer func() { _ = recover() }() // nothing here panics; no panic may cross into C
	if g, ok := gates.Load(addr); ok {
		g.(*goveda.ForeignGate).Wake()
	}
}

//export vedago_parallel_for_failed
func vedago_parallel_for_failed(begin, end C.int64_t, code C.int32_t) (st C.veda_status) {
	const fn = "veda_parallel_for"
	defer recoverExport(fn, &st)
	// The same error as the ordinary path's one-chunk failure (vedago_parallel_for).
	return result(fn, &callbackError{what: "callback", code: int32(code), lo: int64(begin), hi: int64(end), hasRange: true})
}

// runtimeTagC returns capi.c's tag of runtime tokens (the gate table accepts no other).
func runtimeTagC() uintptr { return uintptr(C.vedac_runtime_tag()) }

// gateLayoutC returns capi.c's offsets of vedac_gate's fields and its size (layout test).
func gateLayoutC() [8]uintptr {
	var out [8]uintptr
	for i := range out {
		out[i] = uintptr(C.vedac_gate_offset(C.int(i)))
	}
	return out
}
