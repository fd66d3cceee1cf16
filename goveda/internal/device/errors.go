package device

import (
	"errors"
	"fmt"
)

// Sentinel errors. The integration layer maps them onto goveda's errors
// (ErrUnsupported, ErrOutOfMemory, ErrInvalidArgument, ErrDevice).
var (
	ErrUnsupported     = errors.New("veda: device: unsupported")
	ErrOutOfMemory     = errors.New("veda: device: out of memory")
	ErrInvalidArgument = errors.New("veda: device: invalid argument")
	ErrBuild           = errors.New("veda: device: program build failed")
	ErrClosed          = errors.New("veda: device: closed")
)

// DeviceError is a driver failure: the backend, the operation, the driver's
// numeric code with its name and message, and for build failures the full
// build log. errors.Is(err, ErrOutOfMemory) is true for out-of-memory codes,
// errors.Is(err, ErrBuild) for compile failures.
type DeviceError struct {
	Backend Kind
	Op      string // e.g. "clBuildProgram", "cuMemAlloc"
	Code    int
	Name    string // e.g. "CL_BUILD_PROGRAM_FAILURE", "CUDA_ERROR_OUT_OF_MEMORY"
	Message string // driver message, or our own description
	Log     string // build log (compile errors only)
	oom     bool
	build   bool
}

// Error returns "veda: device: <backend> <op>: <name> (<code>): <message>",
// followed by the build log when there is one.
func (e *DeviceError) Error() string {
	s := fmt.Sprintf("veda: device: %s %s: %s (%d)", e.Backend, e.Op, e.Name, e.Code)
	if e.Message != "" && e.Message != e.Name {
		s += ": " + e.Message
	}
	if e.Log != "" {
		s += "\nbuild log:\n" + e.Log
	}
	return s
}

// Is reports ErrOutOfMemory and ErrBuild matches.
func (e *DeviceError) Is(target error) bool {
	return (target == ErrOutOfMemory && e.oom) || (target == ErrBuild && e.build)
}
