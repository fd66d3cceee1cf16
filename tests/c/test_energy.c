/* test_energy.c: the energy fields of veda_config (validated, gated by struct_size) and
 * veda_energy_json (the text protocol, devices array, total_joules, labelled sources). */
#include <math.h>
#include <stddef.h>
#include "vt.h"

static veda_status create(double watts, double temp, double weight, int32_t policy, veda_runtime **rt) {
    veda_config cfg;
    veda_config_init(&cfg);
    cfg.num_workers = 2;
    cfg.policy = policy;
    cfg.max_power_watts = watts;
    cfg.max_temp_celsius = temp;
    cfg.energy_weight = weight;
    return veda_runtime_create(&cfg, rt);
}

int main(void) {
    veda_runtime *rt = (veda_runtime *)1;
    /* Bad input: VEDA_ERR_INVALID_ARGUMENT and no runtime; the message names the veda_config member. */
    EXPECT_ERR_MSG(create(-1, 0, 0, VEDA_POLICY_ENERGY_EFFICIENT, &rt), VEDA_ERR_INVALID_ARGUMENT, "cfg->max_power_watts");
    CHECK(rt == NULL);
    EXPECT_ERR_MSG(create(NAN, 0, 0, VEDA_POLICY_ENERGY_EFFICIENT, &rt), VEDA_ERR_INVALID_ARGUMENT, "cfg->max_power_watts");
    CHECK(rt == NULL);
    EXPECT_ERR_MSG(create(0, -5, 0, VEDA_POLICY_ENERGY_EFFICIENT, &rt), VEDA_ERR_INVALID_ARGUMENT, "cfg->max_temp_celsius");
    CHECK(rt == NULL);
    EXPECT_ERR_MSG(create(0, 0, NAN, VEDA_POLICY_ADAPTIVE, &rt), VEDA_ERR_INVALID_ARGUMENT, "cfg->energy_weight");
    CHECK(rt == NULL);
    EXPECT_ERR_MSG(create(0, 0, -1, VEDA_POLICY_ADAPTIVE, &rt), VEDA_ERR_INVALID_ARGUMENT, "cfg->energy_weight");
    CHECK(rt == NULL);
    EXPECT_ERR_MSG(create(50, 0, 0, VEDA_POLICY_ADAPTIVE, &rt), VEDA_ERR_INVALID_ARGUMENT, "cfg->max_power_watts is 50, which needs the energy-efficient policy");
    CHECK(rt == NULL);

    /* A caller built against the header before the energy fields: garbage beyond its
       struct_size is ignored (the fields keep their defaults). */
    veda_config old;
    veda_config_init(&old);
    old.struct_size = (uint32_t)offsetof(veda_config, max_power_watts);
    old.max_power_watts = -1;
    old.energy_weight = NAN;
    OK(veda_runtime_create(&old, &rt));
    if (rt) OK(veda_runtime_destroy(rt));

    /* Pinned workers: placed per NUMA node and pinned (Linux), or UNSUPPORTED elsewhere. */
    veda_config pin;
    veda_config_init(&pin);
    pin.num_workers = 2;
    pin.pin_workers = 1;
    veda_status pst = veda_runtime_create(&pin, &rt);
    CHECK(pst == VEDA_OK || pst == VEDA_ERR_UNSUPPORTED);
    if (pst == VEDA_OK) OK(veda_runtime_destroy(rt));

    /* A valid budget; the energy report follows the text protocol. */
    OK(create(50, 85, 0.01, VEDA_POLICY_ENERGY_EFFICIENT, &rt));
    if (!rt) VT_DONE("test_energy");
    size_t len = 0, len2 = 0;
    OK(veda_energy_json(rt, NULL, 0, &len));
    CHECK(len > 1);
    char *buf = malloc(len);
    OK(veda_energy_json(rt, buf, len, &len2));
    /* The figures move between the calls, so the text may have grown by a digit or two. */
    CHECK(len2 <= len ? strlen(buf) == len2 - 1 : strlen(buf) == len - 1);
    CHECK(buf[0] == '{');
    CHECK(strstr(buf, "\"devices\":[") != NULL);
    CHECK(strstr(buf, "\"total_joules\":") != NULL);
    CHECK(strstr(buf, "\"sensors\":[") != NULL);
    CHECK(strstr(buf, "\"max_power_watts\":50") != NULL);
    /* Every device names its source; an estimate is labelled as one. */
    CHECK(strstr(buf, "\"source\":\"rapl\"") != NULL || strstr(buf, "\"source\":\"estimated\"") != NULL);
    if (strstr(buf, "\"source\":\"estimated\"") != NULL) CHECK(strstr(buf, "\"estimated\":true") != NULL);
    char small[8];
    OK(veda_energy_json(rt, small, sizeof small, &len2));
    CHECK(len2 > sizeof small && strlen(small) == sizeof small - 1);
    free(buf);
    EXPECT_ERR_MSG(veda_energy_json(rt, NULL, 0, NULL), VEDA_ERR_INVALID_ARGUMENT, "len");
    EXPECT_ERR_MSG(veda_energy_json(rt, NULL, 10, &len), VEDA_ERR_INVALID_ARGUMENT, "buf");
    /* The metrics carry the energy too. */
    OK(veda_metrics_prometheus(rt, NULL, 0, &len));
    buf = malloc(len);
    OK(veda_metrics_prometheus(rt, buf, len, &len2));
    CHECK(strstr(buf, "veda_energy_joules_total{device=\"0\"") != NULL);
    free(buf);
    OK(veda_runtime_destroy(rt));
    EXPECT_ST(veda_energy_json(rt, NULL, 0, &len), VEDA_ERR_CLOSED); /* destroyed handle */
    VT_DONE("test_energy");
}
