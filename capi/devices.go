package capi

/*
#include "capi.h"
*/
import "C"

import (
	"unicode/utf8"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// Exports for the device section of veda.h: device info, pinning, decision recording.

// goveda's device kinds are VEDA_DEVICE_* (d.Kind crosses as its integer value). Compile-time
// checks: an index other than 0 does not compile.
var (
	_ = [1]int{}[int(goveda.DeviceCPU)-C.VEDA_DEVICE_CPU]
	_ = [1]int{}[int(goveda.DeviceOpenCL)-C.VEDA_DEVICE_OPENCL]
	_ = [1]int{}[int(goveda.DeviceCUDA)-C.VEDA_DEVICE_CUDA]
)

// putString copies s into the C char array dst (of len(dst) bytes) NUL-terminated; see putBytes.
func putString(dst []C.char, s string) {
	if len(dst) == 0 {
		return
	}
	putBytes(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(dst)), s)
}

// putBytes copies s into b NUL-terminated. If s does not fit it is cut before the character that
// would be split (at most 3 bytes are examined, so the cost is O(len(b))); bytes that are not
// valid UTF-8 are copied as they are (a driver's name is bytes to C, not text to check).
func putBytes(b []byte, s string) {
	if len(b) == 0 {
		return
	}
	if limit := len(b) - 1; len(s) > limit {
		cut := limit
		// Back up over continuation bytes to the start of the character at cut, but only when
		// that start begins a valid character which the cut would split.
		for i := limit; i > 0 && i > limit-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size > 1 {
					if i+size > limit {
						cut = i
					}
				}
				break
			}
		}
		s = s[:cut]
	}
	b[copy(b, s)] = 0
}

// vedago_device_info fills the full-size struct *out (allocated by capi.c, which copies the
// caller's prefix of it).
//
//export vedago_device_info
func vedago_device_info(h C.uintptr_t, index C.int32_t, out *C.veda_device_info) (st C.veda_status) {
	const fn = "veda_device_info_get"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	devs, err := e.rt.Devices()
	if err != nil {
		return failErr(fn, err)
	}
	if index < 0 || int(index) >= len(devs) {
		return fail(stInvalidArgument, fn, "veda: invalid argument: index is %d, devices are 0..%d", int32(index), len(devs)-1)
	}
	d := devs[index]
	out.index = C.int32_t(d.Index)
	out.kind = C.int32_t(d.Kind)
	putString(out.name[:], d.Name)
	putString(out.vendor[:], d.Vendor)
	out.memory_bytes = C.uint64_t(d.MemoryBytes)
	out.compute_units = C.int32_t(d.ComputeUnits)
	out.max_work_group_size = C.int32_t(d.MaxWorkGroupSize)
	putString(out.driver_version[:], d.DriverVersion)
	putString(out.platform[:], d.Platform)
	if d.FP64 {
		out.fp64 = 1
	} else {
		out.fp64 = 0
	}
	s := d.Stats
	out.dispatched = C.uint64_t(s.Dispatched)
	out.completed = C.uint64_t(s.Completed)
	out.failed = C.uint64_t(s.Failed)
	out.queue_depth = C.int64_t(s.QueueDepth)
	out.ema_throughput = C.double(s.EMAThroughput)
	out.peak_throughput = C.double(s.PeakThroughput)
	out.bandwidth = C.double(s.Bandwidth)
	out.bytes_to_device = C.uint64_t(s.BytesToDevice)
	out.bytes_from_device = C.uint64_t(s.BytesFromDevice)
	out.busy_ns = C.int64_t(s.BusyTime.Nanoseconds())
	return stOK
}

//export vedago_runtime_pin_device
func vedago_runtime_pin_device(h C.uintptr_t, index C.int32_t) (st C.veda_status) {
	const fn = "veda_runtime_pin_device"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	return result(fn, e.rt.PinDevice(int(index)))
}

//export vedago_runtime_record_decisions
func vedago_runtime_record_decisions(h C.uintptr_t, on C.int32_t) (st C.veda_status) {
	const fn = "veda_runtime_record_decisions"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	return result(fn, e.rt.SetRecordDecisions(on != 0))
}
