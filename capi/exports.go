package capi

/*
#include "capi.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// runtimeEntry is the object behind a veda_runtime token.
type runtimeEntry struct {
	rt     *goveda.Runtime
	shared bool // a reference on the process-wide runtime (shared.go)
}

var bg = context.Background()

// lookupRuntime resolves a runtime token for export fn; on failure it sets the last error and
// returns a non-OK status (VEDA_ERR_CLOSED for a destroyed runtime).
func lookupRuntime(fn string, h C.uintptr_t) (*runtimeEntry, C.veda_status) {
	e, state := runtimes.Get(uintptr(h))
	switch state {
	case stateLive:
		return e, stOK
	case stateStale:
		return nil, fail(stClosed, fn, "veda: runtime closed: rt was destroyed")
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: rt is NULL")
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: rt is not a runtime handle (never created or forged)")
	}
}

// cConfigFields names goveda.Config's fields as a C caller knows them (veda_config members).
var cConfigFields = map[string]string{
	"Workers":  "cfg->num_workers",
	"Policy":   "cfg->policy",
	"Strategy": "cfg->strategy",

	"MaxPowerWatts":  "cfg->max_power_watts",
	"MaxTempCelsius": "cfg->max_temp_celsius",
	"EnergyWeight":   "cfg->energy_weight",
}

// configErrorInC rewrites a *goveda.ConfigError to name the veda_config member instead of the Go
// field; other errors pass unchanged.
func configErrorInC(err error) error {
	var ce *goveda.ConfigError
	if errors.As(err, &ce) {
		if name, ok := cConfigFields[ce.Field]; ok {
			return fmt.Errorf("%w: %s %s", goveda.ErrInvalidArgument, name, ce.Problem)
		}
	}
	return err
}

//export vedago_runtime_create
func vedago_runtime_create(workers C.int32_t, policy C.int32_t, seed C.uint64_t, strategy *C.char, gpuThreshold C.uint64_t,
	disableGPU, recordDecisions C.int32_t, maxPowerWatts, maxTempCelsius, energyWeight C.double, pinWorkers C.int32_t,
	out *C.uintptr_t) (st C.veda_status) {
	const fn = "veda_runtime_create"
	defer recoverExport(fn, &st)
	cfg := goveda.Config{Workers: int(workers), Policy: goveda.Policy(policy), Seed: uint64(seed),
		GPUThreshold: uint64(gpuThreshold), DisableGPU: disableGPU != 0, RecordDecisions: recordDecisions != 0,
		MaxPowerWatts: float64(maxPowerWatts), MaxTempCelsius: float64(maxTempCelsius), EnergyWeight: float64(energyWeight),
		PinWorkers: pinWorkers != 0}
	if strategy != nil {
		cfg.Strategy = C.GoString(strategy)
		if cfg.Strategy == "" {
			return fail(stInvalidArgument, fn, "veda: invalid argument: cfg->strategy is \"\" (use NULL for the default)")
		}
	}
	rt, err := goveda.New(cfg)
	if err != nil {
		return failErr(fn, configErrorInC(err))
	}
	tok := runtimes.Add(&runtimeEntry{rt: rt})
	registerFast(tok, rt)
	*out = C.uintptr_t(tok)
	return stOK
}

//export vedago_runtime_destroy
func vedago_runtime_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_runtime_destroy"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		if st == stClosed {
			setError(fn + ": veda: runtime closed: rt was already destroyed")
		}
		return st
	}
	unregisterFast(uintptr(h)) // later calls with h take the ordinary path (and fail there)
	if e.shared {
		return releaseShared(fn, h, e)
	}
	// The handle stays valid until Close returns, so in-flight work may still call into the
	// runtime (nested loops, groups); goveda decides what a closing runtime accepts. Close
	// waits for group tasks too: each is admitted work until it finished.
	err := e.rt.Close()
	if _, state := runtimes.Take(uintptr(h)); state != stateLive {
		// A concurrent destroy won the race.
		return fail(stClosed, fn, "veda: runtime closed: rt was already destroyed")
	}
	if err != nil {
		return failErr(fn, err)
	}
	return stOK
}

//export vedago_runtime_num_workers
func vedago_runtime_num_workers(h C.uintptr_t) (n C.int32_t) {
	const fn = "veda_runtime_num_workers"
	defer recoverExportInt(fn, &n)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return -1
	}
	return C.int32_t(e.rt.Workers())
}

//export vedago_device_count
func vedago_device_count(h C.uintptr_t) (n C.int32_t) {
	const fn = "veda_device_count"
	defer recoverExportInt(fn, &n)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return -1
	}
	devs, err := e.rt.Devices()
	if err != nil {
		failErr(fn, err)
		return -1
	}
	return C.int32_t(len(devs))
}

//export vedago_parallel_for
func vedago_parallel_for(h C.uintptr_t, begin, end, grain C.int64_t, cfn C.veda_range_fn, ctx C.uintptr_t) (st C.veda_status) {
	const fn = "veda_parallel_for"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if cfn == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: fn is NULL")
	}
	if end < begin {
		return fail(stInvalidArgument, fn, "veda: invalid argument: end (%d) < begin (%d)", int64(end), int64(begin))
	}
	if grain < 0 {
		return fail(stInvalidArgument, fn, "veda: invalid argument: grain is %d, must be >= 0", int64(grain))
	}
	if begin == end {
		return stOK
	}
	err := e.rt.ParallelFor(callCtx(), int(begin), int(end), int(grain), func(lo, hi int) error {
		if r := C.vedac_call_range(cfn, ctx, C.int64_t(lo), C.int64_t(hi), joinDeque(e.rt)); r != 0 {
			return &callbackError{what: "callback", code: int32(r), lo: int64(lo), hi: int64(hi), hasRange: true}
		}
		return nil
	})
	return result(fn, err)
}

// accumulator is one partial result of veda_parallel_reduce: acc_size bytes, 16-byte aligned,
// in Go memory (the C fold gets a pointer for the duration of one call).
type accumulator struct{ buf []byte }

//export vedago_parallel_reduce
func vedago_parallel_reduce(h C.uintptr_t, begin, end, grain C.int64_t, accSize C.size_t, identity unsafe.Pointer,
	fold C.veda_fold_fn, combine C.veda_combine_fn, ctx C.uintptr_t, out unsafe.Pointer) (st C.veda_status) {
	const fn = "veda_parallel_reduce"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case identity == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: identity is NULL")
	case fold == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: fold is NULL")
	case combine == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: combine is NULL")
	case out == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: out is NULL")
	case accSize == 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: acc_size is 0")
	case accSize > 1<<30:
		return fail(stInvalidArgument, fn, "veda: invalid argument: acc_size is %d, larger than 1 GiB", uint64(accSize))
	case end < begin:
		return fail(stInvalidArgument, fn, "veda: invalid argument: end (%d) < begin (%d)", int64(end), int64(begin))
	case grain < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: grain is %d, must be >= 0", int64(grain))
	}
	size := int(accSize)
	ident := C.GoBytes(identity, C.int(size))
	outBuf := unsafe.Slice((*byte)(out), size)
	if begin == end {
		copy(outBuf, ident)
		return stOK
	}
	newAcc := func() []byte {
		b := make([]byte, size+16)
		off := int((16 - uintptr(unsafe.Pointer(&b[0]))%16) % 16)
		b = b[off : off+size : off+size]
		copy(b, ident)
		return b
	}
	// nil *accumulator is the identity: no buffer is allocated for chunks that never run. A fold
	// failure is ReduceErr's error, which stops the reduction.
	res, err := goveda.ReduceErr(callCtx(), e.rt, int(begin), int(end), int(grain), (*accumulator)(nil),
		func(lo, hi int, a *accumulator) (*accumulator, error) {
			if a == nil {
				a = &accumulator{buf: newAcc()}
			}
			if r := C.vedac_call_fold(fold, ctx, C.int64_t(lo), C.int64_t(hi), unsafe.Pointer(&a.buf[0]), joinDeque(e.rt)); r != 0 {
				return a, &callbackError{what: "fold", code: int32(r), lo: int64(lo), hi: int64(hi), hasRange: true}
			}
			return a, nil
		},
		func(a, b *accumulator) *accumulator {
			switch {
			case a == nil:
				return b
			case b == nil:
				return a
			}
			C.vedac_call_combine(combine, ctx, unsafe.Pointer(&a.buf[0]), unsafe.Pointer(&b.buf[0]))
			return a
		})
	if err != nil {
		return failErr(fn, err)
	}
	if res == nil {
		copy(outBuf, ident)
	} else {
		copy(outBuf, res.buf)
	}
	return stOK
}

//export vedago_metrics
func vedago_metrics(h C.uintptr_t, format C.int, buf *C.char, capacity C.size_t, length *C.size_t) (st C.veda_status) {
	fn := "veda_metrics_json"
	switch format {
	case 1:
		fn = "veda_metrics_prometheus"
	case 2:
		fn = "veda_decisions_json"
	case 3:
		fn = "veda_energy_json"
	}
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if length == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: len is NULL")
	}
	if buf == nil && capacity > 0 {
		return fail(stInvalidArgument, fn, "veda: invalid argument: buf is NULL but cap is %d", uint64(capacity))
	}
	var text string
	switch format {
	case 1:
		text = e.rt.Metrics().Prometheus()
	case 2:
		b, err := e.rt.DecisionsJSON()
		if err != nil {
			return failErr(fn, err)
		}
		text = string(b)
	case 3:
		b, err := e.rt.EnergyJSON()
		if err != nil {
			return failErr(fn, err)
		}
		text = string(b)
	default:
		b, err := e.rt.Metrics().JSON()
		if err != nil {
			return failErr(fn, err)
		}
		text = string(b)
	}
	writeText(text, buf, capacity, length)
	return stOK
}

// writeText stores text in buf following the snprintf protocol of veda.h: *length = the size
// needed including the NUL; at most capacity bytes are written, always NUL-terminated when
// capacity > 0. The caller has checked length != nil and (buf != nil || capacity == 0).
func writeText(text string, buf *C.char, capacity C.size_t, length *C.size_t) {
	*length = C.size_t(len(text) + 1)
	if capacity > 0 {
		size := uint64(len(text) + 1)
		if uint64(capacity) < size {
			size = uint64(capacity)
		}
		dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(size))
		n := copy(dst[:len(dst)-1], text)
		dst[n] = 0
	}
}
