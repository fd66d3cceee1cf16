// cgo.c compiles the C driver loaders from csrc/ into this package.
#include "../../../csrc/loader.c"
#include "../../../csrc/ocl_loader.c"
#include "../../../csrc/cuda_loader.c"
#include "../../../csrc/blas_loader.c"
#include "../../../csrc/gpublas_loader.c"
