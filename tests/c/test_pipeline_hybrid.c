/* test_pipeline_hybrid: pipeline, graph and stage names (veda_pipeline_create_named,
 * veda_pipeline_add_named_stage, veda_graph_create_named) in the metrics and the failure message, and hybrid stages
 * (veda_pipeline_add_hybrid_stage) on the CPU and the OpenCL device (PoCL in CI): every item is
 * doubled by the CPU body or by a saxpy on the device the dispatcher picked; every element is
 * checked by an in-order sink, and the per-device counts are checked against what each body saw.
 * Pinned runs check the placement exactly; an unpinned run checks that the counts add up and
 * that every pick is a recorded decision. The device parts skip (77) without an OpenCL device,
 * unless VEDA_REQUIRE_OPENCL=1. */
#include <stdatomic.h>
#include <stdint.h>
#include "vt.h"

#define N_ITEMS 48
#define N_FLOATS 4096

typedef struct {
    int64_t seq;
    float v[N_FLOATS];
} item_t;

typedef struct {
    veda_runtime *rt;
    int64_t n;                  /* items the source makes */
    int64_t expect;             /* the sink's next sequence number */
    int wrong;                  /* elements the sink found wrong */
    _Atomic int64_t cpu_runs;   /* CPU body calls */
    _Atomic int64_t dev_runs;   /* device body calls that succeeded */
    _Atomic int32_t dev_seen;   /* the last device index the device body got */
    _Atomic int64_t dev_fail_at; /* the device body fails for this seq (-1: never) */
    int64_t fail_sink_at;       /* the sink fails for this seq (-1: never) */
} hctx;

static float want(int64_t seq, int j) { return 2.0f * (float)(seq + j % 7); }

static int32_t src(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    hctx *c = (hctx *)ctx;
    if (seq >= c->n) return 0;
    item_t *it = (item_t *)malloc(sizeof *it);
    if (!it) return -12;
    it->seq = seq;
    for (int j = 0; j < N_FLOATS; j++) it->v[j] = (float)(seq + j % 7);
    *out = it;
    *bytes = sizeof it->v;
    return 1;
}

static int32_t cpu_double(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)seq; (void)out; (void)bytes;
    hctx *c = (hctx *)ctx;
    item_t *it = (item_t *)p;
    for (int j = 0; j < N_FLOATS; j++) it->v[j] *= 2.0f;
    atomic_fetch_add(&c->cpu_runs, 1);
    return 0;
}

/* y = 1*x + y with x = y = the item, on the device: 2x. */
static int32_t dev_double(void *ctx, int32_t device, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)out; (void)bytes;
    hctx *c = (hctx *)ctx;
    item_t *it = (item_t *)p;
    atomic_store(&c->dev_seen, device);
    if (seq == atomic_load(&c->dev_fail_at)) return 5;
    veda_buffer *bx = NULL, *by = NULL;
    int32_t rc = 0;
    if (veda_buffer_create(c->rt, device, sizeof it->v, &bx) != VEDA_OK ||
        veda_buffer_create(c->rt, device, sizeof it->v, &by) != VEDA_OK ||
        veda_buffer_write(bx, 0, it->v, sizeof it->v) != VEDA_OK ||
        veda_buffer_write(by, 0, it->v, sizeof it->v) != VEDA_OK ||
        veda_saxpy_buffer(c->rt, 1.0f, bx, by, N_FLOATS) != VEDA_OK ||
        veda_buffer_read(by, 0, it->v, sizeof it->v) != VEDA_OK) {
        fprintf(stderr, "device body: %s\n", veda_last_error());
        rc = 3;
    }
    if (bx) veda_buffer_destroy(bx);
    if (by) veda_buffer_destroy(by);
    if (rc == 0) atomic_fetch_add(&c->dev_runs, 1);
    return rc;
}

static int32_t sink(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)out; (void)bytes;
    hctx *c = (hctx *)ctx;
    item_t *it = (item_t *)p;
    if (seq != c->expect || it->seq != seq) c->wrong++;
    for (int j = 0; j < N_FLOATS; j++) {
        if (it->v[j] != want(seq, j)) c->wrong++;
    }
    if (seq == c->fail_sink_at) return 9; /* failed: the item is dropped (drop frees it) */
    c->expect++;
    free(it);
    return 0;
}

static void drop(void *ctx, int64_t seq, void *p) {
    (void)ctx; (void)seq;
    free(p);
}

static veda_pipeline *make_pipeline(veda_runtime *rt, const char *name, hctx *c) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 6;
    o.drop = drop;
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create_named(rt, name, &o, &p));
    OK(veda_pipeline_add_hybrid_stage(p, "double", VEDA_STAGE_PARALLEL, cpu_double, c, dev_double, c));
    OK(veda_pipeline_add_named_stage(p, "check", VEDA_STAGE_SERIAL_IN_ORDER, sink, c));
    return p;
}

static void reset(hctx *c, veda_runtime *rt) {
    c->rt = rt;
    c->n = N_ITEMS;
    c->expect = 0;
    c->wrong = 0;
    atomic_store(&c->cpu_runs, 0);
    atomic_store(&c->dev_runs, 0);
    atomic_store(&c->dev_seen, -1);
    atomic_store(&c->dev_fail_at, -1);
    c->fail_sink_at = -1;
}

static char text[1 << 17];

/* The Prometheus text of rt holds line (a whole series with its value). */
static int prom_has(veda_runtime *rt, const char *line) {
    size_t len = 0;
    if (veda_metrics_prometheus(rt, text, sizeof text, &len) != VEDA_OK) return 0;
    return strstr(text, line) != NULL;
}

/* Names reach the metrics and the failure message; a plain pipeline keeps the default names. */
static void test_names(veda_runtime *rt) {
    hctx c;
    reset(&c, rt);
    OK(veda_runtime_pin_device(rt, 0)); /* the CPU body only: this part needs no device */
    veda_pipeline *p = make_pipeline(rt, "enc \"main\"", &c);
    OK(veda_pipeline_run(p, src, &c));
    CHECK(c.expect == N_ITEMS && c.wrong == 0);
    CHECK(atomic_load(&c.cpu_runs) == N_ITEMS && atomic_load(&c.dev_runs) == 0);
    /* The name is escaped as a Prometheus label value. */
    CHECK(prom_has(rt, "veda_pipeline_items_passed_total{pipeline=\"enc \\\"main\\\"\"} 48\n"));
    CHECK(prom_has(rt, "veda_pipeline_stage_items_total{pipeline=\"enc \\\"main\\\"\",stage=\"double\"} 48\n"));
    CHECK(prom_has(rt, "veda_pipeline_stage_items_total{pipeline=\"enc \\\"main\\\"\",stage=\"check\"} 48\n"));
    CHECK(prom_has(rt, "veda_pipeline_stage_device_items_total{pipeline=\"enc \\\"main\\\"\",stage=\"double\",device=\"0\"} 48\n"));
    /* A failure names the stage by its name. */
    reset(&c, rt);
    c.fail_sink_at = 7;
    EXPECT_ERR_MSG(veda_pipeline_run(p, src, &c), VEDA_ERR_TASK_FAILED, "stage 1 (\"check\") failed at item 7");
    OK(veda_pipeline_destroy(p));

    /* NULL and "" names: the defaults. */
    veda_pipeline *q = NULL;
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.drop = drop;
    OK(veda_pipeline_create_named(rt, NULL, &o, &q));
    OK(veda_pipeline_add_named_stage(q, "", VEDA_STAGE_PARALLEL, cpu_double, &c));
    OK(veda_pipeline_add_named_stage(q, NULL, VEDA_STAGE_SERIAL_IN_ORDER, sink, &c));
    reset(&c, rt);
    c.fail_sink_at = 3;
    EXPECT_ERR_MSG(veda_pipeline_run(q, src, &c), VEDA_ERR_TASK_FAILED, "stage 1 (\"stage-1\") failed at item 3");
    CHECK(strstr(veda_last_error(), "pipeline \"pipeline-") != NULL);
    OK(veda_pipeline_destroy(q));
    OK(veda_runtime_pin_device(rt, -1));

    /* A named graph: its name labels it as a pipeline's does. */
    veda_graph *g = NULL;
    OK(veda_graph_create_named(rt, "fan", &o, NULL, NULL, &g));
    veda_graph_node a = 0, k = 0;
    OK(veda_graph_add_node(g, "double", VEDA_STAGE_PARALLEL, cpu_double, &c, &a));
    OK(veda_graph_add_sink(g, "check", VEDA_STAGE_SERIAL_IN_ORDER, sink, &c, &k));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a));
    OK(veda_graph_add_edge(g, a, k));
    reset(&c, rt);
    OK(veda_graph_run(g, src, &c));
    CHECK(c.expect == N_ITEMS && c.wrong == 0);
    CHECK(prom_has(rt, "veda_pipeline_items_passed_total{pipeline=\"fan\"} 48\n"));
    OK(veda_graph_destroy(g));
    EXPECT_ERR_MSG(veda_graph_create_named(rt, "x", NULL, NULL, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT,
                   "veda_graph_create_named: veda: invalid argument: out is NULL");
}

static void test_bad_input(veda_runtime *rt) {
    hctx c;
    reset(&c, rt);
    veda_pipeline *p = NULL;
    EXPECT_ERR_MSG(veda_pipeline_create_named(rt, "x", NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_ERR_MSG(veda_pipeline_create_named(NULL, "x", NULL, &p), VEDA_ERR_INVALID_ARGUMENT, "veda_pipeline_create_named");
    CHECK(p == NULL);
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.struct_size = 4;
    EXPECT_ERR_MSG(veda_pipeline_create_named(rt, "x", &o, &p), VEDA_ERR_INVALID_ARGUMENT, "struct_size is too small");
    OK(veda_pipeline_create_named(rt, "bad", NULL, &p));
    EXPECT_ERR_MSG(veda_pipeline_add_hybrid_stage(p, "h", VEDA_STAGE_PARALLEL, NULL, &c, dev_double, &c),
                   VEDA_ERR_INVALID_ARGUMENT, "cpu is NULL");
    EXPECT_ERR_MSG(veda_pipeline_add_hybrid_stage(p, "h", VEDA_STAGE_PARALLEL, cpu_double, &c, NULL, &c),
                   VEDA_ERR_INVALID_ARGUMENT, "dev is NULL");
    EXPECT_ERR_MSG(veda_pipeline_add_hybrid_stage(p, "h", 7, cpu_double, &c, dev_double, &c), VEDA_ERR_INVALID_ARGUMENT,
                   "mode is 7");
    EXPECT_ERR_MSG(veda_pipeline_add_named_stage(p, "s", VEDA_STAGE_PARALLEL, NULL, &c), VEDA_ERR_INVALID_ARGUMENT,
                   "veda_pipeline_add_named_stage");
    EXPECT_ERR_MSG(veda_pipeline_add_named_stage(p, "s", -1, cpu_double, &c), VEDA_ERR_INVALID_ARGUMENT, "mode is -1");
    /* Nothing was added by the refused calls. */
    EXPECT_ERR_MSG(veda_pipeline_run(p, src, &c), VEDA_ERR_INVALID_ARGUMENT, "no stage");
    OK(veda_pipeline_destroy(p));
    EXPECT_ERR_MSG(veda_pipeline_add_hybrid_stage(p, "h", VEDA_STAGE_PARALLEL, cpu_double, &c, dev_double, &c),
                   VEDA_ERR_INVALID_ARGUMENT, "destroyed");
    EXPECT_ERR_MSG(veda_pipeline_add_named_stage((veda_pipeline *)(uintptr_t)0x5eed, "s", VEDA_STAGE_PARALLEL, cpu_double, &c),
                   VEDA_ERR_INVALID_ARGUMENT, "not a pipeline handle");
}

/* The hybrid stage on the OpenCL device ocl. */
static void test_hybrid(veda_runtime *rt, int32_t ocl) {
    hctx c;
    char pin_series[256];

    /* Pinned to the device: every item runs on it, through the device body. */
    reset(&c, rt);
    OK(veda_runtime_pin_device(rt, ocl));
    veda_pipeline *p = make_pipeline(rt, "hyb-dev", &c);
    OK(veda_pipeline_run(p, src, &c));
    CHECK(c.expect == N_ITEMS && c.wrong == 0);
    CHECK(atomic_load(&c.dev_runs) == N_ITEMS && atomic_load(&c.cpu_runs) == 0);
    CHECK(atomic_load(&c.dev_seen) == ocl);
    snprintf(pin_series, sizeof pin_series,
             "veda_pipeline_stage_device_items_total{pipeline=\"hyb-dev\",stage=\"double\",device=\"%d\"} 48\n", ocl);
    CHECK(prom_has(rt, pin_series));

    /* Pinned, and the device body fails at item 11: no fallback, the item fails, the prefix
     * passes, the rest is dropped (freed by drop: ASan sees a leak otherwise). */
    reset(&c, rt);
    atomic_store(&c.dev_fail_at, 11);
    EXPECT_ERR_MSG(veda_pipeline_run(p, src, &c), VEDA_ERR_TASK_FAILED, "stage 0 (\"double\") failed at item 11");
    CHECK(strstr(veda_last_error(), "device function (device") != NULL);
    CHECK(c.expect == 11 && c.wrong == 0);
    OK(veda_pipeline_destroy(p));

    /* Unpinned: the dispatcher places each item; the counts add up, every item is right, and
     * every pick is a recorded decision of the stage's kernel. */
    OK(veda_runtime_pin_device(rt, -1));
    OK(veda_runtime_record_decisions(rt, 1));
    reset(&c, rt);
    p = make_pipeline(rt, "hyb-auto", &c);
    OK(veda_pipeline_run(p, src, &c));
    CHECK(c.expect == N_ITEMS && c.wrong == 0);
    CHECK(atomic_load(&c.dev_runs) + atomic_load(&c.cpu_runs) == N_ITEMS);
    printf("unpinned: %lld items on the CPU, %lld on device %d\n", (long long)atomic_load(&c.cpu_runs),
           (long long)atomic_load(&c.dev_runs), ocl);
    static char dec[1 << 20];
    size_t len = 0;
    OK(veda_decisions_json(rt, dec, sizeof dec, &len));
    int picks = 0;
    for (const char *s = dec; (s = strstr(s, "\"pipeline:hyb-auto/double\"")) != NULL; s++) picks++;
    CHECK(picks == N_ITEMS);

    /* Unpinned, with the device body failing for one item: wherever that item was placed, it
     * ends right (a device failure falls back to the CPU body) and nothing fails. */
    reset(&c, rt);
    atomic_store(&c.dev_fail_at, 5);
    OK(veda_pipeline_run(p, src, &c));
    CHECK(c.expect == N_ITEMS && c.wrong == 0);
    CHECK(atomic_load(&c.dev_runs) + atomic_load(&c.cpu_runs) == N_ITEMS);
    OK(veda_pipeline_destroy(p));
    OK(veda_runtime_record_decisions(rt, 0));
}

int main(void) {
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    test_names(rt);
    test_bad_input(rt);
    int32_t ocl = vt_opencl_index(rt);
    if (ocl < 0) {
        OK(veda_runtime_destroy(rt));
        return vt_no_opencl("test_pipeline_hybrid");
    }
    test_hybrid(rt, ocl);
    OK(veda_runtime_destroy(rt));
    VT_DONE("test_pipeline_hybrid");
}
