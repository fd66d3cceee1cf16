/* ocl_loader.c: run-time loader for the OpenCL ICD loader (see ocl_loader.h). */
#include "ocl_loader.h"

#include <string.h>

#define VDEV_OCL_PTR(ret, name, params, args) static ret (*p_##name) params; /* CL_API_CALL is empty on Linux */
VDEV_OCL_FUNCS(VDEV_OCL_PTR)
#undef VDEV_OCL_PTR

/* Wrappers: the table is complete whenever vdev_ocl_load returned 1, so the
 * pointers are never NULL here. There is no NULL check: calling a wrapper
 * before a successful load is a caller bug (the Go side calls them only on an
 * engine built after the load succeeded). */
#define VDEV_OCL_WRAP(ret, name, params, args) \
    VDEV_HIDDEN ret vd_##name params { return p_##name args; }
VDEV_OCL_FUNCS(VDEV_OCL_WRAP)
#undef VDEV_OCL_WRAP

VDEV_HIDDEN int vdev_ocl_load(const char *path, char *why, size_t whylen) {
    const char *defaults[] = {"libOpenCL.so.1", "libOpenCL.so"};
    const char *one[1] = {path};
    void *h = (path && path[0]) ? vdev_dlopen_first(one, 1, why, whylen)
                                : vdev_dlopen_first(defaults, 2, why, whylen);
    if (h == NULL) return 0;
    int ok = 1;
#define VDEV_OCL_SYM(ret, name, params, args) \
    void *s_##name = vdev_dlsym(h, #name, why, whylen); if (s_##name == NULL) ok = 0;
    VDEV_OCL_FUNCS(VDEV_OCL_SYM)
#undef VDEV_OCL_SYM
    if (!ok) return 0; /* handle stays open: dlclose of an ICD loader is not worth the risk */
#define VDEV_OCL_SET(ret, name, params, args) memcpy(&p_##name, &s_##name, sizeof(void *));
    VDEV_OCL_FUNCS(VDEV_OCL_SET)
#undef VDEV_OCL_SET
    return 1;
}

VDEV_HIDDEN long long vdev_ocl_event_ns(cl_event ev) {
    cl_ulong start = 0, end = 0;
    if (p_clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) != CL_SUCCESS) return -1;
    if (p_clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) != CL_SUCCESS) return -1;
    return end >= start ? (long long)(end - start) : 0;
}
