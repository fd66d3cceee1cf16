package goveda

import (
	"context"
	"errors"
	"fmt"
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
	// ErrTimeout: a deadline passed before the work could run or finish.
	ErrTimeout = errors.New("veda: timeout")
	// ErrCancelled: the call's context was cancelled.
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

// ctxError converts a done context's error into a veda error. It wraps ErrCancelled and ctx.Err()
// (so errors.Is(err, context.Canceled) holds); a passed deadline also wraps ErrTimeout.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w: %w", ErrCancelled, ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrCancelled, err)
}
