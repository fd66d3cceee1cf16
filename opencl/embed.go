// Package opencl holds VEDA's built-in OpenCL C kernels, embedded into the
// library so that they are compiled at run time by whatever OpenCL driver is
// present.
package opencl

import "embed"

// FS holds every *.cl file of this directory.
//
//go:embed *.cl
var FS embed.FS
