package streamaead

import (
	"errors"
	"fmt"

	"github.com/veda-runtime/veda/goveda"
)

// Errors. Failures of one segment come as a *SegmentError wrapping one of these.
var (
	// ErrAuth: a segment's tag does not verify: a wrong key or associated data, a modified
	// byte, or a reordered, dropped or duplicated segment (each changes the nonce).
	ErrAuth = errors.New("authentication failed")
	// ErrTruncated: the stream ends inside the header, or its last segment is shorter than a tag.
	ErrTruncated = errors.New("truncated")
	// ErrBadHeader: the header's length byte is not 40.
	ErrBadHeader = errors.New("bad header")
	// ErrSegmentSize: a segment size out of range.
	ErrSegmentSize = errors.New("unsupported segment size")
	// ErrKey: a key that is not 32 bytes.
	ErrKey = errors.New("key must be 32 bytes")
	// ErrTooLong: the stream would need more than MaxSegments segments.
	ErrTooLong = errors.New("too many segments")
	// ErrClosed: a write after Close.
	ErrClosed = errors.New("write on a closed writer")
)

// SegmentError is a failure of one segment of a stream (Segment -1: the header).
type SegmentError struct {
	Segment int64
	// Last is set when the segment was the last the stream held: an authentication failure
	// there also means a truncated stream or trailing bytes.
	Last bool
	Err  error
}

// Error names the segment: "segment 3: authentication failed".
func (e *SegmentError) Error() string {
	if e.Segment < 0 {
		return fmt.Sprintf("veda: streamaead: header: %v", e.Err)
	}
	if e.Last && errors.Is(e.Err, ErrAuth) {
		return fmt.Sprintf("veda: streamaead: segment %d (the last in the stream): %v (modified, wrong key or associated data, or the stream was truncated or has trailing bytes)", e.Segment, e.Err)
	}
	if errors.Is(e.Err, ErrAuth) {
		return fmt.Sprintf("veda: streamaead: segment %d: %v (modified, reordered, dropped or duplicated segment, or wrong key or associated data)", e.Segment, e.Err)
	}
	return fmt.Sprintf("veda: streamaead: segment %d: %v", e.Segment, e.Err)
}

// Unwrap returns the cause.
func (e *SegmentError) Unwrap() error { return e.Err }

// invalidArg is a bad argument (a nil reader, writer or runtime): it wraps goveda.ErrInvalidArgument.
type invalidArg string

func (e invalidArg) Error() string { return "veda: streamaead: invalid argument: " + string(e) }
func (e invalidArg) Unwrap() error { return goveda.ErrInvalidArgument }

// checkNil returns an invalidArg naming the first nil among the named values, or nil.
func checkNil(fn string, named ...any) error {
	for i := 0; i+1 < len(named); i += 2 {
		if isNil(named[i+1]) {
			return invalidArg(fmt.Sprintf("%s: %s is nil", fn, named[i]))
		}
	}
	return nil
}

func isNil(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case *goveda.Runtime:
		return x == nil
	}
	return false
}
