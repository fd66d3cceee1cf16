// Package cuda holds VEDA's built-in CUDA C kernels: the *.cu sources (for
// NVRTC at run time) and, when nvcc was available at build time, their PTX in
// ptx/*.ptx (written by `tests/cuda_compile_check.sh --emit`).
package cuda

import "embed"

// FS holds every *.cu file of this directory and ptx/ (a README placeholder
// plus any generated *.ptx).
//
//go:embed *.cu ptx
var FS embed.FS
