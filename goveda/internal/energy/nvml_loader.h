/* NVML loaded at run time with dlopen. The few NVML types and entry points VEDA uses are declared
 * here (from NVML's documented ABI); no NVML header is needed to build. Each vd_nvml_open returns
 * its own table, so a test double at another path (VEDA_NVML_LIBRARY) can be opened beside the
 * real library. Calls through one table may come from any thread (NVML is thread-safe). */
#ifndef VD_NVML_LOADER_H
#define VD_NVML_LOADER_H

#include <stddef.h>

typedef int vd_nvmlReturn_t;               /* nvmlReturn_t: 0 = NVML_SUCCESS */
typedef struct vd_nvmlDevice *vd_nvmlDevice_t; /* nvmlDevice_t: an opaque pointer */

#define VD_NVML_SUCCESS 0
#define VD_NVML_ERROR_NOT_SUPPORTED 3
#define VD_NVML_TEMPERATURE_GPU 0

/* nvmlPciInfo_t as of nvmlDeviceGetPciInfo_v3 (the _v2/_v3 layout). */
typedef struct {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[32];
} vd_nvmlPciInfo_t;

typedef struct vd_nvml {
    void *handle;
    vd_nvmlReturn_t (*Init)(void);                                   /* nvmlInit_v2 */
    vd_nvmlReturn_t (*Shutdown)(void);                               /* nvmlShutdown */
    const char *(*ErrorString)(vd_nvmlReturn_t);                     /* nvmlErrorString (optional) */
    vd_nvmlReturn_t (*DeviceGetCount)(unsigned int *);               /* nvmlDeviceGetCount_v2 */
    vd_nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, vd_nvmlDevice_t *); /* _v2 */
    vd_nvmlReturn_t (*DeviceGetName)(vd_nvmlDevice_t, char *, unsigned int);
    vd_nvmlReturn_t (*DeviceGetPciInfo)(vd_nvmlDevice_t, vd_nvmlPciInfo_t *);  /* _v3 (optional) */
    vd_nvmlReturn_t (*DeviceGetTotalEnergyConsumption)(vd_nvmlDevice_t, unsigned long long *); /* mJ (optional) */
    vd_nvmlReturn_t (*DeviceGetPowerUsage)(vd_nvmlDevice_t, unsigned int *);   /* mW (optional) */
    vd_nvmlReturn_t (*DeviceGetEnforcedPowerLimit)(vd_nvmlDevice_t, unsigned int *); /* mW (optional) */
    vd_nvmlReturn_t (*DeviceGetTemperature)(vd_nvmlDevice_t, int, unsigned int *); /* (optional) */
    /* nvmlDeviceGetCurrentClocksEventReasons (NVML 12.2+) or the older
       nvmlDeviceGetCurrentClocksThrottleReasons; same bit mask (optional). */
    vd_nvmlReturn_t (*DeviceGetThrottleReasons)(vd_nvmlDevice_t, unsigned long long *);
} vd_nvml;

/* vd_nvml_open dlopens path (NULL: "libnvidia-ml.so.1"), resolves the entry points and calls
 * nvmlInit_v2. Returns a table (free with vd_nvml_close) or NULL with the reason in why. */
vd_nvml *vd_nvml_open(const char *path, char *why, size_t whylen);

/* vd_nvml_close calls nvmlShutdown and frees the table (the library stays mapped). */
void vd_nvml_close(vd_nvml *n);

/* vd_nvml_error returns NVML's name for ret, or a generic text. */
const char *vd_nvml_error(vd_nvml *n, vd_nvmlReturn_t ret);

/* Wrappers that report NOT_SUPPORTED for an entry point the library lacks. */
vd_nvmlReturn_t vd_nvml_count(vd_nvml *n, unsigned int *c);
vd_nvmlReturn_t vd_nvml_handle(vd_nvml *n, unsigned int i, vd_nvmlDevice_t *d);
vd_nvmlReturn_t vd_nvml_name(vd_nvml *n, vd_nvmlDevice_t d, char *buf, unsigned int len);
vd_nvmlReturn_t vd_nvml_pci(vd_nvml *n, vd_nvmlDevice_t d, vd_nvmlPciInfo_t *p);
vd_nvmlReturn_t vd_nvml_energy(vd_nvml *n, vd_nvmlDevice_t d, unsigned long long *mj);
vd_nvmlReturn_t vd_nvml_power(vd_nvml *n, vd_nvmlDevice_t d, unsigned int *mw);
vd_nvmlReturn_t vd_nvml_power_limit(vd_nvml *n, vd_nvmlDevice_t d, unsigned int *mw);
vd_nvmlReturn_t vd_nvml_temp(vd_nvml *n, vd_nvmlDevice_t d, unsigned int *c);
vd_nvmlReturn_t vd_nvml_throttle(vd_nvml *n, vd_nvmlDevice_t d, unsigned long long *bits);

#endif
