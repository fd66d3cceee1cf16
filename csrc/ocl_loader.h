/* ocl_loader.h: the OpenCL 1.2 entry points VEDA uses, resolved at run time.
 *
 * Types come from the system CL/cl.h (Debian opencl-headers). Each entry point
 * in VDEV_OCL_FUNCS gets a hidden wrapper vd_<name> with the same signature
 * (callbacks are passed as void * and always NULL);
 * the wrappers may be called only after vdev_ocl_load succeeded (any thread). */
#ifndef VDEV_OCL_LOADER_H
#define VDEV_OCL_LOADER_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include "loader.h"

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
