/* fake_nvml.c: a TEST DOUBLE of NVML (libnvidia-ml.so.1), built by VEDA's tests and loaded through
 * VEDA_NVML_LIBRARY. It implements only the entry points VEDA uses. Its devices are whatever the
 * state file named by VEDA_FAKE_NVML_STATE says at the moment of each call, one line per GPU:
 *
 *     power_mw temp_c energy_mj throttle_bits has_energy limit_mw bus
 *
 * (has_energy 0: nvmlDeviceGetTotalEnergyConsumption answers NOT_SUPPORTED, as on pre-Volta GPUs;
 * bus is the PCI bus number). Tests rewrite the file to drive power and temperature traces.
 * VEDA_FAKE_NVML_INIT_FAIL=1 makes nvmlInit_v2 fail with DRIVER_NOT_LOADED (9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct { char busIdLegacy[16]; unsigned int domain, bus, device, pciDeviceId, pciSubSystemId; char busId[32]; } nvmlPciInfo_t;

#define MAXDEV 8
typedef struct { unsigned long long power_mw, temp, energy_mj, throttle, has_energy, limit_mw, bus; } fdev;

static int load(fdev *d) {
    const char *p = getenv("VEDA_FAKE_NVML_STATE");
    if (!p) return 0;
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    int n = 0;
    while (n < MAXDEV && fscanf(f, "%llu %llu %llu %llu %llu %llu %llu", &d[n].power_mw, &d[n].temp, &d[n].energy_mj,
                                &d[n].throttle, &d[n].has_energy, &d[n].limit_mw, &d[n].bus) == 7)
        n++;
    fclose(f);
    return n;
}

/* A device handle is its index + 1 cast to a pointer. */
static int dev(void *h, fdev *out) {
    fdev d[MAXDEV];
    int n = load(d);
    long i = (long)h - 1;
    if (i < 0 || i >= n) return 0;
    *out = d[i];
    return 1;
}

nvmlReturn_t nvmlInit_v2(void) {
    const char *f = getenv("VEDA_FAKE_NVML_INIT_FAIL");
    return (f && *f == '1') ? 9 : 0;
}
nvmlReturn_t nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
    case 0: return "Success";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 9: return "Driver Not Loaded (fake)";
    }
    return "Unknown Error (fake)";
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *c) {
    fdev d[MAXDEV];
    if (!c) return 2;
    *c = (unsigned int)load(d);
    return 0;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **h) {
    fdev d[MAXDEV];
    if (!h || (int)i >= load(d)) return 2;
    *h = (void *)(long)(i + 1);
    return 0;
}
nvmlReturn_t nvmlDeviceGetName(void *h, char *buf, unsigned int len) {
    fdev d;
    if (!dev(h, &d) || !buf) return 2;
    snprintf(buf, len, "Fake NVML GPU %ld", (long)h - 1);
    return 0;
}
nvmlReturn_t nvmlDeviceGetPciInfo_v3(void *h, nvmlPciInfo_t *p) {
    fdev d;
    if (!dev(h, &d) || !p) return 2;
    memset(p, 0, sizeof *p);
    p->bus = (unsigned int)d.bus;
    snprintf(p->busId, sizeof p->busId, "00000000:%02X:00.0", (unsigned int)d.bus);
    return 0;
}
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(void *h, unsigned long long *mj) {
    fdev d;
    if (!dev(h, &d) || !mj) return 2;
    if (!d.has_energy) return 3;
    *mj = d.energy_mj;
    return 0;
}
nvmlReturn_t nvmlDeviceGetPowerUsage(void *h, unsigned int *mw) {
    fdev d;
    if (!dev(h, &d) || !mw) return 2;
    *mw = (unsigned int)d.power_mw;
    return 0;
}
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(void *h, unsigned int *mw) {
    fdev d;
    if (!dev(h, &d) || !mw) return 2;
    *mw = (unsigned int)d.limit_mw;
    return 0;
}
nvmlReturn_t nvmlDeviceGetTemperature(void *h, int sensor, unsigned int *c) {
    fdev d;
    if (!dev(h, &d) || !c || sensor != 0) return 2;
    *c = (unsigned int)d.temp;
    return 0;
}
nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(void *h, unsigned long long *bits) {
    fdev d;
    if (!dev(h, &d) || !bits) return 2;
    *bits = d.throttle;
    return 0;
}
