package capi

/*
#include "capi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// Status codes, mirroring VEDA_STATUS_MAP in include/veda.h.
const (
	stOK              C.veda_status = 0
	stInvalidArgument C.veda_status = 1
	stOutOfMemory     C.veda_status = 2
	stClosed          C.veda_status = 3
	stTaskFailed      C.veda_status = 4
	stDevice          C.veda_status = 5
	stUnsupported     C.veda_status = 6
	stTimeout         C.veda_status = 7
	stCancelled       C.veda_status = 8
	stInternal        C.veda_status = 9
)

// statusOf maps a Go error to its status with errors.Is; an unknown error is internal.
func statusOf(err error) C.veda_status {
	switch {
	case err == nil:
		return stOK
	case errors.Is(err, goveda.ErrInvalidArgument):
		return stInvalidArgument
	case errors.Is(err, goveda.ErrOutOfMemory):
		return stOutOfMemory
	case errors.Is(err, goveda.ErrClosed):
		return stClosed
	case errors.Is(err, goveda.ErrTaskFailed):
		return stTaskFailed
	case errors.Is(err, goveda.ErrDevice):
		return stDevice
	case errors.Is(err, goveda.ErrUnsupported):
		return stUnsupported
	case errors.Is(err, goveda.ErrTimeout):
		return stTimeout
	case errors.Is(err, goveda.ErrCancelled):
		return stCancelled
	default:
		return stInternal
	}
}

// setError stores msg as the calling C thread's last error. Exports run on the C caller's
// thread, so this reaches the caller's thread-local storage. C copies msg at once.
func setError(msg string) {
	if msg == "" {
		msg = "veda: unknown error"
	}
	C.vedac_set_error((*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}

// fail sets the last error to "fn: message" and returns st.
func fail(st C.veda_status, fn, format string, args ...any) C.veda_status {
	setError(fn + ": " + fmt.Sprintf(format, args...))
	return st
}

// failErr maps err to its status and sets the last error to "fn: err".
func failErr(fn string, err error) C.veda_status {
	st := statusOf(err)
	setError(fn + ": " + err.Error())
	return st
}

// result returns stOK for a nil err, else failErr.
func result(fn string, err error) C.veda_status {
	if err == nil {
		return stOK
	}
	return failErr(fn, err)
}

// recoverExport turns a panic in an export into VEDA_ERR_INTERNAL with the panic message.
// Use as `defer recoverExport("veda_x", &st)` with a named result st.
func recoverExport(fn string, st *C.veda_status) {
	if r := recover(); r != nil {
		setError(fmt.Sprintf("%s: veda: internal error: panic: %v\n%s", fn, r, debug.Stack()))
		*st = stInternal
	}
}

// recoverExportInt is recoverExport for exports returning an int32 (-1 on error).
func recoverExportInt(fn string, v *C.int32_t) {
	if r := recover(); r != nil {
		setError(fmt.Sprintf("%s: veda: internal error: panic: %v\n%s", fn, r, debug.Stack()))
		*v = -1
	}
}

// callbackError is the error of a user callback that returned a non-zero code. It wraps
// goveda.ErrTaskFailed.
type callbackError struct {
	what     string // "callback", "fold", "task"
	code     int32
	lo, hi   int64
	hasRange bool
}

func (e *callbackError) Error() string {
	if e.hasRange {
		return fmt.Sprintf("veda: task failed: %s returned %d for range [%d, %d)", e.what, e.code, e.lo, e.hi)
	}
	return fmt.Sprintf("veda: task failed: %s returned %d", e.what, e.code)
}

func (e *callbackError) Unwrap() error { return goveda.ErrTaskFailed }
