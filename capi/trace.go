package capi

/*
#include "capi.h"
*/
import "C"

import "github.com/veda-runtime/veda/goveda"

// vedago_trace translates veda_trace_start (stop == 0) and veda_trace_stop (stop == 1).
//
//export vedago_trace
func vedago_trace(h C.uintptr_t, path *C.char, stop C.int) (st C.veda_status) {
	fn := "veda_trace_start"
	if stop != 0 {
		fn = "veda_trace_stop"
	}
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if stop != 0 {
		return result(fn, e.rt.StopTrace())
	}
	if path == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: path is NULL")
	}
	return result(fn, e.rt.StartTraceFile(C.GoString(path), goveda.TraceOptions{}))
}

// vedago_metrics_serve translates veda_metrics_serve (stop == 0) and veda_metrics_stop.
//
//export vedago_metrics_serve
func vedago_metrics_serve(h C.uintptr_t, addr *C.char, stop C.int) (st C.veda_status) {
	fn := "veda_metrics_serve"
	if stop != 0 {
		fn = "veda_metrics_stop"
	}
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if stop != 0 {
		return result(fn, e.rt.StopMetrics())
	}
	a := ""
	if addr != nil {
		a = C.GoString(addr)
		if a == "" {
			return fail(stInvalidArgument, fn, "veda: invalid argument: addr is \"\" (use NULL for 127.0.0.1:9464)")
		}
	}
	_, err := e.rt.ServeMetrics(a)
	return result(fn, err)
}

//export vedago_flush_traces_at_exit
func vedago_flush_traces_at_exit() {
	defer func() { _ = recover() }() // at exit: report nothing, never abort the host
	goveda.FlushTracesAtExit()
}
