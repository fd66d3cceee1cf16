// Compiles the CPU kernels into this cgo package. The source lives in csrc/ so that the C
// benchmarks (bench/c) build the same code without Go.
#include "../../../csrc/cpu_kernels.c"
