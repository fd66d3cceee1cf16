#include "nvml_loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *sym(void *h, const char *a, const char *b) {
    void *p = dlsym(h, a);
    if (!p && b) p = dlsym(h, b);
    return p;
}

vd_nvml *vd_nvml_open(const char *path, char *why, size_t whylen) {
    const char *p = (path && *path) ? path : "libnvidia-ml.so.1";
    void *h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, whylen, "dlopen(\"%s\"): %s", p, e ? e : "unknown error");
        return NULL;
    }
    vd_nvml *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    n->handle = h;
    n->Init = (vd_nvmlReturn_t (*)(void))sym(h, "nvmlInit_v2", "nvmlInit");
    n->Shutdown = (vd_nvmlReturn_t (*)(void))sym(h, "nvmlShutdown", NULL);
    n->ErrorString = (const char *(*)(vd_nvmlReturn_t))sym(h, "nvmlErrorString", NULL);
    n->DeviceGetCount = (vd_nvmlReturn_t (*)(unsigned int *))sym(h, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
    n->DeviceGetHandleByIndex = (vd_nvmlReturn_t (*)(unsigned int, vd_nvmlDevice_t *))sym(
        h, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
    n->DeviceGetName = (vd_nvmlReturn_t (*)(vd_nvmlDevice_t, char *, unsigned int))sym(h, "nvmlDeviceGetName", NULL);
    n->DeviceGetPciInfo = (vd_nvmlReturn_t (*)(vd_nvmlDevice_t, vd_nvmlPciInfo_t *))sym(h, "nvmlDeviceGetPciInfo_v3", NULL);
    n->DeviceGetTotalEnergyConsumption = (vd_nvmlReturn_t (*)(vd_nvmlDevice_t, unsigned long long *))sym(
        h, "nvmlDeviceGetTotalEnergyConsumption", NULL);
    n->DeviceGetPowerUsage = (vd_nvmlReturn_t (*)(vd_nvmlDevice_t, unsigned int *))sym(h, "nvmlDeviceGetPowerUsage", NULL);
    n->DeviceGetEnforcedPowerLimit = (vd_nvmlReturn_t (*)(vd_nvmlDevice_t, unsigned int *))sym(
        h, "nvmlDeviceGetEnforcedPowerLimit", NULL);
    n->DeviceGetTemperature = (vd_nvmlReturn_t (*)(vd_nvmlDevice_t, int, unsigned int *))sym(h, "nvmlDeviceGetTemperature", NULL);
    n->DeviceGetThrottleReasons = (vd_nvmlReturn_t (*)(vd_nvmlDevice_t, unsigned long long *))sym(
        h, "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons");
    if (!n->Init || !n->DeviceGetCount || !n->DeviceGetHandleByIndex) {
        snprintf(why, whylen, "%s lacks nvmlInit_v2, nvmlDeviceGetCount_v2 or nvmlDeviceGetHandleByIndex_v2", p);
        free(n);
        return NULL;
    }
    vd_nvmlReturn_t r = n->Init();
    if (r != VD_NVML_SUCCESS) {
        snprintf(why, whylen, "nvmlInit_v2: %s (%d)", vd_nvml_error(n, r), r);
        free(n);
        return NULL;
    }
    return n;
}

void vd_nvml_close(vd_nvml *n) {
    if (!n) return;
    if (n->Shutdown) n->Shutdown();
    free(n);
}

const char *vd_nvml_error(vd_nvml *n, vd_nvmlReturn_t ret) {
    if (n && n->ErrorString) {
        const char *s = n->ErrorString(ret);
        if (s) return s;
    }
    switch (ret) {
    case 0: return "Success";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 9: return "Driver Not Loaded";
    case 12: return "Library Not Found";
    case 15: return "GPU is lost";
    }
    return "NVML error";
}

#define VD_CALL(fn, ...) return n->fn ? n->fn(__VA_ARGS__) : VD_NVML_ERROR_NOT_SUPPORTED

vd_nvmlReturn_t vd_nvml_count(vd_nvml *n, unsigned int *c) { VD_CALL(DeviceGetCount, c); }
vd_nvmlReturn_t vd_nvml_handle(vd_nvml *n, unsigned int i, vd_nvmlDevice_t *d) { VD_CALL(DeviceGetHandleByIndex, i, d); }
vd_nvmlReturn_t vd_nvml_name(vd_nvml *n, vd_nvmlDevice_t d, char *buf, unsigned int len) { VD_CALL(DeviceGetName, d, buf, len); }
vd_nvmlReturn_t vd_nvml_pci(vd_nvml *n, vd_nvmlDevice_t d, vd_nvmlPciInfo_t *p) { VD_CALL(DeviceGetPciInfo, d, p); }
vd_nvmlReturn_t vd_nvml_energy(vd_nvml *n, vd_nvmlDevice_t d, unsigned long long *mj) { VD_CALL(DeviceGetTotalEnergyConsumption, d, mj); }
vd_nvmlReturn_t vd_nvml_power(vd_nvml *n, vd_nvmlDevice_t d, unsigned int *mw) { VD_CALL(DeviceGetPowerUsage, d, mw); }
vd_nvmlReturn_t vd_nvml_power_limit(vd_nvml *n, vd_nvmlDevice_t d, unsigned int *mw) { VD_CALL(DeviceGetEnforcedPowerLimit, d, mw); }
vd_nvmlReturn_t vd_nvml_temp(vd_nvml *n, vd_nvmlDevice_t d, unsigned int *c) { VD_CALL(DeviceGetTemperature, d, VD_NVML_TEMPERATURE_GPU, c); }
vd_nvmlReturn_t vd_nvml_throttle(vd_nvml *n, vd_nvmlDevice_t d, unsigned long long *bits) { VD_CALL(DeviceGetThrottleReasons, d, bits); }
