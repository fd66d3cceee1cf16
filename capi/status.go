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

// Status codes: cgo reads them from the veda_status_code enum that VEDA_STATUS_MAP in
// include/veda.h generates, so the header is their only source.
const (
	stOK              C.veda_status = C.VEDA_OK
	stInvalidArgument C.veda_status = C.VEDA_ERR_INVALID_ARGUMENT
	stOutOfMemory     C.veda_status = C.VEDA_ERR_OUT_OF_MEMORY
	stClosed          C.veda_status = C.VEDA_ERR_CLOSED
	stTaskFailed      C.veda_status = C.VEDA_ERR_TASK_FAILED
	stDevice          C.veda_status = C.VEDA_ERR_DEVICE
	stUnsupported     C.veda_status = C.VEDA_ERR_UNSUPPORTED
	stTimeout         C.veda_status = C.VEDA_ERR_TIMEOUT
	stCancelled       C.veda_status = C.VEDA_ERR_CANCELLED
	stInternal        C.veda_status = C.VEDA_ERR_INTERNAL
)

// statusSentinels maps each error status to the goveda sentinel it stands for, in
// VEDA_STATUS_MAP order. status_test.go checks it against the header: every VEDA_ERR_* code is
// here once, and each sentinel's message is "veda: " + the header's description.
var statusSentinels = []struct {
	st       C.veda_status
	name     string // the X-macro name in VEDA_STATUS_MAP
	sentinel error
}{
	{stInvalidArgument, "ERR_INVALID_ARGUMENT", goveda.ErrInvalidArgument},
	{stOutOfMemory, "ERR_OUT_OF_MEMORY", goveda.ErrOutOfMemory},
	{stClosed, "ERR_CLOSED", goveda.ErrClosed},
	{stTaskFailed, "ERR_TASK_FAILED", goveda.ErrTaskFailed},
	{stDevice, "ERR_DEVICE", goveda.ErrDevice},
	{stUnsupported, "ERR_UNSUPPORTED", goveda.ErrUnsupported},
	{stTimeout, "ERR_TIMEOUT", goveda.ErrTimeout},
	{stCancelled, "ERR_CANCELLED", goveda.ErrCancelled},
	{stInternal, "ERR_INTERNAL", goveda.ErrInternal},
}

// statusOf maps a Go error to its status with errors.Is (the first sentinel in
// statusSentinels order that err wraps); an unknown error is internal.
func statusOf(err error) C.veda_status {
	if err == nil {
		return stOK
	}
	for _, s := range statusSentinels {
		if errors.Is(err, s.sentinel) {
			return s.st
		}
	}
	return stInternal
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
