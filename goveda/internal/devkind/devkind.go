// Package devkind is the one definition of a device's kind, shared by the device layer, the
// dispatcher and goveda (whose DeviceKind converts to it). The values are VEDA_DEVICE_* of the C
// ABI; capi checks that at compile time.
package devkind

import "fmt"

// Kind says what executes work on a device.
type Kind int

const (
	CPU    Kind = 0 // the host CPU: the runtime's worker pool, always device 0
	OpenCL Kind = 1 // a device reached through an OpenCL driver (a GPU, or a CPU through PoCL)
	CUDA   Kind = 2 // an NVIDIA GPU reached through the CUDA driver API
)

// String returns "cpu", "opencl" or "cuda" ("kind(N)" for another value).
func (k Kind) String() string {
	switch k {
	case CPU:
		return "cpu"
	case OpenCL:
		return "opencl"
	case CUDA:
		return "cuda"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}
