/* ocl_loader.h: the OpenCL 1.2 entry points VEDA uses, declared here (no
 * OpenCL headers needed) and resolved at run time.
 *
 * The types and constants below are the subset of Khronos CL/cl.h (OpenCL 1.2,
 * LP64 Linux ABI) that VEDA uses, with the same names and values, so the build
 * needs no opencl-headers package. Each entry point in VDEV_OCL_FUNCS gets a
 * hidden wrapper vd_<name> with the same signature (callbacks are passed as
 * void * and always NULL); the wrappers may be called only after vdev_ocl_load
 * succeeded (any thread): they call through the table without a NULL check. */
#ifndef VDEV_OCL_LOADER_H
#define VDEV_OCL_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include "loader.h"

/* Scalar types (cl_platform.h). */
typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef uint64_t cl_ulong;
typedef cl_uint cl_bool;
typedef cl_ulong cl_bitfield;
typedef cl_bitfield cl_device_type;
typedef cl_uint cl_platform_info;
typedef cl_uint cl_device_info;
typedef cl_bitfield cl_command_queue_properties;
typedef intptr_t cl_context_properties;
typedef cl_bitfield cl_mem_flags;
typedef cl_uint cl_program_info;
typedef cl_uint cl_program_build_info;
typedef cl_uint cl_kernel_work_group_info;
typedef cl_uint cl_profiling_info;

/* Opaque handles (cl.h). */
typedef struct _cl_platform_id *cl_platform_id;
typedef struct _cl_device_id *cl_device_id;
typedef struct _cl_context *cl_context;
typedef struct _cl_command_queue *cl_command_queue;
typedef struct _cl_mem *cl_mem;
typedef struct _cl_program *cl_program;
typedef struct _cl_kernel *cl_kernel;
typedef struct _cl_event *cl_event;

/* Constants (cl.h), with the Khronos values. */
#define CL_SUCCESS 0
#define CL_FALSE 0
#define CL_PLATFORM_VERSION 0x0901
#define CL_PLATFORM_NAME 0x0902
#define CL_DEVICE_TYPE 0x1000
#define CL_DEVICE_TYPE_CPU (1 << 1)
#define CL_DEVICE_TYPE_ALL 0xFFFFFFFF
#define CL_DEVICE_MAX_COMPUTE_UNITS 0x1002
#define CL_DEVICE_MAX_WORK_GROUP_SIZE 0x1004
#define CL_DEVICE_MAX_WORK_ITEM_SIZES 0x1005
#define CL_DEVICE_GLOBAL_MEM_SIZE 0x101F
#define CL_DEVICE_NAME 0x102B
#define CL_DEVICE_VENDOR 0x102C
#define CL_DRIVER_VERSION 0x102D
#define CL_DEVICE_VERSION 0x102F
#define CL_DEVICE_EXTENSIONS 0x1030
#define CL_QUEUE_PROFILING_ENABLE (1 << 1)
#define CL_CONTEXT_PLATFORM 0x1084
#define CL_MEM_READ_WRITE (1 << 0)
#define CL_PROGRAM_BINARY_SIZES 0x1165
#define CL_PROGRAM_BINARIES 0x1166
#define CL_PROGRAM_BUILD_LOG 0x1183
#define CL_PROFILING_COMMAND_START 0x1282
#define CL_PROFILING_COMMAND_END 0x1283

/* X(return type, name, (parameters), (arguments)) */
#define VDEV_OCL_FUNCS(X) \
    X(cl_int, clGetPlatformIDs, (cl_uint a, cl_platform_id *b, cl_uint *c), (a, b, c)) \
    X(cl_int, clGetPlatformInfo, (cl_platform_id a, cl_platform_info b, size_t c, void *d, size_t *e), (a, b, c, d, e)) \
    X(cl_int, clGetDeviceIDs, (cl_platform_id a, cl_device_type b, cl_uint c, cl_device_id *d, cl_uint *e), (a, b, c, d, e)) \
    X(cl_int, clGetDeviceInfo, (cl_device_id a, cl_device_info b, size_t c, void *d, size_t *e), (a, b, c, d, e)) \
    X(cl_context, clCreateContext, (const cl_context_properties *a, cl_uint b, const cl_device_id *c, void *d, void *e, cl_int *f), (a, b, c, d, e, f)) \
    X(cl_int, clReleaseContext, (cl_context a), (a)) \
    X(cl_command_queue, clCreateCommandQueue, (cl_context a, cl_device_id b, cl_command_queue_properties c, cl_int *d), (a, b, c, d)) \
    X(cl_int, clReleaseCommandQueue, (cl_command_queue a), (a)) \
    X(cl_mem, clCreateBuffer, (cl_context a, cl_mem_flags b, size_t c, void *d, cl_int *e), (a, b, c, d, e)) \
    X(cl_int, clReleaseMemObject, (cl_mem a), (a)) \
    X(cl_int, clEnqueueWriteBuffer, (cl_command_queue a, cl_mem b, cl_bool c, size_t d, size_t e, const void *f, cl_uint g, const cl_event *h, cl_event *i), (a, b, c, d, e, f, g, h, i)) \
    X(cl_int, clEnqueueReadBuffer, (cl_command_queue a, cl_mem b, cl_bool c, size_t d, size_t e, void *f, cl_uint g, const cl_event *h, cl_event *i), (a, b, c, d, e, f, g, h, i)) \
    X(cl_program, clCreateProgramWithSource, (cl_context a, cl_uint b, const char **c, const size_t *d, cl_int *e), (a, b, c, d, e)) \
    X(cl_program, clCreateProgramWithBinary, (cl_context a, cl_uint b, const cl_device_id *c, const size_t *d, const unsigned char **e, cl_int *f, cl_int *g), (a, b, c, d, e, f, g)) \
    X(cl_int, clBuildProgram, (cl_program a, cl_uint b, const cl_device_id *c, const char *d, void *e, void *f), (a, b, c, d, e, f)) \
    X(cl_int, clGetProgramBuildInfo, (cl_program a, cl_device_id b, cl_program_build_info c, size_t d, void *e, size_t *f), (a, b, c, d, e, f)) \
    X(cl_int, clGetProgramInfo, (cl_program a, cl_program_info b, size_t c, void *d, size_t *e), (a, b, c, d, e)) \
    X(cl_int, clReleaseProgram, (cl_program a), (a)) \
    X(cl_kernel, clCreateKernel, (cl_program a, const char *b, cl_int *c), (a, b, c)) \
    X(cl_int, clReleaseKernel, (cl_kernel a), (a)) \
    X(cl_int, clSetKernelArg, (cl_kernel a, cl_uint b, size_t c, const void *d), (a, b, c, d)) \
    X(cl_int, clGetKernelWorkGroupInfo, (cl_kernel a, cl_device_id b, cl_kernel_work_group_info c, size_t d, void *e, size_t *f), (a, b, c, d, e, f)) \
    X(cl_int, clEnqueueNDRangeKernel, (cl_command_queue a, cl_kernel b, cl_uint c, const size_t *d, const size_t *e, const size_t *f, cl_uint g, const cl_event *h, cl_event *i), (a, b, c, d, e, f, g, h, i)) \
    X(cl_int, clFlush, (cl_command_queue a), (a)) \
    X(cl_int, clFinish, (cl_command_queue a), (a)) \
    X(cl_int, clWaitForEvents, (cl_uint a, const cl_event *b), (a, b)) \
    X(cl_int, clReleaseEvent, (cl_event a), (a)) \
    X(cl_int, clGetEventProfilingInfo, (cl_event a, cl_profiling_info b, size_t c, void *d, size_t *e), (a, b, c, d, e))

#define VDEV_OCL_DECL(ret, name, params, args) VDEV_HIDDEN ret vd_##name params;
VDEV_OCL_FUNCS(VDEV_OCL_DECL)
#undef VDEV_OCL_DECL

/* vdev_ocl_load opens the OpenCL ICD loader at path (NULL or "" means the
 * default libOpenCL.so.1, then libOpenCL.so) and resolves every entry point.
 * Returns 1 on success; 0 with the reason in why. Call from one goroutine at a
 * time (the Go side serialises it). Loading again with another path replaces
 * the table only when the new load fully succeeds. */
VDEV_HIDDEN int vdev_ocl_load(const char *path, char *why, size_t whylen);

/* vdev_ocl_event_ns returns end-start (ns) of a profiled event, or -1. */
VDEV_HIDDEN long long vdev_ocl_event_ns(cl_event ev);

#endif
