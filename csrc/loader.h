/* loader.h: shared helpers for the run-time driver loaders (OpenCL, CUDA, NVRTC).
 *
 * Drivers are never linked: each loader dlopen()s the driver library, resolves
 * only the entry points VEDA uses with dlsym(), and records why when that fails
 * (the path tried and dlerror()). A failed load leaves the backend absent; it
 * never crashes. All symbols here are hidden and never named veda_* (that
 * prefix is the public ABI only). */
#ifndef VDEV_LOADER_H
#define VDEV_LOADER_H

#include <stddef.h>

#define VDEV_HIDDEN __attribute__((visibility("hidden")))

/* vdev_dlopen_first tries each path in order (RTLD_NOW|RTLD_LOCAL) and returns
 * the first handle that opens, or NULL with every path and its dlerror()
 * written to why (truncated to whylen, always NUL-terminated). */
VDEV_HIDDEN void *vdev_dlopen_first(const char *const *paths, int npaths, char *why, size_t whylen);

/* vdev_dlsym resolves name in handle; on failure it appends the reason to why
 * and returns NULL. */
VDEV_HIDDEN void *vdev_dlsym(void *handle, const char *name, char *why, size_t whylen);

#endif
