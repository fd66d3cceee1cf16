/* test_basics: version, status strings, last error, config, runtime lifecycle, metrics. */
#include <pthread.h>
#include "vt.h"

static void *other_thread(void *arg) {
    (void)arg;
    /* A fresh thread has no last error, whatever other threads did. */
    return (void *)(intptr_t)(strcmp(veda_last_error(), "") == 0);
}

int main(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", VEDA_VERSION_MAJOR, VEDA_VERSION_MINOR, VEDA_VERSION_PATCH);
    CHECK(strcmp(veda_version(), want) == 0);
    CHECK(strcmp(veda_version(), VEDA_VERSION_STRING) == 0);

    /* Status strings: never NULL, distinct for every code. */
    for (int a = 0; a <= 9; a++) {
        CHECK(veda_status_string(a) != NULL && veda_status_string(a)[0] != '\0');
        for (int b = 0; b < a; b++) CHECK(strcmp(veda_status_string(a), veda_status_string(b)) != 0);
    }
    CHECK(veda_status_string(-1) != NULL && veda_status_string(1000) != NULL);
    CHECK(VEDA_OK == 0 && VEDA_ERR_INVALID_ARGUMENT == 1 && VEDA_ERR_OUT_OF_MEMORY == 2 &&
          VEDA_ERR_CLOSED == 3 && VEDA_ERR_TASK_FAILED == 4 && VEDA_ERR_DEVICE == 5 &&
          VEDA_ERR_UNSUPPORTED == 6 && VEDA_ERR_TIMEOUT == 7 && VEDA_ERR_CANCELLED == 8 &&
          VEDA_ERR_INTERNAL == 9);

    /* Last error: "" before any failure. */
    CHECK(strcmp(veda_last_error(), "") == 0);

    veda_config cfg;
    memset(&cfg, 0xff, sizeof cfg);
    veda_config_init(&cfg);
    CHECK(cfg.struct_size == sizeof cfg && cfg.num_workers == 0 && cfg.policy == VEDA_POLICY_ADAPTIVE && cfg.seed == 0);
    veda_config_init(NULL);
    veda_task_options o;
    veda_task_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.priority == VEDA_PRIORITY_NORMAL && o.deadline_ns == 0);

    /* Bad configs. */
    veda_runtime *rt = (veda_runtime *)0x1;
    cfg.num_workers = -1;
    EXPECT_ERR_MSG(veda_runtime_create(&cfg, &rt), VEDA_ERR_INVALID_ARGUMENT, "num_workers");
    CHECK(rt == NULL);
    cfg.num_workers = 0;
    cfg.policy = 99;
    EXPECT_ERR_MSG(veda_runtime_create(&cfg, &rt), VEDA_ERR_INVALID_ARGUMENT, "policy");
    veda_config_init(&cfg);
    cfg.struct_size = 3;
    EXPECT_ERR_MSG(veda_runtime_create(&cfg, &rt), VEDA_ERR_INVALID_ARGUMENT, "struct_size");
    EXPECT_ERR_MSG(veda_runtime_create(NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "out");

    /* The last error stays until the next failing call, and is per thread. */
    const char *before = veda_last_error();
    CHECK(strstr(before, "out") != NULL);
    pthread_t t;
    void *res;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &res);
    CHECK(res == (void *)1);

    /* Default runtime, explicit runtimes of every policy. */
    OK(veda_runtime_create(NULL, &rt));
    CHECK(veda_runtime_num_workers(rt) >= 1);
    CHECK(veda_device_count(rt) >= 1);
    CHECK(strstr(veda_last_error(), "out") != NULL); /* successes do not clear it */
    OK(veda_runtime_destroy(rt));
    for (int p = 0; p <= 4; p++) {
        veda_runtime *r = vt_runtime(2, p);
        CHECK(veda_runtime_num_workers(r) == 2);
        OK(veda_runtime_destroy(r));
    }

    /* Metrics: the len/cap protocol. */
    rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    size_t len = 0;
    OK(veda_metrics_json(rt, NULL, 0, &len));
    CHECK(len > 1);
    char *buf = malloc(len);
    size_t len2 = 0;
    OK(veda_metrics_json(rt, buf, len, &len2));
    CHECK(len2 <= len ? strlen(buf) == len2 - 1 : 1);
    CHECK(strstr(buf, "\"tasks_executed\"") != NULL);
    CHECK(buf[0] == '{');
    char small[8];
    OK(veda_metrics_json(rt, small, sizeof small, &len2));
    CHECK(len2 > sizeof small && strlen(small) == sizeof small - 1); /* truncated, NUL-terminated */
    free(buf);
    OK(veda_metrics_prometheus(rt, NULL, 0, &len));
    buf = malloc(len);
    OK(veda_metrics_prometheus(rt, buf, len, &len2));
    CHECK(strstr(buf, "veda_tasks_executed_total") != NULL);
    free(buf);
    EXPECT_ERR_MSG(veda_metrics_json(rt, NULL, 0, NULL), VEDA_ERR_INVALID_ARGUMENT, "len");
    EXPECT_ERR_MSG(veda_metrics_prometheus(rt, NULL, 10, &len), VEDA_ERR_INVALID_ARGUMENT, "buf");
    OK(veda_runtime_destroy(rt));
    VT_DONE("test_basics");
}
