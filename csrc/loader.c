/* loader.c: dlopen/dlsym helpers shared by the driver loaders (see loader.h). */
#include "loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static void vdev_append(char *why, size_t whylen, const char *msg) {
    if (why == NULL || whylen == 0) return;
    size_t used = strnlen(why, whylen - 1);
    snprintf(why + used, whylen - used, "%s%s", used ? "; " : "", msg);
}

VDEV_HIDDEN void *vdev_dlopen_first(const char *const *paths, int npaths, char *why, size_t whylen) {
    if (why && whylen) why[0] = 0;
    for (int i = 0; i < npaths; i++) {
        if (paths[i] == NULL || paths[i][0] == 0) continue;
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        if (h != NULL) {
            if (why && whylen) why[0] = 0;
            return h;
        }
        const char *err = dlerror();
        char msg[512];
        snprintf(msg, sizeof msg, "dlopen(%s): %s", paths[i], err ? err : "unknown error");
        vdev_append(why, whylen, msg);
    }
    return NULL;
}

VDEV_HIDDEN void *vdev_dlsym(void *handle, const char *name, char *why, size_t whylen) {
    dlerror();
    void *p = dlsym(handle, name);
    if (p == NULL) {
        const char *err = dlerror();
        char msg[512];
        snprintf(msg, sizeof msg, "dlsym(%s): %s", name, err ? err : "symbol is NULL");
        vdev_append(why, whylen, msg);
    }
    return p;
}
