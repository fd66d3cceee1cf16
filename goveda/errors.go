package goveda

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by goveda wraps exactly one of these, so callers (and the C
// ABI, which maps them to veda_status codes) can classify failures with errors.Is. Each message
// starts with "veda: ".
var (
	// ErrInvalidArgument: a bad argument or configuration value (negative workers, end < begin...).
	ErrInvalidArgument = errors.New("veda: invalid argument")
	// ErrOutOfMemory: an allocation the runtime needed failed.
	ErrOutOfMemory = errors.New("veda: out of memory")
	// ErrClosed: the runtime was closed before the call.
	ErrClosed = errors.New("veda: runtime closed")
	// ErrTaskFailed: a task panicked or returned an error (see PanicError).
	ErrTaskFailed = errors.New("veda: task failed")
	// ErrDevice: a device (GPU) operation failed.
	ErrDevice = errors.New("veda: device error")
	// ErrUnsupported: the operation cannot be done here (e.g. pinning without sched_setaffinity).
	ErrUnsupported = errors.New("veda: unsupported")
	// ErrTimeout: a deadline passed before the work could run or finish (a task's Deadline, or
	// the deadline of the call's context).
	ErrTimeout = errors.New("veda: timeout")
	// ErrCancelled: the call's context was cancelled (before its deadline: that is ErrTimeout).
	ErrCancelled = errors.New("veda: cancelled")
	// ErrInternal: a bug in veda; please report it.
	ErrInternal = errors.New("veda: internal error")
)

// PanicError is the error a recovered task panic turns into. It is reported at the call that waits
// for the task (ParallelFor, Reduce, Scope, Join, Future.Wait); the pool keeps working.
// errors.Is(e, ErrTaskFailed) is true; if Value is itself an error, errors.Is/As also see it.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack, from runtime/debug.Stack
}

// Error returns "veda: task failed: panic: <value>".
func (e *PanicError) Error() string {
	return fmt.Sprintf("veda: task failed: panic: %v", e.Value)
}

// Is reports whether target is ErrTaskFailed.
func (e *PanicError) Is(target error) bool { return target == ErrTaskFailed }

// Unwrap returns Value when it is an error, else nil.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// invalidf returns an error wrapping ErrInvalidArgument with a message naming the argument.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

// ctxError converts a done context's cause into a veda error that wraps exactly one sentinel:
// ErrTimeout when a deadline passed (context.DeadlineExceeded), else ErrCancelled. It also wraps
// the cause, so errors.Is(err, context.Canceled) (or DeadlineExceeded, or a custom cause) holds.
func ctxError(cause error) error {
	if errors.Is(cause, context.DeadlineExceeded) {
		return wrap(ErrTimeout, cause)
	}
	return wrap(ErrCancelled, cause)
}

// ctxErr is ctxError for a done ctx: ErrTimeout also when the deadline passed with a cause of
// the caller's own (context.WithDeadlineCause, WithTimeoutCause: Err is DeadlineExceeded, Cause
// is the custom error, and the result wraps that cause), else as ctxError. Any goroutine.
func ctxErr(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(cause, context.DeadlineExceeded) {
		return wrap(ErrTimeout, cause)
	}
	return ctxError(cause)
}

// nilRuntime is the error of a call on a nil *Runtime (bad input, like a nil function).
func nilRuntime(name string) error { return invalidf("%s: the runtime is nil", name) }

// wrap returns an error that wraps sentinel and cause, reading "<sentinel>: <cause>" with the
// cause's own "veda: " prefixes dropped, so that a message says "veda: " once.
func wrap(sentinel, cause error) error { return &wrapError{sentinel, cause} }

type wrapError struct{ sentinel, cause error }

func (e *wrapError) Error() string {
	return e.sentinel.Error() + ": " + strings.ReplaceAll(e.cause.Error(), "veda: ", "")
}

func (e *wrapError) Unwrap() []error { return []error{e.sentinel, e.cause} }
